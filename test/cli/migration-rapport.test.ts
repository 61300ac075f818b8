import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cliEnv, runCli, type CliResult } from './run-cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-migration-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): Promise<CliResult> {
  return runCli(['migration', ...args], { cwd: dir, env: cliEnv({ QUOTIENT_DATA_DIR: dir, QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'q.db')}` }) });
}

test('quotient migration rapport writes a CSV readable by its owner only, and never overwrites a file', async () => {
  const first = await run(['rapport', '--sortie', 'rapport.csv']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /Rapport écrit dans .*rapport\.csv : 0 famille/);
  const file = join(dir, 'rapport.csv');
  assert.match(readFileSync(file, 'utf8'), /^\uFEFFfamille;parent;source_ancienne;/);
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = await run(['rapport', '--sortie', 'rapport.csv']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /existe déjà/);
  const usage = await run(['rapport']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--sortie/);
});
