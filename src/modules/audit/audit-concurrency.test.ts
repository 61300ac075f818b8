import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { openJournal, tempDir } from './test-support.ts';

const WORKER = new URL('./test-append-worker.ts', import.meta.url).pathname;

function runWorker(url: string, dataDir: string, count: number, name: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, url, dataDir, String(count), name], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('appends from several processes at once leave one gapless, valid chain and an anchor on it', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const dir = tempDir(st);
    const { journal } = await openJournal(database, dir);
    const workers = ['robot-a', 'robot-b', 'robot-c'];
    const perWorker = 60;
    const results = await Promise.all(workers.map((name) => runWorker(fixture.url, dir, perWorker, name)));
    for (const result of results) {
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(JSON.parse(result.stdout), { alerts: [] });
    }
    const total = workers.length * perWorker;
    const seqs: number[] = [];
    for await (const row of (async function* () {
      for (const name of workers) for await (const e of journal.exportForTarget({ type: 'robot', id: name }, {}, { includeActor: true })) yield e;
    })())
      seqs.push(row.seq);
    assert.deepEqual(
      seqs.sort((a, b) => a - b),
      Array.from({ length: total }, (_, i) => i + 1),
      'every sequence number once, no gap',
    );
    // Each process's own entries are in its order.
    for (const name of workers) {
      const mine: number[] = [];
      for await (const e of journal.exportForTarget({ type: 'robot', id: name }, {}, { includeActor: true })) mine.push(Number(e.details.i));
      assert.deepEqual(
        mine,
        Array.from({ length: perWorker }, (_, i) => i),
      );
    }
    const report = await journal.verify();
    assert.equal(report.intact, true, report.message);
    assert.equal(report.checked, total);
    // Each process anchors after its last commit, under a lock every process shares, and never
    // over a later anchor: whoever committed last left the anchor on the very last entry.
    st.diagnostic(`ancre en fin de course : ${report.anchor.seq} / ${total}`);
    assert.equal(report.anchor.seq, total, 'the anchor names the last entry: no process moved it back');
    assert.deepEqual(await journal.anchor(), { state: 'a_jour', seq: total });
  });
});
