import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskDigitRuns, maskLogLine, REDACTED, SENSITIVE_KEYS } from './redaction.ts';

export type { Logger } from 'pino';

/**
 * A request URL as it may be logged: the path and the names of the query parameters, never their
 * values, which may be what a person typed (the simulator's income, a search) or a one-time code.
 */
export function urlForLog(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const start = url.indexOf('?');
  if (start < 0) return url;
  const names = url
    .slice(start + 1)
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => `${pair.split('=')[0] ?? ''}=${REDACTED}`);
  return `${url.slice(0, start)}?${names.join('&')}`;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const sensitive = new Set(SENSITIVE_KEYS);
const SERIALIZED_KEYS = new Set(['req', 'res', 'err']);

/**
 * Redacts sensitive keys at any depth. pino's own `redact` needs exact paths; the objects we log
 * (requests, upstream errors, nested causes) are too varied for a fixed list, so we walk them.
 */
function redactDeep(value: unknown, seen: WeakSet<object>, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circulaire]';
  if (depth > 12) return '[profondeur]';
  // Value objects that know how to print themselves safely (NumeroFiscal) keep doing so.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function' && !(value instanceof Error)) {
    return (value as { toJSON: () => unknown }).toJSON();
  }
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, seen, depth + 1));
  const out: Record<string, unknown> = {};
  const source = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
  for (const [key, inner] of Object.entries(source)) {
    out[key] = sensitive.has(key.toLowerCase()) ? REDACTED : redactDeep(inner, seen, depth + 1);
  }
  return out;
}

function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [key, inner] of Object.entries(error)) fields[key] = inner;
  if (error.cause !== undefined) fields.cause = error.cause;
  return fields;
}

/** A destination that applies the last layer to every serialised line before writing it. */
function maskingDestination(target: DestinationStream): DestinationStream {
  return { write: (line: string) => target.write(maskLogLine(line)) };
}

export interface LoggerSettings {
  level?: LogLevel;
  /** Where lines go; standard output by default. Tests pass a collector. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: settings.base ?? { service: 'quotient' },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    errorKey: 'err',
    formatters: {
      level: (label) => ({ level: label }),
      // Keys with a serializer of their own (req, res, err) are left to it: walking a request
      // object would lose its prototype getters (method, url).
      log: (object) => {
        const out: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(object)) {
          if (SERIALIZED_KEYS.has(key)) out[key] = value;
          else out[key] = sensitive.has(key.toLowerCase()) ? REDACTED : redactDeep(value, new WeakSet(), 1);
        }
        return out;
      },
    },
    serializers: {
      // Keep fastify's request logs to what operators need: never headers (cookies, tokens).
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: urlForLog(req.url),
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: unknown) => redactDeep(err, new WeakSet(), 0),
    },
    // Messages built from template strings are masked too, by the destination.
    hooks: {
      logMethod(args, method) {
        const masked = args.map((arg) => (typeof arg === 'string' ? maskDigitRuns(arg) : arg));
        method.apply(this, masked as Parameters<typeof method>);
      },
    },
  };
  const target = settings.destination ?? pino.destination({ dest: 1, sync: true });
  return pino(options, maskingDestination(target));
}
