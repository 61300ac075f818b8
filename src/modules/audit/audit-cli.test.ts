import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { asPrivileged, openJournal, seed, tempDir } from './test-support.ts';

const BIN = new URL('../../../bin/quotient.js', import.meta.url).pathname;

function quotient(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Only what the test sets: the developer's own QUOTIENT_* must not leak in.
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, QUOTIENT_LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('quotient audit verify: 0 on an intact journal, 1 naming the first broken sequence after tampering', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const dir = tempDir(st);
    const env = { QUOTIENT_DATABASE_URL: fixture.url, QUOTIENT_DATA_DIR: dir };
    const { journal } = await openJournal(database, dir);
    await seed(journal, 12);

    const intact = await quotient(['audit', 'verify'], env, dir);
    assert.equal(intact.code, 0, intact.stderr);
    assert.match(intact.stdout, /Journal d’audit intact : 12 entrée\(s\) vérifiée\(s\), séquences 1 à 12\./);
    assert.match(intact.stdout, /Ancre externe : séquence n° 12\./);
    const intactJson = await quotient(['audit', 'verify', '--json'], env, dir);
    assert.equal(intactJson.code, 0);
    const okReport = JSON.parse(intactJson.stdout) as Record<string, unknown>;
    assert.equal(okReport.intact, true);
    assert.equal(okReport.premiereSequenceRompue, null);
    assert.equal(okReport.entreesVerifiees, 12);

    await asPrivileged(database, async (trx) => {
      await trx.updateTable('journal_audit').set({ outcome: 'succes', actor_id: 'agent-complice' }).where('seq', '=', 5).execute();
    });
    const broken = await quotient(['audit', 'verify'], env, dir);
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /Journal d’audit altéré à la séquence n° 5 : /);
    assert.doesNotMatch(broken.stdout + broken.stderr, /\n\s+at .+:\d+:\d+/);
    const brokenJson = await quotient(['audit', 'verify', '--json'], env, dir);
    assert.equal(brokenJson.code, 1);
    const report = JSON.parse(brokenJson.stdout) as Record<string, unknown>;
    assert.equal(report.intact, false);
    assert.equal(report.premiereSequenceRompue, 5);
    assert.equal(report.raison, 'empreinte_invalide');
  });
});

test('quotient audit: usage errors exit 2 in French; an empty new database is intact', async (t) => {
  const dir = tempDir(t);
  const env = { QUOTIENT_DATABASE_URL: `sqlite:${dir}/q.db`, QUOTIENT_DATA_DIR: dir };
  const missing = await quotient(['audit'], env, dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /Sous-commande manquante/);
  const unknown = await quotient(['audit', 'verify', '--vite'], env, dir);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /option inconnue : --vite/);
  const help = await quotient(['audit', '--help'], env, dir);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /quotient audit verify \[--json\]/);
  const empty = await quotient(['audit', 'verify'], env, dir);
  assert.equal(empty.code, 0, empty.stderr);
  assert.match(empty.stdout, /aucune entrée à vérifier/);
});
