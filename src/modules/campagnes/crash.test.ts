/**
 * The crash test of the campaigns, scaled down: workers killed with SIGKILL at seeded instants
 * (between two items, mid-call, after the answer, during the commit), then a last one that
 * finishes. Nothing is lost, no item has two results nor two requests, the upstream saw at most one
 * extra call per kill, the journal is intact and agrees with the state, and no numéro fiscal of the
 * families called ever reached the database or the workers' output.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { sandboxConnection } from '../../sandbox/connection.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { AGENT_ADMIN, bertinRoussel, fichierCsv, garnier, harnessCampagnes } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-campagnes-crash-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const ELEMENTS = 40;
const KILLS = 5;

/** A small deterministic generator: the kill instants are the same at every run. */
function graine(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function worker(url: string, dataDir: string, instanceId: string): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./crash.child.ts', import.meta.url).pathname, url, dataDir, instanceId], {
      env: { ...process.env, QUOTIENT_TEST_CONNECTION: JSON.stringify(sandboxConnection(sandbox, 'RessourceIR sfip_donnees_fiscales_usagers')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => reject(new Error(`worker not ready in time:\n${out}`)), 120_000);
    child.stdout.on('data', () => {
      if (out.includes('PRET')) {
        clearTimeout(timer);
        resolve({ child, output: () => out });
      }
    });
    child.on('close', () => clearTimeout(timer));
  });
}

const tuer = async (child: ChildProcess) => {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('close', r));
};

test('workers killed with SIGKILL mid-campaign: 0 lost, 0 duplicate, at most one extra call per kill', async (t) => {
  await eachDialect(t, async (fixture) => {
    // The sandbox counts its own window (50 calls a minute): from zero for this database's run.
    sandbox.admin.resetQuota();
    sandbox.admin.clearCalls();
    const database = await fixture.open();
    const dataDir = mkdtempSync(join(dir, `${fixture.dialect}-`));
    const h = await harnessCampagnes(database, sandbox, { instanceId: 'parent', dataDir });
    const outputs: string[] = [];
    try {
      const lignes = Array.from({ length: ELEMENTS }, (_, i) => (i % 3 === 0 ? bertinRoussel(`FAM-${1000 + i}`) : garnier(`FAM-${1000 + i}`)));
      const { campagne } = await h.services.campagnes.importer(fichierCsv(lignes), 'crash.csv', 'Crash', AGENT_ADMIN);
      assert.ok(campagne);
      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      const sfip = () => sandbox.admin.calls().filter((c) => c.api === 'sfip');
      const avant = sfip().length;
      const resultats = async () =>
        Number(
          (
            await database.db
              .selectFrom('campagne_resultats')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where('campagne_id', '=', campagne.id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const hasard = graine(fixture.dialect === 'sqlite' ? 14 : 2014);

      for (let k = 0; k < KILLS; k++) {
        const w = await worker(fixture.url, dataDir, `crash-${k}`);
        const depart = await resultats();
        // Wait for a few results, then kill at a seeded instant after one (between items, mid-call, in the commit).
        const cible = depart + 1 + Math.floor(hasard() * 3);
        for (const limite = Date.now() + 90_000; (await resultats()) < cible && Date.now() < limite;) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, Math.floor(hasard() * 120)));
        await tuer(w.child);
        outputs.push(w.output());
      }
      // A last worker (and a second one beside it for part of the way) takes up what the dead left once their leases lapse.
      const dernier = await worker(fixture.url, dataDir, 'crash-fin');
      const voisin = await worker(fixture.url, dataDir, 'crash-voisin');
      for (const limite = Date.now() + 180_000; (await resultats()) < ELEMENTS && Date.now() < limite;) await new Promise((r) => setTimeout(r, 100));
      // These two stop cleanly (SIGTERM): only the five kills may cost a call twice.
      for (const w of [voisin, dernier]) {
        w.child.kill('SIGTERM');
        if (w.child.exitCode === null) await new Promise((r) => w.child.once('close', r));
      }
      outputs.push(dernier.output(), voisin.output());

      const elements = await database.db
        .selectFrom('campagne_elements')
        .select(['id', 'demande_id', 'traite_le'])
        .where('campagne_id', '=', campagne.id)
        .execute();
      const rows = await database.db
        .selectFrom('campagne_resultats')
        .select(['element_id', 'issue', 'demande_id'])
        .where('campagne_id', '=', campagne.id)
        .execute();
      assert.equal(rows.length, ELEMENTS, '0 items lost');
      assert.equal(new Set(rows.map((r) => r.element_id)).size, ELEMENTS, '0 duplicate results');
      assert.ok(elements.every((e) => e.traite_le !== null && e.demande_id !== null));
      const demandes = await database.db.selectFrom('demandes').select(['id', 'statut']).where('canal', '=', 'campagne').execute();
      assert.equal(demandes.length, ELEMENTS, 'one request per item, none created twice');
      assert.ok(
        demandes.every((d) => d.statut === 'calculee'),
        JSON.stringify(demandes.filter((d) => d.statut !== 'calculee')),
      );
      assert.ok(rows.every((r) => r.issue === 'calcule'));
      assert.equal((await h.services.campagnes.etat(campagne.id)).statut, 'terminee');
      const appels = sfip().length - avant;
      const repris = await database.db.selectFrom('campagne_elements').select('id').where('campagne_id', '=', campagne.id).where('essais', '>', 1).execute();
      t.diagnostic(`${appels} appels SFiP, ${repris.length} élément(s) repris après un arrêt`);
      assert.ok(appels >= ELEMENTS && appels <= ELEMENTS + KILLS, `${appels} SFiP calls for ${ELEMENTS} items and ${KILLS} kills`);
      // The quota held across the processes, as the upstream saw it: never a 429.
      assert.deepEqual(
        sandbox.admin.calls().filter((c) => c.status === 429),
        [],
      );
      // Audit and state agree: one answer journaled per request concluded, and the chain holds.
      const recues = await database.db.selectFrom('journal_audit').select('target_id').where('action', '=', 'demande.situation_recue').execute();
      assert.deepEqual(new Set(recues.map((r) => r.target_id)), new Set(demandes.map((d) => d.id)));
      const verification = await h.journal.verify();
      assert.equal(verification.intact, true, verification.message);
      // The SPI canary: the numbers of the declarants called never left the sandbox.
      const spis = [SPI_SANDBOX.coupleMarie.declarant1, SPI_SANDBOX.coupleMarie.declarant2, SPI_SANDBOX.parentsNonMaries.parentAvecEnfant];
      const texte = outputs.join('\n') + (fixture.dialect === 'sqlite' ? readFileSync(fixture.url.slice('sqlite:'.length)).toString('latin1') : '');
      for (const spi of spis) assert.ok(!texte.includes(spi), 'a numéro fiscal reached the database or a worker’s output');
    } finally {
      await h.close();
    }
  });
});
