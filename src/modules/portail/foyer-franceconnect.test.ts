/**
 * « Mon foyer » of a FranceConnect account: parent 1 is the person FranceConnect signed in, whose
 * names and birth date cannot be changed into someone else's (issue 12, hole 3: fishing for a third
 * party's avis); parent 2 and the children stay the family's. A local account is unchanged.
 * FranceConnect's e-mail is the family's address, so a FranceConnect family gets the e-mails a local
 * account gets (issue 15), and an address the family already has is never replaced.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Jar } from '../../http/test-cookies.ts';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { SPI_SANDBOX } from '../../sandbox/population.ts';
import { createPortailTestApp, PORTAIL_URL, type PortailTestApp } from './test-support.ts';

let t: PortailTestApp;
before(async () => {
  t = await createPortailTestApp();
});
after(() => t.close());

/** Signs in with FranceConnect as `login` (the sandbox's Paul Henri Bertin by default); the account's family. */
async function signedInFranceConnect(login: string = SPI_SANDBOX.coupleMarie.declarant1): Promise<{ jar: Jar; familleId: string }> {
  const jar = new Jar();
  const start = await t.post(jar, '/connexion', '/connexion/franceconnect', {});
  assert.equal(start.statusCode, 303, start.body.slice(0, 400));
  const { back } = await signInAtProvider(new URL(String(start.headers.location)), login, '123', PORTAIL_URL);
  const retour = await t.get(jar, back.pathname + back.search);
  assert.equal(retour.statusCode, 303, retour.body.slice(0, 400));
  const compte = await t.database.db
    .selectFrom('comptes')
    .select('famille_id')
    .where('sub', '=', t.provider.subjectOf(login) as string)
    .executeTakeFirstOrThrow();
  return { jar, familleId: compte.famille_id };
}

const parents = (familleId: string) =>
  t.database.db
    .selectFrom('parents')
    .select(['rang', 'prenoms', 'nom_naissance', 'nom_usage', 'date_naissance'])
    .where('famille_id', '=', familleId)
    .orderBy('rang')
    .execute();

/** The input of a field, as the page renders it. */
const champ = (body: string, id: string) => new RegExp(`<input[^>]*id="${id}"[^>]*>`).exec(body)?.[0] ?? '';

const BERTIN = { 'parent1-prenoms': 'PAUL HENRI', 'parent1-nomNaissance': 'BERTIN', 'parent1-nomUsage': '', 'parent1-dateNaissance': '09/04/1981' };

test('FranceConnect account: parent 1’s names and birth date are shown read-only, with the reason, pre-filled from FranceConnect', async () => {
  const { jar, familleId } = await signedInFranceConnect();
  assert.deepEqual(await parents(familleId), [{ rang: 1, prenoms: 'PAUL HENRI', nom_naissance: 'BERTIN', nom_usage: null, date_naissance: '1981-04-09' }]);
  const page = await t.get(jar, '/mon-foyer');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /Ces informations viennent de FranceConnect/);
  for (const [id, valeur] of [
    ['parent1-prenoms', 'PAUL HENRI'],
    ['parent1-nomNaissance', 'BERTIN'],
    ['parent1-dateNaissance', '09/04/1981'],
  ] as const) {
    assert.match(champ(page.body, id), /readonly/, `${id} read-only`);
    assert.match(champ(page.body, id), new RegExp(`value="${valeur}"`), `${id} pre-filled`);
  }
  // What FranceConnect does not vouch for stays the family's.
  for (const id of ['parent1-nomUsage', 'parent2-prenoms', 'parent2-nomNaissance', 'parent2-dateNaissance', 'enfant1-prenoms'])
    assert.doesNotMatch(champ(page.body, id), /readonly/, `${id} editable`);
});

test('FranceConnect account: a POST naming someone else as parent 1 (name or birth date) is refused in French, journaled, and nothing changes', async () => {
  const { jar, familleId } = await signedInFranceConnect();
  const avant = await parents(familleId);
  for (const [changes, message] of [
    [{ 'parent1-nomNaissance': 'MARTIN' }, /Le nom de naissance du premier parent vient de FranceConnect et ne peut pas être modifié ici/],
    [{ 'parent1-dateNaissance': '17/09/1992' }, /La date de naissance du premier parent vient de FranceConnect et ne peut pas être modifiée ici/],
    [{ 'parent1-prenoms': 'JULIE', 'parent1-nomNaissance': 'GARNIER' }, /Les prénoms du premier parent viennent de FranceConnect/],
  ] as const) {
    const journalAvant = await t.database.db.selectFrom('journal_audit').select('seq').orderBy('seq', 'desc').executeTakeFirst();
    const res = await t.post(jar, '/mon-foyer', '/mon-foyer', { ...BERTIN, ...changes, 'enfant1-prenoms': 'Zoé', 'enfant1-nom': 'BERTIN' });
    assert.equal(res.statusCode, 400, res.body.slice(0, 300));
    assert.match(res.body, /<title>Erreur : Mon foyer/);
    assert.match(res.body, message);
    // The page shows FranceConnect's identity again, not the one posted.
    assert.match(champ(res.body, 'parent1-nomNaissance'), /value="BERTIN"/);
    assert.match(champ(res.body, 'parent1-dateNaissance'), /value="09\/04\/1981"/);
    assert.deepEqual(await parents(familleId), avant, 'the stored composition is unchanged');
    const enfants = await t.database.db.selectFrom('enfants').select('id').where('famille_id', '=', familleId).execute();
    assert.equal(enfants.length, 0, 'nothing of the refused form is stored');
    const refus = await t.database.db
      .selectFrom('journal_audit')
      .selectAll()
      .where('seq', '>', journalAvant?.seq ?? 0)
      .where('action', '=', 'famille.modifiee')
      .execute();
    assert.equal(refus.length, 1);
    assert.equal(refus[0]?.outcome, 'refus');
    assert.equal(refus[0]?.target_id, familleId);
    assert.match(String(refus[0]?.details), /identite_franceconnect/);
    assert.doesNotMatch(String(refus[0]?.details), /MARTIN|GARNIER|1992/, 'no name or date in the journal');
  }
});

test('FranceConnect account: parent 2, the usage name and the children are still the family’s to edit', async () => {
  const { jar, familleId } = await signedInFranceConnect();
  const res = await t.post(jar, '/mon-foyer', '/mon-foyer', {
    ...BERTIN,
    'parent1-nomUsage': 'BERTIN-LEROY',
    'parent2-prenoms': 'Camille',
    'parent2-nomNaissance': 'Leroy',
    'parent2-dateNaissance': '12/03/1983',
    'parent2-foyer': 'oui',
    'enfant1-prenoms': 'Zoé',
    'enfant1-nom': 'Bertin',
    'enfant1-dateNaissance': '02/02/2015',
  });
  assert.equal(res.statusCode, 303, res.body.slice(0, 600));
  assert.deepEqual(await parents(familleId), [
    { rang: 1, prenoms: 'PAUL HENRI', nom_naissance: 'BERTIN', nom_usage: 'BERTIN-LEROY', date_naissance: '1981-04-09' },
    { rang: 2, prenoms: 'Camille', nom_naissance: 'Leroy', nom_usage: null, date_naissance: '1983-03-12' },
  ]);
  // Parent 2 corrected again: still editable.
  const encore = await t.post(jar, '/mon-foyer', '/mon-foyer', {
    ...BERTIN,
    'parent2-prenoms': 'Camille',
    'parent2-nomNaissance': 'Lefèvre',
    'parent2-dateNaissance': '13/03/1983',
    'parent2-foyer': 'oui',
  });
  assert.equal(encore.statusCode, 303, encore.body.slice(0, 600));
  assert.deepEqual((await parents(familleId))[1], { rang: 2, prenoms: 'Camille', nom_naissance: 'Lefèvre', nom_usage: null, date_naissance: '1983-03-13' });
});

test('FranceConnect account: an identity changed before the lock is FranceConnect’s again at the next sign-in, journaled', async () => {
  const { familleId } = await signedInFranceConnect();
  // As an account could before the fix: parent 1 edited into a third party.
  await t.database.db
    .updateTable('parents')
    .set({ prenoms: 'Julie', nom_naissance: 'Garnier', date_naissance: '1992-09-17' })
    .where('famille_id', '=', familleId)
    .where('rang', '=', 1)
    .execute();
  const { jar } = await signedInFranceConnect();
  assert.deepEqual((await parents(familleId))[0], { rang: 1, prenoms: 'PAUL HENRI', nom_naissance: 'BERTIN', nom_usage: null, date_naissance: '1981-04-09' });
  const entree = await t.database.db
    .selectFrom('journal_audit')
    .selectAll()
    .where('action', '=', 'famille.identite_franceconnect')
    .where('target_id', '=', familleId)
    .executeTakeFirstOrThrow();
  assert.doesNotMatch(String(entree.details), /Garnier|BERTIN|1992|1981/, 'field names only in the journal');
  assert.match(champ((await t.get(jar, '/mon-foyer')).body, 'parent1-nomNaissance'), /value="BERTIN"/);
});

test('a local account still edits parent 1, with no FranceConnect notice', async () => {
  const { jar, familleId } = await t.signedInFamily(
    { parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] },
    'lea.roux.foyer@exemple.fr',
  );
  const page = await t.get(jar, '/mon-foyer');
  assert.doesNotMatch(page.body, /viennent de FranceConnect/);
  assert.doesNotMatch(champ(page.body, 'parent1-nomNaissance'), /readonly/);
  const res = await t.post(jar, '/mon-foyer', '/mon-foyer', {
    'parent1-prenoms': 'Léa Marie',
    'parent1-nomNaissance': 'Rousseau',
    'parent1-dateNaissance': '20/05/2003',
  });
  assert.equal(res.statusCode, 303, res.body.slice(0, 600));
  assert.deepEqual((await parents(familleId))[0], { rang: 1, prenoms: 'Léa Marie', nom_naissance: 'Rousseau', nom_usage: null, date_naissance: '2003-05-20' });
});

const courrielDe = async (familleId: string) =>
  (await t.database.db.selectFrom('familles').select('courriel').where('id', '=', familleId).executeTakeFirstOrThrow()).courriel;

test('a FranceConnect family is written to at FranceConnect’s address: its computed QF is announced by e-mail', async () => {
  // The sandbox's Léa Roux, a generated identity: the demo FranceConnect gives her a fictitious address.
  const to = 'lea.roux@bac-a-sable.example';
  const { jar, familleId } = await signedInFranceConnect(SPI_SANDBOX.rfrZero);
  assert.equal(await courrielDe(familleId), to);
  const compte = await t.database.db.selectFrom('comptes').select(['kind', 'email']).where('famille_id', '=', familleId).executeTakeFirstOrThrow();
  assert.deepEqual(compte, { kind: 'franceconnect', email: to });

  const foyer = await t.post(jar, '/mon-foyer', '/mon-foyer', {
    'parent1-prenoms': 'LEA',
    'parent1-nomNaissance': 'ROUX',
    'parent1-nomUsage': '',
    'parent1-dateNaissance': '19/05/2003',
    'enfant1-prenoms': 'Jade',
    'enfant1-nom': 'Roux',
    'enfant1-dateNaissance': '30/01/2023',
  });
  assert.equal(foyer.statusCode, 303, foyer.body.slice(0, 600));
  const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  assert.equal(accord.statusCode, 303, accord.body.slice(0, 600));
  const envoi = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'voie-1': 'numero', 'numero-1': SPI_SANDBOX.rfrZero });
  assert.equal(envoi.statusCode, 303, envoi.body.slice(0, 600));
  const id = String(envoi.headers.location).split('/').at(-1) as string;
  const demande = await t.database.db.selectFrom('demandes').select(['reference', 'statut']).where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(demande.statut, 'calculee');

  const courriel = await t.smtp.received((m) => m.to.includes(to) && m.subject.includes(demande.reference));
  assert.match(courriel.subject, /Votre quotient familial est calculé/);
  assert.ok(courriel.text.includes(`${PORTAIL_URL}/mon-quotient/demandes/${id}`), courriel.text);
  assert.equal(courriel.raw.includes(SPI_SANDBOX.rfrZero), false, 'no numéro fiscal in the e-mail');
});

test('FranceConnect’s address fills an empty one at the next sign-in, journaled by field name, and never replaces the family’s', async () => {
  // A published identity of the DGFiP's files (« PRENOM MELAINE CIS TROIS »), with the address those files give her.
  const login = '3999999887219';
  const publiee = 'unmcsahzddbb-9081@yopmail.com';
  const { familleId } = await signedInFranceConnect(login);
  assert.equal(await courrielDe(familleId), publiee);

  // An address set since (at the counter) stands at the next sign-in.
  await t.database.db.updateTable('familles').set({ courriel: 'melaine.trois@exemple.fr' }).where('id', '=', familleId).execute();
  await signedInFranceConnect(login);
  assert.equal(await courrielDe(familleId), 'melaine.trois@exemple.fr');

  // A family created before the address was asked has none: FranceConnect's fills it.
  await t.database.db.updateTable('familles').set({ courriel: null }).where('id', '=', familleId).execute();
  await signedInFranceConnect(login);
  assert.equal(await courrielDe(familleId), publiee);
  const entree = await t.database.db
    .selectFrom('journal_audit')
    .select('details')
    .where('action', '=', 'famille.identite_franceconnect')
    .where('target_id', '=', familleId)
    .executeTakeFirstOrThrow();
  assert.match(String(entree.details), /courriel/);
  assert.doesNotMatch(String(entree.details), /@/, 'field names only in the journal');
});
