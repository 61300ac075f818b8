import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { JournalAuditTable } from '../../infra/db/schema.ts';

/**
 * One entry of the journal d'audit, as a service hands it in. It says who did what to which record,
 * and how it ended. It never holds a numéro fiscal nor a fiscal value (income, number of parts,
 * amounts, QF): `details` carries small identifiers and codes only (a status, a reason code, an
 * attempt number, an income year). Values that look like a numéro fiscal are refused at append.
 */
export interface AuditEntryInput {
  readonly actor: Acteur;
  /** Stable dotted code, lower case: `demande.calculee`, `famille.consultee`, `dgfip.check`. */
  readonly action: string;
  readonly target?: AuditRef;
  readonly outcome: AuditOutcome;
  readonly correlationId?: string;
  readonly details?: Readonly<Record<string, AuditDetailValue>>;
}

/** `anonyme`: someone not signed in (a refused access), identified by the request id only. */
export const TYPES_ACTEUR = ['famille', 'agent', 'robot', 'systeme', 'api', 'anonyme'] as const;
export type TypeActeur = (typeof TYPES_ACTEUR)[number];
export const OUTCOMES = ['succes', 'echec', 'refus'] as const;
export type AuditOutcome = (typeof OUTCOMES)[number];
export type AuditDetailValue = string | number | boolean | null;

export interface AuditRef {
  readonly type: string;
  readonly id: string;
}

/**
 * Who acts: a family, an agent, a robot (batch, always on behalf of a person), the system, an API
 * client, or someone not signed in. Use cases take one to journal who did what, so it is defined
 * beside the journal; the domain only knows who recorded a consent (`AuteurConsentement`).
 */
export interface Acteur {
  readonly type: TypeActeur;
  readonly id: string;
  /** The person a robot (always) or an agent acts for: the agent who started a campaign, the family at the counter. */
  readonly onBehalfOf?: { readonly type: TypeActeur; readonly id: string };
}

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

const ACTION = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;
const TYPE = /^[a-z][a-z0-9_]{0,39}$/;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
// Control characters would let a value forge extra lines in a displayed or exported journal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;
const MAX_ID = 200;
const MAX_DETAIL_TEXT = 500;
const MAX_DETAIL_KEYS = 32;

export class EntreeAuditInvalide extends QuotientError {
  constructor(code: 'entree_audit_invalide' | 'numero_fiscal_interdit', message: string, details: readonly ErrorDetail[]) {
    super('invalid', code, message, { details });
  }
}

/**
 * Checks an entry before anything is written. The error names the faulty field but never repeats
 * its value: the value may be the very numéro fiscal we keep out.
 */
export function validateEntry(entry: AuditEntryInput): void {
  const problems: ErrorDetail[] = [];
  const spi: ErrorDetail[] = [];
  const text = (path: string, value: unknown, max: number) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > max) problems.push({ path, message: `texte de 1 à ${max} caractères attendu` });
    else if (CONTROL.test(value)) problems.push({ path, message: 'caractère de contrôle interdit' });
    else if (ressembleANumeroFiscal(value)) spi.push({ path, message: 'ressemble à un numéro fiscal (13 chiffres) : interdit dans le journal' });
  };
  const actorType = (path: string, value: unknown) => {
    if (!(TYPES_ACTEUR as readonly unknown[]).includes(value)) problems.push({ path, message: `attendu : ${TYPES_ACTEUR.join(', ')}` });
  };

  actorType('actor.type', entry.actor?.type);
  text('actor.id', entry.actor?.id, MAX_ID);
  if (entry.actor?.onBehalfOf !== undefined) {
    actorType('actor.onBehalfOf.type', entry.actor.onBehalfOf.type);
    text('actor.onBehalfOf.id', entry.actor.onBehalfOf.id, MAX_ID);
  } else if (entry.actor?.type === 'robot') {
    problems.push({ path: 'actor.onBehalfOf', message: 'un robot agit toujours pour le compte d’une personne : indiquez laquelle' });
  }
  if (typeof entry.action !== 'string' || entry.action.length > 100 || !ACTION.test(entry.action)) {
    problems.push({ path: 'action', message: 'code pointé en minuscules attendu, par exemple « demande.calculee »' });
  }
  if (entry.target !== undefined) {
    if (typeof entry.target.type !== 'string' || !TYPE.test(entry.target.type))
      problems.push({ path: 'target.type', message: 'type en minuscules attendu, par exemple « demande »' });
    text('target.id', entry.target.id, MAX_ID);
  }
  if (!(OUTCOMES as readonly unknown[]).includes(entry.outcome)) problems.push({ path: 'outcome', message: `attendu : ${OUTCOMES.join(', ')}` });
  if (entry.correlationId !== undefined) text('correlationId', entry.correlationId, MAX_ID);

  const details = entry.details ?? {};
  if (typeof details !== 'object' || details === null || Array.isArray(details)) {
    problems.push({ path: 'details', message: 'table de valeurs simples attendue' });
  } else {
    const keys = Object.keys(details);
    if (keys.length > MAX_DETAIL_KEYS) problems.push({ path: 'details', message: `au plus ${MAX_DETAIL_KEYS} valeurs` });
    for (const key of keys) {
      const path = `details.${DETAIL_KEY.test(key) ? key : '(clé)'}`;
      if (!DETAIL_KEY.test(key)) {
        problems.push({ path, message: 'nom de clé invalide (lettres, chiffres et « _ », 48 au plus)' });
        continue;
      }
      const value = details[key];
      if (typeof value === 'string') text(path, value, MAX_DETAIL_TEXT);
      else if (typeof value === 'number') {
        if (!Number.isFinite(value)) problems.push({ path, message: 'nombre fini attendu' });
        // A 13-digit number is a numéro fiscal typed as a number (or a millisecond epoch: use ISO text).
        else if (Math.abs(value) >= 1e12) spi.push({ path, message: 'nombre de 13 chiffres ou plus : interdit dans le journal' });
      } else if (typeof value !== 'boolean' && value !== null) problems.push({ path, message: 'texte, nombre, booléen ou null attendu' });
    }
  }
  if (spi.length > 0) {
    throw new EntreeAuditInvalide(
      'numero_fiscal_interdit',
      'Entrée du journal d’audit refusée : une valeur ressemble à un numéro fiscal, qui ne doit jamais y figurer.',
      spi,
    );
  }
  if (problems.length > 0)
    throw new EntreeAuditInvalide('entree_audit_invalide', 'Entrée du journal d’audit invalide : corrigez les champs indiqués.', problems);
}

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
