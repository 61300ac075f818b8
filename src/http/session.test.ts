import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { FAMILY_SESSION_POLICY, requireCompteId, signIn, signOut } from './session.ts';
import { PUBLIC } from './acces/politique-acces.ts';
import { createTestApp, type TestApp } from './testing.ts';
import { Jar, csrfOf, insertCompte } from './test-cookies.ts';

function testRoutes(state: { compteId: string; writes: number }) {
  return (app: FastifyInstance) => {
    app.get('/test/formulaire', async (_request, reply) =>
      reply.type('text/html').send(`<form method="post"><input type="hidden" name="_csrf" value="${reply.generateCsrf()}"></form>`),
    );
    app.post('/test/formulaire', async () => {
      state.writes += 1;
      return { ok: true };
    });
    app.post('/test/connexion', async (request) => {
      await signIn(request, state.compteId, 'local');
      return { ok: true };
    });
    app.get('/test/qui', async (request) => ({ compteId: requireCompteId(request) }));
    app.post('/test/deconnexion', async (request, reply) => {
      await signOut(request, reply, false);
      return { ok: true };
    });
  };
}

/** This test's own routes, open to all: sessions and CSRF are what is tested. */
const TEST_ROUTES = Object.fromEntries(
  ['GET /test/formulaire', 'POST /test/formulaire', 'POST /test/connexion', 'GET /test/qui', 'POST /test/deconnexion'].map((k) => [k, PUBLIC]),
);

let now = Date.parse('2026-11-23T10:00:00Z');
const state = { compteId: '', writes: 0 };
let t: TestApp;
before(async () => {
  t = await createTestApp({ beforeReady: testRoutes(state), compose: { clock: () => now }, web: { politiqueAcces: TEST_ROUTES } });
  state.compteId = await insertCompte(t.database);
});
after(() => t.close());

async function get(jar: Jar, url: string) {
  const res = await t.app.inject({ url, headers: { cookie: jar.header() } });
  jar.take(res.headers);
  return res;
}
async function post(jar: Jar, url: string, body: Record<string, string> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams(body).toString(),
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  jar.take(res.headers);
  return res;
}
async function signedIn(): Promise<Jar> {
  const jar = new Jar();
  const token = csrfOf((await get(jar, '/test/formulaire')).body);
  assert.equal((await post(jar, '/test/connexion', { _csrf: token })).statusCode, 200);
  return jar;
}

test('no cookie is set for a page without a form; a form gets a session cookie with HttpOnly, SameSite=Lax, Path=/', async () => {
  const jar = new Jar();
  await get(jar, '/');
  assert.equal(jar.seen.length, 0);
  await get(jar, '/test/formulaire');
  assert.equal(jar.seen.length, 1);
  const [line] = jar.seen as [string];
  assert.match(line, /^quotient=[A-Za-z0-9_-]{32};/);
  assert.match(line, /; HttpOnly/);
  assert.match(line, /; SameSite=Lax/);
  assert.match(line, /; Path=\//);
  assert.doesNotMatch(line, /Domain=/i);
  // Plain http (the demo): Secure would make browsers drop the cookie, so it is not set.
  assert.doesNotMatch(line, /Secure/);
});

test('the session id is a 192-bit random value and only its digest is stored', async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 50; i += 1) {
    const jar = new Jar();
    await get(jar, '/test/formulaire');
    const id = jar.cookies.get('quotient') as string;
    assert.equal(Buffer.from(id, 'base64url').length, 24);
    ids.add(id);
  }
  assert.equal(ids.size, 50);
  const rows = await t.database.db.selectFrom('sessions').select(['id_hash', 'data']).execute();
  for (const id of ids) assert.ok(!rows.some((r) => r.id_hash === id || r.data.includes(id)), 'raw ids are not in the table');
});

test('a form without a valid token changes nothing and answers a French 403 page', async () => {
  const jar = new Jar();
  const token = csrfOf((await get(jar, '/test/formulaire')).body);
  const other = new Jar();
  const otherToken = csrfOf((await get(other, '/test/formulaire')).body);
  const before = state.writes;
  for (const body of [{}, { _csrf: 'faux' }, { _csrf: otherToken }] as Record<string, string>[]) {
    const res = await post(jar, '/test/formulaire', body);
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /<html lang="fr"/);
    assert.match(res.body, /Ce formulaire a expiré ou ne vient pas de ce site/);
  }
  // Without any session at all.
  assert.equal((await post(new Jar(), '/test/formulaire', { _csrf: token })).statusCode, 403);
  assert.equal(state.writes, before);
  assert.equal((await post(jar, '/test/formulaire', { _csrf: token })).statusCode, 200);
  assert.equal(state.writes, before + 1);
});

test('signing in renews the session id: the cookie set before does not survive', async () => {
  const jar = new Jar();
  const token = csrfOf((await get(jar, '/test/formulaire')).body);
  const before = jar.cookies.get('quotient') as string;
  await post(jar, '/test/connexion', { _csrf: token });
  const afterId = jar.cookies.get('quotient') as string;
  assert.ok(afterId && afterId !== before);
  assert.equal((await get(jar, '/test/qui')).json().compteId, state.compteId);
  const old = await t.app.inject({ url: '/test/qui', headers: { cookie: `quotient=${before}` } });
  assert.equal(old.statusCode, 401);
  assert.match(old.body, /Connectez-vous/);
});

test('signing out destroys the server session: replaying the old cookie is anonymous', async () => {
  const jar = await signedIn();
  const cookie = jar.header();
  const token = csrfOf((await get(jar, '/test/formulaire')).body);
  const res = await post(jar, '/test/deconnexion', { _csrf: token });
  assert.equal(res.statusCode, 200);
  assert.ok(jar.seen.at(-1)?.includes('HttpOnly') && jar.seen.at(-1)?.includes('SameSite=Lax'), 'the clearing cookie keeps the flags');
  assert.equal((await t.app.inject({ url: '/test/qui', headers: { cookie } })).statusCode, 401);
});

test('idle timeout: 30 minutes without a request end the session; activity moves the deadline', async () => {
  const jar = await signedIn();
  now += FAMILY_SESSION_POLICY.idleMs - 60_000;
  assert.equal((await get(jar, '/test/qui')).statusCode, 200);
  now += FAMILY_SESSION_POLICY.idleMs - 60_000;
  assert.equal((await get(jar, '/test/qui')).statusCode, 200, 'the previous request moved the deadline');
  now += FAMILY_SESSION_POLICY.idleMs + 1000;
  assert.equal((await get(jar, '/test/qui')).statusCode, 401);
});

test('a signed-in session is not rewritten by requests that change nothing; its idle deadline still moves, at most once a minute', async () => {
  const jar = await signedIn();
  const row = () =>
    t.database.db.selectFrom('sessions').select(['data', 'last_seen_at', 'idle_expires_at']).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
  const start = await row();
  // Pages, with and without forms, within the minute: not a single write.
  for (let i = 0; i < 5; i++) {
    now += 5_000;
    assert.equal((await get(jar, '/test/qui')).statusCode, 200);
    assert.equal((await get(jar, '/test/formulaire')).statusCode, 200);
  }
  assert.deepEqual(await row(), start, 'nothing written within the touch step');
  // Past the minute, the deadline moves (the data themselves are not re-encrypted).
  now += 60_000;
  assert.equal((await get(jar, '/test/qui')).statusCode, 200);
  const touched = await row();
  assert.equal(touched.data, start.data);
  assert.equal(touched.idle_expires_at, new Date(now + FAMILY_SESSION_POLICY.idleMs).toISOString());
  // The session never outlives its idle time after the last request that reached it.
  now += FAMILY_SESSION_POLICY.idleMs + 1;
  assert.equal((await get(jar, '/test/qui')).statusCode, 401);
});

test('absolute timeout: 12 hours after sign-in the session ends whatever the activity', async () => {
  const jar = await signedIn();
  const start = now;
  while (now < start + FAMILY_SESSION_POLICY.absoluteMs - 20 * 60_000) {
    now += 20 * 60_000;
    assert.equal((await get(jar, '/test/qui')).statusCode, 200);
  }
  now = start + FAMILY_SESSION_POLICY.absoluteMs + 1000;
  assert.equal((await get(jar, '/test/qui')).statusCode, 401);
});

test('over https the cookie is __Host-quotient with Secure', async () => {
  const https = await createTestApp({
    env: { QUOTIENT_PUBLIC_URL: 'https://quotient.exemple.fr', QUOTIENT_TRUST_PROXY: '1' },
    beforeReady: testRoutes(state),
    web: { politiqueAcces: TEST_ROUTES },
  });
  try {
    const res = await https.app.inject({ url: '/test/formulaire', headers: { 'x-forwarded-proto': 'https' } });
    const line = String(res.headers['set-cookie']);
    assert.match(line, /^__Host-quotient=[A-Za-z0-9_-]{32}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    assert.ok(line.length < 4096);
  } finally {
    await https.close();
  }
});

test('a session row moved to another session id, altered, or written in clear is not read: that session ends', async () => {
  const jar = await signedIn();
  const id = jar.cookies.get('quotient') as string;
  const digestOf = (value: string) => createHash('sha256').update(value).digest('base64url');
  const row = await t.database.db.selectFrom('sessions').selectAll().where('id_hash', '=', digestOf(id)).executeTakeFirstOrThrow();
  assert.match(row.data, /^v1\./);
  assert.ok(!row.data.includes(state.compteId), 'the account id is not readable in the data');

  // Someone who can write the table copies a signed-in row under a session id of their own.
  const other = new Jar();
  await get(other, '/test/formulaire');
  const otherId = other.cookies.get('quotient') as string;
  await t.database.db.deleteFrom('sessions').where('id_hash', '=', digestOf(otherId)).execute();
  await t.database.db
    .insertInto('sessions')
    .values({ ...row, id_hash: digestOf(otherId) })
    .execute();
  assert.equal((await get(other, '/test/qui')).statusCode, 401);

  // One byte changed, or the plain JSON an earlier release wrote.
  const flipped = `${row.data.slice(0, -2)}${row.data.endsWith('A') ? 'B' : 'A'}${row.data.slice(-1)}`;
  await t.database.db.updateTable('sessions').set({ data: flipped }).where('id_hash', '=', row.id_hash).execute();
  assert.equal((await get(jar, '/test/qui')).statusCode, 401);
  const again = await signedIn();
  await t.database.db
    .updateTable('sessions')
    .set({ data: JSON.stringify({ compteId: state.compteId }) })
    .where('id_hash', '=', digestOf(again.cookies.get('quotient') as string))
    .execute();
  assert.equal((await get(again, '/test/qui')).statusCode, 401);
});
