import { existsSync } from 'node:fs';
import type { Kysely } from 'kysely';
import type { DialectName } from '../../infra/db/database.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { readAnchor, readAuditKey, type AnchorRead, type AuditFiles } from './audit-anchor.ts';
import { chainHash, GENESIS_HASH, headSealState, sameHex, sealCheckpoint, sealHash, type AuditRow } from './audit-entry.ts';

/** Why the chain breaks at a sequence number (stable codes, for programs). */
export type BreakReason =
  | 'sequence_manquante' // an entry is missing (deleted, or the entries after it were moved)
  | 'sequence_inattendue' // an entry sits before the start of the chain
  | 'empreinte_invalide' // the content or the position of the entry no longer matches its hash
  | 'sceau_invalide' // the hash was rewritten without the journal key
  | 'point_de_controle_incoherent' // the purge entry does not match the checkpoint
  | 'fin_tronquee' // the last entries are gone (seen thanks to the anchor)
  | 'ancre_divergente' // the entry the anchor names is not the one in the database
  | 'ancre_absente'
  | 'ancre_invalide'
  | 'ancre_autre_journal'
  | 'cle_absente'
  | 'tete_invalide' // the head in the database was moved or rewritten without the journal key
  | 'partie_reconnue_modifiee'; // an entry an auditor's acknowledgement covered changed since

export const BREAK_MESSAGES: Record<BreakReason, string> = {
  sequence_manquante: 'l’entrée attendue à cette place manque (supprimée ou déplacée)',
  sequence_inattendue: 'une entrée inattendue précède le début de la chaîne',
  empreinte_invalide: 'le contenu ou la place de l’entrée ne correspond plus à son empreinte',
  sceau_invalide: 'l’empreinte de l’entrée a été réécrite sans la clé du journal',
  point_de_controle_incoherent: 'l’entrée de purge ne correspond pas au point de contrôle enregistré',
  fin_tronquee: 'les dernières entrées ont disparu : l’ancre externe désigne une entrée plus récente que la dernière présente',
  ancre_divergente: 'l’entrée désignée par l’ancre externe n’est pas celle de la base',
  ancre_absente: 'le fichier d’ancre externe est absent alors que le journal contient des entrées',
  ancre_invalide: 'le fichier d’ancre externe est illisible ou sa signature est invalide',
  ancre_autre_journal: 'le fichier d’ancre externe appartient à un autre journal',
  cle_absente: 'la clé du journal est introuvable : les sceaux ne peuvent pas être vérifiés',
  tete_invalide:
    'la tête du journal enregistrée en base (dernière séquence et son empreinte) a été réécrite sans la clé du journal : des dernières entrées ont pu être supprimées',
  partie_reconnue_modifiee: 'la partie du journal reconnue altérée par un auditeur a encore changé depuis cette reconnaissance',
};

export interface ChainBreak {
  readonly seq: number;
  readonly reason: BreakReason;
}

export interface CheckpointRecord {
  readonly firstKeptSeq: number;
  readonly previousHash: string;
  readonly purgeSeq: number;
  readonly purgedBefore: string;
  readonly purgedCount: number;
}

/** Where the chain starts: at sequence 1 from the zero hash, or at the latest sealed checkpoint. */
export interface ChainStart {
  readonly seq: number;
  readonly previousHash: string;
  readonly checkpoint: CheckpointRecord | null;
}

export const PURGE_ACTION = 'journal.purge';

/**
 * The latest checkpoint whose seal is valid. A checkpoint row written without the key is ignored:
 * the chain is then checked from further back, and the entries removed under its cover show up
 * as missing from their very first one.
 */
export async function chainStart(db: Kysely<Schema>, key: Buffer): Promise<ChainStart> {
  const rows = await db.selectFrom('journal_audit_checkpoint').selectAll().orderBy('first_kept_seq', 'desc').execute();
  for (const row of rows) {
    if (sameHex(sealCheckpoint(key, row.first_kept_seq, row.previous_hash, row.purge_seq), row.mac)) {
      return {
        seq: row.first_kept_seq,
        previousHash: row.previous_hash,
        checkpoint: {
          firstKeptSeq: row.first_kept_seq,
          previousHash: row.previous_hash,
          purgeSeq: row.purge_seq,
          purgedBefore: row.purged_before,
          purgedCount: row.purged_count,
        },
      };
    }
  }
  return { seq: 1, previousHash: GENESIS_HASH, checkpoint: null };
}

/** Checks rows one after the other, in sequence order, and stops at the first that breaks the chain. */
export class ChainChecker {
  private expected: number;
  private previous: string;
  checked = 0;
  last: { seq: number; hash: string } | null = null;

  constructor(
    private readonly key: Buffer,
    private readonly start: ChainStart,
    /** The sequence whose hash the caller wants to compare (the anchor's). */
    private readonly watch: number | null = null,
    from?: { seq: number; hash: string },
  ) {
    this.expected = from === undefined ? start.seq : from.seq + 1;
    this.previous = from === undefined ? start.previousHash : from.hash;
  }

  watchedHash: string | null = null;

  check(row: AuditRow): ChainBreak | null {
    if (row.seq !== this.expected) {
      return row.seq > this.expected ? { seq: this.expected, reason: 'sequence_manquante' } : { seq: row.seq, reason: 'sequence_inattendue' };
    }
    if (chainHash(this.previous, row) !== row.hash) return { seq: row.seq, reason: 'empreinte_invalide' };
    if (!sameHex(sealHash(this.key, row.hash), row.mac)) return { seq: row.seq, reason: 'sceau_invalide' };
    const checkpoint = this.start.checkpoint;
    if (checkpoint !== null && row.seq === checkpoint.purgeSeq && !isPurgeEntryOf(row, checkpoint))
      return { seq: row.seq, reason: 'point_de_controle_incoherent' };
    if (row.seq === this.watch) this.watchedHash = row.hash;
    this.previous = row.hash;
    this.expected += 1;
    this.checked += 1;
    this.last = { seq: row.seq, hash: row.hash };
    return null;
  }

  /** Sequence number the next row must carry. */
  get next(): number {
    return this.expected;
  }
}

function isPurgeEntryOf(row: AuditRow, checkpoint: CheckpointRecord): boolean {
  if (row.action !== PURGE_ACTION) return false;
  try {
    const details = JSON.parse(row.details) as Record<string, unknown>;
    return details.premiereSequenceConservee === checkpoint.firstKeptSeq && details.entreesSupprimees === checkpoint.purgedCount;
  } catch {
    return false;
  }
}

/** Rows in sequence order after `afterSeq`, fetched in batches so that memory stays flat. */
export async function* rowsAfter(db: Kysely<Schema>, afterSeq: number, batchSize = 2000): AsyncGenerator<AuditRow> {
  let cursor = afterSeq;
  for (;;) {
    const batch = await db.selectFrom('journal_audit').selectAll().where('seq', '>', cursor).orderBy('seq', 'asc').limit(batchSize).execute();
    for (const row of batch) yield row;
    if (batch.length < batchSize) return;
    cursor = (batch[batch.length - 1] as AuditRow).seq;
  }
}

/** Lower than any sequence number, so that rows slipped in before the start are seen. */
export const BEFORE_ALL = -2_147_483_648;

export type AnchorState = 'absente' | 'invalide' | 'valide' | 'autre_journal';

export interface VerificationReport {
  readonly intact: boolean;
  /** The first sequence number at which the journal is broken, when one can be named. */
  readonly firstBrokenSeq: number | null;
  readonly reason: BreakReason | null;
  /** One French sentence for a person. */
  readonly message: string;
  /** Entries whose hash and seal were checked. */
  readonly checked: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly anchor: { readonly state: AnchorState; readonly seq: number | null; readonly at: string | null };
  readonly checkpoint: CheckpointRecord | null;
  readonly durationMs: number;
}

export interface VerifyOptions {
  readonly batchSize?: number;
}

/**
 * Recomputes the whole chain from its start (sequence 1, or the latest checkpoint), checks every
 * seal, then compares the end with the anchor kept outside the database. Read-only: it never
 * creates the key nor moves the anchor. The anchor is read before the database snapshot is taken,
 * so an append that commits meanwhile cannot look like a cut tail.
 */
export async function verifyJournal(db: Kysely<Schema>, dialect: DialectName, files: AuditFiles, options: VerifyOptions = {}): Promise<VerificationReport> {
  const started = performance.now();
  const key = readAuditKey(files.keyFile);
  const anchorRead: AnchorRead = key === null ? { state: 'absente' } : readAnchor(files.anchorFile, key);
  let builder = db.transaction();
  if (dialect === 'postgres') builder = builder.setIsolationLevel('repeatable read').setAccessMode('read only');
  return builder.execute(async (trx) => {
    const head = await trx.selectFrom('journal_audit_head').select(['seq', 'hash', 'journal_id', 'mac']).where('id', '=', 1).executeTakeFirst();
    const anyRow = await trx.selectFrom('journal_audit').select('seq').limit(1).executeTakeFirst();
    const anyCheckpoint = await trx.selectFrom('journal_audit_checkpoint').select('first_kept_seq').limit(1).executeTakeFirst();
    const empty = anyRow === undefined && anyCheckpoint === undefined && (head?.seq ?? 0) === 0;

    const anchorInfo = {
      state: (anchorRead.state === 'valide' && head !== undefined && anchorRead.anchor.journalId !== head.journal_id
        ? 'autre_journal'
        : anchorRead.state) as AnchorState,
      seq: anchorRead.state === 'valide' ? anchorRead.anchor.seq : null,
      at: anchorRead.state === 'valide' ? anchorRead.anchor.at : null,
    };
    const report = (fields: {
      brk: ChainBreak | null;
      reason?: BreakReason;
      checked: number;
      firstSeq: number | null;
      lastSeq: number | null;
      checkpoint: CheckpointRecord | null;
    }): VerificationReport => {
      const reason = fields.brk?.reason ?? fields.reason ?? null;
      const firstBrokenSeq = fields.brk?.seq ?? null;
      return {
        intact: reason === null,
        firstBrokenSeq,
        reason,
        message: describe(reason, firstBrokenSeq, fields.checked, fields.firstSeq, fields.lastSeq),
        checked: fields.checked,
        firstSeq: fields.firstSeq,
        lastSeq: fields.lastSeq,
        anchor: anchorInfo,
        checkpoint: fields.checkpoint,
        durationMs: Math.round(performance.now() - started),
      };
    };

    if (key === null) {
      // Never used: no key, no anchor, no entry. A key lost while an anchor remains is a failure.
      if (empty && !existsSync(files.anchorFile)) return report({ brk: null, checked: 0, firstSeq: null, lastSeq: null, checkpoint: null });
      return report({ brk: null, reason: 'cle_absente', checked: 0, firstSeq: null, lastSeq: null, checkpoint: null });
    }
    // An empty journal is intact only if the anchor agrees that nothing was ever appended.
    if (empty && (anchorInfo.state === 'absente' || (anchorInfo.state === 'valide' && anchorInfo.seq === 0))) {
      return report({ brk: null, checked: 0, firstSeq: null, lastSeq: null, checkpoint: null });
    }

    const start = await chainStart(trx, key);
    const watch = anchorRead.state === 'valide' ? anchorRead.anchor.seq : null;
    const checker = new ChainChecker(key, start, watch);
    let firstSeq: number | null = null;
    for await (const row of rowsAfter(trx, BEFORE_ALL, options.batchSize)) {
      firstSeq ??= row.seq;
      const brk = checker.check(row);
      if (brk !== null) return report({ brk, checked: checker.checked, firstSeq, lastSeq: checker.last?.seq ?? null, checkpoint: start.checkpoint });
    }
    const lastSeq = checker.last?.seq ?? null;
    const done = (brk: ChainBreak | null, reason?: BreakReason) =>
      report({ brk, ...(reason ? { reason } : {}), checked: checker.checked, firstSeq, lastSeq, checkpoint: start.checkpoint });
    // Sequence the next entry would take: anything the anchor or the head names at or past it is gone.
    const next = checker.next;

    if (anchorInfo.state === 'absente') return done(null, 'ancre_absente');
    if (anchorInfo.state === 'invalide') return done(null, 'ancre_invalide');
    if (anchorInfo.state === 'autre_journal') return done(null, 'ancre_autre_journal');
    const anchor = (anchorRead as { anchor: { seq: number; hash: string; headSealed: boolean } }).anchor;
    if (anchor.seq >= next) return done({ seq: next, reason: 'fin_tronquee' });
    if (anchor.seq >= start.seq) {
      if (checker.watchedHash === null || !sameHex(checker.watchedHash, anchor.hash)) return done({ seq: anchor.seq, reason: 'ancre_divergente' });
    } else if (anchor.seq === start.seq - 1 && anchor.hash !== start.previousHash) {
      return done({ seq: start.seq, reason: 'ancre_divergente' });
    }
    // The head row also says how far the journal went: a cut tail shows here too, unless the head
    // was rewritten as well, which the anchor above catches.
    if (head !== undefined && head.seq >= next) return done({ seq: next, reason: 'fin_tronquee' });
    // The sealed head is exact (written with each entry) where the anchor file may lag: a tail cut
    // below the file's anchor, with the head moved back, shows here.
    if (head !== undefined) {
      const brk = headBreak(key, head, next, checker.last ?? { seq: start.seq - 1, hash: start.previousHash }, anchor.headSealed);
      if (brk !== null) return done(brk);
    }
    return done(null);
  });
}

/**
 * The head against the last entry present: sealed by the key, naming that very entry. A head
 * without a seal is accepted only while the anchor does not say it was sealed (a journal from
 * before migration 0015 that nothing was appended to since).
 */
export function headBreak(
  key: Buffer,
  head: { readonly journal_id: string; readonly seq: number; readonly hash: string; readonly mac: string | null },
  next: number,
  last: { readonly seq: number; readonly hash: string },
  anchorSaysSealed: boolean,
): ChainBreak | null {
  const seal = headSealState(key, head);
  if (seal === 'invalide' || (seal === 'absente' && anchorSaysSealed)) return { seq: Math.min(head.seq + 1, next), reason: 'tete_invalide' };
  if (seal === 'absente') return null;
  // A sealed head behind the last entry: an older head put back (entries after it are not its own).
  if (head.seq < last.seq) return { seq: head.seq + 1, reason: 'tete_invalide' };
  if (head.seq === last.seq && head.hash !== last.hash) return { seq: head.seq, reason: 'tete_invalide' };
  return null;
}

function describe(reason: BreakReason | null, seq: number | null, checked: number, firstSeq: number | null, lastSeq: number | null): string {
  const n = new Intl.NumberFormat('fr-FR');
  if (reason === null) {
    if (checked === 0) return 'Journal d’audit intact : aucune entrée à vérifier.';
    return `Journal d’audit intact : ${n.format(checked)} entrée(s) vérifiée(s), séquences ${n.format(firstSeq ?? 0)} à ${n.format(lastSeq ?? 0)}.`;
  }
  const where = seq === null ? '' : ` à la séquence n° ${seq}`;
  return `Journal d’audit altéré${where} : ${BREAK_MESSAGES[reason]}.`;
}
