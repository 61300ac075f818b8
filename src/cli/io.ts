import { parseArgs, type ParseArgsConfig } from 'node:util';
import { QuotientError } from '../domain/errors.ts';

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

/**
 * `util.parseArgs` with French errors: an unknown option or a missing value is a usage error
 * (exit 2), never an unexpected failure.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const message = error instanceof Error ? error.message : '';
    const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
    const text: Record<string, string> = {
      ERR_PARSE_ARGS_UNKNOWN_OPTION: `option inconnue${option ? ` : ${option}` : ''}`,
      ERR_PARSE_ARGS_INVALID_OPTION_VALUE: `valeur manquante ou invalide${option ? ` pour ${option}` : ''}`,
      ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: 'argument inattendu',
    };
    throw new QuotientError(
      'invalid',
      'usage_invalide',
      `Utilisation incorrecte : ${text[code] ?? 'arguments invalides'}. Voir « quotient <commande> --help ».`,
    );
  }
}

/**
 * The arguments after a command's one sub-command (`quotient dgfip check …`); anything else is a
 * usage error (exit 2) that quotes the usage's first line.
 */
export function argsDeSousCommande(argv: readonly string[], attendue: string, usage: string): string[] {
  const [sub, ...rest] = argv;
  if (sub !== attendue) {
    throw new QuotientError(
      'invalid',
      'usage_invalide',
      `Sous-commande ${sub === undefined ? 'manquante' : `inconnue : « ${sub} »`}. Usage : ${usage.split('\n')[0]}`,
    );
  }
  return rest;
}
