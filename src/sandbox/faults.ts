import type { ServerResponse } from 'node:http';
import type { Answer } from './http.ts';
import { SPI_SANDBOX } from './population.ts';
import { QuotientError } from '../domain/errors.ts';

/**
 * Fault injection: what can go wrong between a commune and the DGFiP, on demand. A rule targets an
 * API, an SPI, or everything, for a number of calls or until removed; the SPIs of
 * `SPI_SANDBOX.fautes` always fail their way, so that the sandbox run from the command line can
 * show every failure without any switch.
 */

export type FaultKind =
  | 'http500'
  | 'http503'
  | 'http504'
  | 'http429'
  | 'timeout'
  | 'slowDrip'
  | 'malformedJson'
  | 'truncatedBody'
  | 'oversizedBody'
  | 'connectionReset'
  | 'wrongContentType'
  | 'redirect'
  | 'schemaMismatch';

export const FAULT_KINDS: readonly FaultKind[] = [
  'http500',
  'http503',
  'http504',
  'http429',
  'timeout',
  'slowDrip',
  'malformedJson',
  'truncatedBody',
  'oversizedBody',
  'connectionReset',
  'wrongContentType',
  'redirect',
  'schemaMismatch',
];

export type SandboxApi = 'impot-particulier' | 'r2p' | 'sfip' | 'api-particulier' | 'quotient-caf' | 'token';

export interface FaultRule {
  readonly kind: FaultKind;
  /** Only calls about this SPI (path, FranceConnect token, SFiP `spi`, API Particulier `numeroFiscal`). */
  readonly spi?: string;
  /** Which API; default every data API (not the token endpoint); `toutes` includes the token endpoint. */
  readonly api?: SandboxApi | 'toutes';
  /** How many calls fail; default every call until the rule is removed. */
  readonly times?: number;
  /** `http429`, `http503`: the `Retry-After` sent (seconds). */
  readonly retryAfterSeconds?: number;
  /** `slowDrip`: pause between two chunks (default 1000 ms). */
  readonly intervalMs?: number;
  /** `slowDrip`: bytes per chunk (default 1). `oversizedBody`: total size (default 10 MiB). */
  readonly bytes?: number;
}

interface ActiveRule {
  readonly id: string;
  readonly rule: FaultRule;
  remaining: number;
}

const BUILT_IN = new Map<string, FaultKind>(Object.entries(SPI_SANDBOX.fautes).map(([kind, spi]) => [spi, kind as FaultKind]));

export class FaultSwitch {
  private readonly rules: ActiveRule[] = [];
  private next = 1;

  constructor(initial: readonly FaultRule[] = []) {
    for (const rule of initial) this.add(rule);
  }

  add(rule: FaultRule): string {
    if (!FAULT_KINDS.includes(rule.kind)) throw new QuotientError('invalid', 'configuration_bac_a_sable', `Panne inconnue : « ${String(rule.kind)} ».`);
    const id = `panne-${this.next++}`;
    this.rules.push({ id, rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
    return id;
  }

  remove(id: string): boolean {
    const i = this.rules.findIndex((r) => r.id === id);
    if (i === -1) return false;
    this.rules.splice(i, 1);
    return true;
  }

  clear(): void {
    this.rules.length = 0;
  }

  list(): readonly (FaultRule & { readonly id: string; readonly remaining: number })[] {
    return this.rules.map((r) => ({ ...r.rule, id: r.id, remaining: r.remaining }));
  }

  /** The fault to apply to this call, consuming one use of the rule; built-in SPIs last. */
  match(api: SandboxApi, spi: string | undefined): FaultRule | undefined {
    for (const active of this.rules) {
      const r = active.rule;
      const apiOk = r.api === 'toutes' || r.api === api || (r.api === undefined && api !== 'token');
      if (!apiOk || (r.spi !== undefined && r.spi !== spi)) continue;
      active.remaining -= 1;
      if (active.remaining <= 0) this.rules.splice(this.rules.indexOf(active), 1);
      return r;
    }
    const builtIn = spi !== undefined && api !== 'token' ? BUILT_IN.get(spi) : undefined;
    return builtIn ? { kind: builtIn } : undefined;
  }
}

/** What the injector needs from the server: error bodies in the API's own style, and cleanup. */
export interface FaultEnvironment {
  /** Body of a 5xx/429 in the style of the API being called. */
  errorAnswer(status: 429 | 500 | 503 | 504, retryAfterSeconds?: number): Answer;
  /** Registers a cleanup run when the sandbox closes (timers of a drip, hanging responses). */
  onClose(cleanup: () => void): () => void;
}

function head(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, length: number): void {
  res.writeHead(status, { ...headers, 'content-length': String(length) });
}

export function writeAnswer(res: ServerResponse, answer: Answer): void {
  const body = Buffer.from(answer.body, 'utf8');
  head(res, answer.status, answer.headers, body.length);
  res.end(body);
}

/** Writes `answer` spoiled by `fault`. */
export function writeFaulty(res: ServerResponse, answer: Answer, fault: FaultRule, env: FaultEnvironment): void {
  const body = Buffer.from(answer.body, 'utf8');
  switch (fault.kind) {
    case 'http500':
    case 'http503':
    case 'http504':
    case 'http429': {
      const status = ({ http500: 500, http503: 503, http504: 504, http429: 429 } as const)[fault.kind];
      const retry = fault.retryAfterSeconds ?? (fault.kind === 'http429' ? 30 : undefined);
      writeAnswer(res, env.errorAnswer(status, retry));
      return;
    }
    case 'timeout': {
      // Never answer; the socket stays open until the client gives up or the sandbox closes.
      const release = env.onClose(() => res.socket?.destroy());
      res.on('close', release);
      return;
    }
    case 'slowDrip': {
      const step = Math.max(1, fault.bytes ?? 1);
      const interval = Math.max(1, fault.intervalMs ?? 1000);
      head(res, answer.status, answer.headers, body.length);
      let offset = 0;
      const timer = setInterval(() => {
        if (res.destroyed) return stop();
        res.write(body.subarray(offset, offset + step));
        offset += step;
        if (offset >= body.length) {
          stop();
          res.end();
        }
      }, interval);
      const release = env.onClose(() => {
        clearInterval(timer);
        res.socket?.destroy();
      });
      const stop = (): void => {
        clearInterval(timer);
        release();
      };
      res.on('close', stop);
      return;
    }
    case 'malformedJson': {
      // Cut in the middle of the document: not JSON any more, yet a complete HTTP message.
      const cut = Buffer.concat([body.subarray(0, Math.max(1, Math.floor(body.length / 2))), Buffer.from(',"', 'utf8')]);
      head(res, answer.status, answer.headers, cut.length);
      res.end(cut);
      return;
    }
    case 'truncatedBody': {
      head(res, answer.status, answer.headers, body.length);
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
      return;
    }
    case 'oversizedBody': {
      const total = Math.max(64, fault.bytes ?? 10 * 1024 * 1024);
      const prefix = Buffer.from('{"rfr":1,"remplissage":"', 'utf8');
      const suffix = Buffer.from('"}', 'utf8');
      head(res, 200, { 'content-type': answer.headers['content-type'] ?? 'application/json' }, total);
      let left = total - prefix.length - suffix.length;
      const chunk = Buffer.alloc(64 * 1024, 'x');
      res.write(prefix);
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(chunk.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end(suffix);
      };
      pump();
      return;
    }
    case 'connectionReset': {
      const socket = res.socket as (NonNullable<ServerResponse['socket']> & { resetAndDestroy?: () => void }) | null;
      if (socket?.resetAndDestroy) socket.resetAndDestroy();
      else socket?.destroy();
      return;
    }
    case 'wrongContentType': {
      writeAnswer(res, {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8' },
        body: '<!doctype html><html lang="fr"><head><title>Maintenance</title></head><body><h1>Service en maintenance</h1></body></html>',
      });
      return;
    }
    case 'redirect': {
      writeAnswer(res, {
        status: 302,
        headers: { location: 'https://passerelle-detournee.invalid/impotparticulier/1.0/', 'content-type': 'text/plain' },
        body: '',
      });
      return;
    }
    case 'schemaMismatch': {
      writeAnswer(res, {
        status: 200,
        headers: { 'content-type': answer.headers['content-type'] ?? 'application/json' },
        body: JSON.stringify({ rfr: 'vingt mille', nbPart: 'deux', sitFam: 42, pac: { nbPac: 'un' }, annRevenu: 'dernière' }),
      });
      return;
    }
  }
}
