import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DatabaseSessionStore, FAMILY_SESSION_POLICY } from '../../http/session.ts';
import { ChiffrementSessions, fichierCleSessions } from '../../http/session-chiffrement.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { chargerCle } from '../../infra/secrets/cle-fichier.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createPortailTestApp, PORTAIL_URL, type PortailTestApp } from './test-support.ts';

let t: PortailTestApp;
before(async () => {
  t = await createPortailTestApp();
});
after(() => t.close());

const ROUX = {
  parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }],
  enfants: [{ prenoms: 'Jade', nom: 'Roux', dateNaissance: '2023-01-30' }],
};
// Unmarried parents, one avis each (the sandbox's Julie Garnier and Thomas Moreau).
const GARNIER_MOREAU = {
  parents: [
    { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
    { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
  ],
  enfants: [{ prenoms: 'Lina', nom: 'Moreau', dateNaissance: '2019-04-02' }],
};

/** A form posted that sends the browser to FranceConnect; the person signs in there; the browser comes back. */
async function parFranceConnect(jar: Jar, from: string, url: string, fields: Record<string, string>, login: string) {
  const sent = await t.post(jar, from, url, fields);
  assert.equal(sent.statusCode, 303, sent.body.slice(0, 400));
  const authorize = new URL(String(sent.headers.location));
  assert.equal(authorize.origin, t.provider.issuer, 'sent to FranceConnect');
  assert.equal(new URL(String(authorize.searchParams.get('redirect_uri'))).pathname, '/mon-quotient/franceconnect/retour');
  const { back } = await signInAtProvider(authorize, login, '123', PORTAIL_URL);
  const retour = await t.get(jar, back.pathname + back.search);
  assert.equal(retour.statusCode, 303, retour.body.slice(0, 600));
  const location = String(retour.headers.location);
  assert.match(location, /^\/mon-quotient\/demandes\/[0-9a-f-]{36}$/);
  return { location, id: location.split('/').at(-1) as string, page: await t.get(jar, location) };
}

const statut = async (id: string) => t.database.db.selectFrom('demandes').select(['statut', 'motif_code']).where('id', '=', id).executeTakeFirstOrThrow();

/** Every session row, raw and decrypted with the key and the browser's id. */
async function sessions(jar: Jar): Promise<string[]> {
  const rows = await t.database.db.selectFrom('sessions').select('data').execute();
  const store = new DatabaseSessionStore(t.database.db, new ChiffrementSessions(chargerCle(fichierCleSessions(t.config))), FAMILY_SESSION_POLICY, Date.now);
  const id = jar.cookies.get('quotient') as string;
  const clair = await new Promise<unknown>((resolve, reject) => store.get(id, (e, s) => (e ? reject(e) : resolve(s))));
  return [...rows.map((r) => r.data), JSON.stringify(clair)];
}

test('consent first, then FranceConnect, then the DGFiP at once with the 60-second token: the QF, and the token in no session row', async () => {
  const { jar } = await t.signedInFamily(ROUX, 'lea.roux.fc@exemple.fr');
  // Explained and consented before anything leaves for FranceConnect.
  assert.equal((await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' })).headers.location, '/mon-quotient/numero');
  const numero = await t.get(jar, '/mon-quotient/numero');
  assert.match(numero.body, /Comment demander l’avis de Léa Roux/);
  assert.match(numero.body, /Avec FranceConnect, Léa Roux se connecte/);
  const before = t.fcTokens.length;
  const { id, page } = await parFranceConnect(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'voie-1': 'franceconnect' }, SPI_SANDBOX.rfrZero);
  assert.equal(t.fcTokens.length, before + 1);
  const jeton = t.fcTokens.at(-1) as { token: string; expiresAt: number };
  // FranceConnect's lifetime: about a minute from the sign-in.
  assert.ok(jeton.expiresAt - Date.now() <= 60_000 && jeton.expiresAt - Date.now() > 30_000, 'a 60-second token');
  assert.equal((await statut(id)).statut, 'calculee');
  assert.match(page.body, /Quotient familial/);
  const foyers = await t.database.db.selectFrom('demande_foyers').select('voie').where('demande_id', '=', id).execute();
  assert.deepEqual(
    foyers.map((f) => f.voie),
    ['franceconnect'],
  );
  for (const data of await sessions(jar)) assert.ok(!data.includes(jeton.token), 'the access token is in a session');
  assert.ok(!t.logLines.join('\n').includes(jeton.token), 'the access token is in the log');
  assert.ok(!JSON.stringify(await t.database.db.selectFrom('journal_audit').selectAll().execute()).includes(jeton.token), 'journal');
});

test('a token too old to use says « reconnectez-vous », never asks for the number instead; signing in again gets the QF', async () => {
  const { jar } = await t.signedInFamily({ ...ROUX, courriel: 'lea.roux.fc2@exemple.fr' }, 'lea.roux.fc2@exemple.fr');
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  // Shorter than the margin the call needs: the token is already too old when the request is made.
  t.setFranceConnectTtl(5);
  try {
    const { id, location, page } = await parFranceConnect(
      jar,
      '/mon-quotient/numero',
      '/mon-quotient/numero',
      { 'voie-1': 'franceconnect' },
      SPI_SANDBOX.rfrZero,
    );
    assert.deepEqual(await statut(id), { statut: 'a_ressaisir', motif_code: 'franceconnect_expire' });
    assert.match(page.body, /Reconnectez-vous avec FranceConnect/);
    assert.match(page.body, /reconnectez-vous avec FranceConnect pour relancer la demande/);
    assert.match(page.body, /id="voie-1-franceconnect"[^>]*checked/, 'FranceConnect stays the way chosen');
    t.setFranceConnectTtl(60);
    const again = await parFranceConnect(jar, location, `${location}/ressaisie`, { 'voie-1': 'franceconnect' }, SPI_SANDBOX.rfrZero);
    assert.equal(again.id, id, 'the same request, relaunched');
    assert.equal((await statut(id)).statut, 'calculee');
  } finally {
    t.setFranceConnectTtl(60);
  }
});

test('both parents with FranceConnect, one after the other: the first avis at once, then the second parent signs in with their own account', async () => {
  const { jar } = await t.signedInFamily(GARNIER_MOREAU, 'garnier.moreau@exemple.fr');
  const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' });
  assert.equal(accord.statusCode, 303);
  const first = await parFranceConnect(
    jar,
    '/mon-quotient/numero',
    '/mon-quotient/numero',
    { 'voie-1': 'franceconnect', 'voie-2': 'franceconnect' },
    SPI_SANDBOX.parentsNonMaries.parentAvecEnfant,
  );
  assert.deepEqual(await statut(first.id), { statut: 'a_ressaisir', motif_code: 'franceconnect_attendu' });
  assert.match(first.page.body, /Connexion FranceConnect de l’autre déclarant/);
  assert.match(first.page.body, /Thomas Moreau se connecte avec\s+FranceConnect/);
  const recu = await t.database.db
    .selectFrom('demande_foyers')
    .select(['parent_rang', 'etat'])
    .where('demande_id', '=', first.id)
    .orderBy('parent_rang')
    .execute();
  assert.deepEqual(
    recu.map((f) => [f.parent_rang, f.etat]),
    [
      [1, 'recu'],
      [2, 'a_appeler'],
    ],
  );
  const second = await parFranceConnect(
    jar,
    first.location,
    `${first.location}/ressaisie`,
    { 'voie-2': 'franceconnect' },
    SPI_SANDBOX.parentsNonMaries.parentSansEnfant,
  );
  assert.equal(second.id, first.id);
  assert.equal((await statut(first.id)).statut, 'calculee');
});

test('one parent types the numéro fiscal, the other uses FranceConnect: one request, both avis', async () => {
  const { jar } = await t.signedInFamily({ ...GARNIER_MOREAU, courriel: 'gm2@exemple.fr' }, 'gm2@exemple.fr');
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' });
  const { id, page } = await parFranceConnect(
    jar,
    '/mon-quotient/numero',
    '/mon-quotient/numero',
    { 'voie-1': 'numero', 'numero-1': SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, 'voie-2': 'franceconnect' },
    SPI_SANDBOX.parentsNonMaries.parentSansEnfant,
  );
  assert.equal((await statut(id)).statut, 'calculee');
  assert.ok(!page.body.includes(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant));
  for (const data of await sessions(jar)) assert.ok(!data.includes(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant), 'the number typed waited in a session');
});

test('cancelled at FranceConnect: nothing is asked of the DGFiP, and the way back is offered', async () => {
  const { jar } = await t.signedInFamily({ ...ROUX, courriel: 'lea.roux.fc3@exemple.fr' }, 'lea.roux.fc3@exemple.fr');
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  const sent = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'voie-1': 'franceconnect' });
  const state = new URL(String(sent.headers.location)).searchParams.get('state') as string;
  const res = await t.get(jar, `/mon-quotient/franceconnect/retour?error=access_denied&state=${state}`);
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /Connexion FranceConnect annulée/);
  assert.match(res.body, /aucun avis n’a été demandé/);
  // Replaying the return later finds nothing pending.
  const replay = await t.get(jar, `/mon-quotient/franceconnect/retour?code=x&state=${state}`);
  assert.equal(replay.statusCode, 400);
  assert.match(replay.body, /ne correspond à aucune demande en cours/);
});
