/**
 * One scripted scenario per detection rule: the journal entries (or events, or states) the services
 * write during an attack, then one evaluation — the rules' delay is one evaluation interval — and
 * the alert is stored and sent; just below the threshold, nothing is.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { detectionSchema } from '../../infra/config/securite-config.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import type { AuditEntryInput } from '../audit/index.ts';
import { insertDemande } from '../demandes/demandes-repo.ts';
import { constatCampagne } from './campagne.ts';
import { EVENEMENTS } from './detection-service.ts';
import { monterBanc, type Banc } from './test-support.ts';

const FAMILLE = { type: 'famille', id: 'compte-peche' } as const;
const AGENT = { type: 'agent', id: 'agent-curieux' } as const;
const SYSTEME = { type: 'systeme', id: 'quotient' } as const;

async function alertesDe(banc: Banc, regle: string) {
  return (await banc.store.lister()).filter((a) => a.regle === regle);
}

/** Writes `n - 1` entries: nothing; the n-th: one alert of `regle`, sent, with the entries behind it. */
async function auSeuil(banc: Banc, regle: string, n: number, entree: (i: number) => AuditEntryInput) {
  for (let i = 0; i < n - 1; i++) await banc.journal.append(entree(i));
  await banc.evaluer();
  assert.deepEqual(await alertesDe(banc, regle), [], `below the threshold (${n - 1}), no alert`);
  await banc.journal.append(entree(n - 1));
  await banc.evaluer();
  const [alerte, ...autres] = await alertesDe(banc, regle);
  assert.ok(alerte, `an alert ${regle} at the threshold`);
  assert.equal(autres.length, 0);
  assert.ok(
    banc.recues.some((a) => a.id === alerte.id && a.code === regle),
    'sent through the alerteur',
  );
  return alerte;
}

test('rule 1: sign-in failures on one account, and from one network address', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    const seuil = detectionSchema.parse({}).connexionEchecsCompte.seuil;
    const alerte = await auSeuil(banc, 'connexion.echecs_rafale', seuil, () => ({
      actor: { type: 'famille', id: 'c1' },
      action: 'compte.connexion',
      target: { type: 'compte', id: 'c1' },
      outcome: 'echec',
      details: { methode: 'local', suspendu: false },
    }));
    assert.equal(alerte.cle, 'compte:c1');
    assert.equal((await banc.store.detail(alerte.id)).entrees.length, seuil);
    // Agents refused at sign-in count as well.
    for (let i = 0; i < seuil; i++) await banc.journal.append({ actor: AGENT, action: 'agent.connexion', outcome: 'refus', details: { motif: 'desactive' } });
    // By address: failures the journal does not hold (unknown e-mail addresses).
    const parAdresse = detectionSchema.parse({}).connexionEchecsAdresse.seuil;
    for (let i = 0; i < parAdresse; i++) await banc.detection.signaler(EVENEMENTS.connexionEchec, 'adresse:192.0.2.7');
    await banc.evaluer();
    const cles = (await alertesDe(banc, 'connexion.echecs_rafale')).map((a) => a.cle).sort();
    assert.deepEqual(cles, ['adresse:192.0.2.7', 'agent:agent-curieux', 'compte:c1']);
    const adresse = (await alertesDe(banc, 'connexion.echecs_rafale')).find((a) => a.cle.startsWith('adresse:'));
    assert.equal((await banc.store.detail(adresse?.id as string)).evenements, parAdresse);
    // Successful sign-ins never count; an evaluation later with nothing new sends nothing.
    const envoyees = banc.recues.length;
    await banc.ecrire({ actor: { type: 'famille', id: 'c2' }, action: 'compte.connexion', target: { type: 'compte', id: 'c2' }, outcome: 'succes' }, 30);
    await banc.evaluer();
    assert.equal(banc.recues.length, envoyees);
    // Outside the window, the events are purged.
    banc.avancer(3 * 3600_000);
    await banc.evaluer();
    assert.equal(
      await fixture.open().then((d) =>
        d.db
          .selectFrom('detection_evenements')
          .select('id')
          .execute()
          .then((r) => r.length),
      ),
      0,
    );
  });
});

test('rule 2: many access denials for one signed-in session holder', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    const alerte = await auSeuil(banc, 'acces.refus_repetes', detectionSchema.parse({}).refusSession.seuil, (i) => ({
      actor: FAMILLE,
      action: 'acces.refuse',
      outcome: 'refus',
      correlationId: `req-${i}`,
      details: { methode: 'GET', route: '/agents/controle', roles: 'famille' },
    }));
    assert.equal(alerte.cle, 'famille:compte-peche');
  });
});

test('rule 3: a try refused by the numéro fiscal limits raises its alert at once, for the family', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    const alerte = await auSeuil(banc, 'numero_fiscal.limite_atteinte', 1, () => ({
      actor: FAMILLE,
      action: 'demande.numero_fiscal.limite',
      target: { type: 'famille', id: 'fam-limite' },
      outcome: 'refus',
      details: { canal: 'en_ligne', portee: 'compte', fenetre: 'heure', limite: 6, numeros: 1, reessayerA: '2026-12-02T03:00:00.000Z' },
    }));
    assert.equal(alerte.cle, 'famille:fam-limite');
    assert.equal(alerte.gravite, 'critique');
  });
});

test('rule 3: numéro fiscal fishing — submissions above the limit, per account, per family, at the counter; unknown or someone else’s answers', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open(), { config: { soumissionsNumeroFiscal: { seuil: 5 }, reponsesNegatives: { seuil: 3 } } });
    const soumission = (i: number): AuditEntryInput => ({
      actor: FAMILLE,
      action: i % 2 ? 'demande.creee' : 'demande.nouvelle_saisie',
      target: { type: 'demande', id: `d-${i}` },
      outcome: 'succes',
      details: { canal: 'en_ligne', foyers: 1, famille: 'fam-1' },
    });
    for (let i = 0; i < 4; i++) await banc.journal.append(soumission(i));
    await banc.evaluer();
    assert.deepEqual(await alertesDe(banc, 'numero_fiscal.peche'), []);
    await banc.journal.append(soumission(4));
    await banc.evaluer();
    const peche = await alertesDe(banc, 'numero_fiscal.peche');
    assert.deepEqual(peche.map((a) => a.cle).sort(), ['compte:compte-peche', 'famille:fam-1'], 'by account and by family');
    assert.ok(peche.every((a) => a.gravite === 'critique'));
    assert.equal(banc.recues.filter((a) => a.code === 'numero_fiscal.peche').length, 2);

    // The answers: unknown to the DGFiP, or an avis of someone else (identity check discordant).
    const negatives: AuditEntryInput[] = [
      {
        actor: SYSTEME,
        action: 'demande.situation_indisponible',
        target: { type: 'demande', id: 'd-0' },
        outcome: 'succes',
        details: { raison: 'introuvable' },
      },
      { actor: SYSTEME, action: 'demande.situation_recue', target: { type: 'demande', id: 'd-1' }, outcome: 'succes', details: { controle: 'discordant' } },
      // Ordinary answers do not count.
      { actor: SYSTEME, action: 'demande.situation_recue', target: { type: 'demande', id: 'd-2' }, outcome: 'succes', details: { controle: 'concordant' } },
      {
        actor: SYSTEME,
        action: 'demande.situation_indisponible',
        target: { type: 'demande', id: 'd-3' },
        outcome: 'succes',
        details: { raison: 'introuvable' },
      },
    ];
    await banc.evaluer();
    // Requests of the family, so that the rule finds the family behind each answer (the answers name the request only).
    const db = (await fixture.open()).db;
    const le = new Date(banc.maintenant()).toISOString();
    await db.insertInto('familles').values({ id: 'fam-1', reference: 'F-ABCD-EFGH', resident: 1, courriel: null, creee_le: le, modifiee_le: le }).execute();
    for (const e of negatives)
      await insertDemande(db, {
        id: e.target?.id as string,
        reference: `D-${e.target?.id as string}`,
        familleId: 'fam-1',
        canal: 'en_ligne',
        acteur: FAMILLE,
        anneeRevenus: null,
        detenteur: null,
        le,
      });
    for (const e of negatives) await banc.journal.append(e);
    await banc.evaluer();
    const [negative] = await alertesDe(banc, 'numero_fiscal.reponses_negatives');
    assert.equal(negative?.cle, 'famille:fam-1', 'three negative answers for the family (through its requests)');

    // At the counter, an agent has a higher bar of its own.
    const guichet = detectionSchema.parse({}).soumissionsGuichet.seuil;
    await banc.ecrire(
      { actor: AGENT, action: 'demande.nouvelle_saisie', target: { type: 'demande', id: 'g-1' }, outcome: 'succes', details: { famille: 'fam-9' } },
      guichet - 1,
    );
    await banc.evaluer();
    assert.ok(!(await alertesDe(banc, 'numero_fiscal.peche')).some((a) => a.cle === 'agent:agent-curieux'));
    await banc.ecrire({ actor: AGENT, action: 'demande.nouvelle_saisie', target: { type: 'demande', id: 'g-1' }, outcome: 'succes' });
    await banc.evaluer();
    assert.ok((await alertesDe(banc, 'numero_fiscal.peche')).some((a) => a.cle === 'agent:agent-curieux'));
  });
});

test('rule 4: an agent reading more distinct families than usual within the hour', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open(), { config: { lecturesAgent: { seuil: 12, fenetreMinutes: 60 } } });
    // The same family read fifty times is one family.
    await banc.ecrire({ actor: AGENT, action: 'famille.consultee', target: { type: 'famille', id: 'fam-0' }, outcome: 'succes' }, 50);
    const alerte = await auSeuil(banc, 'agent.lectures_inhabituelles', 12, (i) => ({
      actor: AGENT,
      action: i % 2 ? 'famille.consultee' : 'famille.resultat_consulte',
      target: { type: 'famille', id: `fam-${i}` },
      outcome: 'succes',
    }));
    assert.equal(alerte.cle, 'agent:agent-curieux');
    assert.equal(alerte.details.nombre, 12);
  });
});

test('rule 5: bulk exports (billing CSV and API, journal exports)', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    const n = detectionSchema.parse({}).exports.seuil;
    const alerte = await auSeuil(banc, 'export.massif', n, (i) => ({
      actor: AGENT,
      action: i % 2 ? 'facturation.export' : 'journal.exporte',
      outcome: 'succes',
      details: { lignes: 100 },
    }));
    assert.equal(alerte.cle, 'agent:agent-curieux');
  });
});

test('rule 5: the billing software walking every page, polling for nothing new or sending bad calls is not a bulk export; full reads in a row are', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    const n = detectionSchema.parse({}).exports.seuil;
    const API = { type: 'api', id: 'cle-facturation' } as const;
    const appel = (outcome: 'succes' | 'echec' | 'refus', details: Record<string, string | number | boolean | null>) =>
      banc.journal.append({ actor: API, action: 'api.quotients.consultes', outcome, details });
    // The nightly pass: one read of 3 n pages, the first and its continuations.
    for (let page = 0; page < 3 * n; page++) await appel('succes', { lignes: 100, date: '2026-03-02', modifiedSince: null, suite: page > 0, limit: 100 });
    // Polls for what changed since the last pass, with nothing new; a few bad or refused calls, which send nothing.
    for (let i = 0; i < 2 * n; i++) await appel('succes', { lignes: 0, date: null, modifiedSince: '2026-03-02T00:00:00Z', suite: false, limit: 100 });
    for (let i = 0; i < n; i++) await appel(i % 2 ? 'echec' : 'refus', { code: i % 2 ? 'parametres_invalides' : 'trop_de_requetes' });
    await banc.evaluer();
    assert.deepEqual(await alertesDe(banc, 'export.massif'), [], 'an ordinary day of the billing software');
    // Full reads started again and again within the hour: the nightly pass was one, n - 1 more reach the threshold.
    const alerte = await auSeuil(banc, 'export.massif', n - 1, () => ({
      actor: API,
      action: 'api.quotients.consultes',
      outcome: 'succes',
      details: { lignes: 100, date: '2026-03-02', modifiedSince: null, suite: false, limit: 100 },
    }));
    assert.equal(alerte.cle, 'api:cle-facturation');
    assert.equal(alerte.details.nombre, n);
  });
});

test('rule 6: the DGFiP refuses our credentials, certificate or habilitation (401, 403, TLS)', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open(), { config: { refusDgfip: { seuil: 2 } } });
    // An outage is not a refusal.
    await banc.ecrire(
      { actor: SYSTEME, action: 'demande.echec_appel', target: { type: 'demande', id: 'x' }, outcome: 'succes', details: { raison: 'injoignable' } },
      5,
    );
    const raisons = ['certificat_refuse', 'identifiants_refuses'];
    const alerte = await auSeuil(banc, 'dgfip.acces_refuse', 2, (i) => ({
      actor: SYSTEME,
      action: i ? 'demande.echec_appel' : 'dgfip.check',
      target: { type: 'demande', id: 'x' },
      outcome: 'succes',
      details: { raison: raisons[i] as string },
    }));
    assert.equal(alerte.gravite, 'critique');
    assert.equal(alerte.cle, 'dgfip');
  });
});

test('rule 7: the quota at or above 90 % for more than N minutes', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    let used = 46;
    const banc = await monterBanc(st, await fixture.open(), { quota: { usage: async () => ({ used, limit: 50 }) }, config: { quota: { dureeMinutes: 10 } } });
    await banc.evaluer();
    banc.avancer(9 * 60_000);
    await banc.evaluer();
    assert.deepEqual(await alertesDe(banc, 'quota.sature'), [], 'not yet 10 minutes');
    // A dip below resets the count.
    used = 10;
    await banc.evaluer();
    used = 48;
    banc.avancer(60_000);
    await banc.evaluer();
    banc.avancer(9 * 60_000);
    await banc.evaluer();
    assert.deepEqual(await alertesDe(banc, 'quota.sature'), []);
    banc.avancer(60_000);
    await banc.evaluer();
    const [alerte] = await alertesDe(banc, 'quota.sature');
    assert.equal(alerte?.details.pourcentage, 96);
    banc.avancer(60_000);
    await banc.evaluer();
    assert.equal((await alertesDe(banc, 'quota.sature')).length, 1, 'one alert while it lasts');
    assert.equal(banc.recues.filter((a) => a.code === 'quota.sature').length, 1);
  });
});

test('rule 9: an instance whose heartbeat is not seen for N minutes', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const banc = await monterBanc(st, database);
    const il = (minutes: number) => new Date(banc.maintenant() - minutes * 60_000).toISOString();
    await database.db
      .insertInto('instances')
      .values([
        { id: 'vivante', demarree_le: il(60), vue_le: il(0) },
        { id: 'figee', demarree_le: il(60), vue_le: il(6) },
      ])
      .execute();
    await banc.evaluer();
    const alertes = await alertesDe(banc, 'traitement.silencieux');
    assert.deepEqual(
      alertes.map((a) => a.cle),
      ['instance:figee'],
    );
    assert.equal(alertes[0]?.gravite, 'critique');
  });
});

test('rule 10: a campaign’s error rate, from the input campaigns will report', async (t) => {
  const reglage = detectionSchema.parse({}).campagne;
  assert.equal(constatCampagne({ campagneId: 'c-1', traites: 19, echecs: 19 }, reglage), null, 'too few items to judge');
  assert.equal(constatCampagne({ campagneId: 'c-1', traites: 100, echecs: 19 }, reglage), null);
  assert.equal(constatCampagne({ campagneId: 'c-1', traites: 100, echecs: 20 }, reglage)?.regle, 'campagne.taux_erreur');
  assert.equal(constatCampagne({ campagneId: 'c-1', traites: 10, echecs: 11 }, reglage), null, 'incoherent input is no alert');
  fc.assert(
    fc.property(fc.nat(10_000), fc.nat(10_000), (a, b) => {
      const traites = Math.max(a, b);
      const echecs = Math.min(a, b);
      const c = constatCampagne({ campagneId: 'c', traites, echecs }, reglage);
      const attendu = traites >= reglage.minimum && echecs * 100 >= reglage.pourcentage * traites;
      return (c !== null) === attendu;
    }),
  );
  await eachDialect(t, async (fixture, st) => {
    const banc = await monterBanc(st, await fixture.open());
    assert.equal(await banc.detection.bilanCampagne({ campagneId: 'rentree-2026', traites: 50, echecs: 25 }), 'nouvelle');
    assert.equal(await banc.detection.bilanCampagne({ campagneId: 'rentree-2026', traites: 60, echecs: 30 }), 'ignoree');
    await banc.alerteur.enAttente();
    assert.equal(banc.recues[0]?.code, 'campagne.taux_erreur');
  });
});
