import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { DialectName } from '../../infra/db/database.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { anchorTarget, withAnchorLock, writeAnchorLocked, type AnchorOutcome, type AuditAlert } from './audit-ancrage.ts';
import { anchorMac, loadAuditKey, readAnchor, writeAnchor, type Anchor, type AuditFiles } from './audit-anchor.ts';
import { chainStart, ChainChecker, PURGE_ACTION, rowsAfter, verifyJournal, type VerificationReport, type VerifyOptions } from './audit-chain.ts';
import {
  BROKEN_HEAD_MARK,
  chainHash,
  headSealState,
  rowContent,
  rowToEntry,
  sealCheckpoint,
  sealHash,
  sealHead,
  validateEntry,
  type Acteur,
  type AuditEntry,
  type AuditEntryInput,
} from './audit-entry.ts';
import { bindingNow, latestReconnaissance, rowOfReconnaissance, verifyFromReconnaissance, type Reconnaissance } from './audit-reconnaissance.ts';
import {
  countEntries,
  exportEntries,
  exportForTarget,
  queryEntries,
  type AuditFilter,
  type AuditPage,
  type AuditPageResult,
  type ExportOptions,
  type Period,
} from './audit-query.ts';

export type { AnchorOutcome, AuditAlert } from './audit-ancrage.ts';

export interface JournalAuditOptions {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  readonly files: AuditFiles;
  /** Time of the entries; tests and the purge job pass a fake one. */
  readonly clock?: () => Date;
  /** Told when the anchor cannot advance (tampering, lost anchor file). Defaults to a process warning. */
  readonly onAlert?: (alert: AuditAlert) => void;
  /**
   * Group commit: an append returns once committed, and the anchor follows at most `delaiMs`
   * later or after `entreesMax` entries, in one write for the lot (see docs/exploitation.md for
   * the window this leaves). Without it, every append waits for an anchor write, shared by the
   * appends made meanwhile.
   */
  readonly ancrageGroupe?: AncrageGroupe;
  /** Told when a background anchor move failed (it is retried with the next one). Defaults to a process warning. */
  readonly onError?: (error: unknown) => void;
  /** Told of every anchor actually moved (the syslog copy). */
  readonly onAnchored?: (anchor: Anchor, mac: string) => void;
}

export interface AncrageGroupe {
  readonly delaiMs: number;
  readonly entreesMax: number;
}

export interface PurgeReport {
  /** Entries removed (0: nothing older than the limit, and nothing was written). */
  readonly purged: number;
  /** The oldest entry kept; the chain is checked from it on. */
  readonly firstKeptSeq: number | null;
  /** The `journal.purge` entry that records this purge. */
  readonly purgeSeq: number | null;
}

/** The CNIL's floor for access logs: entries younger than this are never purged. */
export const MIN_RETENTION_DAYS = 183;
export const DEFAULT_RETENTION_DAYS = 365;
const DAY_MS = 86_400_000;

/**
 * The journal d'audit: append-only, each entry chained to the previous one by SHA-256 and sealed
 * with a key held outside the database, its head anchored in a signed file outside the database.
 *
 * A service writes the entry in the transaction of the change it records, so that both commit or
 * neither does:
 *
 *     await journal.inTransaction(async (trx) => {
 *       await trx.updateTable('demandes').set({ statut: 'calculee' }).where('id', '=', id).execute();
 *       await journal.append({ actor, action: 'demande.calculee', target: { type: 'demande', id }, outcome: 'succes' }, trx);
 *     });
 *
 * With its own `db.transaction()`, the service calls `await journal.committed()` after the commit:
 * the anchor is moved forward only after commit, never inside the transaction (on SQLite that
 * would wait for the very connection the transaction holds); in group-commit mode, within the
 * window rather than at once.
 */
export class JournalAudit {
  private readonly db: Kysely<Schema>;
  private readonly dialect: DialectName;
  private readonly files: AuditFiles;
  private readonly key: Buffer;
  private readonly clock: () => Date;
  private readonly onAlert: (alert: AuditAlert) => void;
  private running: Promise<AnchorOutcome> | null = null;
  /** The head was seen sealed (by this process, or by the anchor): a head without a seal was stripped of it. */
  private headWasSealed = false;
  private queued: Promise<AnchorOutcome> | null = null;
  private readonly groupe: AncrageGroupe | undefined;
  private readonly onError: (error: unknown) => void;
  private readonly onAnchored: ((anchor: Anchor, mac: string) => void) | undefined;
  /** Entries appended since the anchor was last asked to move (rolled-back ones included: it only moves sooner). */
  private pending = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly background = new Set<Promise<unknown>>();

  private constructor(options: JournalAuditOptions, key: Buffer) {
    this.db = options.db;
    this.dialect = options.dialect;
    this.files = options.files;
    this.key = key;
    this.clock = options.clock ?? (() => new Date());
    this.onAlert = options.onAlert ?? ((alert) => process.emitWarning(alert.message, { code: `QUOTIENT_AUDIT_${alert.code.toUpperCase()}` }));
    this.groupe = options.ancrageGroupe;
    this.onError =
      options.onError ??
      ((error) => process.emitWarning(`Journal d’audit : l’ancre n’a pas pu être avancée (${String(error)}).`, { code: 'QUOTIENT_AUDIT_ANCRE_ECHEC' }));
    this.onAnchored = options.onAnchored;
  }

  /**
   * Loads (in demo, creates) the key and makes sure the anchor exists: a journal that has never
   * held an entry is anchored at its start now, so that a later missing anchor file always means
   * something happened to it.
   */
  static async open(options: JournalAuditOptions): Promise<JournalAudit> {
    const journal = new JournalAudit(options, loadAuditKey(options.files));
    await journal.anchorGenesis();
    return journal;
  }

  /**
   * Appends one entry. With `executor` (the caller's transaction) it is written there and commits
   * with it; without, in a transaction of its own, after which the anchor is moved forward.
   * Throws `EntreeAuditInvalide` (nothing written) when the entry is malformed or holds something
   * shaped like a numéro fiscal.
   */
  async append(entry: AuditEntryInput, executor?: Kysely<Schema>): Promise<AuditEntry> {
    validateEntry(entry);
    if (executor?.isTransaction) return this.appendWithin(executor as Transaction<Schema>, entry);
    const written = await (executor ?? this.db).transaction().execute((trx) => this.appendWithin(trx, entry));
    await this.committed();
    return written;
  }

  /** Runs `work` in a transaction and moves the anchor forward once it has committed. */
  async inTransaction<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
    const result = await this.db.transaction().execute(work);
    await this.committed();
    return result;
  }

  /**
   * Entries were committed (by `append`, `inTransaction`, or a caller's own transaction): in
   * group-commit mode the anchor will follow within the window (at once when the batch is full);
   * otherwise this waits for the anchor write. After `close`, always at once.
   */
  async committed(): Promise<void> {
    const groupe = this.groupe;
    if (groupe === undefined || this.closed) {
      await this.anchor();
      return;
    }
    if (this.pending >= groupe.entreesMax) this.flushInBackground();
    else if (this.timer === null) {
      // Not unref'd: a process ending on its own still anchors its last entries (within delaiMs).
      this.timer = setTimeout(() => this.flushInBackground(), groupe.delaiMs);
    }
  }

  private flushInBackground(): void {
    const running = this.flush().then(
      () => undefined,
      (error: unknown) => this.onError(error),
    );
    this.background.add(running);
    void running.finally(() => this.background.delete(running));
  }

  /** Moves the anchor now over everything committed so far (what group commit left pending). */
  flush(): Promise<AnchorOutcome> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = 0;
    return this.anchor();
  }

  /** Shutdown: the moves under way end, then the anchor is moved over the last entries; later appends anchor at once. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.background]);
    // A database already gone cannot take the last move; the entries stay covered by the head sealed
    // in the database, and the next start anchors them.
    await this.flush().catch(() => undefined);
  }

  /**
   * The head row is updated first: on PostgreSQL that takes its row lock, on SQLite the write
   * lock, so appends from every process take their sequence numbers one after the other, and a
   * rolled-back transaction gives its number back (no gaps). The new head is sealed in the same
   * transaction (the shared anchor of every instance); a head found rewritten without the key
   * stays marked broken, so that the next append does not cover the evidence, until an auditor's
   * acknowledgement or a re-anchoring (`reseal`) starts it afresh.
   */
  private async appendWithin(trx: Transaction<Schema>, entry: AuditEntryInput, options: { reseal?: boolean } = {}): Promise<AuditEntry> {
    const head = await trx
      .updateTable('journal_audit_head')
      .set({ seq: sql`seq + 1` })
      .where('id', '=', 1)
      .returning(['seq', 'hash', 'journal_id', 'mac'])
      .executeTakeFirst();
    if (head === undefined)
      throw new QuotientError('unavailable', 'journal_audit_indisponible', 'Le journal d’audit n’est pas initialisé : lancez « quotient migrate ».');
    const previous = headSealState(this.key, { journal_id: head.journal_id, seq: head.seq - 1, hash: head.hash, mac: head.mac });
    const content = rowContent(head.seq, this.clock().toISOString(), entry);
    const hash = chainHash(head.hash, content);
    const row = { ...content, hash, mac: sealHash(this.key, hash) };
    await trx.insertInto('journal_audit').values(row).execute();
    this.pending++;
    const broken = previous === 'invalide' || (previous === 'absente' && this.headWasSealed);
    const mac = broken && !options.reseal ? BROKEN_HEAD_MARK : sealHead(this.key, head.journal_id, head.seq, hash);
    if (mac !== BROKEN_HEAD_MARK) this.headWasSealed = true;
    await trx.updateTable('journal_audit_head').set({ hash, mac }).where('id', '=', 1).execute();
    return rowToEntry(row);
  }

  /**
   * Moves the anchor to the last committed entry, after checking that the entries since the
   * anchored one extend the chain: an anchor is never moved over a cut or a rewrite. Calls from
   * one process are coalesced; across processes the anchor may lag by an entry, never lead.
   */
  anchor(): Promise<AnchorOutcome> {
    if (this.queued !== null) return this.queued;
    if (this.running === null) {
      this.running = this.advanceAnchor().finally(() => (this.running = null));
      return this.running;
    }
    this.queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = null;
        this.running = this.advanceAnchor().finally(() => (this.running = null));
        return this.running;
      });
    return this.queued;
  }

  private refuse(alert: AuditAlert): AnchorOutcome {
    this.onAlert(alert);
    return { state: 'refusee', alert };
  }

  private async advanceAnchor(): Promise<AnchorOutcome> {
    const current = readAnchor(this.files.anchorFile, this.key);
    const target = await anchorTarget(this.db, this.key, this.files, current, () => this.clock().toISOString());
    if (target === 'a_jour') return { state: 'a_jour', seq: current.state === 'valide' ? current.anchor.seq : 0 };
    if ('code' in target) return this.refuse(target);
    // Another instance may have moved it further meanwhile: never move it back.
    const outcome = await writeAnchorLocked(this.db, this.dialect, this.key, this.files, current, target);
    if (outcome.state === 'refusee') return this.refuse(outcome.alert);
    if (outcome.state === 'avancee') this.onAnchored?.(target, anchorMac(this.key, target));
    return outcome;
  }

  private async anchorGenesis(): Promise<void> {
    const current = readAnchor(this.files.anchorFile, this.key);
    const head = await this.db.selectFrom('journal_audit_head').select(['seq', 'hash', 'journal_id', 'mac']).where('id', '=', 1).executeTakeFirst();
    this.headWasSealed =
      (current.state === 'valide' && current.anchor.headSealed) || (head !== undefined && head.seq > 0 && headSealState(this.key, head) === 'valide');
    if (current.state === 'valide' && (head === undefined || current.anchor.journalId === head.journal_id)) return;
    await this.anchor();
  }

  /**
   * Verifies the chain and the anchor. Read-only. On SQLite it holds the process's connection for
   * the duration (a few seconds per million entries): long checks belong to `quotient audit verify`.
   */
  verify(options: VerifyOptions = {}): Promise<VerificationReport> {
    return verifyJournal(this.db, this.dialect, this.files, options);
  }

  /**
   * Removes the entries recorded before `before`, through the one path the database allows: the
   * removed part is verified first (tampered entries are kept as evidence and the purge refused),
   * then, in one transaction, a `journal.purge` entry and a sealed checkpoint (sequence of the
   * oldest entry kept, hash of the one before) are written and the older entries deleted. The chain
   * stays verifiable from the checkpoint. Entries younger than MIN_RETENTION_DAYS are never removed.
   */
  async purge(before: Date, actor: Acteur = { type: 'systeme', id: 'quotient' }): Promise<PurgeReport> {
    const limit = new Date(this.clock().getTime() - MIN_RETENTION_DAYS * DAY_MS);
    if (!(before instanceof Date) || Number.isNaN(before.getTime()) || before > limit) {
      throw new QuotientError(
        'invalid',
        'purge_trop_recente',
        `La purge du journal d’audit ne peut retirer que des entrées de plus de ${MIN_RETENTION_DAYS} jours (avant le ${limit.toISOString().slice(0, 10)}).`,
      );
    }
    const beforeIso = before.toISOString();
    const start = await chainStart(this.db, this.key);
    const firstYounger = await this.db
      .selectFrom('journal_audit')
      .select('seq')
      .where('recorded_at', '>=', beforeIso)
      .where('seq', '>=', start.seq)
      .orderBy('seq', 'asc')
      .limit(1)
      .executeTakeFirst();
    const head = await this.db.selectFrom('journal_audit_head').select('seq').where('id', '=', 1).executeTakeFirstOrThrow();
    // Contiguous: everything before the first younger entry goes, even an entry whose clock lagged.
    const firstKept = firstYounger?.seq ?? head.seq + 1;
    if (firstKept <= start.seq) return { purged: 0, firstKeptSeq: start.seq, purgeSeq: null };

    // Verify what is about to disappear, outside the write lock (entries never change once written).
    const checker = new ChainChecker(this.key, start);
    for await (const row of rowsAfter(this.db, start.seq - 1)) {
      if (row.seq >= firstKept) break;
      const brk = checker.check(row);
      if (brk !== null) {
        throw new QuotientError(
          'conflict',
          'journal_altere',
          `Purge refusée : le journal d’audit est altéré à la séquence n° ${brk.seq}. Les entrées sont conservées comme preuve ; lancez « quotient audit verify ».`,
        );
      }
    }
    if (checker.last === null || checker.last.seq !== firstKept - 1) {
      throw new QuotientError(
        'conflict',
        'journal_altere',
        `Purge refusée : le journal d’audit est altéré à la séquence n° ${checker.next}. Lancez « quotient audit verify ».`,
      );
    }
    const previousHash = checker.last.hash;
    const purgedCount = firstKept - start.seq;

    const report = await this.db.transaction().execute(async (trx) => {
      const entry = await this.appendWithin(trx, {
        actor,
        action: PURGE_ACTION,
        target: { type: 'journal_audit', id: 'journal' },
        outcome: 'succes',
        details: { premiereSequenceConservee: firstKept, entreesSupprimees: purgedCount, avant: beforeIso },
      });
      // The head lock is held now: a purge that ran meanwhile would show as a newer checkpoint.
      const again = await chainStart(trx, this.key);
      if (again.seq !== start.seq)
        throw new QuotientError('conflict', 'purge_concurrente', 'Une autre purge du journal d’audit vient d’avoir lieu ; relancez la purge.');
      await trx
        .insertInto('journal_audit_checkpoint')
        .values({
          first_kept_seq: firstKept,
          previous_hash: previousHash,
          purge_seq: entry.seq,
          purged_before: beforeIso,
          purged_count: purgedCount,
          created_at: entry.time,
          mac: sealCheckpoint(this.key, firstKept, previousHash, entry.seq),
        })
        .execute();
      let removed: number;
      if (this.dialect === 'postgres') {
        // The application role may not DELETE: the owner's function removes what lies below the checkpoint.
        const result = await sql<{ removed: number }>`select journal_audit_purge() as removed`.execute(trx);
        removed = Number(result.rows[0]?.removed ?? 0);
      } else {
        const result = await trx.deleteFrom('journal_audit').where('seq', '<', firstKept).executeTakeFirst();
        removed = Number(result.numDeletedRows);
      }
      if (removed !== purgedCount)
        throw new QuotientError(
          'conflict',
          'journal_altere',
          'Purge annulée : le nombre d’entrées à retirer ne correspond pas à la vérification ; lancez « quotient audit verify ».',
        );
      return { purged: removed, firstKeptSeq: firstKept, purgeSeq: entry.seq };
    });
    await this.anchor();
    return report;
  }

  /** The daily job: removes what is older than the retention (one year unless configured). */
  purgeExpired(retentionDays: number = DEFAULT_RETENTION_DAYS, actor?: Acteur): Promise<PurgeReport> {
    if (!Number.isInteger(retentionDays) || retentionDays < MIN_RETENTION_DAYS) {
      throw new QuotientError(
        'invalid',
        'retention_invalide',
        `La durée de conservation du journal d’audit doit être d’au moins ${MIN_RETENTION_DAYS} jours (six mois).`,
      );
    }
    return this.purge(new Date(this.clock().getTime() - retentionDays * DAY_MS), actor);
  }

  /**
   * After an investigation of a lost or invalid anchor: checks the chain (without the anchor), then
   * records who re-anchored it and anchors the new head. Refused when the chain itself is broken.
   */
  async reanchor(actor: Acteur): Promise<AuditEntry> {
    const report = await this.verify();
    const anchorOnly = report.reason === 'ancre_absente' || report.reason === 'ancre_invalide' || report.reason === 'ancre_autre_journal';
    if (!report.intact && !anchorOnly) {
      throw new QuotientError('conflict', 'journal_altere', `Réancrage refusé : ${report.message}`);
    }
    const entry = await this.db.transaction().execute((trx) =>
      this.appendWithin(
        trx,
        {
          actor,
          action: 'journal.reancre',
          target: { type: 'journal_audit', id: 'journal' },
          outcome: 'succes',
          details: { ancrePrecedente: report.anchor.state },
        },
        { reseal: true },
      ),
    );
    const head = await this.db.selectFrom('journal_audit_head').select('journal_id').where('id', '=', 1).executeTakeFirstOrThrow();
    // Under the anchor's lock: an instance anchoring meanwhile cannot write an older head after this one.
    await withAnchorLock(this.db, this.dialect, async () => {
      const anchor: Anchor = { journalId: head.journal_id, seq: entry.seq, hash: entry.hash, at: entry.time, headSealed: true };
      writeAnchor(this.files.anchorFile, this.key, anchor);
      this.onAnchored?.(anchor, anchorMac(this.key, anchor));
    });
    return entry;
  }

  /**
   * An auditor acknowledges, after investigation, the break the check reports now (DICP I3): one
   * journal entry with their reason, and a sealed acknowledgement bound to the journal as it stands
   * (see `audit-reconnaissance.ts`). `constat` is the report the auditor was shown, kept in the entry.
   * Refused when the journal is intact, or when its key is missing (nothing could be sealed).
   */
  async reconnaitre(actor: Acteur, motif: string, constat: VerificationReport): Promise<Reconnaissance> {
    const report = await this.verify();
    if (report.intact || report.reason === null)
      throw new QuotientError('conflict', 'journal_intact', 'Le journal d’audit est intact : il n’y a aucune altération à reconnaître.');
    if (report.reason === 'cle_absente')
      throw new QuotientError(
        'conflict',
        'cle_absente',
        'La clé du journal d’audit est introuvable : restaurez-la (QUOTIENT_AUDIT_KEY_FILE) avant de reconnaître l’altération.',
      );
    const raison = report.reason;
    const id = randomUUID();
    return this.db.transaction().execute(async (trx) => {
      // The head's lock first (PostgreSQL's row lock, SQLite's write lock): no entry slips in
      // between the head read here and the entry appended after it.
      await trx
        .updateTable('journal_audit_head')
        .set({ seq: sql`seq` })
        .where('id', '=', 1)
        .execute();
      const binding = await bindingNow(trx, report.firstBrokenSeq);
      // The acknowledged break may be the head itself: sealed afresh from this entry on.
      const entry = await this.appendWithin(
        trx,
        {
          actor,
          action: 'journal.alteration_reconnue',
          target: { type: 'journal_audit', id: 'journal' },
          outcome: 'succes',
          details: { reconnaissance: id, raison: constat.reason ?? raison, sequenceRompue: constat.firstBrokenSeq, teteSequence: binding.teteSequence, motif },
        },
        { reseal: true },
      );
      const reconnaissance: Reconnaissance = {
        id,
        ...binding,
        raison,
        entreeSequence: entry.seq,
        motif,
        par: { type: actor.type, id: actor.id },
        le: entry.time,
      };
      await trx.insertInto('journal_audit_reconnaissances').values(rowOfReconnaissance(this.key, reconnaissance)).execute();
      return reconnaissance;
    });
  }

  /** The latest acknowledgement whose seal is valid, or null. */
  derniereReconnaissance(): Promise<Reconnaissance | null> {
    return latestReconnaissance(this.db, this.key);
  }

  /** Verifies the journal as `reconnaissance` left it: intact unless something changed since (read-only). */
  verifyFrom(reconnaissance: Reconnaissance): Promise<VerificationReport> {
    return verifyFromReconnaissance(this.db, this.dialect, this.files, reconnaissance);
  }

  /** Newest first, by pages: pass `nextBefore` back as `before` for the next page. */
  query(filter: AuditFilter = {}, page: AuditPage = {}): Promise<AuditPageResult> {
    return queryEntries(this.db, filter, page);
  }

  count(filter: AuditFilter = {}): Promise<number> {
    return countEntries(this.db, filter);
  }

  /** Every entry matching the filter, oldest first, streamed (the auditor's exports). */
  exportMatching(filter: AuditFilter): AsyncGenerator<AuditEntry> {
    return exportEntries(this.db, filter);
  }

  /** Every entry about one record over a period, oldest first, streamed (auditor, data-subject requests). */
  exportForTarget(target: { type: string; id: string }, period: Period = {}, options: ExportOptions = {}): AsyncGenerator<AuditEntry> {
    return exportForTarget(this.db, target, period, options);
  }
}
