/**
 * Verification throughput of the journal d'audit (T10: rows/s), and append throughput.
 *
 *   node --import tsx bench/audit-verify.ts [--rows 100000] [--dialect sqlite|postgres] [--batch 2000] [--appends 500]
 *
 * Fills a throwaway journal with valid chained entries (in bulk, through the same hashing and
 * sealing code as `append`), then times `verify`. PostgreSQL uses a throwaway database on the local
 * server (or QUOTIENT_TEST_POSTGRES_URL). Figures are printed, never asserted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { migrateToLatest } from '../src/infra/db/migrations.ts';
import { openBenchDatabase } from './bench-database.ts';
import { auditFilesFor, loadAuditKey, writeAnchor } from '../src/modules/audit/audit-anchor.ts';
import { verifyJournal } from '../src/modules/audit/audit-chain.ts';
import { chainHash, GENESIS_HASH, rowContent, sealHash, sealHead, type AuditEntryInput, type AuditRow } from '../src/modules/audit/audit-entry.ts';
import { JournalAudit } from '../src/modules/audit/journal-audit.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    dialect: { type: 'string', default: 'sqlite' },
    batch: { type: 'string', default: '2000' },
    appends: { type: 'string', default: '500' },
  },
});
const rows = Number(values.rows);
const batchSize = Number(values.batch);
const appends = Number(values.appends);
const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-audit-'));
const n = new Intl.NumberFormat('fr-FR');

const { database, drop } = await openBenchDatabase(values.dialect, dir);

function entry(i: number): AuditEntryInput {
  return {
    actor:
      i % 3 === 0 ? { type: 'robot', id: 'campagne-rentree', onBehalfOf: { type: 'agent', id: `agent-${i % 40}` } } : { type: 'agent', id: `agent-${i % 40}` },
    action: ['famille.consultee', 'demande.calculee', 'demande.a_verifier', 'dgfip.situation_recue'][i % 4] as string,
    target: { type: 'demande', id: `8d1f6f0e-5a2b-4c7e-9d3a-${String(i).padStart(12, '0')}` },
    outcome: 'succes',
    correlationId: `c0a8012e-${i}`,
    details: { statut: 'calculee', tentative: 1 + (i % 3), anneeRevenus: 2024 },
  };
}

try {
  await migrateToLatest(database.db, database.dialect);
  const files = auditFilesFor({ mode: 'demo', dataDir: dir });
  const key = loadAuditKey(files);

  const fillStart = performance.now();
  let previous = GENESIS_HASH;
  const start = Date.parse('2025-01-01T00:00:00.000Z');
  for (let first = 1; first <= rows; first += 1000) {
    const chunk: AuditRow[] = [];
    for (let seq = first; seq < Math.min(first + 1000, rows + 1); seq++) {
      const content = rowContent(seq, new Date(start + seq * 1000).toISOString(), entry(seq));
      const hash = chainHash(previous, content);
      chunk.push({ ...content, hash, mac: sealHash(key, hash) });
      previous = hash;
    }
    // Parameters per statement stay under the drivers' limits.
    await database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < chunk.length; i += 200)
        await trx
          .insertInto('journal_audit')
          .values(chunk.slice(i, i + 200))
          .execute();
    });
  }
  const head = await database.db.selectFrom('journal_audit_head').select('journal_id').executeTakeFirstOrThrow();
  await database.db
    .updateTable('journal_audit_head')
    .set({ seq: rows, hash: previous, mac: sealHead(key, head.journal_id, rows, previous) })
    .where('id', '=', 1)
    .execute();
  writeAnchor(files.anchorFile, key, { journalId: head.journal_id, seq: rows, hash: previous, at: new Date().toISOString(), headSealed: true });
  console.log(`${values.dialect} : ${n.format(rows)} entrées écrites en ${n.format(Math.round(performance.now() - fillStart))} ms`);

  const report = await verifyJournal(database.db, database.dialect, files, { batchSize });
  if (!report.intact) throw new Error(report.message);
  console.log(
    `vérification : ${n.format(report.checked)} entrées en ${n.format(report.durationMs)} ms, soit ${n.format(Math.round((report.checked * 1000) / report.durationMs))} entrées/s (lots de ${n.format(batchSize)})`,
  );

  if (appends > 0) {
    const journal = await JournalAudit.open({ db: database.db, dialect: database.dialect, files });
    const appendStart = performance.now();
    for (let i = 0; i < appends; i++) await journal.append(entry(rows + i + 1));
    const ms = performance.now() - appendStart;
    console.log(
      `ajouts (transaction propre + ancre synchronisée sur disque) : ${n.format(appends)} en ${n.format(Math.round(ms))} ms, soit ${n.format(Math.round((appends * 1000) / ms))} ajouts/s`,
    );
    const again = await journal.verify();
    if (!again.intact) throw new Error(again.message);
  }
} finally {
  await database.close();
  await drop();
  rmSync(dir, { recursive: true, force: true });
}
