import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { isQuotientError } from '../../domain/errors.ts';
import { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createPortailTestApp, type PortailTestApp } from './test-support.ts';

let t: PortailTestApp;
before(async () => {
  t = await createPortailTestApp();
});
after(() => t.close());

// The sandbox's young mother (RFR 0): her avis names her, so the identity control accepts it.
const ROUX = {
  parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }],
  enfants: [{ prenoms: 'Jade', nom: 'Roux', dateNaissance: '2023-01-30' }],
  courriel: 'lea.roux@exemple.fr',
};
const SPI = SPI_SANDBOX.rfrZero;
const SPACED = `${SPI.slice(0, 2)} ${SPI.slice(2, 4)} ${SPI.slice(4, 7)} ${SPI.slice(7, 10)} ${SPI.slice(10)}`;

/** Everything the SQLite file holds (WAL included) must be free of the numéro fiscal. */
async function assertNoSpiStored(spi: string) {
  await sql`PRAGMA wal_checkpoint(FULL)`.execute(t.database.db);
  const file = t.config.databaseUrl.slice('sqlite:'.length);
  for (const path of [file, `${file}-wal`]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      continue;
    }
    assert.equal(bytes.includes(spi), false, `${path} holds the numéro fiscal`);
  }
  const sessions = await t.database.db.selectFrom('sessions').selectAll().execute();
  assert.equal(JSON.stringify(sessions).includes(spi), false, 'a session holds the numéro fiscal');
  assert.equal(
    [...t.logLines, ...t.harness.logLines].some((l) => l.includes(spi)),
    false,
    'a log line holds the numéro fiscal',
  );
}

let demandeRoux = '';
let jarRoux: Jar;

test('anonymous visitors are sent to sign in; forms without a session change nothing', async () => {
  const jar = new Jar();
  for (const url of [
    '/mon-quotient',
    '/mon-quotient/accord',
    '/mon-quotient/numero',
    '/mes-demandes',
    '/mes-donnees',
    '/mes-donnees/export.json',
    '/mon-foyer',
    `/mon-quotient/demandes/${crypto.randomUUID()}`,
  ]) {
    const res = await t.get(jar, url);
    assert.equal(res.statusCode, 303, url);
    assert.equal(res.headers.location, '/connexion', url);
  }
  // Refused before the form is even read: nobody is signed in.
  const res = await t.post(jar, null, '/mon-quotient/numero', { 'numero-1': SPI });
  assert.equal(res.statusCode, 401);
  assert.equal(res.body.includes(SPI), false);
});

test('compute my quotient: information, consent, numéro fiscal with errors never echoed, result with prices', async () => {
  const { jar } = await t.signedInFamily(ROUX, 'lea.roux@exemple.fr');
  jarRoux = jar;
  const info = await t.get(jar, '/mon-quotient');
  assert.equal(info.statusCode, 200);
  for (const text of [
    'le revenu fiscal de référence',
    'le nombre de parts',
    'API Impôt particulier',
    'Article L. 114-8',
    'Votre numéro fiscal n’est jamais conservé',
    '3 mois',
    'avis d’imposition papier',
    'dpo@exemple.fr',
    'Étape 1 sur 4',
  ]) {
    assert.ok(info.body.includes(text), `step 1 says « ${text} »`);
  }
  assert.equal(info.headers['cache-control'], 'no-store');

  // Step 2: the consent box must be ticked; the form says so and nothing moves on.
  const refused = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', {});
  assert.equal(refused.statusCode, 400);
  assert.match(refused.body, /Cochez la case d’accord de Léa Roux/);
  assert.match(refused.body, /href="#accord-1"/);
  assert.doesNotMatch(refused.body, /name="renouvellement-1"/, 'no standing consent without the état civil route');
  assert.equal((await t.get(jar, '/mon-quotient/numero')).headers.location, '/mon-quotient/accord', 'no step 3 without consent');
  const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  assert.equal(accord.statusCode, 303);
  assert.equal(accord.headers.location, '/mon-quotient/numero');

  // Step 3: each wrong number is explained, and the page never shows what was typed.
  const numero = await t.get(jar, '/mon-quotient/numero');
  assert.match(numero.body, /Où trouver le numéro fiscal/);
  for (const [typed, message] of [
    ['', /figure en haut à gauche/],
    ['39999A0141182', /que des chiffres/],
    ['3999990141', /vous en avez saisi 10/],
    ['4999990141182', /commence par 0, 1, 2 ou 3/],
  ] as const) {
    const res = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': typed });
    assert.equal(res.statusCode, 400, typed);
    assert.match(res.body, message);
    assert.doesNotMatch(res.body, /id="numero-1"[^>]*value="[^"]/, 'the field comes back empty');
    if (typed !== '') assert.equal(res.body.includes(typed), false, `« ${typed} » is not echoed`);
  }

  // Step 4: sent with spaces as people type it; the answer comes at once from the sandbox.
  const sent = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPACED });
  assert.equal(sent.statusCode, 303);
  const location = String(sent.headers.location);
  assert.match(location, /^\/mon-quotient\/demandes\/[0-9a-f-]{36}$/);
  demandeRoux = location.split('/').at(-1) as string;
  const result = await t.get(jar, location);
  assert.equal(result.statusCode, 200);
  assert.match(result.body, /Votre quotient familial/);
  assert.match(result.body, /0,00\s€/);
  assert.match(result.body, /Restauration scolaire/);
  assert.match(result.body, /revenus \d{4}, source : DGFiP/);
  assert.match(result.body, /D-[A-Z0-9-]+/, 'a reference number');
  assert.match(result.body, /Ces données sont-elles exactes/);
  assert.equal(result.body.includes(SPI), false);

  const attestation = await t.get(jar, `${location}/attestation`);
  assert.equal(attestation.statusCode, 200);
  assert.match(attestation.body, /Attestation de quotient familial/);
  await assertNoSpiStored(SPI);
});

test('another family never reaches these requests: the answers are those of a request that does not exist', async () => {
  assert.ok(demandeRoux, 'the journey test ran first');
  const { jar } = await t.signedInFamily(
    { parents: [{ nomNaissance: 'Autre', prenoms: 'Famille' }], enfants: [{ prenoms: 'Zoé', nom: 'Autre' }] },
    'autre@exemple.fr',
  );
  const unknown = await t.get(jar, `/mon-quotient/demandes/${crypto.randomUUID()}`);
  assert.equal(unknown.statusCode, 404);
  const strip = (html: string) =>
    html.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID').replace(/name="_csrf" value="[^"]*"/g, '');
  for (const suffix of ['', '/attestation', '/attestation.pdf', '/contestation']) {
    const res = await t.get(jar, `/mon-quotient/demandes/${demandeRoux}${suffix}`);
    assert.equal(res.statusCode, 404, suffix);
    assert.equal(strip(res.body), strip(unknown.body), `${suffix}: same page as an unknown request`);
  }
  assert.equal((await t.get(jar, '/mon-quotient/demandes/pas-un-identifiant')).statusCode, 404);
  const contest = await t.post(jar, '/mon-foyer', `/mon-quotient/demandes/${demandeRoux}/contestation`, { motif: 'Je conteste la demande des voisins' });
  assert.equal(contest.statusCode, 404);
  assert.equal((await t.database.db.selectFrom('contestations').selectAll().execute()).length, 0);
  const history = await t.get(jar, '/mes-demandes');
  assert.match(history.body, /Aucune demande/);
});

test('contestation, history, export and withdrawal of consent', async () => {
  const jar = jarRoux;
  const url = `/mon-quotient/demandes/${demandeRoux}/contestation`;
  const short = await t.post(jar, url, url, { motif: 'non' });
  assert.equal(short.statusCode, 400);
  assert.match(short.body, /Expliquez en quelques mots/);
  const withSpi = await t.post(jar, url, url, { motif: `Mon numéro est ${SPI}, le revenu est faux` });
  assert.equal(withSpi.statusCode, 400);
  assert.equal(withSpi.body.includes(SPI), false);
  const ok = await t.post(jar, url, url, { motif: 'Nous avons eu un deuxième enfant depuis cet avis.' });
  assert.equal(ok.statusCode, 200);
  assert.match(ok.body, /Votre signalement est enregistré/);
  assert.equal((await t.database.db.selectFrom('contestations').selectAll().execute()).length, 1);

  const history = await t.get(jar, '/mes-demandes');
  assert.match(history.body, /Quotient calculé/);
  assert.match(history.body, /Mes signalements/);
  assert.match(history.body, /Votre message : Nous avons eu un deuxième enfant depuis cet avis\./);
  assert.match(history.body, new RegExp(`href="/mon-quotient/demandes/${demandeRoux}"`));

  const json = await t.app.inject({ url: '/mes-donnees/export.json', headers: { cookie: jar.header() } });
  assert.equal(json.statusCode, 200);
  assert.match(String(json.headers['content-disposition']), /attachment; filename="mes-donnees-quotient.json"/);
  const data = JSON.parse(json.body) as { parents: Array<{ prenoms: string }>; quotients: unknown[]; contestations: unknown[] };
  assert.equal(data.parents[0]?.prenoms, 'Léa');
  assert.equal(data.quotients.length, 1);
  assert.equal(data.contestations.length, 1);
  assert.equal(json.body.includes(SPI), false);
  // French words and values for a person, not the database's codes nor the DGFiP's field names.
  assert.doesNotMatch(json.body, /nmNaiDec1|"situationFamille"|"calculee"|"en_ligne"|"champ"/);
  const demande = (JSON.parse(json.body) as { demandes: Array<{ statut: string; consentements: Array<{ donnees: string[]; mode: string }> }> }).demandes[0];
  assert.equal(demande?.statut, 'Quotient calculé');
  assert.equal(demande?.consentements[0]?.mode, 'en ligne');
  assert.ok(demande?.consentements[0]?.donnees.includes('le revenu fiscal de référence'));
  assert.match(json.body, /"situationDeFamille": "(célibataire|marié\(e\)s|pacsé\(e\)s|divorcé\(e\)|veuf\(ve\))"/);
  const texte = await t.get(jar, '/mes-donnees/export');
  assert.match(texte.body, /Quotients familiaux/);
  assert.match(texte.body, /Données fiscales reçues de la DGFiP/);
  assert.doesNotMatch(texte.body, /\[object Object\]/);
  assert.match(texte.body, /pour : le revenu fiscal de référence, le nombre de parts/);
  assert.match(texte.body, /situation de famille : /);

  // Withdrawal: a form without its CSRF token changes nothing; with it, the consents are withdrawn.
  const forged = await t.post(jar, null, '/mes-donnees/retrait', {});
  assert.equal(forged.statusCode, 403);
  const open = () => t.database.db.selectFrom('consentements').select('retire_le').execute();
  assert.ok((await open()).every((c) => c.retire_le === null));
  assert.match((await t.get(jar, '/mes-donnees')).body, /Accord de Léa Roux donné le/);
  // « Retirer mon accord » asks to confirm first; the confirmation posts, then the browser is sent back to « Mes données ».
  assert.match((await t.get(jar, '/mes-donnees')).body, /href="\/mes-donnees\/retrait"/);
  const confirmation = await t.get(jar, '/mes-donnees/retrait');
  assert.match(confirmation.body, /Retirer mon accord \?/);
  assert.ok(
    (await open()).every((c) => c.retire_le === null),
    'the confirmation page changes nothing',
  );
  const poste = await t.post(jar, '/mes-donnees/retrait', '/mes-donnees/retrait', {});
  assert.equal(poste.statusCode, 303);
  assert.equal(poste.headers.location, '/mes-donnees');
  const retrait = await t.get(jar, '/mes-donnees');
  assert.match(retrait.body, /Votre accord est retiré/);
  assert.doesNotMatch((await t.get(jar, '/mes-donnees')).body, /Votre accord est retiré/, 'a refresh says it once only');
  assert.match(retrait.body, /Aucun accord en cours/);
  assert.doesNotMatch(retrait.body, /href="\/mes-donnees\/retrait"/, 'nothing left to withdraw');
  assert.ok((await open()).every((c) => c.retire_le !== null));
  assert.match((await t.get(jar, '/mes-demandes')).body, /accord retiré/);
  await assertNoSpiStored(SPI);
});

test('another family’s tries on a request id are journaled; the answers stay those of a request that does not exist', async () => {
  assert.ok(demandeRoux, 'the journey test ran first');
  const { jar, compteId } = await t.signedInFamily(
    { parents: [{ nomNaissance: 'Curieux', prenoms: 'Paul' }], enfants: [{ prenoms: 'Lina', nom: 'Curieux' }] },
    'curieux@exemple.fr',
  );
  const traces = async () => (await t.harness.journal.query({ action: 'acces.refuse', actor: { type: 'famille', id: compteId } }, { limit: 500 })).entries;
  for (const suffix of ['', '/attestation', '/contestation'])
    assert.equal((await t.get(jar, `/mon-quotient/demandes/${demandeRoux}${suffix}`)).statusCode, 404, suffix);
  assert.equal(
    (await t.post(jar, '/mon-foyer', `/mon-quotient/demandes/${demandeRoux}/contestation`, { motif: 'Je regarde chez les voisins' })).statusCode,
    404,
  );
  // A request that does not exist is no other family's: nothing to trace.
  assert.equal((await t.get(jar, `/mon-quotient/demandes/${crypto.randomUUID()}`)).statusCode, 404);
  const entries = await traces();
  assert.equal(entries.length, 4);
  for (const e of entries) {
    assert.deepEqual([e.target?.type, e.target?.id, e.outcome, e.details.motif], ['demande', demandeRoux, 'refus', 'autre_famille']);
  }
});

test('contestations are capped: one open per request, three per family in 24 hours, each refusal in French', async () => {
  const url = `/mon-quotient/demandes/${demandeRoux}/contestation`;
  const count = async () => (await t.database.db.selectFrom('contestations').select('id').execute()).length;
  const before = await count();
  const again = await t.post(jarRoux, url, url, { motif: 'Et aussi notre adresse a changé.' });
  assert.equal(again.statusCode, 409);
  assert.match(again.body, /<html lang="fr"/);
  assert.match(again.body, /Vous avez déjà signalé une erreur sur cette demande : un agent l’examine et vous répondra/);
  assert.equal(await count(), before);
  // Once an agent has answered, the family may write again about the same request.
  await t.database.db
    .updateTable('contestations')
    .set({ statut: 'traitee', reponse: 'Vu.', traitee_le: new Date().toISOString() })
    .where('demande_id', '=', demandeRoux)
    .execute();
  assert.equal((await t.post(jarRoux, url, url, { motif: 'Et aussi notre adresse a changé.' })).statusCode, 200);

  const { familleId, compteId } = await t.signedInFamily(
    { parents: [{ nomNaissance: 'Bavard', prenoms: 'Luc' }], enfants: [{ prenoms: 'Eva', nom: 'Bavard' }] },
    'bavard@exemple.fr',
  );
  const famille = { type: 'famille' as const, id: compteId };
  for (let i = 1; i <= 3; i += 1) await t.harness.familles.contester(familleId, null, `Signalement numéro ${i} de la journée.`, famille);
  await assert.rejects(
    t.harness.familles.contester(familleId, null, 'Un quatrième signalement.', famille),
    (e) => isQuotientError(e) && e.code === 'contestations_trop_nombreuses' && /Vous avez déjà envoyé 3 signalements ces dernières 24 heures/.test(e.message),
  );
});

test('CSRF: consent without a valid token is refused and does not move the journey on', async () => {
  const { jar } = await t.signedInFamily(
    { parents: [{ nomNaissance: 'Csrf', prenoms: 'Test' }], enfants: [{ prenoms: 'Petit', nom: 'Csrf' }] },
    'csrf@exemple.fr',
  );
  await t.get(jar, '/mon-quotient/accord');
  const res = await t.app.inject({
    method: 'POST',
    url: '/mon-quotient/accord',
    payload: '_csrf=faux&accord-1=oui',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(res.statusCode, 403);
  assert.equal((await t.get(jar, '/mon-quotient/numero')).headers.location, '/mon-quotient/accord');
});

test('Mon foyer: a new account completes its household first; each wrong field is named', async () => {
  // What an account starts with: the signed-in parent only, never completed.
  const { jar, familleId } = await t.signedInFamily({ parents: [{ nomNaissance: 'Neuf', prenoms: 'Compte' }] }, 'neuf@exemple.fr');
  assert.match((await t.get(jar, '/mon-quotient')).body, /Complétez d’abord votre foyer/);
  assert.equal((await t.get(jar, '/mon-quotient/accord')).headers.location, '/mon-foyer');
  const form = await t.get(jar, '/mon-foyer');
  assert.match(form.body, /id="parent1-nomNaissance"[^>]*value="Neuf"/);
  const bad = await t.post(jar, '/mon-foyer', '/mon-foyer', {
    'parent1-prenoms': 'Compte',
    'parent1-nomNaissance': '',
    'enfant1-prenoms': 'Lou',
    'enfant1-dateNaissance': '31/02/2020',
  });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /href="#parent1-nomNaissance"/);
  assert.match(bad.body, /Indiquez le nom de naissance de l’enfant 1/);
  assert.match(bad.body, /La date de naissance de l’enfant 1 doit être une date passée/);
  const ok = await t.post(jar, '/mon-foyer', '/mon-foyer', {
    'parent1-prenoms': 'Compte',
    'parent1-nomNaissance': 'Neuf',
    'parent2-prenoms': 'Autre',
    'parent2-nomNaissance': 'Parent',
    'parent2-dateNaissance': '02/03/1985',
    'enfant1-prenoms': 'Lou',
    'enfant1-nom': 'Neuf',
    'enfant1-dateNaissance': '01/02/2020',
  });
  assert.equal(ok.statusCode, 303);
  assert.equal(ok.headers.location, '/mon-quotient');
  const parents = await t.database.db.selectFrom('parents').selectAll().where('famille_id', '=', familleId).orderBy('rang').execute();
  assert.deepEqual(
    parents.map((p) => [p.rang, p.nom_naissance, p.date_naissance]),
    [
      [1, 'Neuf', null],
      [2, 'Parent', '1985-03-02'],
    ],
  );

  // Two parents: unmarried parents are both asked for their consent, and both numbers are asked.
  const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui' });
  assert.equal(accord.statusCode, 400);
  assert.match(accord.body, /Cochez la case d’accord de Autre Parent/);
  const both = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' });
  assert.equal(both.statusCode, 303);
  const numero = await t.get(jar, '/mon-quotient/numero');
  assert.match(numero.body, /Numéro fiscal de Compte Neuf/);
  assert.match(numero.body, /Numéro fiscal de Autre Parent/);
  const half = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', {
    'numero-1': SPI_SANDBOX.parentsNonMaries.parentAvecEnfant,
    'numero-2': '12',
  });
  assert.equal(half.statusCode, 400);
  assert.match(half.body, /Autre Parent : Le numéro fiscal comporte 13 chiffres/);
  assert.equal(half.body.includes(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant), false, 'the valid number is not echoed either');
});

test('re-entry: a failed request asks the numéro fiscal again, never echoes it, and only its own family may relaunch it', async () => {
  // Léa Roux's identity, and a number for which the sandbox answers a broken response: the request fails.
  const { jar } = await t.signedInFamily({ ...ROUX, courriel: 'lea.roux.bis@exemple.fr' }, 'lea.roux.bis@exemple.fr');
  assert.equal((await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' })).statusCode, 303);
  const sent = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPI_SANDBOX.fautes.malformedJson });
  assert.equal(sent.statusCode, 303);
  const location = String(sent.headers.location);
  const id = location.split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.etat(id)).statut, 'echouee');
  const page = await t.get(jar, location);
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Saisir de nouveau le numéro fiscal/);
  assert.match(page.body, new RegExp(`action="/mon-quotient/demandes/${id}/ressaisie#erreurs"`));
  assert.match(page.body, /Numéro fiscal de Léa Roux/);
  assert.match(page.body, /name="_csrf"/);
  const url = `${location}/ressaisie`;

  // GET is not a way in; without the CSRF token nothing changes; another family gets « not found ».
  assert.equal((await t.get(jar, url)).statusCode, 404);
  assert.equal((await t.post(jar, null, url, { 'numero-1': SPI })).statusCode, 403);
  const other = await t.signedInFamily(
    { parents: [{ nomNaissance: 'Voisin', prenoms: 'Paul' }], enfants: [{ prenoms: 'Tom', nom: 'Voisin' }] },
    'voisin@exemple.fr',
  );
  const foreign = await t.post(other.jar, '/mon-foyer', url, { 'numero-1': SPI });
  assert.equal(foreign.statusCode, 404);
  assert.equal((await t.harness.demandes.etat(id)).statut, 'echouee');

  // A wrong number: a French message, the field empty, the typed text not shown.
  const bad = await t.post(jar, location, url, { 'numero-1': '4999990141182' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /commence par 0, 1, 2 ou 3/);
  assert.match(bad.body, /href="#numero-1"/);
  assert.equal(bad.body.includes('4999990141182'), false);
  assert.equal((await t.harness.demandes.etat(id)).statut, 'echouee');

  // The right number: relaunched, processed, and the page shows the quotient.
  const ok = await t.post(jar, location, url, { 'numero-1': SPACED });
  assert.equal(ok.statusCode, 303);
  assert.equal(ok.headers.location, location);
  assert.equal((await t.harness.demandes.attendre(id, 5_000)).statut, 'calculee');
  const result = await t.get(jar, location);
  assert.match(result.body, /Votre quotient familial/);
  assert.doesNotMatch(result.body, /Saisir de nouveau/);
  // Once calculated there is nothing to type again: the form's address only leads back.
  assert.equal((await t.post(jar, '/mon-foyer', url, { 'numero-1': SPI })).headers.location, location);
  assert.equal(result.body.includes(SPI), false);
});

test('Mon foyer: a parent who lives elsewhere and a child in alternating residence are saved, journaled, shown back, and decide whose avis is asked', async () => {
  // Sophie Lambert, separated from Nicolas Faure; Tom lives with each of them in turn (sandbox: her avis has him in box H).
  const { jar, familleId } = await t.signedInFamily({ parents: [{ nomNaissance: 'Lambert', prenoms: 'Sophie' }] }, 'sophie.lambert@exemple.fr');
  const form = await t.get(jar, '/mon-foyer');
  assert.match(form.body, /<legend>Le second parent vit-il avec vous \?<\/legend>/);
  assert.match(form.body, /<legend>Où vit l’enfant 1 \?<\/legend>/);
  assert.match(form.body, /id="parent2-foyer-oui" name="parent2-foyer" value="oui" checked/, 'by default the second parent lives with the family');
  assert.match(form.body, /id="enfant1-residence-exclusive" name="enfant1-residence" value="exclusive" checked/);
  assert.match(form.body, /<label for="enfant1-residence-alternee">En résidence alternée/);

  const composition = {
    'parent1-prenoms': 'Sophie',
    'parent1-nomNaissance': 'Lambert',
    'parent1-dateNaissance': '22/07/1984',
    'parent2-prenoms': 'Nicolas',
    'parent2-nomNaissance': 'Faure',
    'parent2-dateNaissance': '11/03/1982',
    'parent2-foyer': 'ailleurs',
    'enfant1-prenoms': 'Tom',
    'enfant1-nom': 'Faure',
    'enfant1-dateNaissance': '03/11/2014',
    'enfant1-residence': 'alternee',
    'enfant2-prenoms': 'Zoé',
    'enfant2-nom': 'Lambert',
    'enfant2-dateNaissance': '12/06/2019',
    'enfant2-residence': 'exclusive',
  };
  // Each wrong answer is named in the summary, linked to its first radio button; nothing is saved.
  const bad = await t.post(jar, '/mon-foyer', '/mon-foyer', {
    ...composition,
    'parent2-prenoms': '',
    'parent2-nomNaissance': '',
    'parent2-dateNaissance': '',
    'enfant1-residence': 'moitie',
    'enfant3-residence': 'alternee',
  });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /href="#enfant1-residence-exclusive">Indiquez où vit l’enfant 1\./);
  assert.match(bad.body, /Indiquez les prénoms du second parent, qui vit ailleurs\./);
  assert.match(bad.body, /href="#enfant3-prenoms">Indiquez les prénoms de l’enfant 3, en résidence alternée\./);
  assert.match(bad.body, /id="parent2-foyer-ailleurs" name="parent2-foyer" value="ailleurs" checked/, 'the answers are kept');
  assert.equal((await t.database.db.selectFrom('parents').select('id').where('famille_id', '=', familleId).execute()).length, 1);

  const ok = await t.post(jar, '/mon-foyer', '/mon-foyer', composition);
  assert.equal(ok.statusCode, 303);
  const parents = await t.database.db
    .selectFrom('parents')
    .select(['rang', 'prenoms', 'au_foyer'])
    .where('famille_id', '=', familleId)
    .orderBy('rang')
    .execute();
  assert.deepEqual(parents, [
    { rang: 1, prenoms: 'Sophie', au_foyer: 1 },
    { rang: 2, prenoms: 'Nicolas', au_foyer: 0 },
  ]);
  const enfants = await t.database.db.selectFrom('enfants').select(['prenoms', 'residence']).where('famille_id', '=', familleId).orderBy('prenoms').execute();
  assert.deepEqual(enfants, [
    { prenoms: 'Tom', residence: 'alternee' },
    { prenoms: 'Zoé', residence: 'exclusive' },
  ]);
  const journal = await t.database.db
    .selectFrom('journal_audit')
    .select(['actor_type', 'details'])
    .where('action', '=', 'famille.modifiee')
    .where('target_id', '=', familleId)
    .execute();
  assert.equal(journal.length, 1);
  assert.equal(journal[0]?.actor_type, 'famille');
  assert.deepEqual(JSON.parse(journal[0]?.details ?? '{}'), { parents: 2, parentsAilleurs: 1, enfants: 2, enfantsResidenceAlternee: 1 });

  // Shown back: on the form, at step 1, in the export.
  const again = await t.get(jar, '/mon-foyer');
  assert.match(again.body, /id="parent2-foyer-ailleurs" name="parent2-foyer" value="ailleurs" checked/);
  assert.match(again.body, /id="enfant1-prenoms"[^>]*value="Tom"/);
  assert.match(again.body, /id="enfant1-residence-alternee" name="enfant1-residence" value="alternee" checked/);
  assert.match(again.body, /id="enfant2-residence-exclusive" name="enfant2-residence" value="exclusive" checked/);
  const etape1 = (await t.get(jar, '/mon-quotient')).body.replace(/\s+/g, ' ');
  assert.match(etape1, /Parents déclarés : Sophie Lambert ; autre parent, qui vit ailleurs : Nicolas Faure ; 2 enfants, dont 1 en résidence alternée\./);
  assert.match(etape1, /Nicolas Faure vit ailleurs : son avis d’imposition n’est pas demandé/);
  const texte = (await t.get(jar, '/mes-donnees/export')).body;
  assert.match(texte, /Nicolas Faure, né\(e\) le 11\/03\/1982, vit ailleurs/);
  assert.match(texte, /Tom Faure, né\(e\) le 03\/11\/2014, en résidence alternée/);

  // Used: the parent who lives elsewhere is neither asked to consent nor expected on the avis.
  const accord = await t.get(jar, '/mon-quotient/accord');
  assert.doesNotMatch(accord.body, /name="situation"/, 'no question of one or two avis');
  assert.doesNotMatch(accord.body, /id="accord-2"/);
  assert.match(accord.body, /Pour les enfants en résidence alternée, votre quotient est calculé avec votre avis d’imposition/);
  assert.equal((await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' })).headers.location, '/mon-quotient/numero');
  const numero = await t.get(jar, '/mon-quotient/numero');
  assert.match(numero.body, /Numéro fiscal de Sophie Lambert/);
  assert.doesNotMatch(numero.body, /Nicolas Faure/);
  const sent = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPI_SANDBOX.residenceAlternee.parentA });
  const id = String(sent.headers.location).split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.attendre(id, 10_000)).statut, 'calculee', 'her avis alone, and she is the one declared in the household');
  assert.match((await t.get(jar, `/mon-quotient/demandes/${id}`)).body, /Votre quotient familial/);

  // Had he lived with them, both would be expected on one avis, or two avis asked: hers alone goes to an agent.
  assert.equal((await t.post(jar, '/mon-foyer', '/mon-foyer', { ...composition, 'parent2-foyer': 'oui' })).statusCode, 303);
  // A QF is in force now: a new request first says so and asks what changed, before any step leading to a call.
  assert.equal((await t.get(jar, '/mon-quotient/accord')).headers.location, '/mon-quotient/pourquoi');
  const pourquoi = await t.get(jar, '/mon-quotient/pourquoi');
  assert.match(pourquoi.body, /Vous avez déjà un quotient familial en vigueur/);
  assert.equal((await t.post(jar, '/mon-quotient/pourquoi', '/mon-quotient/pourquoi', {})).statusCode, 400, 'a reason is asked');
  assert.equal((await t.post(jar, '/mon-quotient/pourquoi', '/mon-quotient/pourquoi', { raison: 'union' })).headers.location, '/mon-quotient/accord');
  const motivee = (await t.harness.journal.query({ target: { type: 'famille', id: familleId } })).entries.find((e) => e.action === 'demande.nouvelle_motivee');
  assert.equal(motivee?.details?.raison, 'union', 'the reason is journaled');
  const accordCouple = await t.get(jar, '/mon-quotient/accord');
  assert.match(accordCouple.body, /name="situation"/);
  assert.match(accordCouple.body, /id="accord-2"/);
  assert.equal(
    (await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'commune', 'accord-1': 'oui' })).headers.location,
    '/mon-quotient/numero',
  );
  const couple = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPI_SANDBOX.residenceAlternee.parentA });
  const idCouple = String(couple.headers.location).split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.attendre(idCouple, 10_000)).statut, 'a_verifier');
});
