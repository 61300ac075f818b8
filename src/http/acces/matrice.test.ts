import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../modules/agents/test-support.ts';
import { ROLES_AGENT } from '../../modules/agents/roles.ts';
import { Jar } from '../test-cookies.ts';
import { cleRoute, POLITIQUE_ACCES } from './politique-acces.ts';
import { PRINCIPAUX, type Principal } from './principal.ts';

/**
 * The authorisation matrix: every route the router knows × every kind of caller, against the one
 * policy file. A route missing from the policy fails; every refusal is one journal entry with the
 * request's id; every allowed call passes the access check without a trace of refusal.
 */

let t: BackOfficeTestApp;
const callers = new Map<Principal, { jar: Jar; headers: Record<string, string> }>();
before(async () => {
  // Behind one reverse proxy, which hands on its request ids: the walk finds each refusal by its id.
  // Every caller is refused dozens of routes on purpose: the rule « refus répétés » must see it.
  t = await createBackOfficeTestApp({ env: { QUOTIENT_TRUST_PROXY: '1' }, alertesAttendues: ['acces.refus_repetes'] });
  callers.set('anonyme', { jar: new Jar(), headers: {} });
  callers.set('famille', {
    jar: (await t.signedInFamily({ parents: [{ nomNaissance: 'Matrice', prenoms: 'Anne', dateNaissance: '1980-01-01' }] }, 'anne.matrice@exemple.fr')).jar,
    headers: {},
  });
  for (const role of ROLES_AGENT) callers.set(role, { jar: await t.signInAgent(role), headers: {} });
  callers.set('api', { jar: new Jar(), headers: { authorization: `Bearer ${await t.apiKey()}` } });
});
after(() => t.close());

/** The routes to walk: HEAD is the router's copy of GET, checked as GET. */
const routes = () => t.app.routesConnues.filter((r) => r.method !== 'HEAD');

/** A concrete URL for a route pattern: identifiers that exist nowhere. */
const concrete = (url: string) => url.replace(/:[A-Za-z]+/g, () => randomUUID()).replace(/\*$/, 'quotient.css');

test('every route of the router is in the access policy, and the policy names no route that does not exist', () => {
  const known = new Set(routes().map((r) => cleRoute(r.method, r.url)));
  const missing = [...known].filter((k) => !(k in POLITIQUE_ACCES)).sort();
  assert.deepEqual(missing, [], `routes absentes de src/http/acces/politique-acces.ts : ${missing.join(', ')}`);
  const stale = Object.keys(POLITIQUE_ACCES)
    .filter((k) => !known.has(k))
    .sort();
  assert.deepEqual(stale, [], `entrées de la politique sans route : ${stale.join(', ')}`);
});

test('every route × every caller: allowed exactly as the policy says, every refusal traced once', async () => {
  const wrong: string[] = [];
  for (const route of routes()) {
    const key = cleRoute(route.method, route.url);
    const allowed = POLITIQUE_ACCES[key] ?? [];
    for (const principal of PRINCIPAUX) {
      const caller = callers.get(principal);
      assert.ok(caller);
      const requestId = `matrice-${randomUUID()}`;
      const res = await t.app.inject({
        method: route.method as 'GET',
        url: concrete(route.url),
        headers: {
          ...caller.headers,
          cookie: caller.jar.header(),
          'x-request-id': requestId,
          ...(route.method === 'GET' ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
        },
        ...(route.method === 'GET' ? {} : { payload: '' }),
      });
      const refusals = (await t.harness.journal.query({ correlationId: requestId, action: 'acces.refuse' })).entries;
      if (allowed.includes(principal)) {
        if (refusals.length > 0) wrong.push(`${key} refusé à tort pour ${principal} (${res.statusCode})`);
        if (res.statusCode >= 500) wrong.push(`${key} répond ${res.statusCode} pour ${principal}`);
      } else {
        if (refusals.length !== 1) wrong.push(`${key} pour ${principal} : ${refusals.length} trace(s) de refus au lieu d’une`);
        const toSignIn = res.statusCode === 303 && /\/connexion$/.test(String(res.headers.location));
        if (!toSignIn && res.statusCode !== 401 && res.statusCode !== 403) wrong.push(`${key} accordé à tort à ${principal} (${res.statusCode})`);
        // The API knows keys only: a family's or an agent's session is no credential there (401, not 403).
        const expected = route.url.startsWith('/api/') ? 401 : 403;
        if (principal !== 'anonyme' && principal !== 'api' && res.statusCode !== expected)
          wrong.push(`${key} pour ${principal} : ${res.statusCode} au lieu de ${expected}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
  // The sessions survived the walk: nobody was signed out by a refusal.
  assert.equal((await t.get(callers.get('guichet')?.jar as Jar, '/agents')).statusCode, 200);
});

test('a request id shaped like a numéro fiscal never keeps a refusal out of the journal: 403 and exactly one entry', async () => {
  const famille = callers.get('famille')?.jar as Jar;
  const refus = async () => (await t.harness.journal.query({ action: 'acces.refuse', actor: { type: 'famille' } }, { limit: 500 })).entries.length;
  for (const requestId of ['3141592653423', '3141 5926 5342 3', 'trace-31415926534230']) {
    const before = await refus();
    const res = await t.app.inject({ url: '/agents/guichet', headers: { cookie: famille.header(), 'x-request-id': requestId } });
    assert.equal(res.statusCode, 403, requestId);
    assert.notEqual(res.headers['x-request-id'], requestId, 'our own id instead');
    assert.equal(await refus(), before + 1, `${requestId}: one journal entry`);
    const [entry] = (await t.harness.journal.query({ correlationId: String(res.headers['x-request-id']), action: 'acces.refuse' })).entries;
    assert.equal(entry?.details.route, '/agents/guichet');
  }
});
