import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DatabaseSessionStore, FAMILY_SESSION_POLICY } from '../../http/session.ts';
import { ChiffrementSessions, fichierCleSessions } from '../../http/session-chiffrement.ts';
import { Jar, csrfOf } from '../../http/test-cookies.ts';
import { chargerCle } from '../../infra/secrets/cle-fichier.ts';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { SPI_SANDBOX } from '../../sandbox/population.ts';
import { createComptesTestApp, PUBLIC_URL, type ComptesTestApp } from './test-support.ts';

let t: ComptesTestApp;
before(async () => {
  t = await createComptesTestApp({ franceConnect: true });
});
after(() => t.close());

/** From the FranceConnect button to the URL the provider sends the browser back to. */
async function throughProvider(jar: Jar, login: string, password = '123'): Promise<URL> {
  const token = csrfOf((await t.app.inject({ url: '/connexion', headers: { cookie: jar.header() } }).then((r) => (jar.take(r.headers), r))).body);
  const start = await t.app.inject({
    method: 'POST',
    url: '/connexion/franceconnect',
    payload: `_csrf=${encodeURIComponent(token)}`,
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  jar.take(start.headers);
  assert.equal(start.statusCode, 303);
  const authorize = new URL(String(start.headers.location));
  assert.equal(authorize.origin, t.provider?.issuer);
  for (const p of ['state', 'nonce', 'code_challenge']) assert.ok(authorize.searchParams.get(p), p);
  assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
  assert.equal(authorize.searchParams.get('acr_values'), 'eidas1');

  const { back, loginPage } = await signInAtProvider(authorize, login, password, PUBLIC_URL);
  assert.match(loginPage, /<html lang="fr">/);
  assert.match(loginPage, /Identifiant/);
  return back;
}

async function callback(jar: Jar, url: URL) {
  const res = await t.app.inject({ url: url.pathname + url.search, headers: { cookie: jar.header() } });
  jar.take(res.headers);
  return res;
}

test('FranceConnect journey: sandbox identity, sign-in with a renewed session, /mon-espace, link on second visit', async () => {
  const jar = new Jar();
  const back = await throughProvider(jar, SPI_SANDBOX.coupleMarie.declarant1);
  assert.ok(back.searchParams.get('iss'), 'RFC 9207 iss parameter');
  const before = jar.cookies.get('quotient');
  const res = await callback(jar, back);
  assert.equal(res.statusCode, 303);
  assert.equal(res.headers.location, '/mon-espace');
  assert.notEqual(jar.cookies.get('quotient'), before, 'session id renewed at sign-in');
  const espace = await t.app.inject({ url: '/mon-espace', headers: { cookie: jar.header() } });
  assert.equal(espace.statusCode, 200);
  assert.match(espace.body, /PAUL HENRI BERTIN/);
  assert.match(espace.body, /FranceConnect/);
  const comptes = await t.database.db.selectFrom('comptes').selectAll().execute();
  assert.equal(comptes.length, 1);
  assert.equal(comptes[0]?.sub, t.provider?.subjectOf(SPI_SANDBOX.coupleMarie.declarant1));
  assert.equal(comptes[0]?.issuer, t.provider?.issuer);
  const parent = await t.database.db
    .selectFrom('parents')
    .selectAll()
    .where('famille_id', '=', comptes[0]?.famille_id as string)
    .executeTakeFirstOrThrow();
  assert.equal(parent.nom_naissance, 'BERTIN');
  assert.equal(parent.date_naissance, '1981-04-09');
  // The access token was handed to the DGFiP sandbox hook with the person's numéro fiscal.
  assert.equal(t.fcTokens.at(-1)?.spi, SPI_SANDBOX.coupleMarie.declarant1);

  const again = new Jar();
  assert.equal((await callback(again, await throughProvider(again, SPI_SANDBOX.coupleMarie.declarant1))).statusCode, 303);
  assert.equal((await t.database.db.selectFrom('comptes').select('id').execute()).length, 1, 'the same identity finds its account');

  // Sign-out goes through the provider's end-session endpoint with the ID token.
  const token = csrfOf(espace.body);
  const out = await t.app.inject({
    method: 'POST',
    url: '/deconnexion',
    payload: `_csrf=${encodeURIComponent(token)}`,
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(out.statusCode, 303);
  const endSession = new URL(String(out.headers.location));
  assert.equal(endSession.origin, t.provider?.issuer);
  assert.ok(endSession.searchParams.get('id_token_hint'));
  assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${PUBLIC_URL}/deconnexion/fin`);
  assert.equal((await t.app.inject({ url: '/mon-espace', headers: { cookie: jar.header() } })).statusCode, 303);
});

/** Changes the nonce of the sign-in pending in this browser's session (its data are encrypted: through the store, with the key). */
async function alterNonce(jar: Jar): Promise<void> {
  const store = new DatabaseSessionStore(t.database.db, new ChiffrementSessions(chargerCle(fichierCleSessions(t.config))), FAMILY_SESSION_POLICY, Date.now);
  const id = jar.cookies.get('quotient') as string;
  const data = await new Promise<Record<string, unknown>>((resolve, reject) =>
    store.get(id, (e, s) => (e ? reject(e) : resolve(s as Record<string, unknown>))),
  );
  const oidc = data.oidc as { nonce: string };
  await new Promise<void>((resolve, reject) => store.set(id, { ...data, oidc: { ...oidc, nonce: `x${oidc.nonce}` } }, (e) => (e ? reject(e) : resolve())));
}

test('session data are encrypted at rest: the raw rows hold neither FranceConnect’s tokens, nor the pending sign-in, nor the CSRF secret', async () => {
  const jar = new Jar();
  const back = await throughProvider(jar, SPI_SANDBOX.coupleMarie.declarant1);
  // Pending: state, nonce and PKCE verifier, and the CSRF secret of the form posted.
  const pending = await t.database.db.selectFrom('sessions').select('data').execute();
  assert.equal((await callback(jar, back)).statusCode, 303);
  await t.app.inject({ url: '/mon-espace', headers: { cookie: jar.header() } });
  const rows = [...pending, ...(await t.database.db.selectFrom('sessions').select('data').execute())];
  const accessToken = t.fcTokens.at(-1)?.token as string;
  assert.ok(accessToken && rows.length > 0);
  for (const { data } of rows) {
    assert.match(data, /^v1\.[A-Za-z0-9_-]+$/, 'ciphertext only');
    for (const secret of [accessToken, 'eyJ', 'nonce', 'codeVerifier', '_csrf', 'idToken', 'fcAccessToken', back.searchParams.get('state') as string]) {
      assert.ok(!data.includes(secret), `the row shows ${secret.slice(0, 12)}`);
    }
  }
});

async function refused(res: { statusCode: number; body: string }) {
  assert.equal(res.statusCode, 403);
  assert.match(res.body, /La connexion avec FranceConnect n’a pas pu être vérifiée/);
}

test('the callback rejects a wrong state, a wrong iss, a wrong nonce and a replayed code, and signs nobody in', async () => {
  const count = async () => (await t.database.db.selectFrom('comptes').select('id').execute()).length;
  const before = await count();
  const login = SPI_SANDBOX.couplePacse.declarant1;

  let jar = new Jar();
  let back = await throughProvider(jar, login);
  back.searchParams.set('state', 'autre-etat');
  await refused(await callback(jar, back));

  jar = new Jar();
  back = await throughProvider(jar, login);
  back.searchParams.set('iss', 'https://fournisseur-malveillant.exemple');
  await refused(await callback(jar, back));

  jar = new Jar();
  back = await throughProvider(jar, login);
  // The nonce this browser's session expects is not the one the ID token carries.
  await alterNonce(jar);
  await refused(await callback(jar, back));

  // A code used once: replayed with another browser's fresh state, the provider refuses it.
  jar = new Jar();
  const used = await throughProvider(jar, login);
  assert.equal((await callback(jar, used)).statusCode, 303);
  const other = new Jar();
  const fresh = await throughProvider(other, SPI_SANDBOX.coupleMarie.declarant2);
  const replay = new URL(used);
  replay.searchParams.set('state', fresh.searchParams.get('state') as string);
  await refused(await callback(other, replay));
  // And replayed in the browser that used it: no pending request any more.
  await refused(await callback(jar, used));
  assert.equal((await t.app.inject({ url: '/mon-espace', headers: { cookie: other.header() } })).statusCode, 303, 'nobody signed in');
  assert.equal(await count(), before + 1, 'only the legitimate sign-in created an account');
});

test('the numéro fiscal typed as login (canary) is nowhere: logs, database, e-mails, cookies, pages', async () => {
  const canary = SPI_SANDBOX.canari;
  const jar = new Jar();
  const res = await callback(jar, await throughProvider(jar, canary));
  assert.equal(res.statusCode, 303);
  const page = await t.app.inject({ url: '/mon-espace', headers: { cookie: jar.header() } });
  assert.match(page.body, /ANNE MERCIER/);
  assert.ok(!page.body.includes(canary));
  assert.ok(!t.logLines.join('\n').includes(canary), 'logs');
  assert.ok(!jar.seen.join('\n').includes(canary), 'cookies');
  assert.ok(!t.smtp.messages.some((m) => m.raw.includes(canary)), 'e-mails');
  for (const table of ['comptes', 'sessions', 'familles', 'parents', 'journal_audit', 'compte_jetons'] as const) {
    const rows = await t.database.db.selectFrom(table).selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes(canary), table);
  }
});
