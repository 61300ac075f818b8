import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { derniereAnneeImposee } from '../../src/domain/annee-imposition.ts';
import { openDatabase } from '../../src/infra/db/database.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../src/sandbox/server.ts';
import { parisDate } from '../../src/sources/paris-date.ts';
import { BIN, cliEnv, runCli, type CliResult } from './run-cli.ts';
import { sandboxEnv } from '../../src/sandbox/connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-check-'));
const latest = derniereAnneeImposee(parisDate(Date.now()));
let sandbox: SandboxHandle;
let env: Record<string, string>;

before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  env = {
    QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`,
    QUOTIENT_DATA_DIR: dir,
    ...sandboxEnv(sandbox),
  };
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function check(args: string[], extra: Record<string, string | undefined> = {}): Promise<CliResult> {
  return runCli(['dgfip', 'check', ...args], { cwd: dir, env: cliEnv(env, extra) });
}

test('a sandbox foyer, client certificate required: the normalised situation as one JSON object', async () => {
  const result = await check(['--spi', '3999999932264', '--annee', String(latest), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const situation = JSON.parse(result.stdout);
  assert.deepEqual(
    {
      rfr: situation.rfr,
      nbParts: situation.nbParts,
      situationFamille: situation.situationFamille,
      nbPac: situation.nbPac,
      anneeRevenus: situation.anneeRevenus,
    },
    { rfr: 0, nbParts: 2.5, situationFamille: 'M', nbPac: 1, anneeRevenus: latest },
  );
  for (const key of ['declarants', 'adresse', 'source']) assert.ok(key in situation, key);
  // Audited: the check is one entry of the journal, and the journal is intact.
  const verify = spawnSync(process.execPath, [BIN, 'audit', 'verify', '--json'], { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } });
  assert.equal(verify.status, 0, verify.stderr.toString());
  const database = openDatabase(env.QUOTIENT_DATABASE_URL as string);
  try {
    const rows = await database.db.selectFrom('journal_audit').select(['action', 'outcome']).where('action', '=', 'dgfip.check').execute();
    assert.ok(rows.some((r) => r.outcome === 'succes'));
  } finally {
    await database.close();
  }
  assert.match(situation.declarants[0].dateNaissance, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(!result.stdout.includes('3999999932264') && !result.stderr.includes('3999999932264'), 'the numéro fiscal is never printed back');
});

test('without a client certificate: exit 5, and the message says the certificate was refused', async () => {
  const result = await check(['--spi', '3999999932264', '--annee', String(latest)], { DGFIP_CLIENT_CERT: undefined, DGFIP_CLIENT_KEY: undefined });
  assert.equal(result.code, 5);
  assert.match(result.stderr, /refuse le certificat client/);
});

test('wrong credentials: exit 5 naming them', async () => {
  const result = await check(['--spi', '3999999932264'], { DGFIP_CLIENT_SECRET: 'pas-le-bon' });
  assert.equal(result.code, 5);
  assert.match(result.stderr, /DGFIP_CLIENT_SECRET/);
});

test('unknown numéro: exit 3; year not yet taxed: exit 4; bad usage: exit 2', async () => {
  assert.equal((await check(['--spi', SPI_SANDBOX.inconnu, '--annee', String(latest)])).code, 3);
  assert.equal((await check(['--spi', '3999999932264', '--annee', String(latest + 1)])).code, 4);
  const bad = await check(['--spi', '39999999322']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /13 chiffres/);
  assert.equal((await check(['--spi', '3999999932264', '--annee', 'vingt'])).code, 2);
});

test('an unreachable gateway: exit 5 and the reason', async () => {
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, sandbox.pki.caCertPem);
  const result = await check(['--spi', '3999999932264'], {
    DGFIP_BASE_URL: 'https://127.0.0.1:1/impotparticulier/1.0',
    DGFIP_TOKEN_URL: 'https://127.0.0.1:1/token',
  });
  assert.equal(result.code, 5);
  assert.match(result.stderr, /injoignable/);
});

test('with no DGFiP configured, the built-in sandbox answers', async () => {
  const result = await check(['--spi', '3999999932264', '--json'], {
    DGFIP_BASE_URL: undefined,
    DGFIP_TOKEN_URL: undefined,
    DGFIP_CLIENT_ID: undefined,
    DGFIP_CLIENT_SECRET: undefined,
    DGFIP_ID_TELESERVICE: undefined,
    DGFIP_CA: undefined,
    DGFIP_CLIENT_CERT: undefined,
    DGFIP_CLIENT_KEY: undefined,
    // Its own data folder, and so its own journal key and anchor: its own database goes with them.
    QUOTIENT_DATA_DIR: join(dir, 'builtin'),
    QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'builtin', 'q.db')}`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).nbParts, 2.5);
});

test('the canary numéro fiscal is never printed, whatever the outcome', async () => {
  const canary = SPI_SANDBOX.canari;
  for (const args of [['--annee', String(latest)], ['--annee', String(latest + 1)], ['--json']]) {
    const result = await check(['--spi', canary, ...args], { QUOTIENT_LOG_LEVEL: 'trace' });
    assert.ok(!`${result.stdout}${result.stderr}`.includes(canary), `leak with ${args.join(' ')}`);
  }
  const spaced = await check(['--spi', '31 41 592 653 423', '--annee', String(latest + 1)], { QUOTIENT_LOG_LEVEL: 'trace' });
  assert.ok(!`${spaced.stdout}${spaced.stderr}`.includes('592 653'), 'spaced form not echoed');
});

test('a year the DGFiP answers 4101 (not yet taxed there) exits 4; an unknown numéro exits 3 after one call only', async () => {
  // The gateway's calendar more than a year behind ours: any 400 days hold a taxation date, so the
  // latest year we think taxed is, for it, not taxed yet.
  const behind = await startSandbox({ dataDir: join(dir, 'pki'), now: () => Date.now() - 400 * 86_400_000 });
  try {
    const at = { DGFIP_BASE_URL: behind.baseUrl, DGFIP_TOKEN_URL: behind.tokenUrl };
    const notTaxed = await check(['--spi', '3999999932264', '--annee', String(latest)], at);
    assert.equal(notTaxed.code, 4, notTaxed.stderr);
    assert.match(notTaxed.stderr, /pas encore imposée/);
    behind.admin.clearCalls();
    const unknown = await check(['--spi', SPI_SANDBOX.inconnu], at);
    assert.equal(unknown.code, 3, unknown.stderr);
    assert.equal(behind.admin.calls().filter((c) => c.api === 'impot-particulier').length, 1, 'no second call for N-2');
  } finally {
    await behind.close();
  }
});

test('a year outside the habilitation: exit 2, worded as our refusal, and nothing sent to the DGFiP', async () => {
  sandbox.admin.clearCalls();
  const result = await check(['--spi', '3999999932264', '--annee', String(latest - 5)]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /pas couverte par l’habilitation/);
  assert.match(result.stderr, /aucune demande n’a été envoyée/);
  assert.doesNotMatch(result.stderr, /La DGFiP refuse/);
  assert.equal(sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length, 0);
});
