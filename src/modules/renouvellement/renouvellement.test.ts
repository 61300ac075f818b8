import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { exigerRenouvellement } from '../../domain/consentement-renouvellement.ts';
import { QuotientError } from '../../domain/errors.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Database } from '../../infra/db/database.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { BERTIN_ROUSSEL, createHarness, enLigne, HABILITATION_ETAT_CIVIL, type Harness } from '../demandes/test-harness.ts';
import { exportEnTexte } from '../familles/export-texte.ts';
import { RetentionService } from '../retention/retention-service.ts';
import { COFFRE_ETAT_CIVIL } from './renouvellement-repo.ts';
import { RenouvellementService } from './renouvellement-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-renouvellement-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };
const robot = { type: 'robot' as const, id: 'campagne-test', onBehalfOf: { type: 'agent' as const, id: 'agent-admin' } };
const LOIN = '2999-01-01';

async function withHarness(t: TestContext, body: (h: Harness, database: Database) => Promise<void>) {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox, { habilitation: HABILITATION_ETAT_CIVIL.sfip });
    try {
      await body(h, database);
    } finally {
      await h.close();
    }
  });
}

/** The Bertin–Roussel couple asks online with Paul's number; `renouvellement` says whether Paul also ticked the standing consent. */
async function demander(h: Harness, renouvellement: boolean) {
  const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
  const { id } = await h.demandes.soumettre({
    ...enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]], famille),
    ...(renouvellement ? { renouvellement: [1] as const } : {}),
  });
  assert.equal(await h.traitement.traiter(id), 'calculee');
  return { familleId, demandeId: id };
}

const silo = (database: Database) => database.db.selectFrom('coffre_records').select(['record_id']).where('kind', '=', COFFRE_ETAT_CIVIL).execute();

test('with the standing consent ticked: recorded with the request, the état civil of the avis kept encrypted, listed for the campaign, usable for a call', async (t) => {
  await withHarness(t, async (h, database) => {
    const renouvellement = h.services.renouvellement;
    const { familleId, demandeId } = await demander(h, true);
    const [accord] = await renouvellement.consentements(familleId);
    assert.ok(accord);
    assert.equal(accord.parent, 1);
    assert.equal(accord.etat, 'en_vigueur');
    assert.equal(accord.dureeAns, 3, 'the demo commune’s maximum');
    assert.equal(accord.etatCivilConserve, true);
    assert.deepEqual(accord.ressources, HABILITATION_ETAT_CIVIL.sfip.scopes);
    assert.equal(Date.parse(accord.expireLe) - Date.parse(accord.recueilliLe) > 3 * 365 * 86_400_000 - 86_400_000, true);
    // Encrypted at rest: the silo's record, whose bytes never hold the names in clear.
    const records = await database.db.selectFrom('coffre_records').selectAll().where('kind', '=', COFFRE_ETAT_CIVIL).execute();
    assert.equal(records.length, 1);
    assert.ok(
      !Buffer.from(records[0]?.ciphertext ?? [])
        .toString('latin1')
        .includes('BERTIN'),
    );

    const actions = (await h.journal.query({ target: { type: 'famille', id: familleId } })).entries.map((e) => e.action);
    assert.ok(actions.includes('consentement_renouvellement.recueilli'));
    assert.ok(actions.includes('renouvellement.etat_civil_conserve'));

    // The campaign's read side: due when the QF ends before a date, or has no avis of the year.
    const { valide_au: fin } = await database.db.selectFrom('quotients').select('valide_au').where('demande_id', '=', demandeId).executeTakeFirstOrThrow();
    const { annee_revenus: annee } = await database.db
      .selectFrom('demande_foyers')
      .select('annee_revenus')
      .where('demande_id', '=', demandeId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(await renouvellement.renouvellementsDus({ quotientAvant: fin }, robot), [], 'its QF lasts until then');
    assert.deepEqual(await renouvellement.renouvellementsDus({ sansAvisDe: annee as number }, robot), [], 'it has that year’s avis');
    const dus = await renouvellement.renouvellementsDus({ quotientAvant: LOIN }, robot);
    assert.equal(dus.length, 1);
    const [du] = dus;
    assert.equal(du?.familleId, familleId);
    assert.equal(du?.quotientValideAu, fin);
    assert.deepEqual(du?.declarants[0]?.etatCivil, { nom: 'BERTIN', prenoms: 'PAUL HENRI', dateNaissance: '1981-04-09' });
    assert.equal((await renouvellement.renouvellementsDus({ sansAvisDe: (annee as number) + 1 }, robot)).length, 1);
    const lecture = (await h.journal.query({ target: { type: 'famille', id: familleId } })).entries.find((e) => e.action === 'renouvellement.etat_civil_lu');
    assert.equal(lecture?.actor.type, 'robot');
    assert.equal(lecture?.actor.onBehalfOf?.id, 'agent-admin');

    // What the campaign will do with it: check the standing consent, then ask by état civil (SFiP here).
    const declarant = du?.declarants[0];
    assert.ok(declarant?.etatCivil);
    const maintenant = new Date().toISOString();
    exigerRenouvellement(declarant.consentement, { anneeRevenus: annee as number, le: maintenant, champs: HABILITATION_ETAT_CIVIL.sfip.champs });
    sandbox.admin.clearCalls();
    const situation = await h.dgfip.source.parEtatCivil(declarant.etatCivil);
    assert.equal(situation.declarants[0]?.nomNaissance, 'BERTIN');
    assert.deepEqual(
      sandbox.admin
        .calls()
        .filter((c) => c.api !== 'token')
        .map((c) => c.api),
      ['sfip'],
    );

    // The export gives the family what is kept.
    const exporte = await h.familles.exporter(familleId, famille);
    assert.equal(exporte.consentementsRenouvellement.length, 1);
    assert.deepEqual(exporte.consentementsRenouvellement[0]?.etatCivilConserve, { nom: 'BERTIN', prenoms: 'PAUL HENRI', dateNaissance: '1981-04-09' });
    assert.match(
      exportEnTexte(exporte),
      /Accords de renouvellement[^\n]*\n- parent 1, donné le [^\n]*\n {2}état civil conservé : PAUL HENRI BERTIN, né\(e\) le 09\/04\/1981/,
    );
    assert.equal((await h.journal.verify()).intact, true);
  });
});

test('without the standing consent, nothing more than today is kept: no record, no état civil in the silo, nothing for the campaign', async (t) => {
  await withHarness(t, async (h, database) => {
    const { familleId } = await demander(h, false);
    assert.deepEqual(await h.services.renouvellement.consentements(familleId), []);
    assert.deepEqual(await silo(database), []);
    assert.deepEqual(await h.services.renouvellement.renouvellementsDus({ quotientAvant: LOIN }, robot), []);
    assert.equal(h.services.renouvellement.dureeMaxAns, 3);
  });
});

test('withdrawn in one call: the état civil leaves the silo at once, journaled, and the campaign no longer lists the family', async (t) => {
  await withHarness(t, async (h, database) => {
    const { familleId } = await demander(h, true);
    const [accord] = await h.services.renouvellement.consentements(familleId);
    assert.ok(accord);
    // Another family's id: the same answer as none.
    const autre = (await h.familles.creer(BERTIN_ROUSSEL, famille)).id;
    await assert.rejects(
      h.services.renouvellement.retirer(autre, accord.id, famille),
      (e) => e instanceof QuotientError && e.code === 'renouvellement_introuvable',
    );
    assert.deepEqual(await h.services.renouvellement.retirer(familleId, accord.id, famille), { parent: 1, dejaTermine: false });
    assert.deepEqual(await silo(database), []);
    const [apres] = await h.services.renouvellement.consentements(familleId);
    assert.equal(apres?.etat, 'retire');
    assert.equal(apres?.etatCivilConserve, false);
    assert.deepEqual(await h.services.renouvellement.renouvellementsDus({ quotientAvant: LOIN }, robot), []);
    assert.deepEqual(
      await h.services.renouvellement.retirer(familleId, accord.id, famille),
      { parent: 1, dejaTermine: true },
      'a second click changes nothing',
    );
    const retraits = (await h.journal.query({ target: { type: 'famille', id: familleId } })).entries.filter(
      (e) => e.action === 'consentement_renouvellement.retire',
    );
    assert.equal(retraits.length, 1);
    assert.equal(retraits[0]?.details.etatCivilEfface, true);
  });
});

test('« Retirer mon accord » ends the standing consents too; a new one replaces the old and keeps one per declarant', async (t) => {
  await withHarness(t, async (h, database) => {
    const { familleId } = await demander(h, true);
    // A second request with the standing consent ticked again: the first is replaced, one remains in force.
    const { id } = await h.demandes.soumettre({ ...enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]], famille), renouvellement: [1] });
    assert.equal(await h.traitement.traiter(id), 'calculee');
    const accords = await h.services.renouvellement.consentements(familleId);
    assert.deepEqual(
      accords.map((a) => [a.etat, a.finMotif]),
      [
        ['en_vigueur', null],
        ['retire', 'remplacement'],
      ],
    );
    assert.equal((await silo(database)).length, 1, 'one état civil, for the consent in force');
    assert.equal(await h.familles.retirerConsentements(familleId, famille), 3, 'two consents for requests, one standing consent');
    assert.deepEqual(await silo(database), []);
    assert.equal((await h.services.renouvellement.consentements(familleId))[0]?.etat, 'retire');
  });
});

test('refused before anything is written: by e-mail, without the request’s consent, or where the commune does not offer it', async (t) => {
  await withHarness(t, async (h, database) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const agent = { type: 'agent' as const, id: 'agent-guichet' };
    const papier = (mode: 'courriel' | 'formulaire_signe') => ({
      familleId,
      canal: 'guichet' as const,
      acteur: agent,
      foyersFiscaux: [
        {
          parentRang: 1 as const,
          identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) },
          consentement: { mode, donnePar: agent, piece: 'Pièce n° 12 du 02/09' },
        },
      ],
      renouvellement: [1] as const,
    });
    await assert.rejects(
      h.demandes.soumettre(papier('courriel')),
      (e) => e instanceof QuotientError && e.code === 'renouvellement_invalide' && /formulaire signé/.test(e.message),
    );
    await assert.rejects(
      h.demandes.soumettre({ ...enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]], famille), renouvellement: [2] }),
      (e) => e instanceof QuotientError && e.code === 'renouvellement_invalide',
    );
    assert.equal((await database.db.selectFrom('demandes').select('id').execute()).length, 0, 'no request half-written');
    // The signed form: recorded by the agent, with its piece.
    const { id } = await h.demandes.soumettre(papier('formulaire_signe'));
    assert.equal(await h.traitement.traiter(id), 'calculee');
    const [accord] = await h.services.renouvellement.consentements(familleId);
    assert.equal(accord?.mode, 'formulaire_signe');
    assert.equal(accord?.piece, 'Pièce n° 12 du 02/09');
    const entree = (await h.journal.query({ target: { type: 'famille', id: familleId } })).entries.find(
      (e) => e.action === 'consentement_renouvellement.recueilli',
    );
    assert.equal(entree?.actor.id, 'agent-guichet');
  });
  // Without the état civil route, the standing consent is not offered at all.
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox);
    try {
      assert.equal(h.services.renouvellement.dureeMaxAns, null);
      const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
      await assert.rejects(
        h.demandes.soumettre({ ...enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]], famille), renouvellement: [1] }),
        (e) => e instanceof QuotientError && e.code === 'renouvellement_non_propose',
      );
    } finally {
      await h.close();
    }
  });
});

test('at expiry: no longer listed, and the purge removes the état civil (and later the record), journaled; the journal stays intact', async (t) => {
  await withHarness(t, async (h, database) => {
    const { familleId } = await demander(h, true);
    const [accord] = await h.services.renouvellement.consentements(familleId);
    assert.ok(accord);
    const plus = (ms: number) => Date.parse(accord.expireLe) + ms;
    const a = (ms: number) =>
      new RenouvellementService({
        db: database.db,
        coffre: h.coffre,
        journal: h.journal,
        habilitation: HABILITATION_ETAT_CIVIL.sfip,
        dureeMaxAns: 3,
        clock: () => plus(ms),
      });
    assert.equal((await a(-60_000).renouvellementsDus({ quotientAvant: LOIN }, robot)).length, 1, 'a minute before expiry: still due');
    assert.deepEqual(await a(0).renouvellementsDus({ quotientAvant: LOIN }, robot), [], 'at expiry: over');
    assert.equal((await a(0).consentements(familleId))[0]?.etat, 'expire');
    const conservation = { donneesFiscalesMoisApresValidite: 3, demandesMois: 24, journalMois: 12 };
    const retention = (ms: number) =>
      new RetentionService({ db: database.db, coffre: h.coffre, journal: h.journal, conservation, clock: () => new Date(plus(ms)), renouvellement: a(ms) });
    assert.equal((await retention(-60_000).purger()).etatsCivilsRenouvellement, 0, 'in force: kept');
    assert.equal((await silo(database)).length, 1);
    assert.equal((await retention(1_000).purger()).etatsCivilsRenouvellement, 1);
    assert.deepEqual(await silo(database), []);
    assert.equal((await retention(2_000).purger()).etatsCivilsRenouvellement, 0, 'idempotent');
    assert.equal((await a(2_000).consentements(familleId)).length, 1, 'the proof of consent stays');
    await retention(25 * 31 * 86_400_000).purger();
    assert.deepEqual(await a(25 * 31 * 86_400_000).consentements(familleId), [], 'gone after the requests’ period');
    const actions = (await h.journal.query({ target: { type: 'famille', id: familleId } })).entries.map((e) => e.action);
    assert.ok(actions.includes('retention.etat_civil_renouvellement_purge'));
    assert.equal((await h.journal.verify()).intact, true);
  });
});

test('two submissions at once for the same declarant: both requests made, one standing consent in force, the other replaced', async (t) => {
  await withHarness(t, async (h) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const soumission = { ...enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]], famille), renouvellement: [1] as const };
    const demandes = await Promise.all([h.demandes.soumettre(soumission), h.demandes.soumettre(soumission)]);
    assert.equal(new Set(demandes.map((d) => d.id)).size, 2);
    assert.deepEqual((await h.services.renouvellement.consentements(familleId)).map((a) => a.etat).sort(), ['en_vigueur', 'retire']);
  });
});
