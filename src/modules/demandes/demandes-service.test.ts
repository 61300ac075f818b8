import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { exportEnTexte } from '../familles/export-texte.ts';
import { COFFRE } from './demandes-repo.ts';
import { BERTIN_ROUSSEL, eachHarness, enLigne } from './test-harness.ts';

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
const GARNIER_MOREAU = {
  parents: [
    { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
    { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
  ],
};

test('a married couple online: consent, one call, identity confirmed, QF and prices stored once, the number forgotten', async (t) => {
  await eachHarness(t, sandbox, async (h) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    assert.equal((await h.demandes.etat(id)).statut, 'en_file');
    assert.equal(h.vault.size, 1);
    assert.equal(await h.traitement.traiter(id), 'calculee');
    assert.equal(h.vault.size, 0, 'the numéro fiscal left memory once the DGFiP answered');
    const etat = await h.demandes.etat(id);
    assert.ok(etat.quotient && etat.quotient.cents > 0);
    assert.ok(etat.quotient.prix.some((p) => p.id === 'restauration-scolaire' || p.libelle.toLowerCase().includes('restauration')));
    assert.equal(await h.traitement.traiter(id), 'calculee', 'a second run changes nothing');
    const actions = (await h.journal.query({ target: { type: 'demande', id } })).entries.map((e) => e.action).reverse();
    assert.deepEqual(actions, [
      'demande.creee',
      'consentement.recueilli',
      'demande.consentement_recueilli',
      'demande.mise_en_file',
      'demande.appel_demarre',
      'dgfip.situation_recue',
      'demande.situation_recue',
    ]);
    assert.equal((await h.journal.verify()).intact, true);
  });
});

test('unmarried parents: one request, two numbers, two consents, two calls, combined by the policy', async (t) => {
  await eachHarness(t, sandbox, async (h) => {
    const { id: familleId } = await h.familles.creer(GARNIER_MOREAU, famille);
    const { id } = await h.demandes.soumettre(
      enLigne(familleId, [
        [1, SPI_SANDBOX.parentsNonMaries.parentAvecEnfant],
        [2, SPI_SANDBOX.parentsNonMaries.parentSansEnfant],
      ]),
    );
    sandbox.admin.clearCalls();
    assert.equal(await h.traitement.traiter(id), 'calculee');
    assert.equal(sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length, 2);
    const exported = await h.familles.exporter(familleId, famille);
    assert.equal(exported.situationsFiscales.length, 2);
    assert.equal((exported.demandes[0]?.consentements as unknown[]).length, 2);
    const texte = exportEnTexte(exported);
    assert.match(texte, /Quotients familiaux\n- [\d\s\u202f]+,\d\d € par mois, valable du \d\d\/\d\d\/\d{4}/);
    assert.match(texte, /revenu fiscal de référence/);
  });
});

test('no call without a consent: a paper request needs the piece that carries the agreement', async (t) => {
  await eachHarness(t, sandbox, async (h) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const agent = { type: 'agent' as const, id: 'agent-guichet' };
    await assert.rejects(
      h.demandes.soumettre({
        familleId,
        canal: 'guichet',
        acteur: agent,
        foyersFiscaux: [
          {
            parentRang: 1,
            identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) },
            consentement: { mode: 'formulaire_signe', donnePar: agent },
          },
        ],
      }),
      (e: Error & { code?: string }) => e.code === 'consentement_invalide',
    );
    assert.equal(h.vault.size, 0, 'nothing was kept of the refused request');
    const { id } = await h.demandes.soumettre({
      familleId,
      canal: 'guichet',
      acteur: agent,
      foyersFiscaux: [
        {
          parentRang: 1,
          identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) },
          consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'formulaire signé du 2 septembre' },
        },
      ],
    });
    assert.equal(await h.traitement.traiter(id), 'calculee');
    const stored = await h.coffre.get(COFFRE.controleIdentite, id);
    assert.equal((stored as { verdict: string }).verdict, 'concordant');
  });
});
