import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { rowToEntry, type TypeActeur, type AuditEntry, type AuditOutcome, type AuditRef, type AuditRow } from './audit-entry.ts';

/** A period: `from` included, `to` excluded (Date or ISO-8601 text). */
export interface Period {
  readonly from?: Date | string;
  readonly to?: Date | string;
}

export interface AuditFilter extends Period {
  readonly actor?: { readonly type?: TypeActeur; readonly id?: string };
  readonly onBehalfOf?: { readonly type?: TypeActeur; readonly id?: string };
  /** An exact code (`demande.calculee`) or a family of codes ending with a dot (`demande.`). */
  readonly action?: string;
  readonly target?: { readonly type: string; readonly id?: string };
  readonly outcome?: AuditOutcome;
  readonly correlationId?: string;
  /** Entries whose target is any of these records (a family and its requests). Empty: none. */
  readonly targets?: readonly AuditRef[];
  /** Entries about or by any of these records: as target, actor or acted-for (data-subject requests). Empty: none. */
  readonly involving?: readonly AuditRef[];
  /** These sequence numbers only (a control's sample). */
  readonly seqs?: readonly number[];
}

export interface AuditPage {
  /** 50 by default, 500 at most. */
  readonly limit?: number;
  /** Cursor: only entries older than this sequence number (the previous page's `nextBefore`). */
  readonly before?: number;
}

export interface AuditPageResult {
  readonly entries: AuditEntry[];
  /** Pass as `before` to get the next (older) page; null on the last page. */
  readonly nextBefore: number | null;
}

export interface ExportOptions {
  /** Also the entries where the record acted itself or was acted for (a family's own actions). */
  readonly includeActor?: boolean;
}

function iso(value: Date | string, field: string): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) throw new QuotientError('invalid', 'periode_invalide', `Date invalide pour « ${field} » : date ISO-8601 attendue.`);
  return date.toISOString();
}

type JournalQuery = SelectQueryBuilder<Schema, 'journal_audit', object>;

function applyFilter(query: JournalQuery, filter: AuditFilter): JournalQuery {
  let q = query;
  if (filter.actor?.type !== undefined) q = q.where('actor_type', '=', filter.actor.type);
  if (filter.actor?.id !== undefined) q = q.where('actor_id', '=', filter.actor.id);
  if (filter.onBehalfOf?.type !== undefined) q = q.where('on_behalf_type', '=', filter.onBehalfOf.type);
  if (filter.onBehalfOf?.id !== undefined) q = q.where('on_behalf_id', '=', filter.onBehalfOf.id);
  if (filter.action !== undefined) {
    // substr rather than LIKE: codes contain `_`, a LIKE wildcard, and the comparison stays exact
    // whatever the collation.
    if (filter.action.endsWith('.')) q = q.where(sql<string>`substr(action, 1, ${filter.action.length})`, '=', filter.action);
    else q = q.where('action', '=', filter.action);
  }
  if (filter.target !== undefined) {
    q = q.where('target_type', '=', filter.target.type);
    if (filter.target.id !== undefined) q = q.where('target_id', '=', filter.target.id);
  }
  if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
  if (filter.correlationId !== undefined) q = q.where('correlation_id', '=', filter.correlationId);
  if (filter.from !== undefined) q = q.where('recorded_at', '>=', iso(filter.from, 'from'));
  if (filter.to !== undefined) q = q.where('recorded_at', '<', iso(filter.to, 'to'));
  if (filter.targets !== undefined) {
    const refs = filter.targets;
    q = q.where((eb) => eb.or(refs.map((r) => eb.and([eb('target_type', '=', r.type), eb('target_id', '=', r.id)]))));
  }
  if (filter.involving !== undefined) {
    const refs = filter.involving;
    q = q.where((eb) =>
      eb.or(
        refs.flatMap((r) => [
          eb.and([eb('target_type', '=', r.type), eb('target_id', '=', r.id)]),
          eb.and([eb('actor_type', '=', r.type), eb('actor_id', '=', r.id)]),
          eb.and([eb('on_behalf_type', '=', r.type), eb('on_behalf_id', '=', r.id)]),
        ]),
      ),
    );
  }
  if (filter.seqs !== undefined) {
    const seqs = filter.seqs;
    q = seqs.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('seq', 'in', seqs);
  }
  return q;
}

export async function queryEntries(db: Kysely<Schema>, filter: AuditFilter, page: AuditPage): Promise<AuditPageResult> {
  const limit = Math.min(Math.max(Math.trunc(page.limit ?? 50), 1), 500);
  let q = applyFilter(db.selectFrom('journal_audit'), filter);
  if (page.before !== undefined) q = q.where('seq', '<', page.before);
  // One more than asked tells whether another page follows.
  const rows = (await q
    .selectAll()
    .orderBy('seq', 'desc')
    .limit(limit + 1)
    .execute()) as AuditRow[];
  const entries = rows.slice(0, limit).map(rowToEntry);
  return { entries, nextBefore: rows.length > limit ? (entries[entries.length - 1] as AuditEntry).seq : null };
}

export async function countEntries(db: Kysely<Schema>, filter: AuditFilter): Promise<number> {
  const row = await applyFilter(db.selectFrom('journal_audit'), filter)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Every entry matching the filter, oldest first, streamed in batches so that memory stays flat. */
export async function* exportEntries(db: Kysely<Schema>, filter: AuditFilter, batchSize = 500): AsyncGenerator<AuditEntry> {
  let cursor = -2_147_483_648;
  for (;;) {
    const rows = (await applyFilter(db.selectFrom('journal_audit'), filter)
      .selectAll()
      .where('seq', '>', cursor)
      .orderBy('seq', 'asc')
      .limit(batchSize)
      .execute()) as AuditRow[];
    for (const row of rows) yield rowToEntry(row);
    if (rows.length < batchSize) return;
    cursor = (rows[rows.length - 1] as AuditRow).seq;
  }
}

export async function* exportForTarget(
  db: Kysely<Schema>,
  target: { type: string; id: string },
  period: Period,
  options: ExportOptions,
  batchSize = 500,
): AsyncGenerator<AuditEntry> {
  const from = period.from === undefined ? undefined : iso(period.from, 'from');
  const to = period.to === undefined ? undefined : iso(period.to, 'to');
  let cursor = -2_147_483_648;
  for (;;) {
    let q = db
      .selectFrom('journal_audit')
      .selectAll()
      .where('seq', '>', cursor)
      .where((eb) => {
        const about = [eb.and([eb('target_type', '=', target.type), eb('target_id', '=', target.id)])];
        if (options.includeActor) {
          about.push(eb.and([eb('actor_type', '=', target.type), eb('actor_id', '=', target.id)]));
          about.push(eb.and([eb('on_behalf_type', '=', target.type), eb('on_behalf_id', '=', target.id)]));
        }
        return eb.or(about);
      });
    if (from !== undefined) q = q.where('recorded_at', '>=', from);
    if (to !== undefined) q = q.where('recorded_at', '<', to);
    const rows = (await q.orderBy('seq', 'asc').limit(batchSize).execute()) as AuditRow[];
    for (const row of rows) yield rowToEntry(row);
    if (rows.length < batchSize) return;
    cursor = (rows[rows.length - 1] as AuditRow).seq;
  }
}

const ACTEURS: Record<string, string> = { famille: 'famille', agent: 'agent', robot: 'robot', systeme: 'système', api: 'logiciel (API)' };
const RESULTATS: Record<string, string> = { succes: 'réussi', echec: 'échoué', refus: 'refusé' };

/** One entry as a line a person reads (exports for the auditor and for data-subject requests). */
export function describeEntry(entry: AuditEntry): string {
  const when = `${entry.time.slice(8, 10)}/${entry.time.slice(5, 7)}/${entry.time.slice(0, 4)} ${entry.time.slice(11, 19)} UTC`;
  const who = `${ACTEURS[entry.actor.type] ?? entry.actor.type} ${entry.actor.id}${entry.actor.onBehalfOf ? ` pour le compte de ${ACTEURS[entry.actor.onBehalfOf.type] ?? entry.actor.onBehalfOf.type} ${entry.actor.onBehalfOf.id}` : ''}`;
  const what = `${entry.action}${entry.target ? ` sur ${entry.target.type} ${entry.target.id}` : ''}`;
  return `n° ${entry.seq} — ${when} — ${who} : ${what} — ${RESULTATS[entry.outcome] ?? entry.outcome}`;
}
