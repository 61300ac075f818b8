import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase } from '../../src/infra/db/database.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../src/sandbox/server.ts';
import { runCli, type CliResult } from './run-cli.ts';
import { sandboxEnv } from '../../src/sandbox/connection.ts';

// `quotient dgfip check --etat-civil` against the sandbox: the same exit codes as by numéro fiscal,
// 6 for an ambiguous état civil, 7 for a file the DGFiP does not disclose by état civil.
const dir = mkdtempSync(join(tmpdir(), 'quotient-check-ec-'));
let sandbox: SandboxHandle;
let env: Record<string, string>;

before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
    QUOTIENT_DATA_DIR: dir,
    QUOTIENT_LOG_LEVEL: 'trace',
    ...sandboxEnv(sandbox),
  };
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function check(args: string[]): Promise<CliResult> {
  return runCli(['dgfip', 'check', '--etat-civil', ...args], { cwd: dir, env });
}

const bertin = ['--nom', 'Bertin', '--prenoms', 'Paul Henri', '--sexe', 'M', '--naissance', '1981-04-09', '--lieu', '44109'];

test('found by SFiP (the habilitation opens it) and by R2P then Impôt particulier: exit 0, the SPI never printed', async () => {
  for (const via of [[], ['--via', 'r2p'], ['--via', 'sfip']]) {
    const result = await check([...bertin, ...via, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const situation = JSON.parse(result.stdout);
    assert.deepEqual(situation.declarants.map((d: { nomNaissance: string }) => d.nomNaissance).sort(), ['BERTIN', 'ROUSSEL']);
    assert.equal(situation.source, via[1] === 'r2p' ? 'impot-particulier' : 'sfip');
    for (const spi of Object.values(SPI_SANDBOX.coupleMarie))
      assert.ok(!`${result.stdout}${result.stderr}`.includes(spi), `numéro fiscal printed (${via.join(' ')})`);
  }
  const human = await check(bertin);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /Connexion réussie/);
});

test('nobody: exit 3; homonyms: exit 6; a file not disclosed: exit 7 — each with its French next step', async () => {
  for (const via of ['sfip', 'r2p']) {
    const nobody = await check(['--nom', 'Inexistant', '--prenoms', 'Personne', '--via', via]);
    assert.equal(nobody.code, 3, nobody.stderr);
    assert.match(nobody.stderr, /Aucune personne ne correspond/);
    const homonymes = await check(['--nom', 'AC SIX', '--prenoms', 'Yvette', '--via', via]);
    assert.equal(homonymes.code, 6, homonymes.stderr);
    assert.match(homonymes.stderr, /préciser la date et le lieu de naissance/);
    const secret = await check(['--nom', 'Secret', '--prenoms', 'Dominique', '--naissance', '1975-05-05', '--lieu', '75056', '--via', via]);
    assert.equal(secret.code, 7, secret.stderr);
    assert.match(secret.stderr, /ne communique pas ce dossier/);
  }
});

test('bad usage, over-long names included, is exit 2 before any call; every check is journaled without the état civil', async () => {
  sandbox.admin.clearCalls();
  for (const args of [
    ['--nom', 'N'.repeat(101), '--prenoms', 'Paul'],
    ['--nom', 'Bertin', '--prenoms', 'P'.repeat(21)],
    ['--nom', 'Bertin'],
    ['--nom', 'Bertin', '--prenoms', 'Paul', '--lieu', '4410'],
    ['--nom', 'Bertin', '--prenoms', 'Paul', '--naissance', '09/04/1981'],
    ['--nom', 'Bertin', '--prenoms', 'Paul', '--via', 'api-particulier'],
  ]) {
    const result = await check(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
  }
  assert.deepEqual(
    sandbox.admin.calls().filter((c) => c.api !== 'token'),
    [],
  );
  const database = openDatabase(env.QUOTIENT_DATABASE_URL as string);
  try {
    const rows = await database.db.selectFrom('journal_audit').selectAll().where('action', '=', 'dgfip.check').execute();
    assert.ok(rows.length >= 4);
    const text = JSON.stringify(rows);
    assert.doesNotMatch(text, /BERTIN|Bertin|SECRET|1981-04-09|44109/);
  } finally {
    await database.close();
  }
});
