/**
 * `/metrics` as Prometheus scrapes it: 404 until a token is configured, 401 without the right one,
 * then the series an operator graphs (latency by route pattern, queue, quota, campaigns, journal),
 * and never a value shaped like a numéro fiscal, even after URLs that carried one.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ecouterMetriques } from './metriques.ts';
import { createTestApp } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-metriques-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'b7c1e0d2a9f84c3e8d6b5a4f3e2d1c0b';
const SPI = '3141592653423';

test('without a token file, /metrics answers 404 as if absent', async () => {
  const t = await createTestApp();
  try {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 404);
  } finally {
    await t.close();
  }
});

test('a token shorter than 24 characters stops the start with a French message', async () => {
  const file = join(dir, 'court.token');
  writeFileSync(file, 'court', { mode: 0o600 });
  await assert.rejects(createTestApp({ env: { QUOTIENT_METRICS_TOKEN_FILE: file } }), /au moins 24 caractères/);
});

test('scrape after activity: 401 without the token, then the operator’s series, no numéro fiscal', async () => {
  const file = join(dir, 'metriques.token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  const t = await createTestApp({ env: { QUOTIENT_METRICS_TOKEN_FILE: file } });
  try {
    assert.equal((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    const wrong = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN.replace('b', 'c')}` } });
    assert.equal(wrong.statusCode, 401);
    assert.match(String(wrong.headers['www-authenticate']), /^Bearer/);

    for (const url of ['/', '/', '/simulateur', `/verifier/${SPI}`, `/inconnue/${SPI}?spi=${SPI}`]) await t.app.inject({ method: 'GET', url });
    await t.services.journal.append({ actor: { type: 'systeme', id: 'test' }, action: 'test.metriques', outcome: 'succes' });

    const res = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = res.body;
    assert.match(text, /quotient_http_duree_secondes_count\{methode="GET",route="\/",statut="200"\} 2\n/);
    assert.match(text, /quotient_http_duree_secondes_count\{methode="GET",route="\/simulateur",statut="200"\} 1\n/);
    // The pattern, not the code that was checked; an unknown URL is « aucune ».
    assert.match(text, /route="\/verifier\/:code"/);
    assert.match(text, /quotient_http_duree_secondes_count\{methode="GET",route="aucune",statut="404"\} 1\n/);
    assert.match(text, /quotient_file_attente_demandes\{canal="en_ligne"\} 0\n/);
    assert.match(text, /quotient_quota_limite_minute 50\n/);
    assert.match(text, /quotient_quota_appels_minute 0\n/);
    assert.match(text, /quotient_campagnes_elements\{etat="restants"\} 0\n/);
    const journal = Number(/quotient_journal_entrees_total (\d+)\n/.exec(text)?.[1]);
    assert.ok(journal >= 1, 'the journal counter follows the appends');
    assert.match(text, /# TYPE quotient_appels_amont_total counter/);
    assert.match(text, /# TYPE quotient_alertes_levees_total counter/);
    assert.match(text, /quotient_process_resident_memory_bytes \d+/);
    assert.equal(text.includes(SPI), false);
  } finally {
    await t.close();
  }
});

test('two apps in one process keep their own registries', async () => {
  const file = join(dir, 'deux.token');
  writeFileSync(file, TOKEN, { mode: 0o600 });
  const a = await createTestApp({ env: { QUOTIENT_METRICS_TOKEN_FILE: file } });
  const b = await createTestApp({ env: { QUOTIENT_METRICS_TOKEN_FILE: file } });
  try {
    await a.app.inject({ method: 'GET', url: '/' });
    const scrape = await b.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.doesNotMatch(scrape.body, /route="\/",statut="200"/);
  } finally {
    await a.close();
    await b.close();
  }
});

test('QUOTIENT_METRICS_ADDRESS takes an IP and a port, never a name, and not the public port', async () => {
  for (const adresse of ['localhost:9464', '127.0.0.1', '::1:9464', '127.0.0.1:70000', '300.0.0.1:9464']) {
    await assert.rejects(
      createTestApp({ env: { QUOTIENT_METRICS_ADDRESS: adresse } }),
      (error: { details?: ReadonlyArray<{ path: string; message: string }> }) =>
        error.details?.some((d) => d.path === 'QUOTIENT_METRICS_ADDRESS' && /adresse IP et port attendus/.test(d.message)) === true,
      adresse,
    );
  }
  await assert.rejects(
    createTestApp({ env: { QUOTIENT_PORT: '9464', QUOTIENT_METRICS_ADDRESS: '127.0.0.1:9464' } }),
    (error: { details?: ReadonlyArray<{ message: string }> }) => /différent de QUOTIENT_PORT/.test(error.details?.[0]?.message ?? ''),
  );
});

test('with an internal address, /metrics leaves the public listener and answers on its own', async () => {
  const file = join(dir, 'interne.token');
  writeFileSync(file, TOKEN, { mode: 0o600 });
  const t = await createTestApp({ env: { QUOTIENT_METRICS_ADDRESS: '127.0.0.1:0' } });
  const listener = await ecouterMetriques(t.config.metricsAddress!, { metriques: t.services.metriques, jeton: undefined });
  const avecJeton = await ecouterMetriques({ host: '::1', port: 0 }, { metriques: t.services.metriques, jeton: TOKEN }).catch(() => undefined);
  try {
    const publique = await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(publique.statusCode, 404, 'not on the public listener, token or not');
    await t.app.inject({ method: 'GET', url: '/simulateur' });

    assert.match(listener.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(listener.url);
    assert.equal(res.status, 200, 'no token needed on the internal address when none is configured');
    assert.match(await res.text(), /quotient_http_duree_secondes_count\{methode="GET",route="\/simulateur",statut="200"\} 1\n/);
    const autre = await fetch(listener.url.replace('/metrics', '/'));
    assert.equal(autre.status, 404);
    assert.match(await autre.text(), /Seule \/metrics/);

    // IPv6 loopback may be absent on a machine: then only the IPv4 listener is checked.
    if (avecJeton) {
      assert.match(avecJeton.url, /^http:\/\/\[::1\]:\d+\/metrics$/);
      const sans = await fetch(avecJeton.url);
      await sans.arrayBuffer();
      assert.equal(sans.status, 401, 'a configured token still guards the internal listener');
      const ok = await fetch(avecJeton.url, { headers: { authorization: `Bearer ${TOKEN}` } });
      await ok.arrayBuffer();
      assert.equal(ok.status, 200);
    }
  } finally {
    await listener.close();
    await avecJeton?.close();
    await t.close();
  }
});

test('an internal address already in use stops the start with a French message', async () => {
  const t = await createTestApp();
  const premier = await ecouterMetriques({ host: '127.0.0.1', port: 0 }, { metriques: t.services.metriques, jeton: undefined });
  try {
    const port = Number(new URL(premier.url).port);
    await assert.rejects(ecouterMetriques({ host: '127.0.0.1', port }, { metriques: t.services.metriques, jeton: undefined }), (error: Error) => {
      assert.match(error.message, new RegExp(`L’adresse des métriques 127\\.0\\.0\\.1:${port} \\(QUOTIENT_METRICS_ADDRESS\\) est déjà utilisée`));
      return true;
    });
  } finally {
    await premier.close();
    await t.close();
  }
});
