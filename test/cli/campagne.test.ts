/**
 * `quotient campagne`, as an operator runs it: a file checked without anything written, refused
 * with its line errors, imported, started on behalf of an administrator, its report written.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase } from '../../src/infra/db/database.ts';
import { migrateToLatest } from '../../src/infra/db/migrations.ts';
import { AgentsService, type JournalPort } from '../../src/modules/agents/agents-service.ts';
import { fichierCsv, garnier } from '../../src/modules/campagnes/test-support.ts';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/server.ts';
import { sandboxEnv } from '../../src/sandbox/connection.ts';

const BIN = new URL('../../bin/quotient.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'quotient-campagne-cli-'));
const database = `sqlite:${join(dir, 'q.db')}`;
let sandbox: SandboxHandle;
let env: Record<string, string>;

before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  env = {
    QUOTIENT_DATABASE_URL: database,
    QUOTIENT_DATA_DIR: dir,
    QUOTIENT_LOG_LEVEL: 'warn',
    ...sandboxEnv(sandbox),
  };
  const db = openDatabase(database);
  await migrateToLatest(db.db, db.dialect);
  // The administrator the operator names (the journal of this setup step is not under test).
  const journal: JournalPort = { append: () => Promise.resolve(), inTransaction: (work) => db.db.transaction().execute(work) };
  await new AgentsService({ db: db.db, journal }).creer(
    { email: 'admin@ville.fr', prenom: 'Alice', nom: 'Admin', roles: ['administrateur'] },
    { type: 'systeme', id: 'test' },
  );
  await db.close();
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'campagne', ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('check, refuse, import, start and report from the command line, on behalf of an administrator', async () => {
  assert.deepEqual(await run(['lister']).then((r) => [r.code, r.stdout.trim()]), [0, 'Aucune campagne.']);
  const sansAgent = await run(['importer', '--fichier', 'x.csv', '--essai']);
  assert.equal(sansAgent.code, 2);
  assert.match(sansAgent.stderr, /Indiquez --agent ADRESSE/);

  const fautif = join(dir, 'fautif.csv');
  writeFileSync(fautif, fichierCsv([garnier('FAM-1'), garnier('FAM-1')]));
  const essai = await run(['importer', '--fichier', fautif, '--essai', '--agent', 'admin@ville.fr']);
  assert.equal(essai.code, 1);
  assert.match(essai.stderr, /Ligne 3, reference : la référence « FAM-1 » figure déjà ligne 2 \(doublon\)\./);
  assert.match(essai.stdout, /Essai à blanc : rien n’a été enregistré\./);

  const bon = join(dir, 'bon.csv');
  writeFileSync(bon, fichierCsv([garnier('FAM-1')]));
  const importe = await run(['importer', '--fichier', bon, '--nom', 'Rentrée', '--agent', 'admin@ville.fr']);
  assert.equal(importe.code, 0, importe.stderr);
  const reference = /Campagne (C-[A-Z0-9-]+) créée/.exec(importe.stdout)?.[1];
  assert.ok(reference, importe.stdout);
  const demarre = await run(['demarrer', reference, '--agent', 'admin@ville.fr']);
  assert.equal(demarre.code, 0, demarre.stderr);
  assert.match(demarre.stdout, /En cours/);
  const pause = await run(['pause', reference, '--agent', 'admin@ville.fr']);
  assert.equal(pause.code, 2);
  assert.match(pause.stderr, /Indiquez le motif/);
  const sortie = join(dir, 'rapport.csv');
  const rapport = await run(['rapport', reference, '--sortie', sortie, '--agent', 'admin@ville.fr']);
  assert.equal(rapport.code, 0, rapport.stderr);
  assert.match(readFileSync(sortie, 'utf8'), /^\uFEFFreference;resultat;libelle_resultat;tranche;demande;traite_le\r\nFAM-1;non_traite;Non traité;;;\r\n$/);
});
