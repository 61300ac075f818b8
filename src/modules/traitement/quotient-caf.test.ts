import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { SourceQuotient } from '../../domain/choix-quotient.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import type { Database } from '../../infra/db/database.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';
import { BERTIN_ROUSSEL, createHarness, HABILITATION_ETAT_CIVIL, POLITIQUE_BOULOGNE, type Harness } from '../demandes/test-harness.ts';

/**
 * A family asking by état civil, the policy pricing on `quotient.source`: the CAF's quotient asked
 * beside the avis when the policy needs it and the parent agreed to it, the QF retained and why.
 * The Bertin–Roussel couple: fiscal QF 52 340 € ÷ 12 ÷ 3 parts ≈ 1 453 €, CAF QF 812 €.
 */

const dir = mkdtempSync(join(tmpdir(), 'quotient-traitement-caf-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };
const paul: EtatCivil = {
  nom: 'BERTIN',
  prenoms: 'PAUL HENRI',
  sexe: 'M',
  dateNaissance: '1981-04-09',
  naisCodePays: '99100',
  naisCodeDept: '44',
  naisCodeCommune: '109',
};

async function withPolicy(
  t: TestContext,
  source: SourceQuotient,
  body: (h: Harness, database: Database) => Promise<void>,
  quotient: Partial<PolitiqueTarifaire['quotient']> = {},
): Promise<void> {
  const politique = { ...POLITIQUE_BOULOGNE, quotient: { ...POLITIQUE_BOULOGNE.quotient, source, ...quotient } };
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox, { habilitation: HABILITATION_ETAT_CIVIL.sfip, politique: () => politique });
    try {
      await body(h, database);
    } finally {
      await h.close();
    }
  });
}

async function demander(h: Harness, caf: boolean): Promise<string> {
  const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
  const { id } = await h.demandes.soumettre({
    familleId,
    canal: 'en_ligne',
    acteur: famille,
    foyersFiscaux: [{ parentRang: 1, identifiant: { etatCivil: paul }, consentement: { mode: 'en_ligne', donnePar: famille, caf } }],
  });
  assert.equal(await h.traitement.traiter(id), 'calculee');
  return id;
}

const quotient = (database: Database, demandeId: string) =>
  database.db
    .selectFrom('quotients')
    .select(['valeur_cents', 'formule', 'source_retenue', 'raison_source', 'prix'])
    .where('demande_id', '=', demandeId)
    .executeTakeFirstOrThrow();
const appelsCaf = () => sandbox.admin.calls().filter((c) => c.api === 'quotient-caf').length;

test('le-plus-favorable with the CAF consent: the CAF’s 812 € is retained, priced, explained, and both values quoted', async (t) => {
  await withPolicy(t, 'le-plus-favorable', async (h, database) => {
    const avant = appelsCaf();
    const id = await demander(h, true);
    assert.equal(appelsCaf(), avant + 1);
    const q = await quotient(database, id);
    assert.equal(q.source_retenue, 'caf');
    assert.equal(q.valeur_cents, 81_200);
    assert.equal(q.formule, 'caf');
    assert.equal(q.raison_source, 'Le quotient de la CAF est le plus favorable des deux : il est retenu.', 'the row keeps no value of either QF');
    const calcul = (await h.coffre.get('calcul_quotient', id)) as {
      explication: string;
      source: { raison: string; fiscalCents: number; caf: { fournisseur: string } };
    };
    assert.match(calcul.explication, /Quotient familial de la CAF pour .* : 812,00\s€ par mois/);
    assert.match(calcul.explication, /plus favorable .*812,00\s€.*1\s\d{3},\d{2}\s€/, 'the family and the instructor read the comparison');
    assert.match(calcul.source.raison, /1\s\d{3},\d{2}\s€/);
    assert.ok(calcul.source.fiscalCents > 140_000, 'the fiscal QF is kept beside it for the instructor');
    assert.equal(calcul.source.caf.fournisseur, 'CNAF');
    // Minimisation: neither the caisse’s address nor the children’s names reach the silo or the row.
    assert.doesNotMatch(JSON.stringify(calcul) + JSON.stringify(q), /LILAS|NANTES|LOUISE|JULES/);
    const [affiche] = await h.familles.quotients(
      (await database.db.selectFrom('demandes').select('famille_id').where('id', '=', id).executeTakeFirstOrThrow()).famille_id,
    );
    assert.match(affiche?.source ?? '', /^transmis par la CAF ou la MSA/, 'the family’s page does not say « avis d’imposition »');
    const attestation = await h.services.attestations.attestation(id, famille);
    assert.equal(attestation.statut, 'valable');
    if (attestation.statut === 'valable') {
      assert.equal(attestation.quotient.cents, 81_200);
      assert.match(attestation.source, /^CAF ou MSA, quotient familial transmis par l’API Particulier — Le quotient de la CAF est le plus favorable/);
      assert.doesNotMatch(attestation.source, /€|1\s\d{3}/, 'third parties do not learn the other QF');
    }
    const journal = await database.db.selectFrom('journal_audit').select(['action', 'details']).where('action', 'like', 'caf.%').execute();
    assert.equal(journal.length, 1);
    assert.doesNotMatch(String(journal[0]?.details), /812|BERTIN/);
  });
});

test('without the CAF consent the caisses are not asked: the avis’s QF, « seul disponible »', async (t) => {
  await withPolicy(t, 'le-plus-favorable', async (h, database) => {
    const avant = appelsCaf();
    const id = await demander(h, false);
    assert.equal(appelsCaf(), avant, 'no consent, no call');
    const q = await quotient(database, id);
    assert.equal(q.source_retenue, 'fiscal');
    assert.match(q.raison_source ?? '', /Seul le quotient calculé à partir de l’avis/);
    const attestation = await h.services.attestations.attestation(id, famille);
    assert.ok(
      attestation.statut === 'valable' && /^DGFiP, avis d’imposition .* — Seul le quotient calculé/.test(attestation.source),
      JSON.stringify(attestation),
    );
  });
});

test('a fiscal policy never asks the caisses, even with the consent', async (t) => {
  await withPolicy(t, 'fiscal', async (h, database) => {
    const avant = appelsCaf();
    const id = await demander(h, true);
    assert.equal(appelsCaf(), avant);
    assert.equal((await quotient(database, id)).source_retenue, 'fiscal');
  });
});

const statut = (database: Database, id: string) =>
  database.db.selectFrom('demandes').select(['statut', 'motif_code', 'motif']).where('id', '=', id).executeTakeFirstOrThrow();

async function soumettre(h: Harness, caf: boolean): Promise<string> {
  const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
  const { id } = await h.demandes.soumettre({
    familleId,
    canal: 'en_ligne',
    acteur: famille,
    foyersFiscaux: [{ parentRang: 1, identifiant: { etatCivil: paul }, consentement: { mode: 'en_ligne', donnePar: famille, caf } }],
  });
  return id;
}

test('the caisses failing (not « no allocataire »): no silent pricing on the avis’s QF, an instructor reviews with its own reason', async (t) => {
  await withPolicy(t, 'le-plus-favorable', async (h, database) => {
    const id = await soumettre(h, true);
    sandbox.admin.addFault({ kind: 'schemaMismatch', api: 'quotient-caf', times: 1 });
    try {
      assert.equal(await h.traitement.traiter(id), 'a_verifier');
    } finally {
      sandbox.admin.clearFaults();
    }
    const d = await statut(database, id);
    assert.equal(d.motif_code, 'caf_indisponible');
    assert.match(d.motif ?? '', /La CAF ou la MSA n’a pas pu donner son quotient/);
    assert.equal(await database.db.selectFrom('quotients').select('id').where('demande_id', '=', id).executeTakeFirst(), undefined, 'nothing priced');
  });
});

test('a CAF-only policy without the CAF’s quotient: review with the true reason, not « avis des deux foyers »', async (t) => {
  await withPolicy(t, 'caf', async (h, database) => {
    const id = await soumettre(h, false);
    assert.equal(await h.traitement.traiter(id), 'a_verifier');
    const d = await statut(database, id);
    assert.equal(d.motif_code, 'quotient_caf_absent');
    assert.doesNotMatch(d.motif ?? '', /combinés/);
    assert.match(d.motif ?? '', /quotient familial de la CAF ou de la MSA/);
  });
});

test('a policy on the resources the family declares, none declared: review saying so, not « avis des deux foyers »', async (t) => {
  await withPolicy(
    t,
    'fiscal',
    async (h, database) => {
      const id = await soumettre(h, false);
      assert.equal(await h.traitement.traiter(id), 'a_verifier');
      const d = await statut(database, id);
      assert.equal(d.motif_code, 'ressources_manquantes');
      assert.match(d.motif ?? '', /ressources mensuelles de la famille/);
    },
    { formule: 'ressources-personnes' },
  );
});
