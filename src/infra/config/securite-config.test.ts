import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isQuotientError } from '../../domain/errors.ts';
import { loadCommuneConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-securite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const DEMO = readFileSync(new URL('../../../examples/commune-demo.yaml', import.meta.url), 'utf8');

function communeWith(section: string): string {
  const file = join(dir, `commune-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `${DEMO}\n${section}\n`);
  return file;
}

function problems(section: string): Record<string, string> {
  try {
    loadCommuneConfig(communeWith(section));
  } catch (error) {
    assert.ok(isQuotientError(error));
    assert.equal(error.code, 'configuration_invalide');
    return Object.fromEntries(error.details.map((d) => [d.path, d.message]));
  }
  assert.fail('the section should have been refused');
}

test('the demo commune has no securite section and still loads; every channel is optional', () => {
  assert.equal(loadCommuneConfig(new URL('../../../examples/commune-demo.yaml', import.meta.url).pathname).securite, undefined);
  assert.deepEqual(loadCommuneConfig(communeWith('securite: { rssi: { email: rssi@exemple.fr } }')).securite, { rssi: { email: 'rssi@exemple.fr' } });
});

test('a full securite section: RSSI, e-mail, webhook and syslog with their defaults', () => {
  const config = loadCommuneConfig(
    communeWith(
      [
        'securite:',
        '  rssi: { nom: Responsable de la sécurité, email: rssi@exemple.fr }',
        '  alertes:',
        '    courriel: false',
        '    webhook: { url: "https://siem.exemple.fr/alertes", secretFile: /etc/quotient/webhook.secret }',
        '    syslog: { hote: syslog.exemple.fr, transport: tls, ca: ca-syslog.pem }',
      ].join('\n'),
    ),
  );
  assert.deepEqual(config.securite, {
    rssi: { nom: 'Responsable de la sécurité', email: 'rssi@exemple.fr' },
    alertes: {
      courriel: false,
      webhook: { url: 'https://siem.exemple.fr/alertes', secretFile: '/etc/quotient/webhook.secret' },
      syslog: { hote: 'syslog.exemple.fr', transport: 'tls', facility: 'auth', ca: 'ca-syslog.pem' },
    },
  });
});

test('wrong settings are named with French reasons; an inline secret or any unknown key is refused', () => {
  const found = problems(
    [
      'securite:',
      '  rssi: { email: pas-une-adresse }',
      '  alertes:',
      '    courriel: oui',
      '    webhook: { url: "http://siem.exemple.fr/alertes", secretFile: s, secret: en-clair }',
      '    syslog: { hote: "syslog exemple", port: 70000, transport: quic, facility: kern, ca: ca.pem }',
    ].join('\n'),
  );
  assert.match(found['securite.rssi.email'] ?? '', /adresse électronique invalide/);
  assert.match(found['securite.alertes.courriel'] ?? '', /vrai ou faux/);
  assert.match(found['securite.alertes.webhook.secret'] ?? '', /champ inconnu/);
  assert.match(found['securite.alertes.webhook.url'] ?? '', /https:\/\/ attendu \(http:\/\/ seulement vers cette machine/);
  assert.match(found['securite.alertes.syslog.hote'] ?? '', /nom d’hôte ou adresse IP attendu/);
  assert.match(found['securite.alertes.syslog.port'] ?? '', /port entre 1 et 65535/);
  assert.match(found['securite.alertes.syslog.transport'] ?? '', /« udp », « tcp », « tls »/);
  assert.match(found['securite.alertes.syslog.facility'] ?? '', /« auth »/);
  assert.match(problems('securite: { alertes: { syslog: { hote: h, transport: udp, ca: ca.pem } } }')['securite.alertes.syslog.ca'] ?? '', /transport: tls/);
  assert.match(problems('securite: { dpo: { email: a@b.fr } }')['securite.dpo'] ?? '', /champ inconnu/);
});

test('plain HTTP is accepted for a webhook on this machine only', () => {
  for (const url of ['http://127.0.0.1:8080/a', 'http://localhost/a', 'http://[::1]:9/a']) {
    assert.equal(loadCommuneConfig(communeWith(`securite: { alertes: { webhook: { url: "${url}", secretFile: s } } }`)).securite?.alertes?.webhook?.url, url);
  }
  assert.ok(problems('securite: { alertes: { webhook: { url: "http://10.0.0.1/a", secretFile: s } } }')['securite.alertes.webhook.url']);
});

test('the commented securite example of the demo commune file is valid once uncommented', () => {
  const [, block = ''] = DEMO.split(/^# securite:$/m);
  assert.ok(block.length > 0, 'the example is there');
  const uncommented = [
    'securite:',
    ...block
      .split('\n')
      .filter((l) => l.startsWith('#   '))
      .map((l) => l.slice(2)),
  ].join('\n');
  const securite = loadCommuneConfig(communeWith(uncommented)).securite;
  assert.equal(securite?.rssi?.email, 'rssi@exemple.fr');
  assert.deepEqual(Object.keys(securite?.alertes ?? {}), ['courriel', 'webhook', 'syslog']);
  assert.equal(securite?.alertes?.syslog?.transport, 'tls');
});
