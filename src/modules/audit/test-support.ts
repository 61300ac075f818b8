/**
 * Test support for the journal d'audit: a journal on a fixture database with its files in a
 * temporary folder, sample entries, and a privileged connection that bypasses the append-only
 * guards the way a database administrator (or an attacker with those rights) could.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../infra/db/database.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { auditFilesFor, type AuditFiles } from './audit-anchor.ts';
import type { AuditEntryInput } from './audit-entry.ts';
import { JournalAudit, type AuditAlert } from './journal-audit.ts';

export function tempDir(t: TestContext, prefix = 'quotient-audit-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface OpenedJournal {
  readonly journal: JournalAudit;
  readonly files: AuditFiles;
  readonly alerts: AuditAlert[];
}

export async function openJournal(database: Database, dataDir: string, clock?: () => Date): Promise<OpenedJournal> {
  const files = auditFilesFor({ mode: 'demo', dataDir });
  const alerts: AuditAlert[] = [];
  const journal = await JournalAudit.open({ db: database.db, dialect: database.dialect, files, onAlert: (a) => alerts.push(a), ...(clock ? { clock } : {}) });
  return { journal, files, alerts };
}

export function sampleEntry(i: number): AuditEntryInput {
  const actors = [
    { type: 'agent', id: `agent-${i % 3}` },
    { type: 'famille', id: `famille-${i % 5}` },
    { type: 'robot', id: 'campagne-rentree', onBehalfOf: { type: 'agent', id: 'agent-1' } },
    { type: 'systeme', id: 'quotient' },
  ] as const;
  return {
    actor: actors[i % actors.length] as AuditEntryInput['actor'],
    action: ['famille.consultee', 'demande.calculee', 'demande.a_verifier', 'dgfip.check'][i % 4] as string,
    target: { type: i % 2 === 0 ? 'famille' : 'demande', id: `id-${i % 7}` },
    outcome: (['succes', 'echec', 'refus'] as const)[i % 3] as AuditEntryInput['outcome'],
    correlationId: `corr-${i}`,
    details: { rang: i, motif: `motif ${i}`, urgent: i % 2 === 0 },
  };
}

/** Appends `count` sample entries in one transaction, then anchors once (fast seeding). */
export async function seed(journal: JournalAudit, count: number, first = 0): Promise<void> {
  await journal.inTransaction(async (trx) => {
    for (let i = first; i < first + count; i++) await journal.append(sampleEntry(i), trx);
  });
}

/**
 * Runs `work` with the append-only guards off. PostgreSQL: a superuser session in replica mode
 * (triggers do not fire). SQLite, which cannot switch triggers off: they are dropped and
 * recreated around the work, in the same transaction.
 */
export async function asPrivileged(database: Database, work: (trx: Transaction<Schema>) => Promise<void>): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    if (database.dialect === 'postgres') {
      await sql`set local session_replication_role = replica`.execute(trx);
      await work(trx);
      return;
    }
    const triggers = (
      await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'trigger' and tbl_name like 'journal_audit%'`.execute(trx)
    ).rows;
    for (const trigger of triggers) await sql.raw(`drop trigger ${trigger.name}`).execute(trx);
    await work(trx);
    for (const trigger of triggers) await sql.raw(trigger.sql).execute(trx);
  });
}

/** Empties the journal (rows, checkpoints, head) as if it had just been created. */
export async function resetJournal(database: Database): Promise<void> {
  await asPrivileged(database, async (trx) => {
    await trx.deleteFrom('journal_audit').execute();
    await trx.deleteFrom('journal_audit_checkpoint').execute();
    await trx
      .updateTable('journal_audit_head')
      .set({ seq: 0, hash: '0'.repeat(64) })
      .execute();
  });
}

/** Renumbers rows at or after `from` by `delta`, in two steps so that the primary key never collides. */
export async function shiftSeq(trx: Kysely<Schema>, from: number, delta: number): Promise<void> {
  const far = 1_000_000;
  await trx
    .updateTable('journal_audit')
    .set({ seq: sql`seq + ${far}` })
    .where('seq', '>=', from)
    .execute();
  await trx
    .updateTable('journal_audit')
    .set({ seq: sql`seq - ${far - delta}` })
    .where('seq', '>=', from + far)
    .execute();
}
