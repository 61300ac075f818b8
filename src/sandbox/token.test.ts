import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent } from 'undici';
import { createForeignClientCertificate } from './pki.ts';
import { SPI_SANDBOX } from './population.ts';
import { assertDocumented, send, startTestSandbox, type TestSandbox } from './test-support.ts';

let clock = Date.UTC(2025, 9, 1, 10);
let t: TestSandbox;
const path = `/spi/${SPI_SANDBOX.publies[2]}/situations/ir/assiettes/annrev/2024`;

before(async () => {
  t = await startTestSandbox({
    now: () => clock,
    tokenTtlSeconds: 600,
    clients: [
      { clientId: 'commune-a', clientSecret: 's3cret:avec+signes', idTeleservice: 'QUOTIENT_A' },
      { clientId: 'commune-b', clientSecret: 'autre', scopes: ['RessourceIR'], idTeleservice: 'QUOTIENT_B' },
    ],
  });
});
after(() => t.close());

const basic = (id: string, secret: string): string => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

describe('POST /token (client credentials)', () => {
  it('délivre un jeton avec authentification Basic, sans cache, qui expire', async () => {
    const res = await t.post(t.sb.tokenUrl, 'grant_type=client_credentials&scope=RessourceIR%20RessourceIRDerniere2', {
      authorization: basic('commune-a', 's3cret:avec+signes'),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    const body = res.json() as Record<string, unknown>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 600);
    assert.equal(body.scope, 'RessourceIR RessourceIRDerniere2');
    assert.match(String(body.access_token), /^[A-Za-z0-9_-]{40,}$/);
  });

  it('accepte les identifiants dans le corps et accorde toutes les portées du client par défaut', async () => {
    const res = await t.post(t.sb.tokenUrl, 'grant_type=client_credentials&client_id=commune-b&client_secret=autre');
    assert.equal(res.status, 200);
    assert.equal((res.json() as { scope: string }).scope, 'RessourceIR');
  });

  const cases: [string, string, Record<string, string>, number, string][] = [
    ['mauvais secret', 'grant_type=client_credentials', { authorization: basic('commune-a', 'faux') }, 401, 'invalid_client'],
    ['client inconnu (corps)', 'grant_type=client_credentials&client_id=x&client_secret=y', {}, 401, 'invalid_client'],
    ['aucune authentification', 'grant_type=client_credentials', {}, 401, 'invalid_client'],
    ['deux méthodes à la fois', 'grant_type=client_credentials&client_secret=autre', { authorization: basic('commune-b', 'autre') }, 400, 'invalid_request'],
    ['grant_type absent', 'scope=RessourceIR', { authorization: basic('commune-b', 'autre') }, 400, 'invalid_request'],
    ['paramètre répété', 'grant_type=client_credentials&grant_type=client_credentials', { authorization: basic('commune-b', 'autre') }, 400, 'invalid_request'],
    ['grant_type password', 'grant_type=password&username=a&password=b', { authorization: basic('commune-b', 'autre') }, 400, 'unsupported_grant_type'],
    ['portée inconnue', 'grant_type=client_credentials&scope=RessourceMystere', { authorization: basic('commune-b', 'autre') }, 400, 'invalid_scope'],
    ['portée non accordée', 'grant_type=client_credentials&scope=RessourceIRDerniere2', { authorization: basic('commune-b', 'autre') }, 400, 'invalid_scope'],
  ];
  for (const [name, body, headers, status, error] of cases) {
    it(`répond ${status} ${error} : ${name}`, async () => {
      const res = await t.post(t.sb.tokenUrl, body, headers);
      assert.equal(res.status, status);
      assert.equal((res.json() as { error: string }).error, error);
      assert.equal(typeof (res.json() as { error_description: unknown }).error_description, 'string');
      if (status === 401 && headers.authorization) assert.match(String(res.headers['www-authenticate']), /^Basic/);
    });
  }

  it('refuse un autre type de corps et une autre méthode', async () => {
    const json = await send(t.agent, t.sb.tokenUrl, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(json.status, 400);
    assert.equal((json.json() as { error: string }).error, 'invalid_request');
    const get = await t.get(t.sb.tokenUrl);
    assert.equal(get.status, 405);
    assert.equal(get.headers.allow, 'POST');
  });
});

describe('jeton sur les ressources', () => {
  it('refuse sans jeton, avec un jeton inconnu, expiré ou révoqué : 401 invalid_token', async () => {
    const url = t.sb.baseUrl + path;
    const none = await t.get(url, { 'x-correlation-id': crypto.randomUUID(), id_teleservice: 'QUOTIENT_A' });
    assert.equal(none.status, 401);
    assertDocumented('impot-particulier', path, none);

    const unknown = await t.get(url, t.headers('pas-un-jeton', { id_teleservice: 'QUOTIENT_A' }));
    assert.equal(unknown.status, 401);
    assert.match(String(unknown.headers['www-authenticate']), /error="invalid_token"/);
    assertDocumented('impot-particulier', path, unknown);

    const token = await t.token('RessourceIR', 'commune-a');
    assert.equal((await t.get(url, t.headers(token, { id_teleservice: 'QUOTIENT_A' }))).status, 200);
    clock += 599_000;
    assert.equal((await t.get(url, t.headers(token, { id_teleservice: 'QUOTIENT_A' }))).status, 200);
    clock += 1_000;
    const expired = await t.get(url, t.headers(token, { id_teleservice: 'QUOTIENT_A' }));
    assert.equal(expired.status, 401);
    assert.match(String(expired.headers['www-authenticate']), /error="invalid_token"/);
    assert.match(expired.text, /expiré/);

    const fresh = await t.token('RessourceIR', 'commune-a');
    assert.equal(t.sb.admin.revokeTokens('commune-a') >= 1, true);
    const revoked = await t.get(url, t.headers(fresh, { id_teleservice: 'QUOTIENT_A' }));
    assert.equal(revoked.status, 401);
    assert.match(revoked.text, /révoqué/);
  });

  it('refuse tous les jetons tant qu’on le lui demande, même un jeton neuf, puis les accepte de nouveau', async () => {
    const url = t.sb.baseUrl + path;
    const before = await t.token('RessourceIR', 'commune-a');
    t.sb.admin.refuseAllTokens(true);
    try {
      const old = await t.get(url, t.headers(before, { id_teleservice: 'QUOTIENT_A' }));
      assert.equal(old.status, 401);
      assert.match(String(old.headers['www-authenticate']), /error="invalid_token"/);
      const fresh = await t.token('RessourceIR', 'commune-a');
      assert.notEqual(fresh, before, 'the token endpoint still issues');
      assert.equal((await t.get(url, t.headers(fresh, { id_teleservice: 'QUOTIENT_A' }))).status, 401);
    } finally {
      t.sb.admin.refuseAllTokens(false);
    }
    assert.equal((await t.get(url, t.headers(await t.token('RessourceIR', 'commune-a'), { id_teleservice: 'QUOTIENT_A' }))).status, 200);
  });

  it('refuse une portée absente du jeton : 403', async () => {
    const token = await t.token('RessourceIR', 'commune-a');
    const p = `/spi/${SPI_SANDBOX.publies[0]}/dernieresituation/ir/assiettes/deuxans`;
    const res = await t.get(t.sb.baseUrl + p, t.headers(token, { id_teleservice: 'QUOTIENT_A' }));
    assert.equal(res.status, 403);
    assertDocumented('impot-particulier', p, res);
  });

  it('lie le jeton au certificat client : un autre certificat de la même autorité est refusé', async () => {
    const token = await t.token('RessourceIR', 'commune-a');
    const other = await t.sb.admin.issueClientCertificate({ commonName: 'autre-teleservice' });
    const agent = new Agent({ connect: { ca: t.sb.pki.caCertPem, cert: other.certPem, key: other.keyPem } });
    try {
      const res = await t.get(t.sb.baseUrl + path, t.headers(token, { id_teleservice: 'QUOTIENT_A' }), agent);
      assert.equal(res.status, 401);
      assert.match(res.text, /autre certificat/);
    } finally {
      await agent.close();
    }
  });
});

describe('TLS mutuel', () => {
  it('refuse la poignée de main sans certificat client, ou avec un certificat d’une autre autorité', async () => {
    const bare = new Agent({ connect: { ca: t.sb.pki.caCertPem } });
    const foreignCert = await createForeignClientCertificate();
    const foreign = new Agent({ connect: { ca: t.sb.pki.caCertPem, cert: foreignCert.certPem, key: foreignCert.keyPem } });
    try {
      await assert.rejects(send(bare, t.sb.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' }));
      await assert.rejects(send(foreign, t.sb.tokenUrl, { method: 'POST', body: 'grant_type=client_credentials' }));
    } finally {
      await bare.close();
      await foreign.close();
    }
    const refused = t.sb.admin.calls().filter((c) => c.tlsError);
    assert.ok(refused.length >= 1, 'les poignées de main refusées sont enregistrées');
  });

  it('présente un certificat serveur valide pour 127.0.0.1 signé par l’autorité de test', async () => {
    const strict = new Agent({ connect: { ca: t.sb.pki.caCertPem, cert: t.sb.pki.clientCertPem, key: t.sb.pki.clientKeyPem, minVersion: 'TLSv1.2' } });
    const untrusting = new Agent({ connect: { cert: t.sb.pki.clientCertPem, key: t.sb.pki.clientKeyPem } });
    try {
      assert.equal((await send(strict, t.sb.tokenUrl, { method: 'GET' })).status, 405);
      await assert.rejects(send(untrusting, t.sb.tokenUrl, { method: 'GET' }), /certificate|self.signed|issuer/i);
    } finally {
      await strict.close();
      await untrusting.close();
    }
  });

  it('accepte une connexion sans certificat quand on l’a relâché', async () => {
    const relaxed = await startTestSandbox({ requireClientCert: false });
    const bare = new Agent({ connect: { ca: relaxed.sb.pki.caCertPem } });
    try {
      const c = relaxed.sb.clients[0];
      assert.ok(c);
      const res = await send(bare, relaxed.sb.tokenUrl, {
        method: 'POST',
        body: 'grant_type=client_credentials',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
      });
      assert.equal(res.status, 200);
      assert.equal(relaxed.sb.requireClientCert, false);
    } finally {
      await bare.close();
      await relaxed.close();
    }
  });
});
