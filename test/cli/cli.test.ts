import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openDatabase } from '../../src/infra/db/database.ts';
import { throwawayPostgresOrSkip } from '../../src/infra/db/test-databases.ts';
import { BIN, CLI_DEADLINE_MS, cliEnv, runCli as runCliIn, type CliResult } from './run-cli.ts';

const DEMO_COMMUNE = new URL('../../examples/commune-demo.yaml', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'quotient-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  return cliEnv({ QUOTIENT_LOG_LEVEL: 'warn' }, extra);
}

function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = CLI_DEADLINE_MS): Promise<CliResult> {
  return runCliIn(args, { cwd: dir, env: cleanEnv(env), timeoutMs });
}

/** Starts a long-running command and resolves once it printed `ready`, or rejects after the deadline. */
function startCli(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; output: () => string; exit: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: cleanEnv(env) });
    let output = '';
    const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`not ready in time:\n${output}`));
    }, CLI_DEADLINE_MS);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output, exit });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ready:\n${output}`));
    });
  });
}

function assertNoStack(text: string) {
  assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${text}`);
  assert.doesNotMatch(text, /node_modules|\.ts:\d+/);
}

test('--version and --help answer in French with status 0; an unknown command is a usage error', async () => {
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Commandes :/);
  for (const command of ['demo', 'serve', 'migrate']) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
  const unknown = await runCli(['fabrique']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Commande inconnue : « fabrique »/);
  const badOption = await runCli(['migrate', '--vite']);
  assert.equal(badOption.code, 2);
  assert.match(badOption.stderr, /option inconnue : --vite/);
});

test('a bad setting stops with a French message naming it, status 2 and no stack trace', async () => {
  const badPort = await runCli(['serve'], { QUOTIENT_PORT: 'quatre-vingts', QUOTIENT_CONFIG: DEMO_COMMUNE });
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /Configuration invalide/);
  assert.match(badPort.stderr, /QUOTIENT_PORT : numéro de port attendu/);
  assertNoStack(badPort.stderr);

  const file = join(dir, 'commune-fausse.yaml');
  writeFileSync(file, 'commune: { nom: X, codeInsee: "92012", adresse: { lignes: [M], codePostal: "9210", ville: B } }\n');
  const badFile = await runCli(['serve'], { QUOTIENT_CONFIG: file });
  assert.equal(badFile.code, 2);
  assert.match(badFile.stderr, /commune\.adresse\.codePostal : code postal à 5 chiffres/);
  assert.match(badFile.stderr, /contact : /);
  assertNoStack(badFile.stderr);

  // A commune file whose tariff policy has lost the canteen's ceiling.
  const policy = join(dir, 'politique-cassee.yaml');
  writeFileSync(policy, readFileSync(new URL('../../examples/boulogne-billancourt.yaml', import.meta.url), 'utf8').replace('plafond: 7.20', ''));
  const commune = join(dir, 'commune-politique-cassee.yaml');
  writeFileSync(commune, readFileSync(DEMO_COMMUNE, 'utf8').replace(/^politiqueTarifaire: .*$/m, 'politiqueTarifaire: politique-cassee.yaml'));
  const badPolicy = await runCli(['serve'], { QUOTIENT_CONFIG: commune });
  assert.equal(badPolicy.code, 2);
  assert.ok(badPolicy.stderr.includes(`La politique tarifaire ${policy}, désignée dans ${commune}, est invalide`), badPolicy.stderr);
  assert.match(badPolicy.stderr, /activites\[0\]\.grille\.plafond : champ obligatoire manquant/);
  assertNoStack(badPolicy.stderr);

  const noConfig = await runCli(['serve']);
  assert.equal(noConfig.code, 2);
  assert.match(noConfig.stderr, /QUOTIENT_CONFIG : obligatoire en production/);
});

test('serve refuses the sandbox unless told --sandbox', async () => {
  const result = await runCli(['serve'], { QUOTIENT_CONFIG: DEMO_COMMUNE, QUOTIENT_PORT: '0' });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /DGFIP_BASE_URL n’est pas renseignée/);
  assert.match(result.stderr, /--sandbox/);
});

test('serve refuses a database that is not migrated, and says what to run', async () => {
  const result = await runCli(['serve', '--sandbox'], {
    QUOTIENT_CONFIG: DEMO_COMMUNE,
    QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'vide.db')}`,
    QUOTIENT_PORT: '0',
  });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /lancez « quotient migrate »/);
});

/** The status of a GET, its body read so that no connection stays busy. */
async function statut(url: string): Promise<number> {
  const res = await fetch(url);
  await res.arrayBuffer();
  return res.status;
}

async function migrateServeAndStop(databaseUrl: string) {
  const migrated = await runCli(['migrate'], { QUOTIENT_DATABASE_URL: databaseUrl });
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /migration\(s\) appliquée\(s\)/);
  const again = await runCli(['migrate'], { QUOTIENT_DATABASE_URL: databaseUrl });
  assert.match(again.stdout, /déjà à jour/);

  // Production needs its secrets named: the journal's key, the silo's master keys, the sessions' key.
  const keys = mkdtempSync(join(dir, 'cles-'));
  const secrets = {
    QUOTIENT_AUDIT_KEY_FILE: join(keys, 'journal.key'),
    QUOTIENT_MASTER_KEY_FILE: join(keys, 'coffre.json'),
    QUOTIENT_SESSION_KEY_FILE: join(keys, 'sessions.key'),
  };
  writeFileSync(secrets.QUOTIENT_AUDIT_KEY_FILE, randomBytes(32).toString('base64'), { mode: 0o600 });
  writeFileSync(secrets.QUOTIENT_SESSION_KEY_FILE, randomBytes(32).toString('base64'), { mode: 0o600 });
  const init = await runCli(['keys', 'init'], { QUOTIENT_DATABASE_URL: databaseUrl, QUOTIENT_CONFIG: DEMO_COMMUNE, ...secrets });
  assert.equal(init.code, 0, init.stderr);
  const env = {
    QUOTIENT_DATABASE_URL: databaseUrl,
    QUOTIENT_CONFIG: DEMO_COMMUNE,
    QUOTIENT_PORT: '0',
    QUOTIENT_HOST: '127.0.0.1',
    QUOTIENT_DATA_DIR: join(keys, 'data'),
    // Each process serves its metrics on its own internal listener (the system picks the ports).
    QUOTIENT_METRICS_ADDRESS: '127.0.0.1:0',
    ...secrets,
  };
  // A web instance and a worker side by side on the same database, as a commune would run them.
  const server = await startCli(
    ['serve', '--sandbox', '--role', 'web'],
    env,
    /écoute sur 127\.0\.0\.1:(\d+)[^]*Métriques : http:\/\/127\.0\.0\.1:\d+\/metrics/,
  );
  const worker = await startCli(['serve', '--sandbox', '--role', 'worker'], env, /processus de fond démarré[^]*Métriques : http:/).catch((error: unknown) => {
    server.child.kill('SIGTERM');
    throw error;
  });
  const database = openDatabase(databaseUrl);
  try {
    const port = /écoute sur 127\.0\.0\.1:(\d+)/.exec(server.output())?.[1];
    for (const path of ['/healthz', '/readyz', '/']) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      assert.equal(res.status, 200, path);
      await res.arrayBuffer();
    }
    // /metrics is on the internal listeners only: the public one answers 404.
    assert.equal(await statut(`http://127.0.0.1:${port}/metrics`), 404);
    const metriquesWeb = /Métriques : (\S+)/.exec(server.output())?.[1] ?? '';
    const web = await fetch(metriquesWeb);
    assert.equal(web.status, 200);
    assert.match(await web.text(), /quotient_http_duree_secondes_count\{methode="GET",route="\/healthz",statut="200"\} 1\n/);
    const metriquesWorker = /Métriques : (\S+)/.exec(worker.output())?.[1] ?? '';
    assert.notEqual(metriquesWorker, metriquesWeb);
    const fond = await fetch(metriquesWorker);
    assert.equal(fond.status, 200);
    assert.match(await fond.text(), /quotient_quota_limite_minute 50\n/);
    assert.equal(await statut(metriquesWorker.replace('/metrics', '/healthz')), 404, 'only /metrics on the internal listener');
    // The worker leads the scheduled jobs (the web instance never takes the lease).
    const instance = /instance ([0-9a-f-]{36})/.exec(worker.output())?.[1];
    let bail: { detenteur: string } | undefined;
    for (const limite = Date.now() + 60_000; !bail && Date.now() < limite; await new Promise((r) => setTimeout(r, 200))) {
      bail = await database.db.selectFrom('baux').select('detenteur').where('nom', '=', 'planificateur').executeTakeFirst();
    }
    assert.equal(bail?.detenteur, instance);
  } finally {
    server.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
  }
  assert.equal(await server.exit, 0, 'a graceful stop exits 0');
  assert.equal(await worker.exit, 0, 'the worker too');
  try {
    const rendu = await database.db.selectFrom('baux').select('detenteur').where('nom', '=', 'planificateur').executeTakeFirst();
    assert.equal(rendu, undefined, 'the lease is given back on a clean stop');
  } finally {
    await database.close();
  }
}

test('migrate then serve on SQLite, stopped cleanly by SIGTERM', async () => {
  await migrateServeAndStop(`sqlite:${join(dir, 'serve.db')}`);
});

test('migrate then serve on PostgreSQL, stopped cleanly by SIGTERM', async (t) => {
  const database = await throwawayPostgresOrSkip(t);
  if (!database) return;
  try {
    await migrateServeAndStop(database.url);
  } finally {
    await database.drop();
  }
});

test('a port already in use is reported in French, without a stack', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const result = await runCli(['demo'], {
      QUOTIENT_PORT: String(port),
      QUOTIENT_DATA_DIR: join(dir, 'demo-data'),
      QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'demo-data', 'q.db')}`,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`Le port ${port} est déjà utilisé`));
    assertNoStack(result.stderr);
  } finally {
    blocker.close();
  }
});
