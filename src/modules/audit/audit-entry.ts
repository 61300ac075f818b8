import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { JournalAuditTable } from '../../infra/db/schema.ts';
import type { AuditDetailValue, AuditEntryInput, AuditOutcome, AuditRef, Acteur, TypeActeur } from '../../domain/entree-journal.ts';

/** The entry's shape and guard live in the domain (alerts use them too); re-exported for the journal's users. */
export {
  EntreeAuditInvalide,
  OUTCOMES,
  TYPES_ACTEUR,
  validateEntry,
  type Acteur,
  type AuditDetailValue,
  type AuditEntryInput,
  type AuditOutcome,
  type AuditRef,
  type TypeActeur,
} from '../../domain/entree-journal.ts';

/** An entry as stored and read back. */
export interface AuditEntry {
  readonly seq: number;
  /** ISO-8601 UTC. */
  readonly time: string;
  readonly actor: Acteur;
  readonly action: string;
  readonly target: AuditRef | null;
  readonly outcome: AuditOutcome;
  readonly correlationId: string | null;
  readonly details: Readonly<Record<string, AuditDetailValue>>;
  /** SHA-256 chain value, hex. */
  readonly hash: string;
}

/** The stored row, exactly the columns that the chain covers (plus hash and seal): the table's own type. */
export type AuditRow = JournalAuditTable;

export type AuditRowContent = Omit<AuditRow, 'hash' | 'mac'>;

export const GENESIS_HASH = '0'.repeat(64);

/** Details as stored: JSON with keys in code-point order, so that one map has one text. */
export function canonicalDetails(details: Readonly<Record<string, AuditDetailValue>> | undefined): string {
  const keys = Object.keys(details ?? {}).sort();
  const out: Record<string, AuditDetailValue> = {};
  for (const key of keys) out[key] = (details as Record<string, AuditDetailValue>)[key] as AuditDetailValue;
  return JSON.stringify(out);
}

export function rowContent(seq: number, time: string, entry: AuditEntryInput): AuditRowContent {
  return {
    seq,
    recorded_at: time,
    actor_type: entry.actor.type,
    actor_id: entry.actor.id,
    on_behalf_type: entry.actor.onBehalfOf?.type ?? null,
    on_behalf_id: entry.actor.onBehalfOf?.id ?? null,
    action: entry.action,
    target_type: entry.target?.type ?? null,
    target_id: entry.target?.id ?? null,
    outcome: entry.outcome,
    correlation_id: entry.correlationId ?? null,
    details: canonicalDetails(entry.details),
  };
}

/**
 * The canonical serialisation the chain hashes: a JSON array in a fixed order, led by a format
 * version, with the sequence number inside so that moving an entry breaks it. `details` is the
 * stored text itself, so that any change to it, even an equivalent JSON, is seen.
 */
export function canonicalRow(row: AuditRowContent): string {
  return JSON.stringify([
    1,
    row.seq,
    row.recorded_at,
    row.actor_type,
    row.actor_id,
    row.on_behalf_type,
    row.on_behalf_id,
    row.action,
    row.target_type,
    row.target_id,
    row.outcome,
    row.correlation_id,
    row.details,
  ]);
}

/** h_i = SHA-256(h_{i-1} ‖ canonical(row_i)), the previous hash as its 32 raw bytes. */
export function chainHash(previousHash: string, row: AuditRowContent): string {
  return createHash('sha256').update(Buffer.from(previousHash, 'hex')).update(canonicalRow(row), 'utf8').digest('hex');
}

/**
 * The seal of an entry: an HMAC of its hash under the journal key, held outside the database.
 * Anyone can recompute a SHA-256 chain after editing a row; without the key nobody can reseal it,
 * so an edit is pinned to the very entry that was changed.
 */
export function sealHash(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(`quotient-audit-entree|1|${hash}`).digest('hex');
}

export function sealCheckpoint(key: Buffer, firstKeptSeq: number, previousHash: string, purgeSeq: number): string {
  return createHmac('sha256', key).update(`quotient-audit-point-de-controle|1|${firstKeptSeq}|${previousHash}|${purgeSeq}`).digest('hex');
}

/**
 * The seal of the journal's head (migration 0015): its last sequence number and hash, bound to the
 * journal's id. Every append writes it in the same transaction as the entry, so the head in the
 * database is the exact, shared anchor of every instance; without the key, nobody can move it back
 * over a cut tail.
 */
export function sealHead(key: Buffer, journalId: string, seq: number, hash: string): string {
  return createHmac('sha256', key).update(`quotient-audit-tete|1|${journalId}|${seq}|${hash}`).digest('hex');
}

/** Written instead of a seal once a head was found rewritten without the key: the break stays visible. */
export const BROKEN_HEAD_MARK = 'rompue';

/**
 * `valide`: sealed by the key, or the untouched start (sequence 0, zero hash), which has nothing
 * to protect; `absente`: no seal yet (a journal from before migration 0015); `invalide`: rewritten
 * without the key.
 */
export function headSealState(
  key: Buffer,
  head: { readonly journal_id: string; readonly seq: number; readonly hash: string; readonly mac: string | null },
): 'valide' | 'absente' | 'invalide' {
  if (head.seq === 0 && head.hash === GENESIS_HASH) return 'valide';
  if (head.mac === null) return 'absente';
  return sameHex(sealHead(key, head.journal_id, head.seq, head.hash), head.mac) ? 'valide' : 'invalide';
}

export function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length || !/^[0-9a-f]*$/.test(a) || !/^[0-9a-f]*$/.test(b)) return false;
  return timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

export function rowToEntry(row: AuditRow): AuditEntry {
  let details: Record<string, AuditDetailValue> = {};
  try {
    const parsed = JSON.parse(row.details) as unknown;
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, AuditDetailValue>;
  } catch {
    // An unreadable map can only come from tampering, which `verify` reports; reading goes on.
  }
  return {
    seq: row.seq,
    time: row.recorded_at,
    actor: {
      type: row.actor_type as TypeActeur,
      id: row.actor_id,
      ...(row.on_behalf_type !== null && row.on_behalf_id !== null ? { onBehalfOf: { type: row.on_behalf_type as TypeActeur, id: row.on_behalf_id } } : {}),
    },
    action: row.action,
    target: row.target_type !== null && row.target_id !== null ? { type: row.target_type, id: row.target_id } : null,
    outcome: row.outcome as AuditOutcome,
    correlationId: row.correlation_id,
    details,
    hash: row.hash,
  };
}
