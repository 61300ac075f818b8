import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { request } from 'undici';
import type { FaultKind } from './faults.ts';
import { SPI_SANDBOX } from './population.ts';
import { assertDocumented, startTestSandbox, type Resp, type TestSandbox } from './test-support.ts';

const clock = Date.UTC(2025, 9, 1, 10);
let t: TestSandbox;
let token: string;
const SPI = SPI_SANDBOX.publies[0];
const path = (spi: string = SPI): string => `/spi/${spi}/situations/ir/assiettes/annrev/2024`;

before(async () => {
  t = await startTestSandbox({ now: () => clock });
  token = await t.token();
});
afterEach(() => t.sb.admin.clearFaults());
after(async () => {
  await t.close();
  // Nothing the sandbox opened may outlive close(): no server, socket or timer.
  await new Promise((r) => setImmediate(r));
  const left = process.getActiveResourcesInfo().filter((r) => ['TCPServerWrap', 'TCPSocketWrap', 'TLSWrap', 'Timeout'].includes(r));
  assert.deepEqual(left, []);
});

async function raw(
  url: string,
  options: { headersTimeout?: number; bodyTimeout?: number } = {},
): Promise<{ status: number; headers: Record<string, unknown>; bytes: Buffer }> {
  const res = await request(url, { dispatcher: t.agent, headers: t.headers(token), ...options });
  const bytes = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, bytes };
}

const asResp = (r: { status: number; headers: Record<string, unknown>; bytes: Buffer }): Resp => ({
  status: r.status,
  headers: r.headers as Resp['headers'],
  text: r.bytes.toString('utf8'),
  json: () => JSON.parse(r.bytes.toString('utf8')) as unknown,
});

/** What each fault looks like to a client; shared by the switch and the reserved SPIs. */
async function expectFault(kind: FaultKind, url: string): Promise<void> {
  switch (kind) {
    case 'http500':
    case 'http503':
    case 'http504': {
      const r = await raw(url);
      assert.equal(r.status, Number(kind.slice(4)));
      assert.ok(JSON.parse(r.bytes.toString('utf8')));
      return;
    }
    case 'http429': {
      const r = await raw(url);
      assert.equal(r.status, 429);
      assert.match(String(r.headers['retry-after']), /^\d+$/);
      return;
    }
    case 'timeout': {
      const started = Date.now();
      await assert.rejects(raw(url, { headersTimeout: 300 }), (e: Error) => /timeout/i.test(e.name + e.message));
      assert.ok(Date.now() - started >= 250);
      return;
    }
    case 'slowDrip':
      // Covered with a fast drip below (the reserved SPI drips one byte per second).
      return;
    case 'malformedJson': {
      const r = await raw(url);
      assert.equal(r.status, 200);
      assert.throws(() => JSON.parse(r.bytes.toString('utf8')), SyntaxError);
      return;
    }
    case 'truncatedBody':
      await assert.rejects(raw(url));
      return;
    case 'oversizedBody':
      // Covered with a smaller size below.
      return;
    case 'connectionReset':
      await assert.rejects(raw(url), (e: Error & { code?: string }) => /ECONNRESET|UND_ERR_SOCKET|other side closed/i.test(`${e.code} ${e.message}`));
      return;
    case 'wrongContentType': {
      const r = await raw(url);
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      return;
    }
    case 'redirect': {
      const r = await raw(url);
      assert.equal(r.status, 302);
      assert.match(String(r.headers.location), /^https:\/\/passerelle-detournee\.invalid\//);
      return;
    }
    case 'schemaMismatch': {
      const r = await raw(url);
      assert.equal(r.status, 200);
      assert.throws(() => assertDocumented('impot-particulier', new URL(url).pathname.replace('/impotparticulier/1.0', ''), asResp(r)));
      return;
    }
  }
}

describe('pannes par interrupteur', () => {
  const kinds: FaultKind[] = [
    'http500',
    'http503',
    'http504',
    'http429',
    'timeout',
    'malformedJson',
    'truncatedBody',
    'connectionReset',
    'wrongContentType',
    'redirect',
    'schemaMismatch',
  ];
  for (const kind of kinds) {
    it(`simule ${kind}, puis répond normalement une fois l’interrupteur retiré`, async () => {
      const id = t.sb.admin.addFault({ kind });
      await expectFault(kind, t.sb.baseUrl + path());
      assert.ok(t.sb.admin.removeFault(id));
      const ok = await t.get(t.sb.baseUrl + path(), t.headers(token));
      assert.equal(ok.status, 200);
      assertDocumented('impot-particulier', path(), ok);
    });
  }

  it('fait goutter le corps lentement mais complètement', async () => {
    t.sb.admin.addFault({ kind: 'slowDrip', intervalMs: 20, bytes: 16 });
    const started = Date.now();
    // An idle timeout longer than the pause does not protect the client: only a total deadline does.
    const r = await raw(t.sb.baseUrl + path(), { bodyTimeout: 200 });
    const elapsed = Date.now() - started;
    assert.equal(r.status, 200);
    const chunks = Math.ceil(r.bytes.length / 16);
    assert.ok(elapsed >= (chunks - 1) * 20 * 0.8, `${elapsed} ms pour ${chunks} morceaux`);
    assertDocumented('impot-particulier', path(), asResp(r));
  });

  it('envoie un corps démesuré avec sa longueur annoncée', async () => {
    t.sb.admin.addFault({ kind: 'oversizedBody', bytes: 2 * 1024 * 1024 });
    const r = await raw(t.sb.baseUrl + path());
    assert.equal(r.headers['content-length'], String(2 * 1024 * 1024));
    assert.equal(r.bytes.length, 2 * 1024 * 1024);
  });

  it('cible un numéro fiscal, un nombre d’appels et un Retry-After', async () => {
    t.sb.admin.addFault({ kind: 'http503', spi: SPI_SANDBOX.canari, times: 2, retryAfterSeconds: 7 });
    assert.equal((await t.get(t.sb.baseUrl + path(), t.headers(token))).status, 200);
    for (let i = 0; i < 2; i++) {
      const r = await t.get(t.sb.baseUrl + path(SPI_SANDBOX.canari), t.headers(token));
      assert.equal(r.status, 503);
      assert.equal(r.headers['retry-after'], '7');
      assert.doesNotMatch(r.text, new RegExp(SPI_SANDBOX.canari));
    }
    assert.equal((await t.get(t.sb.baseUrl + path(SPI_SANDBOX.canari), t.headers(token))).status, 200);
    assert.deepEqual(t.sb.admin.faults(), []);
  });

  it('épargne le point de jeton sauf demande expresse', async () => {
    t.sb.admin.addFault({ kind: 'http500' });
    await t.token();
    t.sb.admin.clearFaults();
    t.sb.admin.addFault({ kind: 'http503', api: 'token', times: 1 });
    const c = t.sb.clients[0]!;
    const res = await t.post(t.sb.tokenUrl, 'grant_type=client_credentials', {
      authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
    });
    assert.equal(res.status, 503);
    assert.equal((res.json() as { error: string }).error, 'temporarily_unavailable');
    await t.token();
  });

  it('refuse une panne inconnue', () => {
    assert.throws(() => t.sb.admin.addFault({ kind: 'meteorite' as FaultKind }), /inconnue/);
  });

  it('enregistre les pannes sans statut quand rien n’a été répondu', () => {
    const calls = t.sb.admin.calls();
    assert.ok(calls.some((c) => c.fault === 'timeout' && c.status === undefined));
    assert.ok(calls.some((c) => c.fault === 'http503' && c.status === 503));
  });
});

describe('numéros fiscaux réservés aux pannes', () => {
  for (const [kind, spi] of Object.entries(SPI_SANDBOX.fautes) as [FaultKind, string][]) {
    if (kind === 'slowDrip' || kind === 'oversizedBody') continue;
    it(`${kind} sur son numéro réservé`, async () => {
      await expectFault(kind, t.sb.baseUrl + path(spi));
    });
  }

  it('les numéros réservés existent aussi pour les autres ressources', async () => {
    const r = await raw(`${t.sb.baseUrl}/spi/${SPI_SANDBOX.fautes.http500}/dernieresituation/ir/assiettes/deuxans`);
    assert.equal(r.status, 500);
  });
});

describe('pannes sur les autres API', () => {
  it('API Particulier : erreurs dans son propre format, documentées par sa spécification', async () => {
    t.sb.admin.addFault({ kind: 'http500', api: 'api-particulier', times: 1 });
    t.sb.admin.addFault({ kind: 'http503', api: 'api-particulier', times: 1 });
    const url = `${t.sb.apiParticulierUrl}/api/v2/avis-imposition?numeroFiscal=${SPI}&referenceAvis=2599999930262`;
    for (const status of [500, 503]) {
      const res = await t.get(url, { 'x-api-key': t.sb.apiParticulierKeys[0]! });
      assert.equal(res.status, status);
      assertDocumented('api-particulier', '/api/v2/avis-imposition', res);
    }
  });

  it('SFiP : 500 au format de la spécification', async () => {
    t.sb.admin.addFault({ kind: 'http500', api: 'sfip', times: 1 });
    const p = `/demandeDeService/02AA/personne`;
    const res = await t.get(`${t.sb.sfipUrl}${p}?spi=${SPI}`, t.headers(token));
    assert.equal(res.status, 500);
    assertDocumented('sfip', p, res);
  });
});
