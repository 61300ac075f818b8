import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isQuotientError, type QuotientError } from '../../domain/errors.ts';
import { loadConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configError(env: Record<string, string>, mode: 'demo' | 'production' = 'demo'): QuotientError {
  try {
    loadConfig(env, { mode, cwd: dir });
  } catch (error) {
    assert.ok(isQuotientError(error), 'a typed error');
    assert.equal(error.code, 'configuration_invalide');
    assert.equal(error.kind, 'invalid');
    return error;
  }
  assert.fail('the configuration should have been refused');
}

test('demo needs nothing: embedded database, port 3000, the demo commune', () => {
  const config = loadConfig({}, { mode: 'demo', cwd: dir });
  assert.equal(config.databaseUrl, `sqlite:${join(dir, 'data', 'quotient.db')}`);
  assert.equal(config.port, 3000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.publicUrl, 'http://localhost:3000');
  assert.equal(config.dgfip.quotaPerMinute, 50);
  assert.equal(config.commune.commune.nom, 'Ville de Démonstration');
});

test('each wrong variable is named with a French reason', () => {
  const error = configError({ QUOTIENT_PORT: 'trois mille', QUOTIENT_DATABASE_URL: 'mysql://x', DGFIP_QUOTA_PER_MINUTE: '0' });
  const paths = error.details.map((d) => d.path).sort();
  assert.deepEqual(paths, ['DGFIP_QUOTA_PER_MINUTE', 'QUOTIENT_DATABASE_URL', 'QUOTIENT_PORT']);
  assert.match(error.details.find((d) => d.path === 'QUOTIENT_DATABASE_URL')?.message ?? '', /sqlite:CHEMIN/);
  assert.match(error.details.find((d) => d.path === 'DGFIP_QUOTA_PER_MINUTE')?.message ?? '', /au moins 1/);
});

test('production requires the commune file; a DGFiP gateway requires all its credentials', () => {
  assert.deepEqual(configError({}, 'production').details.map((d) => d.path), ['QUOTIENT_CONFIG']);
  const dgfip = configError({ DGFIP_BASE_URL: 'https://gw.exemple.fr/impotparticulier/1.0', DGFIP_CLIENT_ID: 'x' });
  assert.deepEqual(dgfip.details.map((d) => d.path).sort(), ['DGFIP_CLIENT_CERT', 'DGFIP_CLIENT_KEY', 'DGFIP_CLIENT_SECRET', 'DGFIP_ID_TELESERVICE', 'DGFIP_TOKEN_URL']);
  assert.deepEqual(configError({ DGFIP_CA: 'absent.pem' }).details.map((d) => d.path), ['DGFIP_CA']);
  assert.deepEqual(configError({ DGFIP_BASE_URL: 'http://gw.exemple.fr' }).details.map((d) => d.path)[0], 'DGFIP_BASE_URL');
});

test('a commune file with wrong fields names each field path', () => {
  const file = join(dir, 'commune.yaml');
  writeFileSync(
    file,
    [
      'commune: { nom: Boulogne-Billancourt, codeInsee: "9201", adresse: { lignes: [Mairie], codePostal: "92100", ville: Boulogne } }',
      'contact: { service: Famille, email: pas-un-courriel }',
      'dpo: { email: dpo@exemple.fr }',
      'mentionsLegales: { editeur: Ville, directeurPublication: Maire, hebergeur: { nom: DSI, adresse: Mairie } }',
      'coulerur: bleu',
    ].join('\n'),
  );
  const error = configError({ QUOTIENT_CONFIG: file });
  const paths = error.details.map((d) => d.path).sort();
  assert.deepEqual(paths, ['(racine)', 'commune.codeInsee', 'contact.email']);
  assert.match(error.details.find((d) => d.path === '(racine)')?.message ?? '', /coulerur/);
  assert.match(error.message, /commune\.yaml/);
});

test('a file that is not YAML says where', () => {
  const file = join(dir, 'casse.yaml');
  writeFileSync(file, 'commune:\n  nom: "non fermé\n');
  assert.match(configError({ QUOTIENT_CONFIG: file }).message, /n’est pas un YAML valide \(ligne \d+/);
  assert.match(configError({ QUOTIENT_CONFIG: join(dir, 'absent.yaml') }).details[0]?.message ?? '', /fichier introuvable/);
});
