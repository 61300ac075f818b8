/** What a command needs from its surroundings, passed in so that tests can capture it. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** Exit statuses shared by every command (the `dgfip check` command adds its own 3–5). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;

export interface CliCommand {
  /** One line of French help. */
  readonly summary: string;
  readonly usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    env: process.env,
    cwd: process.cwd(),
  };
}
