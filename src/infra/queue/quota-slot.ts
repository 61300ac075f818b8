import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from '../db/schema.ts';

export interface QuotaSlotOptions {
  /** Name of the limited upstream, e.g. `dgfip`. */
  readonly bucket: string;
  /** Calls allowed in any window (DGFIP_QUOTA_PER_MINUTE). */
  readonly limit: number;
  /** The window, 60 s for a per-minute quota; tests shorten it. */
  readonly windowMs?: number;
  /**
   * Added to the window because a call reaches the upstream a little after its slot is granted:
   * without it, two calls 60 s apart here could be 59.9 s apart there.
   */
  readonly marginMs?: number;
  readonly clock?: () => number;
}

export type SlotAnswer = { readonly granted: true } | { readonly granted: false; readonly retryAt: number };

/**
 * A sliding-window limiter shared through the database, so that all instances together never
 * exceed the quota, across restarts. Each decision runs in one transaction whose first statement
 * updates the bucket's row: that takes the row lock on PostgreSQL and the write lock on SQLite, so
 * instances decide one after the other.
 */
export class QuotaSlot {
  readonly bucket: string;
  readonly limit: number;
  private readonly spanMs: number;
  private readonly clock: () => number;
  private ensured = false;

  constructor(
    private readonly db: Kysely<Schema>,
    options: QuotaSlotOptions,
  ) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new QuotientError('invalid', 'quota_invalide', 'Le quota doit être d’au moins un appel par fenêtre.');
    }
    this.bucket = options.bucket;
    this.limit = options.limit;
    this.spanMs = (options.windowMs ?? 60_000) + (options.marginMs ?? 1_000);
    this.clock = options.clock ?? Date.now;
  }

  /** Takes a slot now if one is free; otherwise says when to ask again. Never waits. */
  async tryAcquire(): Promise<SlotAnswer> {
    await this.ensureBucket();
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('quota_state')
        .set({ version: sql`version + 1` })
        .where('bucket', '=', this.bucket)
        .execute();
      const now = this.clock();
      const state = await trx.selectFrom('quota_state').select('paused_until').where('bucket', '=', this.bucket).executeTakeFirstOrThrow();
      const pausedUntil = state.paused_until === null ? 0 : Date.parse(state.paused_until);
      if (pausedUntil > now) return { granted: false, retryAt: pausedUntil };

      const windowStart = new Date(now - this.spanMs).toISOString();
      await trx.deleteFrom('quota_calls').where('bucket', '=', this.bucket).where('taken_at', '<=', windowStart).execute();
      const recent = await trx
        .selectFrom('quota_calls')
        .select('taken_at')
        .where('bucket', '=', this.bucket)
        .where('taken_at', '>', windowStart)
        .orderBy('taken_at', 'asc')
        .execute();
      if (recent.length < this.limit) {
        await trx
          .insertInto('quota_calls')
          .values({ id: randomUUID(), bucket: this.bucket, taken_at: new Date(now).toISOString() })
          .execute();
        return { granted: true };
      }
      // The slot frees when the call that made the window full leaves it.
      const blocking = recent[recent.length - this.limit] as { taken_at: string };
      return { granted: false, retryAt: Date.parse(blocking.taken_at) + this.spanMs + 1 };
    });
  }

  /**
   * Waits for a slot, at most until `deadline` (epoch ms). Past it, a typed `rate_limited` error
   * tells the caller when a slot will be free, so a request can be queued instead.
   */
  async acquire(deadline: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const answer = await this.tryAcquire();
      if (answer.granted) return;
      if (answer.retryAt > deadline) throw new QuotaEpuise(answer.retryAt);
      await sleep(Math.max(answer.retryAt - this.clock(), 5), undefined, { signal });
    }
  }

  /** An upstream `429 Retry-After` pauses every instance until then (pauses only lengthen). */
  async pauseUntil(until: number): Promise<void> {
    await this.ensureBucket();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('quota_state')
        .set({ version: sql`version + 1` })
        .where('bucket', '=', this.bucket)
        .execute();
      const state = await trx.selectFrom('quota_state').select('paused_until').where('bucket', '=', this.bucket).executeTakeFirstOrThrow();
      if (state.paused_until === null || Date.parse(state.paused_until) < until) {
        await trx
          .updateTable('quota_state')
          .set({ paused_until: new Date(until).toISOString() })
          .where('bucket', '=', this.bucket)
          .execute();
      }
    });
  }

  /** Calls granted in the current window, for dashboards. */
  async usage(): Promise<{ used: number; limit: number; pausedUntil: number | null }> {
    await this.ensureBucket();
    const since = new Date(this.clock() - this.spanMs).toISOString();
    const [row, state] = await Promise.all([
      this.db
        .selectFrom('quota_calls')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('bucket', '=', this.bucket)
        .where('taken_at', '>', since)
        .executeTakeFirstOrThrow(),
      this.db.selectFrom('quota_state').select('paused_until').where('bucket', '=', this.bucket).executeTakeFirstOrThrow(),
    ]);
    const paused = state.paused_until === null ? null : Date.parse(state.paused_until);
    return { used: Number(row.n), limit: this.limit, pausedUntil: paused !== null && paused > this.clock() ? paused : null };
  }

  private async ensureBucket(): Promise<void> {
    if (this.ensured) return;
    await this.db
      .insertInto('quota_state')
      .values({ bucket: this.bucket, paused_until: null })
      .onConflict((oc) => oc.column('bucket').doNothing())
      .execute();
    this.ensured = true;
  }
}

/** No slot before the caller's deadline; `retryAt` (epoch ms) says when one frees. */
export class QuotaEpuise extends QuotientError {
  constructor(readonly retryAt: number) {
    super(
      'rate_limited',
      'quota_epuise',
      'Le nombre d’appels autorisés vers la DGFiP est atteint pour le moment ; la demande sera traitée dès qu’un créneau se libère.',
    );
  }
}
