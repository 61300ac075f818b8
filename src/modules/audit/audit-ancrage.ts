import { sql, type Kysely, type Transaction } from 'kysely';
import type { DialectName } from '../../infra/db/database.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { discardAnchor, installAnchor, prepareAnchor, readAnchor, syncAnchorFolder, type Anchor, type AnchorRead, type AuditFiles } from './audit-anchor.ts';
import { chainStart, ChainChecker, rowsAfter } from './audit-chain.ts';
import { GENESIS_HASH, headSealState } from './audit-entry.ts';

/**
 * Moving the external anchor forward, from any number of processes sharing the database and the
 * anchor file: the target is checked against the chain first (an anchor never moves over a cut or
 * a rewrite), then written under a lock the database holds for every instance, and only if the
 * file does not already name that entry or a later one. So the file never goes back, whichever
 * instance wrote last; and the lock dies with its holder's connection (no stale lock file).
 */

/** Something that the operator must hear about: the anchor could not be moved forward. */
export interface AuditAlert {
  readonly code: 'ancre_absente' | 'ancre_invalide' | 'ancre_autre_journal' | 'ancre_divergente' | 'chaine_rompue' | 'tete_invalide';
  readonly message: string;
  readonly seq?: number;
}

export type AnchorOutcome = { readonly state: 'avancee' | 'a_jour'; readonly seq: number } | { readonly state: 'refusee'; readonly alert: AuditAlert };

/** Key of the PostgreSQL advisory lock that serialises the anchor file's writers. */
const ANCHOR_LOCK = 'quotient.journal_audit.ancre';

/**
 * Runs `work` holding the anchor's lock: a transaction-scoped advisory lock on PostgreSQL (appends
 * go on meanwhile), the database write lock on SQLite (one machine; held for one small file write).
 */
export function withAnchorLock<T>(db: Kysely<Schema>, dialect: DialectName, work: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    if (dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${ANCHOR_LOCK}))`.execute(trx);
    else
      await trx
        .updateTable('journal_audit_head')
        .set({ seq: sql`seq` })
        .where('id', '=', 1)
        .execute();
    return work(trx);
  });
}

function invalidAlert(file: string, why: string): AuditAlert {
  return {
    code: 'ancre_invalide',
    message: `Journal d’audit : l’ancre externe ${file} est invalide (${why}) ; elle n’est plus mise à jour. Lancez « quotient audit verify ».`,
  };
}

/**
 * Where the anchor should move from `current` (the file as read): the last committed entry, after
 * checking that the entries since the anchored one extend the chain. `a_jour` when there is
 * nothing to move; an alert when the journal or the file shows tampering.
 */
export async function anchorTarget(
  db: Kysely<Schema>,
  key: Buffer,
  files: AuditFiles,
  current: AnchorRead,
  now: () => string,
): Promise<Anchor | AuditAlert | 'a_jour'> {
  if (current.state === 'invalide') return invalidAlert(files.anchorFile, current.why);
  return db.transaction().execute(async (trx): Promise<Anchor | AuditAlert | 'a_jour'> => {
    const head = await trx.selectFrom('journal_audit_head').select(['seq', 'hash', 'journal_id', 'mac']).where('id', '=', 1).executeTakeFirstOrThrow();
    // Written as version 2 only when the head in the database is sealed: from then on, a head
    // without a seal was stripped of it.
    const seal = headSealState(key, head);
    const headSealed = seal === 'valide';
    const genesis = (): Anchor => ({ journalId: head.journal_id, seq: 0, hash: GENESIS_HASH, at: now(), headSealed });
    if (current.state === 'absente') {
      if (head.seq === 0) return genesis();
      return {
        code: 'ancre_absente',
        message: `Journal d’audit : l’ancre externe ${files.anchorFile} a disparu alors que le journal contient des entrées ; elle n’est pas recréée d’office. Lancez « quotient audit verify ».`,
      };
    }
    const from = current.anchor;
    if (from.journalId !== head.journal_id) {
      // An anchor left by another journal (a demo database started afresh) is replaced only in
      // demo and while this journal is still empty.
      if (head.seq === 0 && files.replaceForeignAnchor) return genesis();
      return {
        code: 'ancre_autre_journal',
        message: `Journal d’audit : l’ancre externe ${files.anchorFile} appartient à un autre journal. Lancez « quotient audit verify ».`,
      };
    }
    // The anchor is written after commit and the head only grows: a head behind it means entries
    // were removed and the head rewritten.
    if (head.seq < from.seq) {
      return {
        code: 'chaine_rompue',
        seq: head.seq + 1,
        message: `Journal d’audit : l’ancre externe désigne la séquence n° ${from.seq} mais la base s’arrête avant ; l’ancre n’est plus avancée. Lancez « quotient audit verify ».`,
      };
    }
    // A head behind the anchor is the plainer sign (above); one rewritten further on shows here.
    if (seal === 'invalide' || (seal === 'absente' && from.headSealed)) {
      return {
        code: 'tete_invalide',
        seq: head.seq,
        message: `Journal d’audit : la tête du journal en base a été réécrite sans la clé du journal ; l’ancre n’est plus avancée. Lancez « quotient audit verify ».`,
      };
    }
    if (head.seq === from.seq && (from.headSealed || !headSealed)) return 'a_jour';
    const start = await chainStart(trx, key);
    let checker: ChainChecker;
    if (from.seq >= start.seq) {
      const row = await trx.selectFrom('journal_audit').select('hash').where('seq', '=', from.seq).executeTakeFirst();
      if (row === undefined || row.hash !== from.hash) {
        return {
          code: 'ancre_divergente',
          seq: from.seq,
          message: `Journal d’audit : l’entrée n° ${from.seq} désignée par l’ancre externe a disparu ou changé ; l’ancre n’est plus avancée. Lancez « quotient audit verify ».`,
        };
      }
      checker = new ChainChecker(key, start, null, from);
    } else {
      // The anchor predates the latest purge: the sealed checkpoint takes over from it.
      checker = new ChainChecker(key, start);
    }
    for await (const row of rowsAfter(trx, checker.next - 1)) {
      const brk = checker.check(row);
      if (brk !== null) {
        return {
          code: 'chaine_rompue',
          seq: brk.seq,
          message: `Journal d’audit : la chaîne est rompue à la séquence n° ${brk.seq} ; l’ancre n’est plus avancée. Lancez « quotient audit verify ».`,
        };
      }
    }
    // Nothing new, but the head got its first seal since: the anchor says so from now on.
    if (checker.last === null) return from.seq === head.seq && headSealed ? { ...from, at: now(), headSealed } : 'a_jour';
    return { journalId: head.journal_id, seq: checker.last.seq, hash: checker.last.hash, at: now(), headSealed };
  });
}

/**
 * Writes `target` under the anchor's lock, unless the file already names it or a later entry of
 * the same journal (another instance was quicker). `from` is the file as it was when the target
 * was checked: if it changed in a way no instance would have changed it, the write is refused.
 * The slow part (writing and syncing the new file) happens before the lock and off the main
 * thread; under the lock only the checks and the rename; the folder is synced after it.
 */
export async function writeAnchorLocked(
  db: Kysely<Schema>,
  dialect: DialectName,
  key: Buffer,
  files: AuditFiles,
  from: AnchorRead,
  target: Anchor,
): Promise<AnchorOutcome> {
  const temp = await prepareAnchor(files.anchorFile, key, target);
  let installed = false;
  try {
    const outcome = await withAnchorLock(db, dialect, async (): Promise<AnchorOutcome> => {
      const decision = decide(key, files, from, target);
      if (decision !== null) return decision;
      installAnchor(temp, files.anchorFile);
      installed = true;
      return { state: 'avancee', seq: target.seq };
    });
    if (installed) await syncAnchorFolder(files.anchorFile);
    return outcome;
  } finally {
    if (!installed) await discardAnchor(temp);
  }
}

/** Under the lock: null when `target` may replace the file, else why not. */
function decide(key: Buffer, files: AuditFiles, from: AnchorRead, target: Anchor): AnchorOutcome | null {
  const latest = readAnchor(files.anchorFile, key);
  if (latest.state === 'invalide') return { state: 'refusee', alert: invalidAlert(files.anchorFile, latest.why) };
  if (latest.state === 'valide') {
    const same = latest.anchor.journalId === target.journalId;
    if (same && (latest.anchor.seq > target.seq || (latest.anchor.seq === target.seq && (latest.anchor.headSealed || !target.headSealed))))
      return { state: 'a_jour', seq: latest.anchor.seq };
    // Replaced by another journal's anchor since it was checked: nobody here does that.
    if (!same && !(from.state === 'valide' && from.anchor.journalId === latest.anchor.journalId)) {
      return {
        state: 'refusee',
        alert: {
          code: 'ancre_autre_journal',
          message: `Journal d’audit : l’ancre externe ${files.anchorFile} appartient à un autre journal. Lancez « quotient audit verify ».`,
        },
      };
    }
  } else if (from.state === 'valide') {
    // Removed since it was read: not recreated in passing.
    return {
      state: 'refusee',
      alert: {
        code: 'ancre_absente',
        message: `Journal d’audit : l’ancre externe ${files.anchorFile} a disparu alors que le journal contient des entrées ; elle n’est pas recréée d’office. Lancez « quotient audit verify ».`,
      },
    };
  }
  return null;
}
