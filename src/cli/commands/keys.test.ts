import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDatabase } from '../../infra/db/database.ts';
import { throwawayPostgresOrSkip } from '../../infra/db/test-databases.ts';
import { Coffre } from '../../infra/silo/coffre.ts';
import { KeyringFile } from '../../infra/silo/keyring.ts';

const BIN = new URL('../../../bin/quotient.js', import.meta.url).pathname;
const DEMO_COMMUNE = new URL('../../../examples/commune-demo.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'quotient-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const KIND = 'situation_fiscale';

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Only the variables the test sets: the developer's own QUOTIENT_* must not leak in.
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, QUOTIENT_LOG_LEVEL: 'warn', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Seeds records through the silo as the application would, with the key file the CLI uses. */
async function seed(url: string, keyFile: string, count: number): Promise<void> {
  const database = openDatabase(url);
  try {
    const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: KeyringFile.open(keyFile) });
    await database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < count; i++) await coffre.put(KIND, `famille-${i}`, { rfr: 20_000 + i, nom: `Famille ${i}` }, trx);
    });
  } finally {
    await database.close();
  }
}

async function readAll(url: string, keyFile: string, count: number): Promise<{ keys: string[] }> {
  const database = openDatabase(url);
  try {
    const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: KeyringFile.open(keyFile) });
    for (let i = 0; i < count; i++) assert.deepEqual(await coffre.get(KIND, `famille-${i}`), { rfr: 20_000 + i, nom: `Famille ${i}` });
    const keys = await database.db.selectFrom('coffre_records').select('key_id').distinct().execute();
    return { keys: keys.map((k) => k.key_id) };
  } finally {
    await database.close();
  }
}

async function rotateEndToEnd(env: Record<string, string>, url: string, keyFile: string): Promise<void> {
  const migrated = await runCli(['migrate'], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  const init = await runCli(['keys', 'init'], env);
  assert.equal(init.code, 0, init.stderr);
  assert.ok(init.stdout.includes(`Fichier des clés du coffre créé : ${keyFile} (droits 0600)`), init.stdout);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const old = KeyringFile.open(keyFile).current().activeId;

  await seed(url, keyFile, 120);
  const before = await runCli(['keys', 'status'], env);
  assert.equal(before.code, 0, before.stderr);
  assert.match(before.stdout, new RegExp(`${old} : 120 enregistrements \\(active\\)`));

  const rotated = await runCli(['keys', 'rotate'], env);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = KeyringFile.open(keyFile).current();
  assert.notEqual(fresh.activeId, old);
  assert.deepEqual(fresh.ids, [fresh.activeId], 'the old key left the file');
  assert.ok(rotated.stdout.includes(`Nouvelle clé maîtresse active : « ${fresh.activeId} »`), rotated.stdout);
  assert.match(rotated.stdout, /Clés de données rechiffrées : 120 en /);
  assert.ok(rotated.stdout.includes(`Clé retirée du fichier, plus aucun enregistrement ne l’utilise : « ${old} ».`), rotated.stdout);
  assert.equal(statSync(keyFile).mode & 0o777, 0o600, 'still 0600 after the rewrite');

  assert.deepEqual((await readAll(url, keyFile, 120)).keys, [fresh.activeId], 'every record reads, none under the old key');
  const afterwards = await runCli(['keys', 'status'], env);
  assert.equal(afterwards.code, 0, afterwards.stderr);
  assert.match(afterwards.stdout, new RegExp(`${fresh.activeId} : 120 enregistrements \\(active\\)`));
  assert.ok(!afterwards.stdout.includes(old));
}

test('quotient keys rotate rotates a demo database end to end (SQLite, key file in the data folder)', async () => {
  const dataDir = join(dir, 'demo');
  const url = `sqlite:${join(dataDir, 'quotient.db')}`;
  await rotateEndToEnd({ QUOTIENT_DATA_DIR: dataDir, QUOTIENT_DATABASE_URL: url }, url, join(dataDir, 'cles-coffre.json'));
});

test('quotient keys rotate on PostgreSQL in production mode, with QUOTIENT_MASTER_KEY_FILE', async (t) => {
  const postgres = await throwawayPostgresOrSkip(t);
  if (!postgres) return;
  try {
    const keyFile = join(dir, 'prod', 'secrets', 'cles.json');
    // The rotation is journaled: production names the journal's key too.
    const auditKey = join(dir, 'prod-journal.key');
    writeFileSync(auditKey, randomBytes(32).toString('base64'), { mode: 0o600 });
    await rotateEndToEnd(
      { QUOTIENT_CONFIG: DEMO_COMMUNE, QUOTIENT_DATABASE_URL: postgres.url, QUOTIENT_MASTER_KEY_FILE: keyFile, QUOTIENT_AUDIT_KEY_FILE: auditKey },
      postgres.url,
      keyFile,
    );
  } finally {
    await postgres.drop();
  }
});

test('the command refuses, in French and with the right status, what would put the data at risk', async () => {
  const dataDir = join(dir, 'refus');
  const url = `sqlite:${join(dataDir, 'quotient.db')}`;
  const env = { QUOTIENT_DATA_DIR: dataDir, QUOTIENT_DATABASE_URL: url };
  const keyFile = join(dataDir, 'cles-coffre.json');

  const unmigrated = await runCli(['keys', 'status'], env);
  assert.equal(unmigrated.code, 2);
  assert.match(unmigrated.stderr, /lancez « quotient migrate »/);
  assert.equal((await runCli(['migrate'], env)).code, 0);

  const production = await runCli(['keys', 'rotate'], { ...env, QUOTIENT_CONFIG: DEMO_COMMUNE });
  assert.equal(production.code, 2);
  assert.match(production.stderr, /QUOTIENT_MASTER_KEY_FILE : obligatoire en production/);
  const missing = await runCli(['keys', 'status'], { ...env, QUOTIENT_CONFIG: DEMO_COMMUNE, QUOTIENT_MASTER_KEY_FILE: join(dataDir, 'absent.json') });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /introuvable : créez-le avec « quotient keys init »/);

  assert.equal((await runCli(['keys', 'init'], env)).code, 0);
  const twice = await runCli(['keys', 'init'], env);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /existe déjà/);

  chmodSync(keyFile, 0o644);
  const loose = await runCli(['keys', 'rotate'], env);
  assert.equal(loose.code, 2);
  assert.ok(loose.stderr.includes(`chmod 600 ${keyFile}`), loose.stderr);
  chmodSync(keyFile, 0o600);

  // A record whose wrapped key was altered: the rotation says so, keeps the old key, and fails.
  await seed(url, keyFile, 5);
  const old = KeyringFile.open(keyFile).current().activeId;
  const database = openDatabase(url);
  try {
    const row = await database.db.selectFrom('coffre_records').select('wrapped_key').where('record_id', '=', 'famille-2').executeTakeFirstOrThrow();
    const damaged = Buffer.from(row.wrapped_key);
    damaged[30] = (damaged[30] as number) ^ 0x40;
    await database.db.updateTable('coffre_records').set({ wrapped_key: damaged }).where('record_id', '=', 'famille-2').execute();
  } finally {
    await database.close();
  }
  const partial = await runCli(['keys', 'rotate'], env);
  assert.equal(partial.code, 1, partial.stdout + partial.stderr);
  assert.match(partial.stderr, /Attention : 1 enregistrement n’a pas pu être rechiffré \(données altérées ou clé absente\)/);
  assert.match(partial.stderr, /situation_fiscale famille-2 : coffre_illisible/);
  assert.ok(partial.stderr.includes(`Clé « ${old} » conservée dans le fichier : 1 enregistrement l’utilise encore.`), partial.stderr);
  assert.ok(KeyringFile.open(keyFile).current().key(old), 'the old key is still in the file');

  const usage = await runCli(['keys', 'bogus'], env);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /Utilisation : quotient keys init \| status \| rotate/);
});
