import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { QuotientError } from '../domain/errors.ts';
import { PUBLIC } from './acces/politique-acces.ts';
import { createTestApp, type TestApp } from './testing.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp({
    // Routes of this test only, open to all: what is tested here is the error handling.
    web: {
      politiqueAcces: Object.fromEntries(
        ['GET /test/panne', 'GET /api/v1/test/panne', 'GET /api/v1/test/refus', 'POST /test/formulaire', 'GET /test/renvoi/:cible', 'GET /api/v1/test/:id'].map(
          (k) => [k, PUBLIC],
        ),
      ),
    },
    beforeReady(app) {
      app.get('/test/panne', async () => {
        throw new Error('détail interne: connexion à /srv/secret.db refusée');
      });
      app.get('/api/v1/test/panne', async () => {
        throw new TypeError('Cannot read properties of undefined (reading "rfr")');
      });
      app.get('/api/v1/test/refus', async () => {
        throw new QuotientError('forbidden', 'acces_refuse', 'Votre rôle ne permet pas cette action.');
      });
      // A page that echoes a part of its address into a redirection, as a careless route would.
      app.get('/test/renvoi/:cible', async (request, reply) => reply.redirect(`/test/${(request.params as { cible: string }).cible}`, 303));
      app.get('/api/v1/test/:id', async (request) => ({ id: (request.params as { id: string }).id }));
      app.post(
        '/test/formulaire',
        { schema: { body: { type: 'object', required: ['nom'], properties: { nom: { type: 'string', minLength: 1 } } } } },
        async () => ({ ok: true }),
      );
    },
  });
});
after(() => t.close());

const PAGES = ['/', '/mentions-legales', '/accessibilite', '/confidentialite', '/contact'];

function assertSecurityHeaders(headers: Record<string, unknown>, where: string) {
  const csp = String(headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'self'/, where);
  assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/, where);
  assert.match(csp, /frame-ancestors 'none'/, where);
  assert.match(csp, /object-src 'none'/, where);
  assert.match(csp, /base-uri 'none'/, where);
  assert.match(csp, /form-action 'self'/, where);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, where);
  assert.equal(headers['x-content-type-options'], 'nosniff', where);
  assert.equal(headers['referrer-policy'], 'no-referrer', where);
  assert.equal(headers['x-frame-options'], 'DENY', where);
  assert.equal(headers['cross-origin-opener-policy'], 'same-origin', where);
  assert.equal(headers['x-powered-by'], undefined, where);
  assert.equal(headers.server, undefined, where);
  assert.ok(headers['x-request-id'], where);
  assert.match(String(headers['content-type']), /charset=utf-8/i, where);
}

test('every page is French, carries the security headers, is not cached and links the legal pages', async () => {
  for (const url of PAGES) {
    const res = await t.app.inject({ url });
    assert.equal(res.statusCode, 200, url);
    assertSecurityHeaders(res.headers, url);
    assert.equal(res.headers['cache-control'], 'no-store', url);
    assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain http');
    assert.match(res.body, /^<!doctype html><html lang="fr">/);
    assert.match(res.body, /Ville de Démonstration/);
    for (const link of ['/mentions-legales', '/accessibilite', '/confidentialite', '/contact']) {
      assert.ok(res.body.includes(`href="${link}"`), `${url} links ${link}`);
    }
    assert.ok(res.body.includes('mailto:famille@exemple.fr'), `${url} shows a contact`);
  }
});

test('a CSP nonce is fresh on every response', async () => {
  const nonce = async () => /'nonce-([^']+)'/.exec(String((await t.app.inject({ url: '/' })).headers['content-security-policy']))?.[1];
  const [a, b] = [await nonce(), await nonce()];
  assert.ok(a && b && a !== b);
});

test('health and readiness answer 200 with JSON', async () => {
  for (const url of ['/healthz', '/readyz']) {
    const res = await t.app.inject({ url });
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.json().status, 'ok');
  }
});

test('an unknown page gets a French 404 page with the request id and the frame', async () => {
  // The request id of the commune's reverse proxy is kept (traces join up); see below for anyone else's.
  const proxied = await createTestApp({ env: { QUOTIENT_TRUST_PROXY: '1' } });
  try {
    const res = await proxied.app.inject({ url: '/nulle-part', headers: { 'x-request-id': 'trace-12345678' } });
    assert.equal(res.statusCode, 404);
    assertSecurityHeaders(res.headers, '404');
    assert.equal(res.headers['x-request-id'], 'trace-12345678');
    assert.match(res.body, /Page introuvable/);
    assert.match(res.body, /trace-12345678/);
    assert.match(res.body, /href="\/mentions-legales"/);
  } finally {
    await proxied.close();
  }
});

test('a request id is taken only from a trusted proxy, never shaped like a numéro fiscal', async () => {
  // No proxy configured: the client's id is not taken.
  assert.match(String((await t.app.inject({ url: '/', headers: { 'x-request-id': 'trace-12345678' } })).headers['x-request-id']), /^[0-9a-f-]{36}$/);
  const listed = await createTestApp({ env: { QUOTIENT_TRUST_PROXY: '10.0.0.5,192.0.2.0/24' } });
  try {
    const id = async (remoteAddress: string, requestId: string) =>
      String((await listed.app.inject({ url: '/', remoteAddress, headers: { 'x-request-id': requestId } })).headers['x-request-id']);
    assert.equal(await id('10.0.0.5', 'trace-12345678'), 'trace-12345678');
    assert.equal(await id('192.0.2.77', 'trace-12345678'), 'trace-12345678');
    assert.match(await id('10.0.0.6', 'trace-12345678'), /^[0-9a-f-]{36}$/, 'not from a listed proxy');
    assert.match(await id('10.0.0.5', '3141592653423'), /^[0-9a-f-]{36}$/, 'from the proxy, but shaped like a numéro fiscal');
  } finally {
    await listed.close();
  }
});

test('a request id that is not a plain token is replaced', async () => {
  const res = await t.app.inject({ url: '/', headers: { 'x-request-id': '<script>alert(1)</script>' } });
  assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
});

test('a page that fails shows a French 500 page without internals', async () => {
  const res = await t.app.inject({ url: '/test/panne' });
  assert.equal(res.statusCode, 500);
  assertSecurityHeaders(res.headers, '500');
  assert.match(res.body, /Erreur du service/);
  assert.match(res.body, new RegExp(String(res.headers['x-request-id'])));
  for (const leak of ['secret.db', 'détail interne', 'Error', '.ts:', 'node_modules', '    at ']) {
    assert.ok(!res.body.includes(leak), `the page leaks ${leak}`);
    assert.ok(!JSON.stringify(res.headers).includes(leak), `a header leaks ${leak}`);
  }
  // The operator still finds the cause in the log, under the same request id.
  const logged = t.logLines.find((line) => line.includes('secret.db'));
  assert.ok(logged && logged.includes(String(res.headers['x-request-id'])));
});

test('the API answers problem+json, 5xx without internals', async () => {
  const res = await t.app.inject({ url: '/api/v1/test/panne' });
  assert.equal(res.statusCode, 500);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
  const body = res.json();
  assert.equal(body.status, 500);
  assert.equal(body.code, 'erreur_interne');
  assert.equal(body.requestId, res.headers['x-request-id']);
  assert.ok(!res.body.includes('rfr') && !res.body.includes('TypeError') && !res.body.includes('stack'));
});

test('typed errors map to their status with their French message', async () => {
  const res = await t.app.inject({ url: '/api/v1/test/refus' });
  assert.equal(res.statusCode, 403);
  assert.deepEqual(
    { code: res.json().code, detail: res.json().detail, title: res.json().title },
    { code: 'acces_refuse', detail: 'Votre rôle ne permet pas cette action.', title: 'Accès refusé' },
  );
  const missing = await t.app.inject({ url: '/api/v1/rien' });
  assert.equal(missing.statusCode, 404);
  assert.equal(missing.json().code, 'introuvable');
});

test('malformed input is a French 400, never a 500', async () => {
  const invalid = await t.app.inject({ method: 'POST', url: '/test/formulaire', payload: { nom: '' } });
  assert.equal(invalid.statusCode, 400);
  assert.match(invalid.body, /Demande incorrecte/);
  const badJson = await t.app.inject({ method: 'POST', url: '/test/formulaire', headers: { 'content-type': 'application/json' }, payload: '{"nom":' });
  assert.equal(badJson.statusCode, 400);
  const badType = await t.app.inject({ method: 'POST', url: '/test/formulaire', headers: { 'content-type': 'application/x-unknown' }, payload: 'x' });
  assert.equal(badType.statusCode, 415);
  assert.match(badType.body, /Format non pris en charge/);
  const tooBig = await t.app.inject({
    method: 'POST',
    url: '/test/formulaire',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ nom: 'x'.repeat(2 * 1024 * 1024) }),
  });
  assert.equal(tooBig.statusCode, 413);
});

test('TRACE and unknown methods are refused with 405', async () => {
  for (const method of ['TRACE', 'PROPFIND'] as const) {
    const res = await t.app.inject({ method: method as 'GET', url: '/' });
    assert.equal(res.statusCode, 405, method);
    assert.match(String(res.headers.allow), /GET/);
  }
});

test('a 405 carries the security headers like any other answer', async () => {
  const res = await t.app.inject({ method: 'PROPFIND' as 'GET', url: '/' });
  assert.equal(res.statusCode, 405);
  assertSecurityHeaders(res.headers, '405');
  assert.match(res.body, /Méthode non autorisée/);
});

test('a line break, a NUL, U+2028 or an emoji echoed into a redirection is a French 400, never an English 500', async () => {
  for (const part of ['%0D%0ASet-Cookie:%20x=1', '%E2%80%A8', '%00', '%F0%9F%98%80']) {
    const res = await t.app.inject({ url: `/test/renvoi/a${part}` });
    assert.equal(res.statusCode, 400, part);
    assertSecurityHeaders(res.headers, part);
    assert.equal(res.headers.location, undefined);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.match(res.body, /<html lang="fr"/);
    assert.match(res.body, /L’adresse demandée contient des caractères qui ne sont pas acceptés/);
  }
});

/** The headers of an answer written before any hook: the same protections, no script at all. */
function assertFallbackHeaders(headers: Record<string, unknown>, where: string) {
  const csp = String(headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'self'/, where);
  assert.match(csp, /frame-ancestors 'none'/, where);
  assert.match(csp, /object-src 'none'/, where);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, where);
  assert.equal(headers['x-content-type-options'], 'nosniff', where);
  assert.equal(headers['x-frame-options'], 'DENY', where);
  assert.equal(headers['referrer-policy'], 'no-referrer', where);
  assert.equal(headers['cache-control'], 'no-store', where);
}

test('addresses the router refuses (not decodable, identifier too long) are French, page or problem+json, with the security headers', async () => {
  const bad = await t.app.inject({ url: '/test/renvoi/%E0%A4%A' });
  assert.equal(bad.statusCode, 400);
  assertFallbackHeaders(bad.headers, 'bad url');
  assert.match(bad.body, /<html lang="fr"/);
  assert.match(bad.body, /Demande incorrecte/);
  const long = await t.app.inject({ url: `/api/v1/test/${'a'.repeat(200)}` });
  assert.equal(long.statusCode, 414);
  assertFallbackHeaders(long.headers, '414');
  assert.match(String(long.headers['content-type']), /^application\/problem\+json/);
  assert.deepEqual([long.json().title, long.json().detail], ['Adresse trop longue', 'L’adresse demandée est trop longue : vérifiez le lien suivi.']);
});

test('requests Node’s parser refuses get a French answer with the security headers, over a real socket', { timeout: 60_000 }, async () => {
  const served = await createTestApp();
  try {
    await served.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = served.app.server.address() as AddressInfo;
    /** Sends raw bytes on loopback; the answer, once the server closes (bounded by a timer). */
    const raw = (bytes: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
        let out = '';
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`no answer closed for ${JSON.stringify(bytes.slice(0, 30))}`));
        }, 10_000);
        socket.on('data', (d) => (out += d.toString('utf8')));
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(out);
        });
        socket.on('error', () => undefined);
      });
    const cases = [
      { bytes: 'GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, api: false },
      { bytes: 'PAS UNE REQUETE\r\n\r\n', status: 400, api: false },
      { bytes: `GET / HTTP/1.1\r\nHost: x\r\nX-Grand: ${'a'.repeat(20_000)}\r\n\r\n`, status: 431, api: false },
      { bytes: 'GET /api/v1/quotients HTTP/1.1\r\nHost: x\r\nEn tete invalide\r\n\r\n', status: 400, api: true },
    ];
    for (const c of cases) {
      const answer = await raw(c.bytes);
      const [head = '', body = ''] = answer.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const where = JSON.stringify(c.bytes.slice(0, 30));
      assert.match(statusLine ?? '', new RegExp(`^HTTP/1\\.1 ${c.status} `), where);
      assertFallbackHeaders(headers, where);
      assert.doesNotMatch(body, /Bad Request|Client Error|Exceeded/, where);
      if (c.api) {
        assert.match(headers['content-type'] ?? '', /^application\/problem\+json/, where);
        assert.equal((JSON.parse(body) as { status: number; title: string }).title, 'Demande incorrecte');
      } else {
        assert.match(headers['content-type'] ?? '', /^text\/html; charset=utf-8/, where);
        assert.match(body, /^<!doctype html><html lang="fr">/, where);
        assert.match(body, c.status === 431 ? /En-têtes trop volumineux/ : /Demande incorrecte/, where);
      }
    }
  } finally {
    await served.close();
  }
});

test('the stylesheet is served from our origin with a cache lifetime', async () => {
  const res = await t.app.inject({ url: '/static/quotient.css' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['cache-control']), /max-age=3600/);
  assert.match(res.body, /--color-primary/);
  assert.equal((await t.app.inject({ url: '/static/../package.json' })).statusCode, 404);
});

test('readiness says 503 when the database is gone, health still 200', async () => {
  const local = await createTestApp({ sansControleAlertes: 'the test closes the database under the app' });
  try {
    await local.database.close();
    const ready = await local.app.inject({ url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().code, 'base_indisponible');
    assert.equal((await local.app.inject({ url: '/healthz' })).statusCode, 200);
  } finally {
    await local.close();
  }
});

test('HSTS is sent when the public address is https', async () => {
  const secure = await createTestApp({ env: { QUOTIENT_PUBLIC_URL: 'https://quotient.exemple.fr' } });
  try {
    const res = await secure.app.inject({ url: '/' });
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d{8,}; includeSubDomains/);
    assert.match(String(res.headers['content-security-policy']), /upgrade-insecure-requests/);
  } finally {
    await secure.close();
  }
});

test('the privacy page says the purposes, the legal basis, the recipients, each retention from the configuration, the avis exception and the DPO', async () => {
  const res = await t.app.inject({ url: '/confidentialite' });
  assert.equal(res.statusCode, 200);
  for (const attendu of ['Finalités', 'Base légale', 'Destinataires', 'Durées de conservation', 'Vos droits', 'Délégué à la protection des données', 'CNIL'])
    assert.ok(res.body.includes(attendu), attendu);
  // The demo's settings: 3 months after validity, 24 months, 12 months, 30 days for an uploaded avis.
  assert.match(res.body, /jusqu’à 3 mois après la fin de validité/);
  assert.match(res.body, /Demandes, quotients et tarifs : 24 mois/);
  assert.match(res.body, /actions : 12 mois/);
  assert.match(res.body, /détruit dès la décision de l’agent, et au plus tard 30 jours/);
});
