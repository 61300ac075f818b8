import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, test } from 'node:test';
import { isQuotientError, type QuotientError } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { loadConfig } from '../config/config.ts';
import { DEMO_KEYRING_NAME, generateMasterKey, KeyringFile, keyringFileOf, newKeyring, openKeyringFile, parseKeyring, serializeKeyring } from './keyring.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-keyring-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `f${++n}`, 'cles.json');

function refused(run: () => unknown, code: string): QuotientError {
  try {
    run();
  } catch (error) {
    assert.ok(isQuotientError(error), `typed error expected, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`refusal ${code} expected`);
}

test('a new key file is created with mode 0600 in a folder of mode 0700, and reads back the same keys', () => {
  const path = fresh();
  const created = KeyringFile.create(path);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(path, '..')).mode & 0o777, 0o700);
  const again = KeyringFile.open(path).current();
  assert.equal(again.activeId, created.current().activeId);
  assert.equal(again.active.key.export().length, 32);
  assert.deepEqual(again.active.key.export(), created.current().active.key.export());
  // It is never overwritten: its keys may be the only way to read the data.
  refused(() => KeyringFile.create(path), 'fichier_cles_existe');
});

test('a key file that the group or others may read or write is refused, with the chmod to run', () => {
  const path = fresh();
  KeyringFile.create(path);
  for (const mode of [0o640, 0o604, 0o644, 0o620, 0o602, 0o660]) {
    chmodSync(path, mode);
    const error = refused(() => KeyringFile.open(path), 'fichier_cles_permissions');
    assert.match(error.message, new RegExp(`droits 0${mode.toString(8)}`));
    assert.ok(error.message.includes(`chmod 600 ${path}`));
    assert.equal(error.kind, 'invalid');
  }
  chmodSync(path, 0o400);
  assert.ok(KeyringFile.open(path).current().activeId);
  // A file that was fine at start and is loosened later is refused at the next reload too.
  chmodSync(path, 0o600);
  const file = KeyringFile.open(path);
  chmodSync(path, 0o644);
  writeFileSync(path, serializeKeyring(newKeyring()));
  refused(() => file.reload(), 'fichier_cles_permissions');
});

test('a malformed key file is refused with a French message naming the fault', () => {
  const good = JSON.parse(serializeKeyring(newKeyring())) as { format: string; active: string; keys: { id: string; createdAt: string; key: string }[] };
  const key = good.keys[0]!;
  const cases: [string, string, RegExp][] = [
    ['pas du json', 'fichier_cles_invalide', /n’est pas un JSON valide/],
    ['[]', 'fichier_cles_invalide', /invalide/],
    [JSON.stringify({ ...good, format: 'autre/9' }), 'fichier_cles_invalide', /format/],
    [JSON.stringify({ ...good, keys: [] }), 'fichier_cles_invalide', /au moins une clé/],
    [JSON.stringify({ ...good, active: 'cle-inconnue' }), 'fichier_cles_invalide', /cle-inconnue/],
    [JSON.stringify({ ...good, keys: [key, key] }), 'fichier_cles_invalide', /deux fois/],
    [JSON.stringify({ ...good, keys: [{ ...key, key: Buffer.alloc(16).toString('base64') }] }), 'fichier_cles_invalide', /32 octets/],
    [JSON.stringify({ ...good, keys: [{ ...key, key: `${key.key.slice(0, -2)}!=` }] }), 'fichier_cles_invalide', /32 octets/],
    [JSON.stringify({ ...good, keys: [{ ...key, id: '../cle' }] }), 'fichier_cles_invalide', /identifiant/],
    [JSON.stringify({ ...good, keys: [{ ...key, createdAt: 'hier' }] }), 'fichier_cles_invalide', /date/],
    [JSON.stringify({ ...good, secret: 'x' }), 'fichier_cles_invalide', /invalide/],
  ];
  for (const [text, code, message] of cases) {
    const path = fresh();
    KeyringFile.create(path);
    writeFileSync(path, text);
    const error = refused(() => KeyringFile.open(path), code);
    assert.match(`${error.message} ${error.details.map((d) => `${d.path} : ${d.message}`).join(' ')}`, message, text);
  }
  refused(() => parseKeyring(serializeKeyring(newKeyring()).replace('"keys"', '"cles"'), 'x'), 'fichier_cles_invalide');
});

test('a missing key file is named, with the command that creates it', () => {
  const path = fresh();
  const error = refused(() => KeyringFile.open(path), 'fichier_cles_introuvable');
  assert.ok(error.message.includes(path));
  assert.match(error.message, /quotient keys init/);
});

test('a change written by another process (a rotation) is seen on reload; saving keeps mode 0600', () => {
  const path = fresh();
  const mine = KeyringFile.create(path);
  const theirs = KeyringFile.open(path);
  const added = generateMasterKey();
  theirs.save(theirs.current().with(added, { activate: true }));
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(mine.current().key(added.id), undefined, 'not before reloading');
  assert.equal(mine.reload().activeId, added.id);
  assert.deepEqual(mine.current().key(added.id)?.key.export(), added.key.export());
  const old = mine.current().ids.find((id) => id !== added.id)!;
  mine.save(mine.current().without([old]));
  assert.deepEqual(theirs.reload().ids, [added.id]);
  refused(() => mine.current().without([added.id]), 'cle_active_retiree');
});

test('the key file lock excludes a second operation, and a lock left by a dead process is taken over', () => {
  const path = fresh();
  const file = KeyringFile.create(path);
  const release = file.lock();
  const error = refused(() => KeyringFile.open(path).lock(), 'fichier_cles_verrouille');
  assert.match(error.message, new RegExp(`processus ${process.pid}`));
  release();
  // A process that has exited left its lock behind.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  writeFileSync(`${path}.verrou`, dead);
  file.lock()();
  assert.equal(existsSync(`${path}.verrou`), false);
});

test('on a shared volume, a lock left by another machine is not taken over on the strength of a process number', () => {
  const path = fresh();
  const file = KeyringFile.create(path);
  // The process number means nothing here: the lock is another machine's, held or not.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  writeFileSync(`${path}.verrou`, `${dead}@serveur-b.mairie.local`);
  const error = refused(() => file.lock(), 'fichier_cles_verrouille');
  assert.match(error.message, /machine « serveur-b\.mairie\.local »/);
  assert.equal(existsSync(`${path}.verrou`), true, 'left in place');
  // Holding the database's rotation lock, which a live rotation there would hold, the lock is stale.
  file.lock({ lockedElsewhereIsStale: true })();
  assert.equal(existsSync(`${path}.verrou`), false);
});

test('keys never show in logs, JSON or inspection', () => {
  const keyring = newKeyring();
  const secret = keyring.active.key.export();
  for (const shown of [JSON.stringify(keyring), inspect(keyring, { depth: 10 }), inspect(keyring.active, { depth: 10 }), JSON.stringify(keyring.describe())]) {
    assert.ok(!shown.includes(secret.toString('base64')) && !shown.includes(secret.toString('hex')), shown);
  }
  assert.ok(serializeKeyring(keyring).includes(secret.toString('base64')), 'only the file holds them');
});

test('production requires QUOTIENT_MASTER_KEY_FILE; the demo generates its key file in the data folder', () => {
  const commune = new URL('../../../examples/commune-demo.yaml', import.meta.url).pathname;
  const production = loadConfig({ QUOTIENT_CONFIG: commune }, { mode: 'production', cwd: dir });
  const error = refused(() => keyringFileOf(production), 'configuration_invalide');
  assert.deepEqual(
    error.details.map((d) => d.path),
    ['QUOTIENT_MASTER_KEY_FILE'],
  );
  assert.match(error.details[0]?.message ?? '', /obligatoire en production/);
  // Named, it must exist: production never creates keys silently where nobody backs them up.
  const named = loadConfig({ QUOTIENT_CONFIG: commune, QUOTIENT_MASTER_KEY_FILE: 'secrets/cles.json' }, { mode: 'production', cwd: dir });
  assert.deepEqual(keyringFileOf(named), { path: join(dir, 'secrets', 'cles.json'), createIfMissing: false });
  refused(() => openKeyringFile(named), 'fichier_cles_introuvable');

  const demo = loadConfig({ QUOTIENT_DATA_DIR: 'donnees-demo' }, { mode: 'demo', cwd: dir });
  const file = openKeyringFile(demo);
  assert.equal(file.path, join(dir, 'donnees-demo', DEMO_KEYRING_NAME));
  assert.equal(statSync(file.path).mode & 0o777, 0o600);
  // The next start reuses it.
  assert.equal(openKeyringFile(demo).current().activeId, file.current().activeId);
  assert.ok(readFileSync(file.path, 'utf8').includes('"active"'));
});

test('instances starting together on an empty data folder all end up with the same, complete key file', async () => {
  const path = fresh();
  const module = new URL('./keyring.ts', import.meta.url).pathname;
  const script = `const { KeyringFile } = await import(${JSON.stringify(module)}); process.stdout.write(KeyringFile.open(${JSON.stringify(path)}, { createIfMissing: true }).current().activeId);`;
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(err))));
    });
  const ids = await Promise.all([run(), run(), run(), run()]);
  assert.equal(new Set(ids).size, 1, ids.join(', '));
  assert.equal(KeyringFile.open(path).current().activeId, ids[0]);
});

test('a new key’s id never looks like a numéro fiscal, so that the journal can always name it', () => {
  // The date's eight digits and eight random hex digits: about one id in ten looked like one before.
  const clock = () => new Date('2026-11-23T10:00:00.000Z');
  for (let i = 0; i < 2000; i++) {
    const { id } = generateMasterKey(clock);
    assert.match(id, /^cle-20261123-k[0-9a-f]{8}$/);
    assert.equal(ressembleANumeroFiscal(id), false, id);
  }
});
