import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SpiVault } from '../demandes/spi-vault.ts';
import { BERTIN_ROUSSEL, createHarness, eachHarness, enLigne } from '../demandes/test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-traitement-service-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };

test('an avis of somebody else is not kept and goes to an instructor; an unknown number too', async (t) => {
  await eachHarness(t, sandbox, async (h) => {
    const { id: familleId } = await h.familles.creer({ parents: [{ nomNaissance: 'Dupont', prenoms: 'Marc', dateNaissance: '1970-01-01' }] }, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    assert.equal(await h.traitement.traiter(id), 'a_verifier');
    const etat = await h.demandes.etat(id);
    assert.match(String(etat.motif), /ne concerne aucun des parents/);
    assert.equal(etat.quotient, undefined);
    const situationsFiscales = (await h.familles.exporter(familleId, famille)).situationsFiscales;
    assert.deepEqual(situationsFiscales, [], 'the foreign avis was dropped from the silo');

    const { id: inconnu } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.inconnu]]));
    assert.equal(await h.traitement.traiter(inconnu), 'a_verifier');
    assert.match(String((await h.demandes.etat(inconnu)).motif), /ne trouve pas d’avis/);
  });
});

test('a DGFiP outage puts the request back in the queue with the number kept in memory; a restart makes it a_ressaisir', async (t) => {
  await eachHarness(t, sandbox, async (h, url) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    sandbox.admin.addFault({ kind: 'http503', spi: SPI_SANDBOX.coupleMarie.declarant1, times: 3 });
    try {
      assert.equal(await h.traitement.traiter(id), 'en_file');
    } finally {
      sandbox.admin.clearFaults();
    }
    assert.equal(h.vault.size, 1);
    assert.deepEqual(await h.traitement.prochaines(), [], 'the next try waits for its backoff');

    // The process dies: a new one, with an empty memory, finds the request and says so.
    const { openDatabase } = await import('../../infra/db/database.ts');
    const second = openDatabase(url);
    const restarted = await createHarness(second, sandbox, { instanceId: 'instance-2', vault: new SpiVault(), dataDir: h.dataDir });
    try {
      assert.equal(await restarted.traitement.recupererOrphelines(['instance-2']), 1);
      const etat = await restarted.demandes.etat(id);
      assert.equal(etat.statut, 'a_ressaisir');
      assert.match(String(etat.motif), /saisi à nouveau/);
      await restarted.demandes.ressaisir(id, famille, [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant2) } }]);
      assert.equal(await restarted.traitement.traiter(id), 'calculee');
      const quotients = await second.db.selectFrom('quotients').select('id').where('demande_id', '=', id).execute();
      assert.equal(quotients.length, 1);
    } finally {
      await restarted.close();
      await second.close();
    }
  });
});

test('two workers racing on the same request store one QF only', async (t) => {
  await eachHarness(t, sandbox, async (h, _url, database) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    const outcomes = await Promise.allSettled([h.traitement.traiter(id), h.traitement.traiter(id)]);
    assert.ok(outcomes.some((o) => o.status === 'fulfilled' && o.value === 'calculee'));
    assert.equal((await h.demandes.etat(id)).statut, 'calculee');
    assert.equal((await database.db.selectFrom('quotients').select('id').where('demande_id', '=', id).execute()).length, 1);
  });
});

test('a consent withdrawn while the request waits cancels it before any call, and drops the number', async (t) => {
  await eachHarness(t, sandbox, async (h, _url, database) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    await database.db.updateTable('consentements').set({ retire_le: new Date().toISOString() }).where('demande_id', '=', id).execute();
    sandbox.admin.clearCalls();
    assert.equal(await h.traitement.traiter(id), 'annulee');
    assert.equal(h.vault.size, 0);
    assert.equal(sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length, 0, 'no call was made');
    assert.match(String((await h.demandes.etat(id)).motif), /accord .* retiré/);
  });
});

test('waiting for a quota slot is the queue’s pacing, not a failed try: the request never fails for it', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    // One call a minute, and calls that give up waiting after a second.
    const h = await createHarness(database, sandbox, { quotaParMinute: 1, deadlineMs: 1_000 });
    try {
      const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
      const { id: premiere } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
      assert.equal(await h.traitement.traiter(premiere), 'calculee');
      const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
      for (let essai = 0; essai < 7; essai++) assert.equal(await h.traitement.traiter(id), 'en_file', `attempt ${essai + 1}`);
      const demande = await database.db.selectFrom('demandes').select(['tentatives', 'prochain_essai_le']).where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(demande.tentatives, 0, 'no try spent: nothing was sent');
      assert.ok(demande.prochain_essai_le !== null && Date.parse(demande.prochain_essai_le) > Date.now() + 30_000, 'due when the slot frees');
      assert.equal(h.vault.size, 1, 'the number waits in memory');
    } finally {
      await h.close();
    }
  });
});
