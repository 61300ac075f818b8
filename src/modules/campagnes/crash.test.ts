/**
 * The crash test of the campaigns, scaled down (100 items by default, 300 for the issue's bar; the
 * quota window compressed to 20 calls per 2 s): workers killed with SIGKILL at five seeded
 * instants — during the token fetch, mid-call, after the answer before its commit, during the
 * commit of the QF, during the commit of the item's result — then two workers that finish; on
 * PostgreSQL, the database connections of those two are cut under them. Nothing is lost, no item
 * has two results nor two requests, the upstream saw at most one extra call per kill (and per item
 * in flight at the cut), no window of the sandbox's own call log went over the limit, the journal
 * is intact and agrees with the state, and no numéro fiscal of the families called reached the
 * database or the workers' output.
 *
 * The PostgreSQL server is shared with other work on the machine: the « immediate stop » is played
 * by terminating the workers' backends (`pg_terminate_backend`, by their application_name, on the
 * throwaway database only), which is what they see of a server stopped at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { sandboxConnection } from '../../sandbox/connection.ts';
import { maxCallsInAnyWindow } from '../../sandbox/quota.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import type { PhaseInterne, ReglagesWorker } from './crash.child.ts';
import { arreterWorkers, lancerWorker, type WorkerProcess } from './worker-process.ts';
import { AGENT_ADMIN, bertinRoussel, fichierCsv, garnier, harnessCampagnes } from './test-support.ts';

// 100 keeps the file within a few minutes on a loaded CI machine; QUOTIENT_CRASH_ELEMENTS=300 runs it at the issue's bar.
const ELEMENTS = Number(process.env.QUOTIENT_CRASH_ELEMENTS ?? 100);
/**
 * The sandbox's quota and Quotient's, compressed: 20 calls in any 2 s, low enough that the
 * finishing workers fill it on an ordinary machine, so that the sandbox's log has full windows to
 * check. Quotient keeps the production margin (1 s): on a loaded machine, 200 ms proved too short
 * for the way from the grant to the upstream (this test saw 429s with it).
 */
const LIMITE = 20;
const FENETRE_MS = 2_000;
const QUOTA_FENETRE = { windowMs: FENETRE_MS, marginMs: 1_000 };
const PHASES = ['jeton', 'appel', 'apres-reponse', 'commit-qf', 'commit-resultat'] as const;
type Phase = (typeof PHASES)[number];
const KILLS = PHASES.length;
/** The finishing workers, two items at once each: what the connection cut may cost at most. */
const FINISSEURS = { nombre: 2, concurrence: 2 };
const APPLICATION_WORKER = 'quotient-crash-worker';
/** Every wait is for an event, bounded by this (a busy machine is slow, never stuck). */
const ATTENTE_MAX_MS = 240_000;

const dir = mkdtempSync(join(tmpdir(), 'quotient-campagnes-crash-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), quota: { limit: LIMITE, windowMs: FENETRE_MS } });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A small deterministic generator: the kill instants are the same at every run. */
function graine(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

async function attendre(condition: () => boolean | Promise<boolean>, quoi: string, pasMs = 20): Promise<void> {
  for (const limite = Date.now() + ATTENTE_MAX_MS; !(await condition());) {
    if (Date.now() > limite) throw new Error(`attente dépassée : ${quoi}`);
    await new Promise((r) => setTimeout(r, pasMs));
  }
}

function worker(url: string, dataDir: string, instanceId: string, reglages: ReglagesWorker): Promise<WorkerProcess> {
  const connection = sandboxConnection(sandbox, 'RessourceIR sfip_donnees_fiscales_usagers');
  return lancerWorker({ url, dataDir, instanceId, connection, readyTimeoutMs: ATTENTE_MAX_MS }, { attendreGo: true, ...reglages });
}

const tuer = async (w: WorkerProcess) => {
  w.child.kill('SIGKILL');
  await w.fin;
};

test('workers killed with SIGKILL at five seeded instants, then a connection cut: 0 lost, 0 duplicate, the quota held', async (t) => {
  await eachDialect(t, async (fixture) => {
    // The sandbox counts its own window: from zero for this database's run.
    sandbox.admin.resetQuota();
    sandbox.admin.clearCalls();
    sandbox.admin.clearFaults();
    const debut = Date.now();
    const database = await fixture.open();
    const dataDir = mkdtempSync(join(dir, `${fixture.dialect}-`));
    const h = await harnessCampagnes(database, sandbox, { instanceId: 'parent', dataDir });
    const outputs: string[] = [];
    const hasard = graine(fixture.dialect === 'sqlite' ? 14 : 2014);
    // The order of the five phases, and after how many of its own results each victim dies, are seeded.
    const plan = [...PHASES]
      .map((p) => ({ p, r: hasard() }))
      .sort((a, b) => a.r - b.r)
      .map(({ p }) => ({ phase: p as Phase, apres: 1 + Math.floor(hasard() * 6) }));
    const urlWorker = fixture.dialect === 'postgres' ? `${fixture.url}?application_name=${APPLICATION_WORKER}` : fixture.url;
    const reglages = (i: number): ReglagesWorker => {
      const etape = plan[i];
      const base = { quotaFenetre: QUOTA_FENETRE, limite: LIMITE, reessaiMs: 500 };
      if (!etape) return { ...base, concurrence: FINISSEURS.concurrence };
      return ['jeton', 'appel'].includes(etape.phase) ? base : { ...base, crash: { phase: etape.phase as PhaseInterne, apres: etape.apres } };
    };
    try {
      const lignes = Array.from({ length: ELEMENTS }, (_, i) => (i % 3 === 0 ? bertinRoussel(`FAM-${1000 + i}`) : garnier(`FAM-${1000 + i}`)));
      const { campagne } = await h.services.campagnes.importer(fichierCsv(lignes), 'crash.csv', 'Crash', AGENT_ADMIN);
      assert.ok(campagne);
      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      const sfip = () => sandbox.admin.calls().filter((c) => c.api === 'sfip');
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

      let suivant = worker(urlWorker, dataDir, 'crash-0', reglages(0));
      for (let k = 0; k < KILLS; k++) {
        const w = await suivant;
        const { phase, apres } = plan[k] as { phase: Phase; apres: number };
        const appelsAvant = sandbox.admin.calls().length;
        const depart = await resultats();
        // The token fetch is the first thing a fresh process sends: the sandbox holds it unanswered.
        if (phase === 'jeton') sandbox.admin.addFault({ kind: 'timeout', api: 'token', times: 1 });
        w.go();
        // The next one composes meanwhile (a process takes seconds to start on a busy machine).
        suivant = k + 1 < KILLS ? worker(urlWorker, dataDir, `crash-${k + 1}`, reglages(k + 1)) : suivant;
        const tenue = (api: string) => () =>
          sandbox.admin
            .calls()
            .slice(appelsAvant)
            .some((c) => c.api === api && c.fault === 'timeout');
        if (phase === 'jeton') {
          await attendre(tenue('token'), 'la demande de jeton du worker');
          await tuer(w);
        } else if (phase === 'appel') {
          await attendre(async () => (await resultats()) >= depart + apres, `${apres} résultat(s) du worker`);
          sandbox.admin.addFault({ kind: 'timeout', api: 'sfip', times: 1 });
          await attendre(tenue('sfip'), 'un appel SFiP en cours');
          await tuer(w);
        } else {
          // It dies by itself at the statement of its phase.
          await attendre(() => w.child.exitCode !== null || w.child.signalCode !== null, `l’arrêt du worker en phase ${phase}`);
          assert.equal(w.child.signalCode, 'SIGKILL', `the worker reached the phase ${phase}:\n${w.output()}`);
        }
        outputs.push(w.output());
      }
      // Two workers take up what the dead left once their leases lapse.
      const finisseurs = await Promise.all(Array.from({ length: FINISSEURS.nombre }, (_, i) => worker(urlWorker, dataDir, `crash-fin-${i}`, reglages(KILLS))));
      const departFin = await resultats();
      for (const w of finisseurs) w.go();
      let coupees = 0;
      if (fixture.dialect === 'postgres') {
        await attendre(async () => (await resultats()) >= departFin + Math.floor((ELEMENTS - departFin) / 3), 'un tiers du reste traité');
        const r = await sql<{ pid: number }>`
          select pg_terminate_backend(pid) as pid from pg_stat_activity
          where datname = current_database() and application_name = ${APPLICATION_WORKER}`.execute(database.db);
        coupees = r.rows.length;
        assert.ok(coupees >= 1, 'the workers had connections to cut');
      }
      await attendre(async () => (await resultats()) >= ELEMENTS, 'tous les résultats', 100).catch((error: unknown) => {
        // What the finishing workers said is what tells why they did not finish.
        throw new Error(`${String(error)}\n${finisseurs.map((w) => w.output().slice(-3000)).join('\n-----\n')}`);
      });
      // These stop cleanly (SIGTERM): only the kills and the cut may cost a call twice.
      for (const w of finisseurs) {
        w.child.kill('SIGTERM');
        await w.fin;
        outputs.push(w.output());
      }

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

      const appels = sfip().length;
      const enVol = fixture.dialect === 'postgres' ? FINISSEURS.nombre * FINISSEURS.concurrence : 0;
      const repris = await database.db.selectFrom('campagne_elements').select('id').where('campagne_id', '=', campagne.id).where('essais', '>', 1).execute();
      // The upstream's view: never a 429, never more than the limit in any window of its own log.
      const acceptes = sandbox.admin.calls().filter((c) => c.api !== 'token' && c.status !== 429);
      const pire = maxCallsInAnyWindow(
        acceptes.map((c) => c.at),
        FENETRE_MS,
      );
      t.diagnostic(
        `${fixture.dialect} : ${ELEMENTS} éléments, ${appels} appels SFiP, ${repris.length} élément(s) repris, ${coupees} connexion(s) coupée(s), ` +
          `au plus ${pire} appels par fenêtre de ${FENETRE_MS} ms (limite ${LIMITE}), plan ${plan.map((p) => `${p.phase}@${p.apres}`).join(' ')}, ${Math.round((Date.now() - debut) / 1000)} s`,
      );
      assert.ok(
        appels >= ELEMENTS && appels <= ELEMENTS + KILLS + enVol,
        `${appels} SFiP calls for ${ELEMENTS} items, ${KILLS} kills and ${enVol} in flight at the cut`,
      );
      assert.deepEqual(
        sandbox.admin.calls().filter((c) => c.status === 429),
        [],
      );
      assert.ok(pire <= LIMITE, `${pire} calls in one window of the sandbox's log`);
      // Audit and state agree: one answer journaled per request concluded, one entry per item's result, and the chain holds.
      const recues = await database.db.selectFrom('journal_audit').select('target_id').where('action', '=', 'demande.situation_recue').execute();
      assert.deepEqual(new Set(recues.map((r) => r.target_id)), new Set(demandes.map((d) => d.id)));
      const traites = await database.db
        .selectFrom('journal_audit')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', 'campagne.element_traite')
        .executeTakeFirstOrThrow();
      assert.equal(Number(traites.n), ELEMENTS, 'one journaled result per item');
      const verification = await h.journal.verify();
      assert.equal(verification.intact, true, verification.message);
      // The SPI canary: the numbers of the declarants called never left the sandbox.
      const spis = [SPI_SANDBOX.coupleMarie.declarant1, SPI_SANDBOX.coupleMarie.declarant2, SPI_SANDBOX.parentsNonMaries.parentAvecEnfant];
      const texte = outputs.join('\n') + (fixture.dialect === 'sqlite' ? readFileSync(fixture.url.slice('sqlite:'.length)).toString('latin1') : '');
      for (const spi of spis) assert.ok(!texte.includes(spi), 'a numéro fiscal reached the database or a worker’s output');
    } finally {
      // A worker still composing when an assertion failed is not left behind.
      await arreterWorkers();
      await h.close();
    }
  });
});
