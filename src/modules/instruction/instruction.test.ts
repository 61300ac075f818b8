import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { formatEuros } from '../../domain/money.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { quotientFromSituations } from '../../domain/quotient-familial.ts';
import { createSituationFiscale } from '../../domain/situation-fiscale.ts';
import { priceActivites } from '../../domain/tarification.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { COFFRE } from '../demandes/demandes-repo.ts';

/**
 * The instructor's review, through HTTP as a browser would use it: the queue, a case opened only
 * with a reason (one journal entry each time), the three decisions and the answer to a
 * contestation, each with its decision row, its journal entry and what the family then sees.
 */

let t: BackOfficeTestApp;
let instructeur: Jar;

interface Cas {
  readonly jar: Jar;
  readonly familleId: string;
  readonly id: string;
  readonly reference: string;
}

/** The household declares Paul Bertin alone; the avis of his numéro fiscal also names Claire Roussel: identity to check. */
const BERTIN_SEUL = {
  parents: [{ nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' }],
  enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' }],
};

async function demandeAVerifier(famille: unknown, email: string, spi: string): Promise<Cas> {
  const { jar, familleId, compteId } = await t.signedInFamily(famille, email);
  const acteur = { type: 'famille' as const, id: compteId };
  const { id, reference } = await t.harness.demandes.soumettre({
    familleId,
    canal: 'en_ligne',
    acteur,
    foyersFiscaux: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(spi) }, consentement: { mode: 'en_ligne', donnePar: acteur } }],
  });
  t.services.wake();
  assert.equal((await t.harness.demandes.attendre(id, 20_000)).statut, 'a_verifier');
  return { jar, familleId, id, reference };
}

let identite: Cas;
let aRefuser: Cas;
let introuvable: Cas;

before(async () => {
  t = await createBackOfficeTestApp();
  instructeur = await t.signInAgent('instructeur');
  identite = await demandeAVerifier(BERTIN_SEUL, 'paul.bertin@exemple.fr', SPI_SANDBOX.coupleMarie.declarant1);
  aRefuser = await demandeAVerifier(BERTIN_SEUL, 'paul.bertin.bis@exemple.fr', SPI_SANDBOX.coupleMarie.declarant1);
  introuvable = await demandeAVerifier(
    { parents: [{ nomNaissance: 'Inconnu', prenoms: 'Ana', dateNaissance: '1990-03-03' }] },
    'ana.inconnu@exemple.fr',
    SPI_SANDBOX.inconnu,
  );
});
after(() => t?.close());

const vues = async (id: string) => (await t.harness.journal.query({ action: 'demande.consultee_instruction', target: { type: 'demande', id } })).entries;
const page = (jar: Jar, url: string) => t.get(jar, url);
/** The page's text without tags, spaces collapsed (non-breaking ones too). */
const texte = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, '’')
    .replace(/[\s\u00a0\u202f]+/g, ' ');

async function ouvrir(id: string, motif = 'verification_identite', precision = '') {
  const res = await t.post(instructeur, `/agents/instruction/demandes/${id}`, `/agents/instruction/demandes/${id}/consultation`, { motif, precision });
  assert.equal(res.statusCode, 303, res.body.slice(0, 400));
  return page(instructeur, `/agents/instruction/demandes/${id}`);
}

async function decider(id: string, fields: Record<string, string>) {
  return t.post(instructeur, `/agents/instruction/demandes/${id}`, `/agents/instruction/demandes/${id}/decision`, fields);
}

test('the queue lists the requests to check, oldest first, with the reason in plain French, the channel and the age, and no fiscal data; it filters by kind', async () => {
  const res = await page(instructeur, '/agents/instruction');
  assert.equal(res.statusCode, 200);
  const text = texte(res.body);
  for (const c of [identite, aRefuser, introuvable]) assert.ok(text.includes(c.reference), c.reference);
  assert.ok(
    text.indexOf(identite.reference) < text.indexOf(aRefuser.reference) && text.indexOf(aRefuser.reference) < text.indexOf(introuvable.reference),
    'oldest first',
  );
  assert.match(text, /Nature Identité à vérifier Motif Les déclarants de l’avis ne correspondent pas exactement aux parents déclarés\. Canal en ligne/);
  assert.match(text, /Nature Avis non disponible Motif La DGFiP ne trouve pas d’avis/);
  assert.match(text, /en ligne/);
  assert.match(text, /moins d’une heure/);
  // Only what is needed to pick: no name, no amount, no declarant.
  assert.doesNotMatch(text, /Bertin|BERTIN|ROUSSEL|Roussel|€|revenu fiscal/i);

  const filtre = texte((await page(instructeur, '/agents/instruction?type=annee')).body);
  assert.ok(filtre.includes(introuvable.reference));
  assert.ok(!filtre.includes(identite.reference));
  assert.match(texte((await page(instructeur, '/agents/instruction?type=contestation')).body), /Aucun dossier de nature « Contestation » en attente/);
  // Each reading of the queue is traced, with what it listed.
  const lectures = (await t.harness.journal.query({ action: 'instruction.file_consultee' })).entries;
  assert.deepEqual(
    lectures.slice(0, 3).map((e) => [e.actor.id, e.details.type, e.details.dossiers]),
    [
      [t.agents.instructeur.id, 'contestation', 0],
      [t.agents.instructeur.id, 'annee', 1],
      [t.agents.instructeur.id, 'tous', 3],
    ],
  );
});

test('a case without a reason given shows no fiscal field and journals no consultation (only the summary read); a wrong reason gets French messages', async () => {
  const res = await page(instructeur, `/agents/instruction/demandes/${identite.id}`);
  assert.equal(res.statusCode, 200);
  const text = texte(res.body);
  assert.match(text, new RegExp(`Demande ${identite.reference}`));
  assert.match(text, /Motif de la consultation/);
  assert.match(text, /ne s’affichent qu’une fois le motif indiqué/);
  assert.doesNotMatch(text, /ROUSSEL|CLAIRE|Déclarants de l’avis obtenu|revenu fiscal|1983/);
  assert.doesNotMatch(text, /revenu fiscal|parts/i);
  assert.doesNotMatch(text, /Paul|Léa/, 'not even the household before the reason');
  // The reason is a real choice: nothing selected until the instructor picks one, and none is refused.
  const select = /<select[^>]*name="motif"[^>]*>([\s\S]*?)<\/select>/.exec(res.body)?.[1] ?? '';
  assert.match(select, /^<option value(="")? selected>Choisissez un motif<\/option>/);
  assert.equal((select.match(/selected/g) ?? []).length, 1, 'only the empty choice is selected');
  const aucun = await t.post(instructeur, `/agents/instruction/demandes/${identite.id}`, `/agents/instruction/demandes/${identite.id}/consultation`, {
    motif: '',
    precision: '',
  });
  assert.equal(aucun.statusCode, 400);
  assert.match(texte(aucun.body), /Choisissez le motif de la consultation/);

  const vide = await t.post(instructeur, `/agents/instruction/demandes/${identite.id}`, `/agents/instruction/demandes/${identite.id}/consultation`, {
    motif: 'autre',
    precision: '',
  });
  assert.equal(vide.statusCode, 400);
  assert.match(texte(vide.body), /Précisez le motif de la consultation/);
  assert.match(vide.body, /<title>Erreur : /);
  const spi = await t.post(instructeur, `/agents/instruction/demandes/${identite.id}`, `/agents/instruction/demandes/${identite.id}/consultation`, {
    motif: 'autre',
    precision: `vu ${SPI_SANDBOX.rfrZero}`,
  });
  assert.equal(spi.statusCode, 400);
  assert.match(texte(spi.body), /semble contenir un numéro fiscal/);
  assert.ok(!spi.body.includes(SPI_SANDBOX.rfrZero), 'the number is not echoed');
  const inconnu = await t.post(instructeur, `/agents/instruction/demandes/${identite.id}`, `/agents/instruction/demandes/${identite.id}/consultation`, {
    motif: 'curiosite',
  });
  assert.equal(inconnu.statusCode, 400);
  assert.match(texte(inconnu.body), /Choisissez le motif de la consultation/);
  assert.equal((await vues(identite.id)).length, 0, 'nothing fiscal shown, no consultation journaled');
  // The summary itself is a read of the family's request: traced, without a reason.
  const apercus = (await t.harness.journal.query({ action: 'demande.apercu_instruction', target: { type: 'demande', id: identite.id } })).entries;
  assert.ok(apercus.length >= 1 && apercus.every((e) => e.actor.id === t.agents.instructeur.id && e.details.famille === identite.familleId));
  // Deciding without having opened the case is not possible.
  const sans = await decider(identite.id, { decision: 'confirme', justification: 'vu' });
  assert.equal(sans.statusCode, 303);
  assert.equal((await t.harness.demandes.etat(identite.id)).statut, 'a_verifier');
});

test('with a reason, one journal entry records it; the case shows the household and the declarants of the avis, not the amounts', async () => {
  const res = await ouvrir(identite.id, 'verification_identite', 'appel de la famille du 12/09');
  assert.equal(res.statusCode, 200);
  const entries = await vues(identite.id);
  assert.equal(entries.length, 1);
  const [entry] = entries;
  assert.equal(entry?.actor.type, 'agent');
  assert.equal(entry?.actor.id, t.agents.instructeur.id);
  assert.equal(entry?.details.motif_consultation, 'Vérification d’identité : appel de la famille du 12/09');
  assert.equal(entry?.details.famille, identite.familleId);
  const text = texte(res.body);
  assert.match(text, /motif : « Vérification d’identité : appel de la famille du 12\/09 »/);
  assert.match(text, /Parents déclarés par la famille Parent Nom Prénoms Naissance 1 Bertin Paul 09\/04\/1981/);
  assert.match(text, /Déclarants de l’avis obtenu avec le numéro fiscal du parent 1 \(revenus \d{4}\)/);
  assert.match(text, /ROUSSEL \(nom d’usage BERTIN\) CLAIRE ANNE 01\/12\/1983/);
  assert.match(text, /n’est aucun des parents déclarés/);
  assert.doesNotMatch(text, /revenu fiscal de référence|52 340|Parts/i, 'an identity case needs no amount');
  assert.ok(!res.body.includes(SPI_SANDBOX.coupleMarie.declarant1));
  assert.match(text, /Confirmer et calculer le quotient/);
});

test('confirm: the QF and prices are computed from the avis kept, with a decision row, one journal entry, and the family sees its QF', async () => {
  await ouvrir(identite.id);
  const vide = await decider(identite.id, { decision: 'confirme', justification: '  ' });
  assert.equal(vide.statusCode, 400);
  assert.match(texte(vide.body), /Indiquez la justification de la décision/);
  assert.match(vide.body, /href="#confirme-justification"/);
  assert.equal((await t.harness.demandes.etat(identite.id)).statut, 'a_verifier');

  const res = await decider(identite.id, { decision: 'confirme', justification: 'Couple marié : Mme Roussel est l’épouse, ses revenus comptent.' });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, `/agents/instruction/demandes/${identite.id}`);
  const etat = await t.harness.demandes.etat(identite.id);
  assert.equal(etat.statut, 'calculee');
  const decisions = await t.database.db.selectFrom('decisions').selectAll().where('demande_id', '=', identite.id).execute();
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0]?.agent_id, t.agents.instructeur.id);
  assert.equal(decisions[0]?.decision, 'confirme');
  assert.match(decisions[0]?.justification ?? '', /ses revenus comptent/);
  // As the service computes it from the avis: here 52 340 € ÷ 12 ÷ 3 parts.
  const foyerFiscal = await t.database.db.selectFrom('demande_foyers').select('id').where('demande_id', '=', identite.id).executeTakeFirstOrThrow();
  const situation = createSituationFiscale(await t.harness.coffre.get(COFFRE.situation, foyerFiscal.id));
  const attendu = quotientFromSituations(t.config.politique, [situation]);
  const quotient = await t.database.db.selectFrom('quotients').selectAll().where('demande_id', '=', identite.id).executeTakeFirstOrThrow();
  assert.equal(quotient.valeur_cents, attendu.cents);
  assert.equal(quotient.origine, 'instructeur');
  assert.deepEqual(JSON.parse(quotient.prix), priceActivites(t.config.politique, { quotient: attendu, resident: true }));
  const journal = (await t.harness.journal.query({ action: 'demande.decision_instructeur', target: { type: 'demande', id: identite.id } })).entries;
  assert.equal(journal.length, 1);
  assert.equal(journal[0]?.actor.id, t.agents.instructeur.id);
  assert.deepEqual([journal[0]?.details.de, journal[0]?.details.vers, journal[0]?.details.decision], ['a_verifier', 'calculee', 'confirme']);
  assert.ok(!JSON.stringify(journal[0]?.details).includes('revenus'), 'no justification nor amount in the journal');

  // The instructor sees the outcome, without fiscal field: the reason was for the decision only.
  const apres = texte((await page(instructeur, `/agents/instruction/demandes/${identite.id}`)).body);
  assert.match(apres, /Décision enregistrée : le quotient familial est calculé/);
  assert.match(apres, /Confirmée : quotient calculé à partir de l’avis/);
  assert.doesNotMatch(apres, /ROUSSEL/);
  // The family sees its QF.
  const famille = texte((await t.get(identite.jar, `/mon-quotient/demandes/${identite.id}`)).body);
  assert.match(famille, /Votre quotient familial/);
  assert.ok(famille.includes(formatEuros(attendu.cents).replace(/\u00a0/g, ' ')), famille.slice(0, 600));
  // Decided: the same decision again is not possible (the reason is asked again first).
  await ouvrir(identite.id);
  const encore = await decider(identite.id, { decision: 'refuse', justification: 'non' });
  assert.equal(encore.statusCode, 409);
  assert.match(texte(encore.body), /n’attend plus de décision/);
  assert.equal((await t.database.db.selectFrom('decisions').select('id').where('demande_id', '=', identite.id).execute()).length, 1);
});

test('refuse: a justification is required, the request is refused and the family reads the reason', async () => {
  await ouvrir(aRefuser.id);
  const res = await decider(aRefuser.id, {
    decision: 'refuse',
    justification: 'Le foyer déclaré ne correspond pas à l’avis : présentez-vous en mairie avec votre livret de famille.',
  });
  assert.equal(res.statusCode, 303);
  assert.equal((await t.harness.demandes.etat(aRefuser.id)).statut, 'refusee');
  const decision = await t.database.db.selectFrom('decisions').selectAll().where('demande_id', '=', aRefuser.id).executeTakeFirstOrThrow();
  assert.equal(decision.decision, 'refuse');
  assert.equal(decision.agent_id, t.agents.instructeur.id);
  assert.equal(await t.database.db.selectFrom('quotients').select('id').where('demande_id', '=', aRefuser.id).executeTakeFirst(), undefined);
  const journal = (await t.harness.journal.query({ action: 'demande.decision_instructeur', target: { type: 'demande', id: aRefuser.id } })).entries;
  assert.deepEqual(
    journal.map((e) => e.details.vers),
    ['refusee'],
  );
  const famille = texte((await t.get(aRefuser.jar, `/mon-quotient/demandes/${aRefuser.id}`)).body);
  assert.match(famille, /refusée/);
  assert.match(famille, /présentez-vous en mairie avec votre livret de famille/);
});

test('a QF by hand: French errors for a wrong amount and missing fields, then a manual QF with the prices of the policy', async () => {
  const res = await ouvrir(introuvable.id, 'qf_manuel');
  const text = texte(res.body);
  assert.match(text, /Confirmer n’est pas possible/);
  assert.equal((await vues(introuvable.id))[0]?.details.motif_consultation, 'Quotient à fixer au vu d’un document présenté');
  const confirme = await decider(introuvable.id, { decision: 'confirme', justification: 'essai' });
  assert.equal(confirme.statusCode, 400);
  assert.match(texte(confirme.body), /fixez-le à la main ou refusez la demande/);

  const faux = await decider(introuvable.id, { decision: 'qf_manuel', qf: '612,505', justification: '', piece: '' });
  assert.equal(faux.statusCode, 400);
  const erreurs = texte(faux.body);
  assert.match(erreurs, /3 informations sont à corriger/);
  assert.match(erreurs, /Deux chiffres au plus après la virgule/);
  assert.match(erreurs, /Indiquez la justification de la décision/);
  assert.match(erreurs, /Indiquez la pièce examinée/);
  assert.match(faux.body, /href="#qf-montant"/);
  assert.match(faux.body, /value="612,505"/, 'what was typed comes back');
  assert.match(texte((await decider(introuvable.id, { decision: 'qf_manuel', qf: '-3', justification: 'x', piece: 'y' })).body), /ne peut pas être négatif/);
  const spi = await decider(introuvable.id, { decision: 'qf_manuel', qf: SPI_SANDBOX.inconnu, justification: `numéro ${SPI_SANDBOX.inconnu}`, piece: 'avis' });
  assert.equal(spi.statusCode, 400);
  assert.match(texte(spi.body), /La justification semble contenir un numéro fiscal/);
  assert.match(texte(spi.body), /Ce montant est trop élevé/);
  assert.ok(!spi.body.includes(SPI_SANDBOX.inconnu), 'a numéro fiscal typed in a field is not echoed');
  assert.equal((await t.harness.demandes.etat(introuvable.id)).statut, 'a_verifier', 'nothing written');
  assert.equal((await t.database.db.selectFrom('decisions').select('id').where('demande_id', '=', introuvable.id).execute()).length, 0);

  const ok = await decider(introuvable.id, {
    decision: 'qf_manuel',
    qf: '612,50 €',
    justification: 'Avis papier présenté par la famille.',
    piece: 'avis 2025 présenté au guichet le 12/09/2025',
  });
  assert.equal(ok.statusCode, 303);
  assert.equal((await t.harness.demandes.etat(introuvable.id)).statut, 'calculee');
  const quotient = await t.database.db.selectFrom('quotients').selectAll().where('demande_id', '=', introuvable.id).executeTakeFirstOrThrow();
  assert.equal(quotient.valeur_cents, 61250);
  assert.equal(quotient.origine, 'manuel');
  assert.deepEqual(JSON.parse(quotient.prix), priceActivites(t.config.politique, { quotient: { cents: 61250 }, resident: true }));
  const decision = await t.database.db.selectFrom('decisions').selectAll().where('demande_id', '=', introuvable.id).executeTakeFirstOrThrow();
  assert.deepEqual(
    [decision.decision, decision.piece, decision.agent_id],
    ['qf_manuel', 'avis 2025 présenté au guichet le 12/09/2025', t.agents.instructeur.id],
  );
  const journal = (await t.harness.journal.query({ action: 'demande.decision_instructeur', target: { type: 'demande', id: introuvable.id } })).entries;
  assert.deepEqual(
    journal.map((e) => [e.details.decision, e.details.vers]),
    [['qf_manuel', 'calculee']],
  );
  const famille = texte((await t.get(introuvable.jar, `/mon-quotient/demandes/${introuvable.id}`)).body);
  assert.match(famille, /612,50 €/);
  assert.match(famille, /fixé à 612,50 € par mois par un agent de la mairie, au vu de : avis 2025 présenté au guichet le 12\/09\/2025/);
  // No avis was read for it: neither the page nor the attestation says the DGFiP sent data.
  assert.match(famille, /Établi par un agent de la commune, au vu d’un document présenté par la famille/);
  assert.doesNotMatch(famille, /Avis utilisé/);
  const attestation = texte((await t.get(introuvable.jar, `/mon-quotient/demandes/${introuvable.id}/attestation`)).body);
  assert.match(attestation, /Source fixé par un agent de la commune au vu d’un document/);
  assert.doesNotMatch(attestation, /DGFiP/);
});

test('a contestation: listed, opened with a reason (one entry), the amounts it needs shown, answered with a new QF by hand on a new request', async () => {
  const contester = await t.post(identite.jar, `/mon-quotient/demandes/${identite.id}/contestation`, `/mon-quotient/demandes/${identite.id}/contestation`, {
    motif: 'Nous avons eu un troisième enfant en janvier.',
  });
  assert.equal(contester.statusCode, 200);
  const contestation = await t.database.db.selectFrom('contestations').selectAll().where('demande_id', '=', identite.id).executeTakeFirstOrThrow();
  const file = texte((await page(instructeur, '/agents/instruction?type=contestation')).body);
  assert.match(file, new RegExp(`${identite.reference} Nature Contestation Motif La famille conteste les données ou le résultat`));
  assert.doesNotMatch(file, /troisième enfant/, 'the family’s words are part of the case');

  const url = `/agents/instruction/contestations/${contestation.id}`;
  const avant = texte((await page(instructeur, url)).body);
  assert.doesNotMatch(avant, /troisième enfant|52 340|revenu fiscal/i);
  assert.equal((await t.post(instructeur, url, `${url}/consultation`, { motif: 'contestation', precision: '' })).statusCode, 303);
  const dossier = texte((await page(instructeur, url)).body);
  const vuesContestation = (
    await t.harness.journal.query({ action: 'contestation.consultee_instruction', target: { type: 'contestation', id: contestation.id } })
  ).entries;
  assert.equal(vuesContestation.length, 1);
  assert.equal(vuesContestation[0]?.details.motif_consultation, 'Examen d’une contestation');
  assert.match(dossier, /Nous avons eu un troisième enfant en janvier/);
  assert.match(dossier, /52 340 € 3/, 'RFR and parts of the avis');
  assert.match(dossier, /Calcul retenu : Quotient familial = revenu fiscal de référence/);
  assert.doesNotMatch(dossier, /CLAIRE ANNE/, 'an amounts case needs no declarant');

  const incomplet = await t.post(instructeur, url, `${url}/reponse`, { reponse: '', suite: 'qf_manuel', qf: 'mille', justification: 'x', piece: '' });
  assert.equal(incomplet.statusCode, 400);
  const erreurs = texte(incomplet.body);
  assert.match(erreurs, /Écrivez la réponse à la famille/);
  assert.match(erreurs, /Saisissez le quotient familial en chiffres/);
  assert.match(erreurs, /Indiquez la pièce examinée/);
  assert.equal(
    (await t.database.db.selectFrom('contestations').select('statut').where('id', '=', contestation.id).executeTakeFirstOrThrow()).statut,
    'ouverte',
  );

  const res = await t.post(instructeur, url, `${url}/reponse`, {
    reponse: 'Votre quotient est recalculé avec votre nouvel avis présenté en mairie.',
    suite: 'qf_manuel',
    qf: '1 000',
    justification: 'Naissance du troisième enfant, avis rectificatif présenté.',
    piece: 'avis rectificatif présenté au guichet le 03/02/2026',
  });
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/agents/instruction');
  const traitee = await t.database.db.selectFrom('contestations').selectAll().where('id', '=', contestation.id).executeTakeFirstOrThrow();
  assert.equal(traitee.statut, 'traitee');
  assert.match(traitee.reponse ?? '', /recalculé/);
  // The calculated request is closed: the new QF is a new request of the family, reviewed and decided at once.
  const nouvelle = await t.database.db
    .selectFrom('demandes')
    .selectAll()
    .where('famille_id', '=', identite.familleId)
    .where('id', '!=', identite.id)
    .executeTakeFirstOrThrow();
  assert.equal(nouvelle.statut, 'calculee');
  assert.equal((await t.database.db.selectFrom('quotients').selectAll().where('demande_id', '=', nouvelle.id).executeTakeFirstOrThrow()).valeur_cents, 100000);
  assert.equal(
    (await t.database.db.selectFrom('quotients').select('valeur_cents').where('demande_id', '=', identite.id).executeTakeFirstOrThrow()).valeur_cents > 0,
    true,
    'the old result is kept as it was',
  );
  const actions = (await t.harness.journal.query({ target: { type: 'demande', id: nouvelle.id } })).entries.map((e) => e.action).reverse();
  assert.deepEqual(actions, ['demande.creee', 'demande.reexamen', 'demande.decision_instructeur']);
  assert.equal((await t.harness.journal.query({ action: 'contestation.traitee', target: { type: 'contestation', id: contestation.id } })).entries.length, 1);
  assert.match(
    texte((await page(instructeur, '/agents/instruction')).body),
    new RegExp(`Réponse envoyée : nouveau quotient enregistré \\(demande ${nouvelle.reference}\\)`),
  );
  // The family reads the answer and its new QF.
  const mesDemandes = texte((await t.get(identite.jar, '/mes-demandes')).body);
  assert.match(mesDemandes, /Votre quotient est recalculé avec votre nouvel avis présenté en mairie/);
  assert.ok(mesDemandes.includes(nouvelle.reference));
  assert.match(texte((await t.get(identite.jar, `/mon-quotient/demandes/${nouvelle.id}`)).body), /1 000,00 €/);
  assert.equal((await t.harness.journal.verify()).intact, true);
});

test('counter agents, administrators and auditors cannot reach the review, and each refusal is traced', async () => {
  for (const role of ['guichet', 'administrateur', 'auditeur'] as const) {
    const jar = await t.signInAgent(role);
    for (const url of ['/agents/instruction', `/agents/instruction/demandes/${introuvable.id}`]) {
      const res = await t.get(jar, url);
      assert.equal(res.statusCode, 403, `${role} ${url}`);
      assert.doesNotMatch(res.body, new RegExp(introuvable.reference));
    }
    const refus = (await t.harness.journal.query({ action: 'acces.refuse' })).entries.filter((e) => e.actor.id === t.agents[role].id);
    assert.ok(refus.length >= 2, role);
  }
});
