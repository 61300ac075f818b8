import type { Clock } from './calendar.ts';
import { QuotientError } from '../domain/errors.ts';

/**
 * The gateway's quota: at most `limit` accepted calls per client in any window of `windowMs`
 * (a sliding log, not fixed minutes, so that a burst across a minute boundary is caught as the
 * CGU's « 50 appels par minute » means it). Refused calls do not count.
 */
export interface QuotaSettings {
  readonly limit: number;
  readonly windowMs: number;
}

export const DEFAULT_QUOTA: QuotaSettings = { limit: 50, windowMs: 60_000 };

export type QuotaDecision = { readonly ok: true; readonly remaining: number } | { readonly ok: false; readonly retryAfterSeconds: number };

export class SlidingWindowQuota {
  private readonly log = new Map<string, number[]>();

  constructor(
    private readonly settings: QuotaSettings,
    private readonly now: Clock,
  ) {
    if (!Number.isInteger(settings.limit) || settings.limit < 1)
      throw new QuotientError('invalid', 'configuration_bac_a_sable', 'Quota : la limite doit être un entier positif.');
    if (!(settings.windowMs > 0)) throw new QuotientError('invalid', 'configuration_bac_a_sable', 'Quota : la fenêtre doit être une durée positive.');
  }

  get limit(): number {
    return this.settings.limit;
  }

  get windowMs(): number {
    return this.settings.windowMs;
  }

  private recent(key: string, at: number): number[] {
    const since = at - this.settings.windowMs;
    const kept = (this.log.get(key) ?? []).filter((t) => t > since);
    this.log.set(key, kept);
    return kept;
  }

  take(key: string): QuotaDecision {
    const at = this.now();
    const calls = this.recent(key, at);
    if (calls.length >= this.settings.limit) {
      // The slot frees when the oldest call of the window leaves it.
      const oldest = calls[0] as number;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.settings.windowMs - at) / 1000)) };
    }
    calls.push(at);
    return { ok: true, remaining: this.settings.limit - calls.length };
  }

  usage(key: string): number {
    return this.recent(key, this.now()).length;
  }

  reset(key?: string): void {
    if (key === undefined) this.log.clear();
    else this.log.delete(key);
  }
}

/**
 * The most calls any window of `windowMs` held, from instants (epoch ms) as the sandbox's call log
 * records them: what the upstream would have counted, whatever the client believed.
 */
export function maxCallsInAnyWindow(instants: readonly number[], windowMs: number): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let max = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    // The same half-open window as `take`: a call exactly `windowMs` older has left it.
    while ((sorted[first] as number) <= (sorted[last] as number) - windowMs) first++;
    max = Math.max(max, last - first + 1);
  }
  return max;
}
