import { createHash, createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import { formatDateCourte } from '../../domain/dates.ts';
import type { DialectName } from '../../infra/db/database.ts';
import type { JournalAuditReconnaissanceTable, Schema } from '../../infra/db/schema.ts';
import { readAnchor, readAuditKey, type AnchorRead, type AuditFiles } from './audit-anchor.ts';
import {
  BEFORE_ALL,
  BREAK_MESSAGES,
  chainStart,
  ChainChecker,
  rowsAfter,
  type AnchorState,
  type BreakReason,
  type ChainBreak,
  type VerificationReport,
} from './audit-chain.ts';
import { canonicalRow, sameHex, type TypeActeur, type Acteur, type AuditRow } from './audit-entry.ts';

/**
 * An auditor's acknowledgement of a broken journal, after investigation (DICP I3): it lifts the
 * integrity halt for the break it was given for, and for that break only. It is bound to the
 * journal as it stood: the entries before the first broken one must still chain, the entries from
 * it to the head of that moment must be exactly those seen (their digest), and every entry after
 * that head must chain from it with valid seals. Any new tampering, wherever it is, fails one of
 * the three and halts again. The row is sealed with the journal's key, which is kept outside the
 * database: whoever broke the journal through the database cannot write one.
 */
export interface Reconnaissance {
  readonly id: string;
  /** The first broken sequence the check reported; null when only the anchor was at fault. */
  readonly premiereSequence: number | null;
  readonly raison: BreakReason;
  readonly teteSequence: number;
  readonly teteEmpreinte: string;
  /** SHA-256 of the entries from `premiereSequence` to `teteSequence`, as they were. */
  readonly empreinte: string;
  readonly lignes: number;
  /** The journal entry that records it, with the auditor's reason. */
  readonly entreeSequence: number;
  readonly motif: string;
  readonly par: Acteur;
  readonly le: string;
}

/** Where the acknowledged part starts: the first broken entry, or past the head when only the anchor failed. */
const debutReconnu = (r: Pick<Reconnaissance, 'premiereSequence' | 'teteSequence'>) => r.premiereSequence ?? r.teteSequence + 1;

export function sealReconnaissance(key: Buffer, r: Reconnaissance): string {
  const fields = [
    r.id,
    r.premiereSequence,
    r.raison,
    r.teteSequence,
    r.teteEmpreinte,
    r.empreinte,
    r.lignes,
    r.entreeSequence,
    r.motif,
    r.par.type,
    r.par.id,
    r.le,
  ];
  return createHmac('sha256', key)
    .update(`quotient-audit-reconnaissance|1|${JSON.stringify(fields)}`)
    .digest('hex');
}

export function rowOfReconnaissance(key: Buffer, r: Reconnaissance): JournalAuditReconnaissanceTable {
  return {
    id: r.id,
    premiere_sequence: r.premiereSequence,
    raison: r.raison,
    tete_sequence: r.teteSequence,
    tete_empreinte: r.teteEmpreinte,
    empreinte: r.empreinte,
    lignes: r.lignes,
    entree_sequence: r.entreeSequence,
    motif: r.motif,
    par_type: r.par.type,
    par_id: r.par.id,
    le: r.le,
    mac: sealReconnaissance(key, r),
  };
}

function reconnaissanceOfRow(row: JournalAuditReconnaissanceTable): Reconnaissance {
  return {
    id: row.id,
    premiereSequence: row.premiere_sequence,
    raison: row.raison as BreakReason,
    teteSequence: row.tete_sequence,
    teteEmpreinte: row.tete_empreinte,
    empreinte: row.empreinte,
    lignes: row.lignes,
    entreeSequence: row.entree_sequence,
    motif: row.motif,
    par: { type: row.par_type as TypeActeur, id: row.par_id },
    le: row.le,
  };
}

/** The digest of the entries whose sequence lies in [from, to], in sequence order: content, hash and seal. */
async function digestOf(db: Kysely<Schema>, from: number, to: number): Promise<{ empreinte: string; lignes: number }> {
  const hash = createHash('sha256');
  let lignes = 0;
  if (from <= to) {
    for await (const row of rowsAfter(db, from - 1)) {
      if (row.seq > to) break;
      hash.update(`${canonicalRow(row)}\n${row.hash}\n${row.mac}\n`);
      lignes += 1;
    }
  }
  return { empreinte: hash.digest('hex'), lignes };
}

/** What an acknowledgement given now binds to: the head the next entry chains from, and the digest up to it. */
export async function bindingNow(
  trx: Kysely<Schema>,
  premiereSequence: number | null,
): Promise<Pick<Reconnaissance, 'premiereSequence' | 'teteSequence' | 'teteEmpreinte' | 'empreinte' | 'lignes'>> {
  const head = await trx.selectFrom('journal_audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  const digest = await digestOf(trx, debutReconnu({ premiereSequence, teteSequence: head.seq }), head.seq);
  return { premiereSequence, teteSequence: head.seq, teteEmpreinte: head.hash, ...digest };
}

/** The latest acknowledgement whose seal holds; rows written without the key are passed over. */
export async function latestReconnaissance(db: Kysely<Schema>, key: Buffer): Promise<Reconnaissance | null> {
  const rows = await db.selectFrom('journal_audit_reconnaissances').selectAll().orderBy('entree_sequence', 'desc').execute();
  for (const row of rows) {
    const r = reconnaissanceOfRow(row);
    if (sameHex(sealReconnaissance(key, r), row.mac)) return r;
  }
  return null;
}

/**
 * Verifies the journal as an acknowledgement left it: the entries before the acknowledged part
 * chain from the start (or the latest checkpoint), the acknowledged part is unchanged, the entries
 * after it chain from its head. The anchor cannot move over a broken chain, so it only still tells
 * a cut tail below it. Read-only, like `verifyJournal`.
 */
export async function verifyFromReconnaissance(db: Kysely<Schema>, dialect: DialectName, files: AuditFiles, r: Reconnaissance): Promise<VerificationReport> {
  const started = performance.now();
  const key = readAuditKey(files.keyFile);
  const anchorRead: AnchorRead = key === null ? { state: 'absente' } : readAnchor(files.anchorFile, key);
  let builder = db.transaction();
  if (dialect === 'postgres') builder = builder.setIsolationLevel('repeatable read').setAccessMode('read only');
  return builder.execute(async (trx) => {
    const head = await trx.selectFrom('journal_audit_head').select(['seq', 'journal_id']).where('id', '=', 1).executeTakeFirst();
    const anchor = {
      state: (anchorRead.state === 'valide' && head !== undefined && anchorRead.anchor.journalId !== head.journal_id
        ? 'autre_journal'
        : anchorRead.state) as AnchorState,
      seq: anchorRead.state === 'valide' ? anchorRead.anchor.seq : null,
      at: anchorRead.state === 'valide' ? anchorRead.anchor.at : null,
    };
    let checked = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;
    const report = (brk: ChainBreak | null, reason: BreakReason | null = brk?.reason ?? null): VerificationReport => ({
      intact: reason === null,
      firstBrokenSeq: brk?.seq ?? null,
      reason,
      message:
        reason === null
          ? `Journal d’audit : aucune nouvelle altération depuis la reconnaissance du ${formatDateCourte(r.le.slice(0, 10))} ; ${new Intl.NumberFormat('fr-FR').format(checked)} entrée(s) vérifiée(s) hors de la partie reconnue.`
          : `Journal d’audit altéré${brk ? ` à la séquence n° ${brk.seq}` : ''} : ${BREAK_MESSAGES[reason]}.`,
      checked,
      firstSeq,
      lastSeq,
      anchor,
      checkpoint: null,
      durationMs: Math.round(performance.now() - started),
    });
    if (key === null) return report(null, 'cle_absente');

    const start = await chainStart(trx, key);
    const debut = debutReconnu(r);
    const before = new ChainChecker(key, start);
    const after = new ChainChecker(key, start, null, { seq: r.teteSequence, hash: r.teteEmpreinte });
    const part = createHash('sha256');
    let lignes = 0;
    for await (const row of rowsAfter(trx, BEFORE_ALL) as AsyncGenerator<AuditRow>) {
      firstSeq ??= row.seq;
      lastSeq = row.seq;
      if (row.seq < debut) {
        const brk = before.check(row);
        if (brk !== null) return report(brk);
        checked += 1;
      } else if (row.seq <= r.teteSequence) {
        part.update(`${canonicalRow(row)}\n${row.hash}\n${row.mac}\n`);
        lignes += 1;
      } else {
        const brk = after.check(row);
        if (brk !== null) return report(brk);
        checked += 1;
      }
    }
    if (lignes !== r.lignes || !sameHex(part.digest('hex'), r.empreinte)) return report({ seq: debut, reason: 'partie_reconnue_modifiee' });
    // Entries before the acknowledged part that vanished entirely (none left before it) show here.
    if (debut > start.seq && before.next < debut) return report({ seq: before.next, reason: 'sequence_manquante' });
    const next = after.next;
    if (head !== undefined && head.seq >= next) return report({ seq: next, reason: 'fin_tronquee' });
    if (anchor.state === 'valide' && anchor.seq !== null && anchor.seq >= next) return report({ seq: next, reason: 'fin_tronquee' });
    return report(null);
  });
}
