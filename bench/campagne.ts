/**
 * The rentrée through the quota (issue 14): N families renewed by a campaign against the sandbox,
 * with the quota window compressed (default 50 calls per 2 s, Quotient keeping 200 ms of margin),
 * by 2 worker processes beside 1 web instance on PostgreSQL (a throwaway database), then by one
 * process on SQLite.
 *
 *   node --import tsx bench/campagne.ts [--familles 6000] [--dialectes postgres,sqlite]
 *     [--limite 50] [--fenetre-ms 2000] [--marge-ms 200] [--workers 2] [--concurrence 8]
 *
 * The web instance (this process) imports the families' CSV and starts the campaign, as an
 * administrator would; the workers do the rest. Everything measured comes from the sandbox's own
 * call log: the quota utilisation over the saturated period, against the best the margin allows
 * (window ÷ (window + margin)); the 429s; the most calls any window held; and the time as a ratio
 * to the physical limit (calls ÷ quota per window × window). Figures are printed, never asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { migrateToLatest } from '../src/infra/db/migrations.ts';
import { sandboxConnection } from '../src/sandbox/connection.ts';
import { maxCallsInAnyWindow } from '../src/sandbox/quota.ts';
import { startSandbox, type SandboxHandle } from '../src/sandbox/server.ts';
import { createHarness, HABILITATION_ETAT_CIVIL } from '../src/modules/demandes/test-harness.ts';
import { arreterWorkers, lancerWorker, type WorkerProcess } from '../src/modules/campagnes/worker-process.ts';
import { AGENT_ADMIN, bertinRoussel, fichierCsv, garnier, POLITIQUE_TRANCHES } from '../src/modules/campagnes/test-support.ts';
import { openBenchDatabase } from './bench-database.ts';

const { values } = parseArgs({
  options: {
    familles: { type: 'string', default: '6000' },
    dialectes: { type: 'string', default: 'postgres,sqlite' },
    limite: { type: 'string', default: '50' },
    'fenetre-ms': { type: 'string', default: '2000' },
    'marge-ms': { type: 'string', default: '200' },
    workers: { type: 'string', default: '2' },
    concurrence: { type: 'string', default: '8' },
  },
});
const familles = Number(values.familles);
const limite = Number(values.limite);
const fenetreMs = Number(values['fenetre-ms']);
const margeMs = Number(values['marge-ms']);
const nWorkers = Number(values.workers);
const concurrence = Number(values.concurrence);
const quotaFenetre = { windowMs: fenetreMs, marginMs: margeMs };
const n = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 3 });
const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-campagne-'));
const SCOPE = 'RessourceIR sfip_donnees_fiscales_usagers';

interface Mesure {
  readonly dialecte: string;
  readonly processus: string;
  readonly importMs: number;
  readonly dureeMs: number;
  readonly appels: number;
  readonly refus429: number;
  readonly pire: number;
  readonly utilisation: number;
}

/**
 * Utilisation over the saturated period: each run of `limite` consecutive accepted calls should
 * span one window; Quotient's limiter makes it span window + margin at best. The mean span of those
 * runs, against the window, is the rate reached (the first window's burst and the last calls'
 * drain included as they come).
 */
function utilisation(instants: readonly number[]): number {
  if (instants.length <= limite) return Number.NaN;
  let total = 0;
  for (let j = 0; j + limite < instants.length; j++) total += (instants[j + limite] as number) - (instants[j] as number);
  return fenetreMs / (total / (instants.length - limite));
}

async function campagne(sandbox: SandboxHandle, dialecte: string): Promise<Mesure> {
  sandbox.admin.resetQuota();
  sandbox.admin.clearCalls();
  const { database, url, drop } = await openBenchDatabase(dialecte, join(dir, dialecte));
  await migrateToLatest(database.db, database.dialect);
  const dataDir = mkdtempSync(join(dir, `${dialecte}-donnees-`));
  const enProcessus = dialecte === 'sqlite';
  const web = await createHarness(database, sandbox, {
    instanceId: enProcessus ? 'bench-tout' : 'bench-web',
    dataDir,
    habilitation: HABILITATION_ETAT_CIVIL.sfip,
    politique: () => POLITIQUE_TRANCHES,
    canauxAlerte: [],
    quotaFenetre,
    quotaParMinute: limite,
    campagnes: { bailMs: 60_000, attenteMs: 50, concurrence },
  });
  const workers: WorkerProcess[] = [];
  try {
    const t0 = performance.now();
    const lignes = Array.from({ length: familles }, (_, i) => (i % 3 === 0 ? bertinRoussel(`FAM-${100_000 + i}`) : garnier(`FAM-${100_000 + i}`)));
    const { campagne } = await web.services.campagnes.importer(fichierCsv(lignes), 'rentree.csv', 'Rentrée (banc d’essai)', AGENT_ADMIN);
    if (!campagne) throw new Error('import refusé');
    const importMs = performance.now() - t0;
    if (!enProcessus) {
      // The workers are composed before the start, so that their start-up is not counted in the campaign's time.
      for (let i = 0; i < nWorkers; i++) {
        workers.push(
          await lancerWorker(
            { url, dataDir, instanceId: `bench-worker-${i}`, connection: sandboxConnection(sandbox, SCOPE), readyTimeoutMs: 300_000 },
            { bailMs: 60_000, concurrence, quotaFenetre, limite },
          ),
        );
      }
    }
    const debut = Date.now();
    await web.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
    if (enProcessus) web.services.executeurCampagnes.start();
    // Bounded, generously: a loaded machine is slow (its CPU, not the quota, may set the pace), never stuck.
    const limiteAttente = debut + ((familles / limite) * fenetreMs * 10 + familles * 2_000 + 120_000);
    let dernier = -1;
    for (;;) {
      const etat = await web.services.campagnes.etat(campagne.id);
      const faits = etat.progression.traites;
      if (Math.floor(faits / 500) > Math.floor(dernier / 500) || (faits === familles && dernier !== familles))
        console.log(`  ${dialecte} : ${n.format(faits)} / ${n.format(familles)}`);
      dernier = faits;
      if (etat.statut === 'terminee') break;
      if (Date.now() > limiteAttente) throw new Error(`campagne non terminée à temps (${faits} / ${familles})`);
      for (const w of workers)
        if (w.child.exitCode !== null || w.child.signalCode !== null) throw new Error(`un worker s’est arrêté :\n${w.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const fin = Date.parse((await web.services.campagnes.etat(campagne.id)).termineeLe ?? new Date().toISOString());
    const appels = sandbox.admin.calls().filter((c) => c.api === 'sfip');
    const acceptes = appels.filter((c) => c.status !== 429).map((c) => c.at);
    return {
      dialecte,
      processus: enProcessus ? '1 processus' : `${nWorkers} workers + 1 web`,
      importMs,
      dureeMs: fin - debut,
      appels: appels.length,
      refus429: sandbox.admin.calls().filter((c) => c.status === 429).length,
      pire: maxCallsInAnyWindow(acceptes, fenetreMs),
      utilisation: utilisation(acceptes),
    };
  } finally {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.fin));
    await arreterWorkers();
    await web.close();
    await database.close();
    await drop();
  }
}

const sandbox = await startSandbox({ dataDir: join(dir, 'pki'), quota: { limit: limite, windowMs: fenetreMs } });
try {
  console.log(
    `${n.format(familles)} familles, quota ${limite} appels par ${n.format(fenetreMs)} ms (marge ${margeMs} ms), ${nWorkers} workers × ${concurrence} éléments à la fois`,
  );
  const plafond = fenetreMs / (fenetreMs + margeMs);
  for (const dialecte of values.dialectes.split(',')) {
    const m = await campagne(sandbox, dialecte.trim());
    const physique = (m.appels / limite) * fenetreMs;
    console.log(
      [
        `${m.dialecte}, ${m.processus} : import ${n.format(Math.round(m.importMs))} ms, campagne ${n.format(Math.round(m.dureeMs))} ms`,
        `  appels SFiP ${n.format(m.appels)}, réponses 429 : ${m.refus429}, au plus ${m.pire} appels dans une fenêtre de ${n.format(fenetreMs)} ms (limite ${limite})`,
        `  utilisation du quota ${n.format(m.utilisation)} ; plafond fenêtre ÷ (fenêtre + marge) ${n.format(plafond)} ; rapport ${n.format(m.utilisation / plafond)} (objectif ≥ 0,98)`,
        `  durée ÷ limite physique (${n.format(m.appels)} ÷ ${limite} × ${n.format(fenetreMs)} ms = ${n.format(Math.round(physique))} ms) : ${n.format(m.dureeMs / physique)}`,
      ].join('\n'),
    );
  }
} finally {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
}
