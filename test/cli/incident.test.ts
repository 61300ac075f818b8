/**
 * `quotient incident`, as the operator runs it at night: French output, a reason required, each
 * measure journaled as the operator (the shell's account); `dgfip check` refuses while DGFiP calls
 * are suspended or the journal is broken, and sends nothing to the sandbox.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase } from '../../src/infra/db/database.ts';
import { asPrivileged } from '../../src/modules/audit/test-support.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../src/sandbox/server.ts';
import { cliEnv, runCli, type CliResult } from './run-cli.ts';
import { sandboxEnv } from '../../src/sandbox/connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-incident-cli-'));
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
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<CliResult> {
  return runCli(args, { cwd: dir, env: cliEnv(env) });
}

async function journal(action: string) {
  const db = openDatabase(database);
  try {
    return await db.db
      .selectFrom('journal_audit')
      .select(['actor_type', 'actor_id', 'details', 'outcome'])
      .where('action', '=', action)
      .orderBy('seq')
      .execute();
  } finally {
    await db.close();
  }
}

const operateur = `cli:${userInfo().username}`;
const check = () => run(['dgfip', 'check', '--spi', SPI_SANDBOX.publies[2] as string]);

test('etat, then DGFiP calls suspended at night: a reason required, journaled as the operator, dgfip check refused without a call', async () => {
  const etat = await run(['incident', 'etat']);
  assert.equal(etat.code, 0, etat.stderr);
  assert.match(etat.stdout, /Appels à la DGFiP :\s+en service/);
  assert.match(etat.stdout, /Campagnes :\s+autorisées/);
  assert.match(etat.stdout, /Portail des familles :\s+ouvert/);
  assert.match(etat.stdout, /Journal d’audit :\s+intact/);

  const sansMotif = await run(['incident', 'suspendre-dgfip']);
  assert.equal(sansMotif.code, 2);
  assert.match(sansMotif.stderr, /Indiquez le motif avec --motif/);
  const spi = await run(['incident', 'suspendre-dgfip', '--motif', 'numéro 3141592653423 exposé']);
  assert.equal(spi.code, 2);
  assert.match(spi.stderr, /semble contenir un numéro fiscal/);
  assert.equal(spi.stderr.includes('3141592653423'), false);
  assert.equal((await run(['incident', 'couper-tout', '--motif', 'un motif valable'])).code, 2);

  const suspendu = await run(['incident', 'suspendre-dgfip', '--motif', 'Certificat client peut-être volé']);
  assert.equal(suspendu.code, 0, suspendu.stderr);
  assert.match(
    suspendu.stdout,
    new RegExp(`Appels à la DGFiP :\\s+suspendus depuis le .*, par l’exploitant \\(${userInfo().username}\\) : « Certificat client peut-être volé »`),
  );
  assert.match(suspendu.stdout, /toutes les instances l’appliquent/);
  assert.match((await run(['incident', 'suspendre-dgfip', '--motif', 'encore une fois'])).stdout, /déjà le cas/);
  const [entree, ...autres] = await journal('incident.interrupteur');
  assert.equal(autres.length, 0);
  assert.equal(entree?.actor_type, 'systeme');
  assert.equal(entree?.actor_id, operateur);
  assert.deepEqual(JSON.parse(entree?.details ?? '{}'), { actif: true, interrupteur: 'appels_dgfip', motif: 'Certificat client peut-être volé' });
  const json = JSON.parse((await run(['incident', 'etat', '--json'])).stdout);
  assert.equal(json.interrupteurs.appels_dgfip.actif, true);
  assert.equal(json.integrite.etat, 'intact');

  const appels = sandbox.admin.calls().length;
  const refuse = await check();
  assert.equal(refuse.code, 1);
  assert.match(refuse.stderr, /Appel refusé : les appels à la DGFiP sont suspendus/);
  assert.equal(sandbox.admin.calls().length, appels, 'nothing reached the sandbox');
  assert.equal(JSON.parse((await journal('dgfip.check')).at(-1)?.details ?? '{}').raison, 'appels_suspendus');

  assert.equal((await run(['incident', 'reprendre-dgfip', '--motif', 'Certificat révoqué et remplacé'])).code, 0);
  assert.equal((await check()).code, 0);
});

test('campaigns, maintenance, sessions: each subcommand and its usage errors', async () => {
  assert.match((await run(['incident', 'arreter-campagnes', '--motif', 'Fichier d’import douteux'])).stdout, /Campagnes :\s+arrêtées/);
  assert.match((await run(['incident', 'reprendre-campagnes', '--motif', 'Fichier vérifié'])).stdout, /Campagnes :\s+autorisées/);
  assert.equal((await run(['incident', 'maintenance', '--motif', 'sans on ni off'])).code, 2);
  assert.match((await run(['incident', 'maintenance', 'on', '--motif', 'Mise à jour de sécurité'])).stdout, /Portail des familles :\s+en maintenance/);
  assert.match((await run(['incident', 'etat'])).stdout, /Portail des familles :\s+en maintenance depuis le .* : « Mise à jour de sécurité »/);
  assert.match((await run(['incident', 'maintenance', 'off', '--motif', 'Mise à jour faite'])).stdout, /Portail des familles :\s+ouvert/);

  const deux = await run(['incident', 'revoquer-sessions', '--tous', '--agent', 'a@exemple.fr', '--motif', 'un motif valable']);
  assert.equal(deux.code, 2);
  assert.match(deux.stderr, /une cible et une seule/);
  const inconnue = await run(['incident', 'revoquer-sessions', '--famille', 'F-ZZZZ-ZZZZ', '--motif', 'Compte compromis']);
  assert.equal(inconnue.code, 1);
  assert.match(inconnue.stderr, /Aucune famille n’a la référence F-ZZZZ-ZZZZ/);
  const tous = await run(['incident', 'revoquer-sessions', '--tous', '--motif', 'Fuite possible des sessions']);
  assert.equal(tous.code, 0, tous.stderr);
  assert.match(tous.stdout, /Aucune session ouverte de toutes les personnes connectées/);
  assert.equal((await journal('incident.sessions_revoquees')).length, 1);
  assert.equal((await journal('incident.interrupteur')).length, 6, 'suspended, resumed, campaigns stopped and resumed, maintenance on and off');
});

test('a journal row rewritten behind the application’s back: dgfip check refuses, etat says the integrity halt', async () => {
  const db = openDatabase(database);
  try {
    await asPrivileged(db, async (trx) => {
      await trx.updateTable('journal_audit').set({ outcome: 'echec' }).where('seq', '=', 1).execute();
    });
  } finally {
    await db.close();
  }
  const appels = sandbox.admin.calls().length;
  const refuse = await check();
  assert.equal(refuse.code, 1);
  assert.match(refuse.stderr, /Appel refusé : le journal d’audit est altéré/);
  assert.equal(sandbox.admin.calls().length, appels);
  const etat = await run(['incident', 'etat']);
  assert.equal(etat.code, 0);
  assert.match(etat.stdout, /Journal d’audit :\s+ARRÊT D’INTÉGRITÉ depuis le .* séquence n° 1/);
});
