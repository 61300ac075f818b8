import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Database } from '../../infra/db/database.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { exportEnTexte } from '../familles/export-texte.ts';
import { COFFRE, type Soumission } from './demandes-service.ts';
import { SpiVault } from './spi-vault.ts';
import { createHarness, type Harness } from './test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-demandes-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };
const BERTIN_ROUSSEL = {
  parents: [
    { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
    { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
  ],
  enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' }],
};
const GARNIER_MOREAU = {
  parents: [
    { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
    { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
  ],
};

function enLigne(familleId: string, foyers: Array<[1 | 2, string]>): Soumission {
  return {
    familleId,
    canal: 'en_ligne',
    acteur: famille,
    foyers: foyers.map(([parentRang, spi]) => ({ parentRang, identifiant: { spi: NumeroFiscal.parse(spi) }, consentement: { mode: 'en_ligne', donnePar: famille } })),
  };
}

async function withHarness(t: TestContext, body: (h: Harness, url: string, database: Database) => Promise<void>) {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox);
    try {
      await body(h, fixture.url, database);
    } finally {
      await h.close();
    }
  });
}

test('a married couple online: consent, one call, identity confirmed, QF and prices stored once, the number forgotten', async (t) => {
  await withHarness(t, async (h) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    assert.equal((await h.demandes.etat(id)).statut, 'en_file');
    assert.equal(h.vault.size, 1);
    assert.equal(await h.demandes.traiter(id), 'calculee');
    assert.equal(h.vault.size, 0, 'the numéro fiscal left memory once the DGFiP answered');
    const etat = await h.demandes.etat(id);
    assert.ok(etat.quotient && etat.quotient.cents > 0);
    assert.ok(etat.quotient.prix.some((p) => p.id === 'restauration-scolaire' || p.libelle.toLowerCase().includes('restauration')));
    assert.equal(await h.demandes.traiter(id), 'calculee', 'a second run changes nothing');
    const actions = (await h.journal.query({ target: { type: 'demande', id } })).entries.map((e) => e.action).reverse();
    assert.deepEqual(actions, ['demande.creee', 'consentement.recueilli', 'demande.consentement_recueilli', 'demande.mise_en_file', 'demande.appel_demarre', 'dgfip.situation_recue', 'demande.situation_recue']);
    assert.equal((await h.journal.verify()).intact, true);
  });
});

test('unmarried parents: one request, two numbers, two consents, two calls, combined by the policy', async (t) => {
  await withHarness(t, async (h) => {
    const { id: familleId } = await h.familles.creer(GARNIER_MOREAU, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.parentsNonMaries.parentAvecEnfant], [2, SPI_SANDBOX.parentsNonMaries.parentSansEnfant]]));
    sandbox.admin.clearCalls();
    assert.equal(await h.demandes.traiter(id), 'calculee');
    assert.equal(sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length, 2);
    const exported = await h.familles.exporter(familleId, famille);
    assert.equal(exported.situationsFiscales.length, 2);
    assert.equal((exported.demandes[0]?.consentements as unknown[]).length, 2);
    const texte = exportEnTexte(exported);
    assert.match(texte, /Quotients familiaux\n- [\d\s\u202f]+,\d\d € par mois, valable du \d\d\/\d\d\/\d{4}/);
    assert.match(texte, /revenu fiscal de référence/);
  });
});

test('an avis of somebody else is not kept and goes to an instructor; an unknown number too', async (t) => {
  await withHarness(t, async (h) => {
    const { id: familleId } = await h.familles.creer({ parents: [{ nomNaissance: 'Dupont', prenoms: 'Marc', dateNaissance: '1970-01-01' }] }, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    assert.equal(await h.demandes.traiter(id), 'a_verifier');
    const etat = await h.demandes.etat(id);
    assert.match(String(etat.motif), /ne concerne aucun des parents/);
    assert.equal(etat.quotient, undefined);
    const foyer = (await h.familles.exporter(familleId, famille)).situationsFiscales;
    assert.deepEqual(foyer, [], 'the foreign avis was dropped from the silo');

    const { id: inconnu } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.inconnu]]));
    assert.equal(await h.demandes.traiter(inconnu), 'a_verifier');
    assert.match(String((await h.demandes.etat(inconnu)).motif), /ne trouve pas d’avis/);
  });
});

test('a DGFiP outage puts the request back in the queue with the number kept in memory; a restart makes it a_ressaisir', async (t) => {
  await withHarness(t, async (h, url) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    sandbox.admin.addFault({ kind: 'http503', spi: SPI_SANDBOX.coupleMarie.declarant1, times: 3 });
    try {
      assert.equal(await h.demandes.traiter(id), 'en_file');
    } finally {
      sandbox.admin.clearFaults();
    }
    assert.equal(h.vault.size, 1);
    assert.deepEqual(await h.demandes.prochaines(), [], 'the next try waits for its backoff');

    // The process dies: a new one, with an empty memory, finds the request and says so.
    const { openDatabase } = await import('../../infra/db/database.ts');
    const second = openDatabase(url);
    const restarted = await createHarness(second, sandbox, { instanceId: 'instance-2', vault: new SpiVault(), dataDir: h.dataDir });
    try {
      assert.equal(await restarted.demandes.recupererOrphelines(['instance-2']), 1);
      const etat = await restarted.demandes.etat(id);
      assert.equal(etat.statut, 'a_ressaisir');
      assert.match(String(etat.motif), /saisi à nouveau/);
      await restarted.demandes.ressaisir(id, famille, [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant2) } }]);
      assert.equal(await restarted.demandes.traiter(id), 'calculee');
      const quotients = await second.db.selectFrom('quotients').select('id').where('demande_id', '=', id).execute();
      assert.equal(quotients.length, 1);
    } finally {
      await restarted.close();
      await second.close();
    }
  });
});

test('two workers racing on the same request store one QF only', async (t) => {
  await withHarness(t, async (h, _url, database) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    const outcomes = await Promise.allSettled([h.demandes.traiter(id), h.demandes.traiter(id)]);
    assert.ok(outcomes.some((o) => o.status === 'fulfilled' && o.value === 'calculee'));
    assert.equal((await h.demandes.etat(id)).statut, 'calculee');
    assert.equal((await database.db.selectFrom('quotients').select('id').where('demande_id', '=', id).execute()).length, 1);
  });
});

test('no call without a consent: a paper request needs the piece that carries the agreement', async (t) => {
  await withHarness(t, async (h) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const agent = { type: 'agent' as const, id: 'agent-guichet' };
    await assert.rejects(
      h.demandes.soumettre({ familleId, canal: 'guichet', acteur: agent, foyers: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) }, consentement: { mode: 'formulaire_signe', donnePar: agent } }] }),
      (e: Error & { code?: string }) => e.code === 'consentement_invalide',
    );
    assert.equal(h.vault.size, 0, 'nothing was kept of the refused request');
    const { id } = await h.demandes.soumettre({ familleId, canal: 'guichet', acteur: agent, foyers: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) }, consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'formulaire signé du 2 septembre' } }] });
    assert.equal(await h.demandes.traiter(id), 'calculee');
    const stored = await h.coffre.get(COFFRE.controle, id);
    assert.equal((stored as { verdict: string }).verdict, 'concordant');
  });
});

test('a consent withdrawn while the request waits cancels it before any call, and drops the number', async (t) => {
  await withHarness(t, async (h, _url, database) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    await database.db.updateTable('consentements').set({ retire_le: new Date().toISOString() }).where('demande_id', '=', id).execute();
    sandbox.admin.clearCalls();
    assert.equal(await h.demandes.traiter(id), 'annulee');
    assert.equal(h.vault.size, 0);
    assert.equal(sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length, 0, 'no call was made');
    assert.match(String((await h.demandes.etat(id)).motif), /accord .* retiré/);
  });
});
