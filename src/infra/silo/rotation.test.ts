import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eachDialect } from '../db/test-databases.ts';
import { Coffre, type JsonValue } from './coffre.ts';
import { KeyringFile } from './keyring.ts';
import { rotateMasterKey } from './rotation.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-rotation-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const CHILD = new URL('./coffre-writer.child.ts', import.meta.url).pathname;
const KIND = 'situation_fiscale';

interface WriterResult {
  model: Record<string, JsonValue | null>;
  writes: number[];
  errors: string[];
}

/** Another instance of the application, writing and reading its own records until told to stop. */
function startWriter(url: string, keyFile: string, prefix: string, count: number): { ready: Promise<void>; stop: () => Promise<WriterResult> } {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', CHILD, url, keyFile, prefix, String(count)]);
  let out = '';
  let err = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    void closed.then((code) => reject(new Error(`writer ${prefix} exited ${code} before ready: ${err}`)));
  });
  return {
    ready,
    async stop() {
      child.stdin.write('stop\n');
      const code = await closed;
      clearTimeout(timer);
      assert.equal(code, 0, `writer ${prefix}: ${err}`);
      return JSON.parse(out.slice(out.indexOf('ready\n') + 'ready\n'.length)) as WriterResult;
    },
  };
}

test('rotation under concurrent writes from other processes keeps every record readable and leaves none under the old key', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const keyFile = join(dir, `${fixture.dialect}-cles.json`);
    const file = KeyringFile.create(keyFile);
    const old = file.current().activeId;
    const database = await fixture.open();
    const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: file });

    // Records of the families nobody touches during the rotation, and those the writers own.
    const SEEDED = 1500;
    const WRITER_IDS = 400;
    const expected = new Map<string, JsonValue | null>();
    await database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < SEEDED; i++) {
        expected.set(`seed-${i}`, { seed: `seed-${i}`, rfr: i * 10 });
        await coffre.put(KIND, `seed-${i}`, { seed: `seed-${i}`, rfr: i * 10 }, trx);
      }
      for (const prefix of ['a', 'b']) for (let i = 0; i < WRITER_IDS; i++) await coffre.put(KIND, `${prefix}-${i}`, { seed: `${prefix}-${i}` }, trx);
    });

    const writers = ['a', 'b'].map((prefix) => startWriter(fixture.url, keyFile, prefix, WRITER_IDS));
    await Promise.all(writers.map((w) => w.ready));
    const started = Date.now();
    const report = await rotateMasterKey(coffre, file, { batchSize: 50 });
    const finished = Date.now();
    // Let the writers carry on after the old key is gone from the file.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const results = await Promise.all(writers.map((w) => w.stop()));

    assert.deepEqual(
      results.flatMap((r) => r.errors),
      [],
      'the writers never failed, and always read back what they wrote',
    );
    const during = results.flatMap((r) => r.writes).filter((at) => at >= started && at <= finished).length;
    assert.ok(during > 0, `writes happened during the rotation (${during})`);
    st.diagnostic(
      `${during} writes by other processes during the rotation (${finished - started} ms); ${report.rewrapped} re-wrapped, ${report.changedMeanwhile} changed meanwhile`,
    );
    for (const r of results) for (const [id, value] of Object.entries(r.model)) expected.set(id, value);

    assert.deepEqual(report.failures, []);
    assert.deepEqual(report.kept, []);
    assert.deepEqual(report.retired, [old]);
    assert.ok(report.rewrapped >= SEEDED, `${report.rewrapped} re-wrapped`);
    assert.deepEqual(file.reload().ids, [report.newKeyId], 'the old key left the key file');

    const keys = await database.db
      .selectFrom('coffre_records')
      .select(['key_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('key_id')
      .execute();
    assert.deepEqual(
      keys.map((k) => k.key_id),
      [report.newKeyId],
      'no record is left under the old key',
    );

    // A fresh process, with the key file as it now is, reads every record as last written.
    const reader = new Coffre({ db: (await fixture.open()).db, dialect: fixture.dialect, keyring: KeyringFile.open(keyFile) });
    let present = 0;
    for (const [id, value] of expected) {
      assert.deepEqual((await reader.get(KIND, id)) ?? null, value, id);
      if (value !== null) present++;
    }
    assert.equal(Number(keys[0]?.n), present, 'and nothing else is stored');
    const usage = await reader.usage();
    assert.ok(usage.find((u) => u.keyId === old)?.retiredAt, 'the old key is marked retired in the database');
  });
});

test('an interrupted rotation is finished by the next one', async (t) => {
  await eachDialect(t, async (fixture) => {
    const keyFile = join(dir, `${fixture.dialect}-reprise.json`);
    const file = KeyringFile.create(keyFile);
    const first = file.current().activeId;
    const database = await fixture.open();
    const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: file });
    for (let i = 0; i < 30; i++) await coffre.put(KIND, `f-${i}`, i);

    // The previous run stopped after writing its key to the file, before the database knew it.
    const { generateMasterKey } = await import('./keyring.ts');
    const orphan = generateMasterKey();
    file.save(file.current().with(orphan, { activate: true }));
    await coffre.put(KIND, 'pendant', 'sous la clé de la base');

    const report = await rotateMasterKey(coffre, file, { batchSize: 7 });
    assert.deepEqual([...report.retired].sort(), [first, orphan.id].sort());
    assert.equal(report.rewrapped, 31);
    assert.deepEqual(file.reload().ids, [report.newKeyId]);
    for (let i = 0; i < 30; i++) assert.equal(await coffre.get(KIND, `f-${i}`), i);
    assert.equal(await coffre.get(KIND, 'pendant'), 'sous la clé de la base');
  });
});

test('two rotations started at once, from two machines sharing the database, never interleave: the second is refused and nothing is lost', async (t) => {
  await eachDialect(t, async (fixture) => {
    const keyFile = join(dir, `${fixture.dialect}-deux-machines.json`);
    const file = KeyringFile.create(keyFile);
    const database = await fixture.open();
    const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: file });
    for (let i = 0; i < 200; i++) await coffre.put(KIND, `r-${i}`, i);
    // Another machine: its own connection and its own handle on the key file (a shared volume).
    const other = new Coffre({ db: (await fixture.open({ migrate: false })).db, dialect: fixture.dialect, keyring: KeyringFile.open(keyFile) });
    const results = await Promise.allSettled([
      rotateMasterKey(coffre, file, { batchSize: 10 }),
      rotateMasterKey(other, KeyringFile.open(keyFile), { batchSize: 10 }),
    ]);
    const done = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(done.length, 1, 'one rotation ran');
    assert.equal(refused.length, 1, 'the other was refused');
    const code = (refused[0]?.reason as { code?: string }).code;
    assert.ok(code === 'rotation_en_cours' || code === 'fichier_cles_verrouille', String(code));
    const report = (done[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof rotateMasterKey>>>).value;
    assert.deepEqual(file.reload().ids, [report.newKeyId], 'one key in the file: the one every record is under');
    for (let i = 0; i < 200; i++) assert.equal(await other.get(KIND, `r-${i}`), i);
  });
});
