import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Executor } from '../db/database.ts';
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
  /**
   * The longest a grant may take to come back (from the instant it is recorded to the end of its
   * transaction) and still be used; default half the margin, the other half covering the way from
   * here to the upstream. A grant slower than that is given back and asked again: its recorded
   * instant is too early to stand for the call, which would leave later than the window assumes.
   */
  readonly retourMaxMs?: number;
  /**
   * Online first (ARCHITECTURE §3.6): asked in the deciding transaction when a campaign asks for a
   * slot; true while an online request waits (due in the queue, or being called). A campaign gets
   * no slot then, and asks again a moment later. Without it, campaigns are not held back.
   */
  readonly enLigneEnAttente?: (executor: Executor, now: number) => Promise<boolean>;
  /** Slots of each window only online requests may take (default 0: campaigns use whatever families leave). */
  readonly reserveEnLigne?: number;
  readonly clock?: () => number;
}

/** Who asks: a family's request (portal, counter) or a campaign's item, which takes only what families leave. */
export type PrioriteQuota = 'en_ligne' | 'campagne';

export type SlotAnswer = { readonly granted: true } | { readonly granted: false; readonly retryAt: number };

/** How often a campaign held back by online requests asks again. */
const CEDER_MS = 200;
/** How long the per-minute counts (`quota_minutes`) are kept: the dashboard shows the last hour. */
const HISTORIQUE_MS = 2 * 3600_000;

/** The minute a grant falls in, as `quota_minutes` keys it (`2026-12-02T14:05`, UTC). */
export const minuteDe = (ms: number): string => new Date(ms).toISOString().slice(0, 16);

/** Slots granted in one minute, by priority. */
export interface MinuteQuota {
  readonly minute: string;
  readonly enLigne: number;
  readonly campagne: number;
}

/**
 * A sliding-window limiter shared through the database, so that all instances together never
 * exceed the quota, across restarts. Each decision runs in one transaction whose first statement
 * updates the bucket's row: that takes the row lock on PostgreSQL and the write lock on SQLite, so
 * instances decide one after the other. The window holds if every granted call leaves within
 * `retourMaxMs + (margin - retourMaxMs)` of its recorded instant: a grant that comes back later than
 * `retourMaxMs` is deleted (it only ever made others more careful) and never used.
 */
export class QuotaSlot {
  readonly bucket: string;
  readonly limit: number;
  private readonly spanMs: number;
  private readonly retourMaxMs: number;
  private readonly reserve: number;
  private readonly clock: () => number;
  private ensured = false;
  /** The minute this process last purged old per-minute counts in (once a minute is enough). */
  private purgeeA = '';
  /** Grants that came back too late and were given back (observability, tests). */
  rendus = 0;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly options: QuotaSlotOptions,
  ) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new QuotientError('invalid', 'quota_invalide', 'Le quota doit être d’au moins un appel par fenêtre.');
    }
    this.bucket = options.bucket;
    this.limit = options.limit;
    const marginMs = options.marginMs ?? 1_000;
    this.spanMs = (options.windowMs ?? 60_000) + marginMs;
    this.retourMaxMs = Math.min(options.retourMaxMs ?? marginMs / 2, marginMs);
    this.reserve = Math.max(0, Math.min(options.reserveEnLigne ?? 0, options.limit - 1));
    this.clock = options.clock ?? Date.now;
  }

  /** Takes a slot now if one is free for this priority; otherwise says when to ask again. Never waits. */
  async tryAcquire(priorite: PrioriteQuota = 'en_ligne'): Promise<SlotAnswer> {
    await this.ensureBucket();
    const decision = await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('quota_state')
        .set({ version: sql`version + 1` })
        .where('bucket', '=', this.bucket)
        .execute();
      const now = this.clock();
      const state = await trx.selectFrom('quota_state').select('paused_until').where('bucket', '=', this.bucket).executeTakeFirstOrThrow();
      const pausedUntil = state.paused_until === null ? 0 : Date.parse(state.paused_until);
      if (pausedUntil > now) return { granted: false as const, retryAt: pausedUntil };

      const windowStart = new Date(now - this.spanMs).toISOString();
      await trx.deleteFrom('quota_calls').where('bucket', '=', this.bucket).where('taken_at', '<=', windowStart).execute();
      const recent = await trx
        .selectFrom('quota_calls')
        .select('taken_at')
        .where('bucket', '=', this.bucket)
        .where('taken_at', '>', windowStart)
        .orderBy('taken_at', 'asc')
        .execute();
      const limit = priorite === 'campagne' ? this.limit - this.reserve : this.limit;
      if (recent.length < limit) {
        if (priorite === 'campagne' && (await this.options.enLigneEnAttente?.(trx, now))) {
          return { granted: false as const, retryAt: now + CEDER_MS };
        }
        const id = randomUUID();
        await trx
          .insertInto('quota_calls')
          .values({ id, bucket: this.bucket, taken_at: new Date(now).toISOString() })
          .execute();
        await this.compter(trx, now, priorite, 1);
        return { granted: true as const, id, at: now, priorite };
      }
      // The slot frees when the call that made the window full leaves it.
      const blocking = recent[recent.length - limit] as { taken_at: string };
      return { granted: false as const, retryAt: Date.parse(blocking.taken_at) + this.spanMs + 1 };
    });
    if (!decision.granted) return decision;
    const back = this.clock();
    if (back - decision.at > this.retourMaxMs) {
      // Too slow to stand for the call: given back, and asked again at once by `acquire`.
      await this.db.transaction().execute(async (trx) => {
        await trx.deleteFrom('quota_calls').where('id', '=', decision.id).execute();
        await this.compter(trx, decision.at, decision.priorite, -1);
      });
      this.rendus++;
      return { granted: false, retryAt: back };
    }
    return { granted: true };
  }

  /**
   * Waits for a slot, at most until `deadline` (epoch ms). Past it, a typed `rate_limited` error
   * tells the caller when a slot will be free, so a request can be queued instead.
   */
  async acquire(deadline: number, options: { readonly signal?: AbortSignal; readonly priorite?: PrioriteQuota } = {}): Promise<void> {
    for (;;) {
      const answer = await this.tryAcquire(options.priorite);
      if (answer.granted) return;
      if (answer.retryAt > deadline) throw new QuotaEpuise(answer.retryAt);
      const wait = answer.retryAt - this.clock();
      if (wait > 0) await sleep(Math.max(wait, 5), undefined, options.signal ? { signal: options.signal } : undefined);
      else options.signal?.throwIfAborted();
    }
  }

  /**
   * Whether a campaign would get a slot now, and otherwise when to look again; takes nothing. The
   * campaign workers ask before claiming an item, so that an item is not claimed only to wait.
   */
  async librePourCampagne(): Promise<SlotAnswer> {
    await this.ensureBucket();
    const now = this.clock();
    const state = await this.db.selectFrom('quota_state').select('paused_until').where('bucket', '=', this.bucket).executeTakeFirstOrThrow();
    const pausedUntil = state.paused_until === null ? 0 : Date.parse(state.paused_until);
    if (pausedUntil > now) return { granted: false, retryAt: pausedUntil };
    const recent = await this.db
      .selectFrom('quota_calls')
      .select('taken_at')
      .where('bucket', '=', this.bucket)
      .where('taken_at', '>', new Date(now - this.spanMs).toISOString())
      .orderBy('taken_at', 'asc')
      .execute();
    const limit = this.limit - this.reserve;
    if (recent.length >= limit)
      return { granted: false, retryAt: Date.parse((recent[recent.length - limit] as { taken_at: string }).taken_at) + this.spanMs + 1 };
    if (await this.options.enLigneEnAttente?.(this.db, now)) {
      return { granted: false, retryAt: now + CEDER_MS };
    }
    return { granted: true };
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

  /**
   * Slots granted per minute over the last `minutes` minutes (the current one last), online and
   * campaigns apart, every instance together; minutes without a grant are zeros.
   */
  async parMinute(minutes = 60): Promise<MinuteQuota[]> {
    const now = this.clock();
    const premiere = now - (minutes - 1) * 60_000;
    const rows = await this.db
      .selectFrom('quota_minutes')
      .select(['minute', 'priorite', 'n'])
      .where('bucket', '=', this.bucket)
      .where('minute', '>=', minuteDe(premiere))
      .where('minute', '<=', minuteDe(now))
      .execute();
    return Array.from({ length: minutes }, (_, i) => {
      const minute = minuteDe(premiere + i * 60_000);
      const n = (p: PrioriteQuota) => Math.max(0, Number(rows.find((r) => r.minute === minute && r.priorite === p)?.n ?? 0));
      return { minute, enLigne: n('en_ligne'), campagne: n('campagne') };
    });
  }

  /** Counts a grant (+1) or a grant given back (-1) in its minute; purges old minutes once a minute. */
  private async compter(trx: Executor, at: number, priorite: PrioriteQuota, delta: 1 | -1): Promise<void> {
    const minute = minuteDe(at);
    await trx
      .insertInto('quota_minutes')
      .values({ bucket: this.bucket, minute, priorite, n: delta })
      .onConflict((oc) => oc.columns(['bucket', 'minute', 'priorite']).doUpdateSet({ n: sql`quota_minutes.n + ${delta}` }))
      .execute();
    if (this.purgeeA !== minute) {
      this.purgeeA = minute;
      await trx
        .deleteFrom('quota_minutes')
        .where('bucket', '=', this.bucket)
        .where('minute', '<', minuteDe(at - HISTORIQUE_MS))
        .execute();
    }
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
