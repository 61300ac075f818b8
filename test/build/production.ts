import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEnv, type CliResult } from '../cli/run-cli.ts';

/** Helpers to run the production build as an operator would: shared by the build test and bench/demarrage.ts. */

export const ROOT = new URL('../../', import.meta.url).pathname;
export const DEMO_COMMUNE = join(ROOT, 'examples/commune-demo.yaml');

/** Runs `scripts/build.js --outdir DIR`; resolves with what it printed. */
export function build(outdir: string, deadlineMs = 120_000): Promise<CliResult> {
  return run(process.execPath, [join(ROOT, 'scripts/build.js'), '--outdir', outdir], { cwd: ROOT, env: cliEnv() }, deadlineMs);
}

/** Node arguments that run the built command `main` of `distDir` with `args`, as bin/quotient.js does. */
export function builtCommand(distDir: string, args: readonly string[]): string[] {
  const launch = 'const { main } = await import(process.argv[1]); process.exitCode = await main(process.argv.slice(2));';
  return ['--input-type=module', '-e', launch, join(distDir, 'main.js'), ...args];
}

/** Everything `quotient serve --sandbox` needs in production mode, under `dir`, on SQLite. */
export function productionEnv(dir: string): Record<string, string> {
  const keys = join(dir, 'cles');
  mkdirSync(keys, { recursive: true });
  const env = {
    QUOTIENT_LOG_LEVEL: 'warn',
    QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'quotient.db')}`,
    QUOTIENT_CONFIG: DEMO_COMMUNE,
    QUOTIENT_PORT: '0',
    QUOTIENT_HOST: '127.0.0.1',
    QUOTIENT_DATA_DIR: join(dir, 'data'),
    QUOTIENT_AUDIT_KEY_FILE: join(keys, 'journal.key'),
    QUOTIENT_MASTER_KEY_FILE: join(keys, 'coffre.json'),
    QUOTIENT_SESSION_KEY_FILE: join(keys, 'sessions.key'),
  };
  writeFileSync(env.QUOTIENT_AUDIT_KEY_FILE, randomBytes(32).toString('base64'), { mode: 0o600 });
  writeFileSync(env.QUOTIENT_SESSION_KEY_FILE, randomBytes(32).toString('base64'), { mode: 0o600 });
  return cliEnv(env);
}

/** Runs a command to its end (killed after the deadline, which only stops a hung child). */
export function run(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }, deadlineMs = 180_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Started {
  readonly child: ChildProcess;
  readonly match: RegExpExecArray;
  readonly output: () => string;
  readonly exit: Promise<number | null>;
}

/** Starts a long-running command and resolves once its output matches `ready`; rejects if it exits first or after the deadline. */
export function startUntil(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
  ready: RegExp,
  deadlineMs = 180_000,
): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    let output = '';
    let done = false;
    const exit = new Promise<number | null>((settle) => child.on('close', (code) => settle(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      if (!done) reject(new Error(`pas prêt à temps :\n${output}`));
    }, deadlineMs);
    const onData = (d: Buffer) => {
      output += d.toString();
      const match = ready.exec(output);
      if (match && !done) {
        done = true;
        clearTimeout(timer);
        resolve({ child, match, output: () => output, exit });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then((code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`arrêté (${code}) avant d’être prêt :\n${output}`));
    });
  });
}
