import { spawn } from 'node:child_process';

/** The installed entry point, as the operator runs it. */
export const BIN = new URL('../../bin/quotient.js', import.meta.url).pathname;

// The deadline only stops a hung child; it is generous because a loaded 2-core CI machine can take
// a minute to start a process that also builds a database.
export const CLI_DEADLINE_MS = 180_000;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Only the variables a test sets (`undefined` removes one), over PATH and HOME: the developer's own
 * QUOTIENT_* must not leak into the child.
 */
export function cliEnv(...layers: ReadonlyArray<Record<string, string | undefined>>): Record<string, string> {
  const merged: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer)) {
      if (value === undefined) delete merged[name];
      else merged[name] = value;
    }
  }
  return merged;
}

/** Runs `quotient <args>` to its end and collects what it printed and its exit code. */
export function runCli(
  args: readonly string[],
  options: { readonly cwd: string; readonly env: Record<string, string>; readonly timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? CLI_DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
