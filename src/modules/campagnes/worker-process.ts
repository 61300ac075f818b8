/**
 * Test and benchmark support: a campaign worker in its own process (`crash.child.ts`), on a
 * database and a sandbox of the caller's, composed before it claims anything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { DgfipConnection } from '../../sources/dgfip.ts';
import type { ReglagesWorker } from './crash.child.ts';

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** Everything it wrote (stdout and stderr), for the SPI canary and for a failure's message. */
  readonly output: () => string;
  /** Starts claiming, when it was launched with `attendreGo`. */
  go(): void;
  /** Its signal, or its exit code, once it is gone. */
  readonly fin: Promise<NodeJS.Signals | number | null>;
}

/** The processes launched and not yet gone: whoever launched them stops them all at the end. */
export const workersVivants = new Set<ChildProcess>();

export function lancerWorker(
  options: { url: string; dataDir: string; instanceId: string; connection: DgfipConnection; readyTimeoutMs: number },
  reglages: ReglagesWorker,
): Promise<WorkerProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL('./crash.child.ts', import.meta.url).pathname, options.url, options.dataDir, options.instanceId],
      {
        env: { ...process.env, QUOTIENT_TEST_CONNECTION: JSON.stringify(options.connection), QUOTIENT_TEST_WORKER: JSON.stringify(reglages) },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    workersVivants.add(child);
    let out = '';
    const fin = new Promise<NodeJS.Signals | number | null>((r) => child.once('close', (code, signal) => r(signal ?? code)));
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => reject(new Error(`worker not ready in time:\n${out}`)), options.readyTimeoutMs);
    child.stdout.on('data', () => {
      if (out.includes('PRET')) {
        clearTimeout(timer);
        resolve({ child, output: () => out, go: () => child.stdin.write('GO\n'), fin });
      }
    });
    void fin.then(() => {
      workersVivants.delete(child);
      clearTimeout(timer);
      if (!out.includes('PRET')) reject(new Error(`worker exited before ready:\n${out}`));
    });
  });
}

/** SIGKILL to every worker still there, and wait until they are gone. */
export async function arreterWorkers(): Promise<void> {
  await Promise.all(
    [...workersVivants].map((c) => {
      c.kill('SIGKILL');
      return new Promise((r) => c.once('close', r));
    }),
  );
}
