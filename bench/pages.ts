/**
 * Pages under load: the production build of Quotient (dist/, plain node, `serve --role web`, SQLite,
 * journal and sessions as in production) against a bare Fastify 5 server sending the same HTML, each
 * in its own process, loaded in turn from this one with the same number of keep-alive connections.
 * Pages: the home page, the simulator with a result, and a signed-in family's result page (each view
 * is journaled). Targets: home ≥ 0,5 ×, simulator ≥ 0,3 ×, result page ≥ 0,15 ×, home p95 ≤ 50 ms
 * (quiet machine), Quotient's RSS ≤ 150 Mio after the run.
 *
 *   node --import tsx bench/pages.ts [--connections 100] [--seconds 3] [--rounds 3] [--pages accueil,simulateur,resultat] [--profil DIR]
 *
 * --profil writes the server's CPU profile (node --cpu-prof) into DIR when it stops.
 *
 * Rounds alternate Quotient and Fastify (the order flipped every round) so that a busy moment of the
 * shared machine weighs on both; the ratio is the median of each round's ratio. Printed, never asserted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { calculer, cpuMs, demarrerQuotientConstruit, Navigateur, median, quantile, rssMiB } from './quotient-construit.ts';
import { ROOT, startUntil, type Started } from '../test/build/production.ts';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    profil: { type: 'string' },
    pages: { type: 'string' },
  },
});
const connections = Math.max(1, Number(values.connections));
const durationMs = Math.max(0.2, Number(values.seconds)) * 1000;
const rounds = Math.max(1, Number(values.rounds));
const n = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });

/** The bare server: each path answers the HTML Quotient sent for it, nothing else. */
const BARE = [
  "import Fastify from 'fastify';",
  "import { readFileSync } from 'node:fs';",
  "const pages = JSON.parse(readFileSync(process.argv[1], 'utf8'));",
  'const app = Fastify();',
  "for (const [path, html] of Object.entries(pages)) app.get(path, async (_request, reply) => reply.type('text/html; charset=utf-8').send(html));",
  "await app.listen({ host: '127.0.0.1', port: 0 });",
  "console.log('écoute sur 127.0.0.1:' + app.server.address().port);",
  "process.once('SIGTERM', () => app.close());",
].join('\n');

interface Mesure {
  readonly rps: number;
  /** Server CPU milliseconds (user + system) per answer. */
  readonly cpu: number;
  readonly system: number;
  readonly latencies: number[];
  readonly erreurs: number;
}

/** `connections` loops, each sending its next request when the previous answer is read, until the deadline. */
async function charge(origin: string, pid: number, path: string, headers: Record<string, string>, ms: number): Promise<Mesure> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let erreurs = 0;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const start = performance.now();
        try {
          const res = await pool.request({ path, method: 'GET', headers });
          await res.body.dump();
          if (res.statusCode !== 200) erreurs++;
        } catch {
          erreurs++;
        }
        latencies.push(performance.now() - start);
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpu1 = cpuMs(pid);
  await pool.close();
  const count = Math.max(1, latencies.length);
  return {
    rps: (latencies.length * 1000) / elapsed,
    cpu: (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / count,
    system: (cpu1.system - cpu0.system) / count,
    latencies,
    erreurs,
  };
}

const quotient = await demarrerQuotientConstruit(values.profil ? { profilDir: values.profil } : {});
const anonyme = new Navigateur(quotient.origin, quotient.dispatcher);
const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-pages-'));
let bare: Started | undefined;
try {
  const famille = await quotient.famille(1);
  const { path: resultat } = await calculer(famille);
  const cookie = famille.jar.header();
  const pages: Array<{ cle: string; nom: string; path: string; route: string; headers: Record<string, string>; objectif: number }> = [
    { cle: 'accueil', nom: 'accueil', path: '/', route: '/', headers: {} as Record<string, string>, objectif: 0.5 },
    { cle: 'simulateur', nom: 'simulateur', path: '/simulateur?rfr=48000&parts=3', route: '/simulateur', headers: {}, objectif: 0.3 },
    { cle: 'resultat', nom: 'résultat (connecté)', path: resultat, route: resultat, headers: { cookie }, objectif: 0.15 },
  ].filter((p) => values.pages === undefined || values.pages.split(',').includes(p.cle));
  // The HTML each page sends, for the bare server to send the same bytes.
  const html: Record<string, string> = {};
  for (const p of pages) {
    const { status, body } = await (p.headers.cookie ? famille : anonyme).get(p.path);
    if (status !== 200 || !body.includes('</html>')) throw new Error(`${p.path} : ${status}`);
    html[p.route] = body;
  }
  const pagesFile = join(dir, 'pages.json');
  writeFileSync(pagesFile, JSON.stringify(html));
  bare = await startUntil(
    process.execPath,
    ['--input-type=module', '-e', BARE, pagesFile],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } },
    /écoute sur 127\.0\.0\.1:(\d+)/,
  );
  const bareOrigin = `http://127.0.0.1:${bare.match[1]}`;

  console.log(
    `${connections} connexions, ${rounds} manches de ${n.format(durationMs / 1000)} s par page et par serveur, alternées ; Quotient : dist/ (construction de production), node ${process.version}`,
  );
  let p95Accueil: number[] = [];
  for (const p of pages) {
    // A short warm-up of each side (JIT, caches, connections) before the measured rounds.
    await charge(quotient.origin, quotient.server.child.pid!, p.path, p.headers, 500);
    await charge(bareOrigin, bare!.child.pid!, p.path, {}, 500);
    const ratios: number[] = [];
    const q: Mesure[] = [];
    const f: Mesure[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = [
        async () => q.push(await charge(quotient.origin, quotient.server.child.pid!, p.path, p.headers, durationMs)),
        async () => f.push(await charge(bareOrigin, bare!.child.pid!, p.path, {}, durationMs)),
      ];
      if (r % 2 === 1) order.reverse();
      for (const step of order) await step();
      ratios.push(q.at(-1)!.rps / f.at(-1)!.rps);
    }
    const erreurs = q.reduce((s, m) => s + m.erreurs, 0) + f.reduce((s, m) => s + m.erreurs, 0);
    const p95 = q.map((m) => quantile(m.latencies, 0.95));
    if (p.nom === 'accueil') p95Accueil = p95;
    console.log(
      `  ${p.nom.padEnd(20)} Quotient ${n.format(median(q.map((m) => m.rps)))} req/s, Fastify nu ${n.format(median(f.map((m) => m.rps)))} req/s : ` +
        `rapport ${n.format(median(ratios))} × (manches : ${ratios.map((x) => n.format(x)).join(' ; ')} ; objectif ≥ ${n.format(p.objectif)} ×) ; ` +
        `CPU du serveur par réponse ${n.format(median(q.map((m) => m.cpu)))} ms (dont système ${n.format(median(q.map((m) => m.system)))}) contre ${n.format(median(f.map((m) => m.cpu)))} ms (${n.format(median(f.map((m) => m.system)))}), rapport ${n.format(median(f.map((m) => m.cpu)) / median(q.map((m) => m.cpu)))} × ; ` +
        `p50 ${n.format(median(q.map((m) => quantile(m.latencies, 0.5))))} ms, p95 ${n.format(median(p95))} ms${erreurs > 0 ? ` ; ${erreurs} réponses en erreur` : ''}`,
    );
  }
  console.log(`  p95 de l’accueil (Quotient, médiane des manches) : ${n.format(median(p95Accueil))} ms (objectif ≤ 50 ms sur une machine au calme)`);
  console.log(
    `  mémoire résidente après la charge : Quotient ${n.format(rssMiB(quotient.server.child.pid!))} Mio (objectif ≤ 150 Mio), Fastify nu ${n.format(rssMiB(bare.child.pid!))} Mio`,
  );
} finally {
  if (bare) {
    bare.child.kill('SIGTERM');
    await bare.exit;
  }
  await quotient.close();
  rmSync(dir, { recursive: true, force: true });
}
