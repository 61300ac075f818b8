/**
 * Start-up cost of the production build, against baselines run alternately in the same process:
 * - cold start of `quotient serve --role web` (built, plain node, SQLite, a DGFiP gateway configured
 *   but not called: production, so the sandbox is not loaded) until `/healthz` answers, against a
 *   bare Fastify 5 server started the same way (target ≤ 1.5 ×);
 * - `quotient --version` against `node -e 0` (target ≤ 2 ×), and `quotient simulate` for reference;
 * - resident memory (RSS) of both servers once started and idle.
 *
 *   node --import tsx bench/demarrage.ts [--runs 7] [--sources]
 *
 * Builds dist/ first when it is not current. --sources adds the same start through tsx (what every
 * start cost before the build). Figures are medians and ratios, printed, never asserted.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { productionEnv, ROOT, run, startUntil } from '../test/build/production.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, sources: { type: 'boolean', default: false } } });
const runs = Math.max(1, Number(values.runs));
const n = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });
const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-demarrage-'));
const BIN = join(ROOT, 'bin/quotient.js');

const BARE = [
  "import Fastify from 'fastify';",
  'const app = Fastify();',
  "app.get('/healthz', async () => ({ statut: 'ok' }));",
  "await app.listen({ host: '127.0.0.1', port: 0 });",
  "console.log('écoute sur 127.0.0.1:' + app.server.address().port);",
  "process.once('SIGTERM', () => app.close());",
].join('\n');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** Milliseconds from spawn to the first 200 of /healthz, and the idle RSS a moment later. */
async function coldStart(args: string[], env: Record<string, string>): Promise<{ ms: number; rss: number }> {
  const t0 = performance.now();
  const server = await startUntil(process.execPath, args, { cwd: ROOT, env }, /écoute sur 127\.0\.0\.1:(\d+)/, 120_000);
  try {
    const res = await fetch(`http://127.0.0.1:${server.match[1]}/healthz`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`/healthz : ${res.status}\n${server.output()}`);
    const ms = performance.now() - t0;
    // Idle: what stays once start-up garbage is collectable, read after the event loop had a breath.
    await new Promise((r) => setTimeout(r, 1000));
    return { ms, rss: rssMiB(server.child.pid!) };
  } finally {
    server.child.kill('SIGTERM');
    await server.exit;
  }
}

async function wall(args: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const r = await run(process.execPath, args, { cwd: ROOT, env }, 60_000);
  if (r.code !== 0) throw new Error(`${args.join(' ')} : ${r.stderr}`);
  return performance.now() - t0;
}

try {
  const built = await run(process.execPath, [join(ROOT, 'scripts/build.js'), '--if-stale'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
  if (built.code !== 0) throw new Error(built.stderr);
  const env = {
    ...productionEnv(dir),
    // A gateway as in production; nothing calls it while the server starts.
    DGFIP_BASE_URL: 'https://127.0.0.1:9/impotparticulier/1.0',
    DGFIP_TOKEN_URL: 'https://127.0.0.1:9/token',
    DGFIP_CLIENT_ID: 'banc-d-essai',
    DGFIP_CLIENT_SECRET: 'banc-d-essai',
    DGFIP_ID_TELESERVICE: 'banc-d-essai',
  };
  for (const step of [['keys', 'init'], ['migrate']]) {
    const r = await run(process.execPath, [BIN, ...step], { cwd: dir, env });
    if (r.code !== 0) throw new Error(`${step.join(' ')} : ${r.stderr}`);
  }
  const serve = [BIN, 'serve', '--role', 'web'];
  const bare = ['--input-type=module', '-e', BARE];
  const sourcesEnv = { ...env, QUOTIENT_SOURCES: '1' };
  const series: Record<string, { ms: number[]; rss: number[] }> = { quotient: { ms: [], rss: [] }, fastify: { ms: [], rss: [] }, sources: { ms: [], rss: [] } };
  for (let i = 0; i < runs; i++) {
    // Alternated, and the order flipped every run, so that a busy moment weighs on both sides.
    const order: Array<[keyof typeof series, string[], Record<string, string>]> = [
      ['quotient', serve, env],
      ['fastify', bare, env],
      ...(values.sources ? [['sources', serve, sourcesEnv] as [keyof typeof series, string[], Record<string, string>]] : []),
    ];
    if (i % 2 === 1) order.reverse();
    for (const [name, args, e] of order) {
      const r = await coldStart(args, e);
      series[name]!.ms.push(r.ms);
      series[name]!.rss.push(r.rss);
    }
  }
  const version: number[] = [];
  const nodeNoop: number[] = [];
  const simulate: number[] = [];
  const simulateArgs = [BIN, 'simulate', '--policy', join(ROOT, 'examples/strasbourg.yaml'), '--rfr', '30000', '--parts', '3'];
  for (let i = 0; i < runs * 2; i++) {
    const pair: Array<[number[], string[]]> = [
      [version, [BIN, '--version']],
      [nodeNoop, ['-e', '0']],
      [simulate, simulateArgs],
    ];
    if (i % 2 === 1) pair.reverse();
    for (const [into, args] of pair) into.push(await wall(args, env));
  }

  const q = median(series.quotient!.ms);
  const f = median(series.fastify!.ms);
  console.log(`Démarrage à froid jusqu’à /healthz (médiane de ${runs}, alternés) :`);
  console.log(`  quotient serve (construit)  ${n.format(q)} ms`);
  console.log(`  Fastify nu                  ${n.format(f)} ms`);
  console.log(`  rapport                     ${n.format(q / f)} × (objectif ≤ 1,5 ×)`);
  if (values.sources)
    console.log(`  par les sources (tsx)       ${n.format(median(series.sources!.ms))} ms, soit ${n.format(median(series.sources!.ms) / f)} ×`);
  console.log(`Mémoire résidente au repos après le démarrage (médiane) :`);
  console.log(
    `  quotient ${n.format(median(series.quotient!.rss))} Mio, Fastify nu ${n.format(median(series.fastify!.rss))} Mio, rapport ${n.format(median(series.quotient!.rss) / median(series.fastify!.rss))} ×`,
  );
  if (values.sources) console.log(`  par les sources (tsx) ${n.format(median(series.sources!.rss))} Mio`);
  const v = median(version);
  const z = median(nodeNoop);
  console.log(`Commandes courtes (médiane de ${runs * 2}, alternées) :`);
  console.log(`  quotient --version  ${n.format(v)} ms ; node -e 0  ${n.format(z)} ms ; rapport ${n.format(v / z)} × (objectif ≤ 2 ×)`);
  console.log(`  quotient simulate   ${n.format(median(simulate))} ms, soit ${n.format(median(simulate) / z)} × node -e 0`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
