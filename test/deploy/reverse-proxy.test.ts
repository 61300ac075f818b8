/**
 * The nginx example of docs/exploitation.md, read as an operator would copy it: TLS 1.2/1.3 with
 * AEAD suites only (each suite resolved by this machine's OpenSSL), one HSTS header matching the
 * application's, and the proxy headers Quotient's trusted-proxy handling expects.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const doc = readFileSync(`${ROOT}docs/exploitation.md`, 'utf8');
const blocks = [...doc.matchAll(/```nginx\n([^]*?)```/g)].map((m) => m[1]!);

/** `directive value;` lines of the example, comments dropped; a directive given twice keeps both. */
function directives(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s#.*$|^\s*#.*$/, '').trim();
    const m = /^([a-z_0-9]+)\s+((?:"[^"]*"|[^;{"])+);$/.exec(line);
    if (m) found.set(m[1]!, [...(found.get(m[1]!) ?? []), m[2]!.trim()]);
  }
  return found;
}

test('the documentation has one nginx example', () => {
  assert.equal(blocks.length, 1);
});

const nginx = directives(blocks[0] ?? '');

test('TLS 1.2 and 1.3 only, with ECDHE and AEAD suites only', (t) => {
  assert.deepEqual(nginx.get('ssl_protocols'), ['TLSv1.2 TLSv1.3']);
  const ciphers = nginx.get('ssl_ciphers')?.[0] ?? '';
  const names = ciphers.split(':');
  assert.ok(names.length >= 2);
  for (const name of names) assert.match(name, /^ECDHE-(ECDSA|RSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/, name);
  assert.deepEqual(nginx.get('ssl_session_tickets'), ['off']);

  const openssl = spawnSync('openssl', ['ciphers', '-v', ciphers], { encoding: 'utf8' });
  if (openssl.error) {
    t.diagnostic('openssl absent : les suites ne sont vérifiées que par leur nom');
    return;
  }
  assert.equal(openssl.status, 0, openssl.stderr);
  const suites = openssl.stdout.trim().split('\n');
  // Every suite OpenSSL would offer (the TLS 1.3 defaults included) authenticates its encryption.
  for (const suite of suites) {
    assert.match(suite, /\bMac=AEAD\b/, suite);
    assert.match(suite, /\bTLSv1\.[23]\b/, suite);
  }
  assert.equal(suites.filter((s) => /\bTLSv1\.2\b/.test(s)).length, names.length, 'each TLS 1.2 name is a suite OpenSSL knows');
});

test('one HSTS header on every answer, the same as the application sends', () => {
  const security = readFileSync(`${ROOT}src/http/security.ts`, 'utf8');
  const hsts = /const HSTS = '([^']+)'/.exec(security)?.[1];
  assert.ok(hsts);
  assert.deepEqual(nginx.get('proxy_hide_header'), ['Strict-Transport-Security']);
  assert.deepEqual(nginx.get('add_header'), [`Strict-Transport-Security "${hsts}" always`]);
  assert.ok(Number(/max-age=(\d+)/.exec(hsts)?.[1]) >= 31_536_000, 'at least a year');
});

test('the proxy headers are the ones Quotient believes from a trusted proxy', () => {
  const headers = new Map((nginx.get('proxy_set_header') ?? []).map((v) => v.split(/\s+/, 2) as [string, string]));
  // Appended to, never replaced: the client's own entries stay to the left of the proxy's.
  assert.equal(headers.get('X-Forwarded-For'), '$proxy_add_x_forwarded_for');
  assert.equal(headers.get('X-Forwarded-Proto'), '$scheme');
  assert.equal(headers.get('Host'), '$host');
  // Replaced: a client-chosen request id never reaches the journal through the proxy.
  assert.equal(headers.get('X-Request-Id'), '$request_id');
  assert.match(blocks[0] ?? '', /location = \/metrics \{ return 404; \}/);
});

test('the body limit lets through the largest upload the application accepts by default', () => {
  const app = readFileSync(`${ROOT}src/http/app.ts`, 'utf8');
  assert.match(app, /registerMultipart\(app, Math\.max\(6 \* 1024 \* 1024, config\.commune\.avisDepose\.tailleMaxKo \* 1024 \+ 256 \* 1024\)\)/);
  const commune = readFileSync(`${ROOT}src/infra/config/commune-config.ts`, 'utf8');
  const tailleMaxKo = Number(/default\(\{ tailleMaxKo: (\d+)/.exec(commune)?.[1]);
  assert.ok(tailleMaxKo > 0);
  const limit = /^(\d+)m$/.exec(nginx.get('client_max_body_size')?.[0] ?? '');
  assert.ok(limit, 'client_max_body_size in MiB');
  assert.ok(Number(limit[1]) * 1024 * 1024 >= Math.max(6 * 1024 * 1024, tailleMaxKo * 1024 + 256 * 1024));
});
