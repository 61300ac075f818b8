/**
 * The production build of Quotient as an operator runs it, for the benchmarks that load it over HTTP:
 * `quotient serve --role web` from dist/ under plain node, on SQLite, its DGFiP gateway the sandbox
 * (started here, in the benchmark's process), its mail relay a local capture. A family signs up,
 * confirms its address, completes its household and computes its quotient through the real forms.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { csrfOf, Jar } from '../src/http/test-cookies.ts';
import { startCaptureSmtp, type CaptureSmtp } from '../src/infra/mail/mailer.ts';
import { sandboxEnv } from '../src/sandbox/connection.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../src/sandbox/server.ts';
import { productionEnv, ROOT, run, startUntil, type Started } from '../test/build/production.ts';

const BIN = join(ROOT, 'bin/quotient.js');
const PASSWORD = 'Banc d’essai du portail 2026';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

export function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** CPU time (user and system, milliseconds) a process has used so far, from /proc: fair on a loaded machine. */
export function cpuMs(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

export interface Reponse {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

/** A browser's minimum against one origin: cookies kept, redirects not followed. */
export class Navigateur {
  readonly jar = new Jar();
  constructor(
    readonly origin: string,
    private readonly dispatcher: Agent,
  ) {}

  async get(path: string): Promise<Reponse> {
    return this.send('GET', path);
  }

  /** Posts `fields` with the CSRF token of the page `from`. */
  async post(from: string, path: string, fields: Record<string, string>): Promise<Reponse> {
    return this.postAvec(csrfOf((await this.get(from)).body), path, fields);
  }

  /** Posts `fields` with a CSRF token read earlier: what the user does once the page is on screen. */
  postAvec(csrf: string, path: string, fields: Record<string, string>): Promise<Reponse> {
    return this.send('POST', path, new URLSearchParams({ _csrf: csrf, ...fields }).toString());
  }

  private async send(method: 'GET' | 'POST', path: string, body?: string): Promise<Reponse> {
    const res = await request(new URL(path, this.origin), {
      method,
      dispatcher: this.dispatcher,
      headers: { cookie: this.jar.header(), ...(body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(body === undefined ? {} : { body }),
    });
    this.jar.take(res.headers as Record<string, unknown>);
    const text = await res.body.text();
    const location = res.headers.location;
    return { status: res.statusCode, location: typeof location === 'string' ? location : undefined, body: text };
  }
}

export interface QuotientConstruit {
  readonly origin: string;
  readonly server: Started;
  readonly sandbox: SandboxHandle;
  readonly smtp: CaptureSmtp;
  readonly dispatcher: Agent;
  /** A new family account, confirmed, signed in, its household complete (the sandbox's young mother, RFR 0). */
  famille(n: number): Promise<Navigateur>;
  close(): Promise<void>;
}

/** The young mother of the sandbox: her avis names her, so the identity control passes. */
export const SPI_FAMILLE = SPI_SANDBOX.rfrZero;

async function courriel(smtp: CaptureSmtp, to: string): Promise<string> {
  // Account mails leave after the answer: a bounded number of short turns.
  for (let i = 0; i < 400; i++) {
    const found = smtp.messages.findLast((m) => m.to.includes(to));
    if (found) return found.text;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`pas de courriel pour ${to}`);
}

/** Builds dist/ when stale, migrates a fresh SQLite database and starts the built server on it. */
export async function demarrerQuotientConstruit(options: { env?: Record<string, string>; profilDir?: string } = {}): Promise<QuotientConstruit> {
  const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-construit-'));
  const cleanup: Array<() => Promise<unknown> | unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  const closeAll = async () => {
    for (const close of cleanup.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
  };
  try {
    const built = await run(process.execPath, [join(ROOT, 'scripts/build.js'), '--if-stale'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '' } });
    if (built.code !== 0) throw new Error(built.stderr);
    const sandbox = await startSandbox({ dataDir: join(dir, 'pki'), quota: { limit: 1000 } });
    cleanup.push(() => sandbox.close());
    const smtp = await startCaptureSmtp({ max: 2000 });
    cleanup.push(() => smtp.close());
    const env = { ...productionEnv(dir), ...sandboxEnv(sandbox), QUOTIENT_SMTP_URL: smtp.url, ...options.env };
    for (const step of [['keys', 'init'], ['migrate']]) {
      const r = await run(process.execPath, [BIN, ...step], { cwd: dir, env });
      if (r.code !== 0) throw new Error(`${step.join(' ')} : ${r.stderr}`);
    }
    // --profil: the server's CPU profile, written when it stops (open it in Chrome's DevTools).
    const profil = options.profilDir ? ['--cpu-prof', '--cpu-prof-dir', options.profilDir] : [];
    const server = await startUntil(
      process.execPath,
      [...profil, BIN, 'serve', '--role', 'web', '--sandbox'],
      { cwd: dir, env },
      /écoute sur [^:]+:(\d+)/,
      120_000,
    );
    cleanup.push(async () => {
      server.child.kill('SIGTERM');
      await server.exit;
    });
    const origin = `http://127.0.0.1:${server.match[1]}`;
    const dispatcher = new Agent({ connections: 4 });
    cleanup.push(() => dispatcher.close());
    return {
      origin,
      server,
      sandbox,
      smtp,
      dispatcher,
      async famille(n) {
        const email = `lea.roux.${n}@exemple.fr`;
        const b = new Navigateur(origin, dispatcher);
        const inscrit = await b.post('/inscription', '/inscription', { prenoms: 'Léa', nom: 'Roux', email, password: PASSWORD });
        if (inscrit.status !== 200) throw new Error(`inscription : ${inscrit.status} ${inscrit.body.slice(0, 300)}`);
        const link = new URL(/https?:\/\/\S+/.exec(await courriel(smtp, email))?.[0] ?? '');
        const confirme = await b.post(link.pathname + link.search, '/inscription/confirmation', { jeton: link.searchParams.get('jeton') ?? '' });
        if (confirme.status !== 200) throw new Error(`confirmation : ${confirme.status}`);
        const connecte = await b.post('/connexion', '/connexion', { email, password: PASSWORD });
        if (connecte.status !== 303) throw new Error(`connexion : ${connecte.status} ${connecte.body.slice(0, 300)}`);
        const foyer = await b.post('/mon-foyer', '/mon-foyer', {
          'parent1-prenoms': 'Léa',
          'parent1-nomNaissance': 'Roux',
          'parent1-dateNaissance': '19/05/2003',
          'enfant1-prenoms': 'Jade',
          'enfant1-nom': 'Roux',
          'enfant1-dateNaissance': '30/01/2023',
        });
        if (foyer.status !== 303) throw new Error(`mon foyer : ${foyer.status} ${foyer.body.slice(0, 600)}`);
        const accord = await b.post('/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
        if (accord.status !== 303) throw new Error(`accord : ${accord.status} ${accord.body.slice(0, 300)}`);
        return b;
      },
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/**
 * Step 4 of the form: the numéro fiscal sent; resolves with the result page's path once the answer
 * shows a quotient, and the milliseconds from the post to that page.
 */
export async function calculer(b: Navigateur): Promise<{ path: string; ms: number; envoiMs: number }> {
  const csrf = csrfOf((await b.get('/mon-quotient/numero')).body);
  const t0 = performance.now();
  const sent = await b.postAvec(csrf, '/mon-quotient/numero', { 'numero-1': SPI_FAMILLE });
  if (sent.status !== 303 || !sent.location) throw new Error(`numéro : ${sent.status} ${sent.body.slice(0, 300)}`);
  const envoiMs = performance.now() - t0;
  const page = await b.get(sent.location);
  const ms = performance.now() - t0;
  if (page.status !== 200 || !page.body.includes('Votre quotient familial')) throw new Error(`résultat : ${page.status} ${page.body.slice(0, 600)}`);
  return { path: sent.location, ms, envoiMs };
}
