import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isQuotientError } from '../../domain/errors.ts';
import type { CommuneConfig } from '../config/commune-config.ts';
import { loadCommuneConfig } from '../config/config.ts';
import type { SecuriteConfig } from '../config/securite-config.ts';
import { canauxDepuisConfig, type ConfigAlertes } from './depuis-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-alertes-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const demo = loadCommuneConfig(new URL('../../../examples/commune-demo.yaml', import.meta.url).pathname);
const smtp = { url: 'smtp://127.0.0.1:2525', from: 'q@exemple.fr' };
const configFile = join(dir, 'commune.yaml');
writeFileSync(join(dir, 'webhook.secret'), `${'a1b2c3d4'.repeat(8)}\n`);
writeFileSync(join(dir, 'court.secret'), 'trop-court');
writeFileSync(join(dir, 'ca.pem'), 'PEM');

function config(securite: SecuriteConfig | undefined, withSmtp = true): ConfigAlertes {
  const commune: CommuneConfig = { ...demo, ...(securite ? { securite } : {}) };
  return { commune, configFile, ...(withSmtp ? { smtp } : {}) };
}

function refusal(c: ConfigAlertes): [string, string] {
  try {
    canauxDepuisConfig(c);
  } catch (error) {
    assert.ok(isQuotientError(error) && error.code === 'configuration_invalide', String(error));
    const [detail] = error.details;
    return [detail?.path ?? '', detail?.message ?? ''];
  }
  assert.fail('refused expected');
}

test('e-mail is on by default when an SMTP relay is configured, to the RSSI and the DPO', () => {
  assert.deepEqual(canauxDepuisConfig(config(undefined, false)), []);
  assert.deepEqual(
    canauxDepuisConfig(config(undefined)).map((c) => [c.nom, c.destination]),
    [['courriel', 'dpo@exemple.fr']],
  );
  const withRssi = canauxDepuisConfig(config({ rssi: { email: 'rssi@exemple.fr' } }));
  assert.deepEqual(
    withRssi.map((c) => c.destination),
    ['rssi@exemple.fr, dpo@exemple.fr'],
  );
  assert.deepEqual(canauxDepuisConfig(config({ rssi: { email: 'rssi@exemple.fr' }, alertes: { courriel: false } })), []);
  const [path, message] = refusal(config({ alertes: { courriel: true } }, false));
  assert.equal(path, 'securite.alertes.courriel');
  assert.match(message, /QUOTIENT_SMTP_URL/);
});

test('the webhook secret is read from the named file, relative to the commune file; a missing or short one stops the start', () => {
  const canaux = canauxDepuisConfig(
    config({ alertes: { courriel: false, webhook: { url: 'https://siem.exemple.fr/a/jeton', secretFile: 'webhook.secret' } } }),
  );
  assert.deepEqual(
    canaux.map((c) => [c.nom, c.destination]),
    [['webhook', 'https://siem.exemple.fr']],
  );
  void Promise.all(canaux.map((c) => c.fermer?.()));
  assert.deepEqual(refusal(config({ alertes: { webhook: { url: 'https://s.exemple.fr', secretFile: 'absent.secret' } } })), [
    'securite.alertes.webhook.secretFile',
    `fichier introuvable ou illisible : ${join(dir, 'absent.secret')}`,
  ]);
  const [path, message] = refusal(config({ alertes: { webhook: { url: 'https://s.exemple.fr', secretFile: join(dir, 'court.secret') } } }));
  assert.equal(path, 'securite.alertes.webhook.secretFile');
  assert.match(message, /au moins 32 caractères/);
});

test('syslog takes its default port from the transport; a TLS CA file must exist', () => {
  const canaux = canauxDepuisConfig(
    config({ alertes: { courriel: false, syslog: { hote: 'syslog.exemple.fr', transport: 'tls', facility: 'auth', ca: 'ca.pem' } } }),
  );
  assert.deepEqual(
    canaux.map((c) => c.destination),
    ['syslog.exemple.fr:6514 (tls)'],
  );
  assert.deepEqual(
    canauxDepuisConfig(config({ alertes: { courriel: false, syslog: { hote: '::1', transport: 'udp', facility: 'local0' } } })).map((c) => c.destination),
    ['[::1]:514 (udp)'],
  );
  assert.equal(refusal(config({ alertes: { syslog: { hote: 'h', transport: 'tls', facility: 'auth', ca: 'absent.pem' } } }))[0], 'securite.alertes.syslog.ca');
});
