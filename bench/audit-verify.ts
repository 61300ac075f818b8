/**
 * Verification throughput of the journal d'audit (T10: rows/s), as a ratio to a plain SHA-256 loop
 * over the same rows (targets ≥ 0,6 on SQLite, ≥ 0,5 on PostgreSQL), and append throughput.
 *
 *   node --import tsx bench/audit-verify.ts [--rows 100000] [--dialect sqlite|postgres] [--batch 2000] [--runs 5] [--appends 500]
 *
 * Fills a throwaway journal with valid chained entries (in bulk, through the same hashing and
 * sealing code as `append`), then times `verify` against the plain loop, alternately, `--runs`
 * times each: the loop reads the same rows in the same batches (keyset pages of `--batch`) and
 * chains one SHA-256 over each row (its JSON), the least any chain check costs; `verify` also checks
 * each seal, the anchor and the head. The ratio is the loop's time over verify's (1 = as fast).
 * PostgreSQL uses a throwaway database on the local server (or QUOTIENT_TEST_POSTGRES_URL).
 * Figures are medians, printed, never asserted.
 */
import { createHash } from 'node:crypto';
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
    runs: { type: 'string', default: '5' },
  },
});
const rows = Number(values.rows);
const batchSize = Number(values.batch);
const appends = Number(values.appends);
const runs = Math.max(1, Number(values.runs));
const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-audit-'));
const n = new Intl.NumberFormat('fr-FR');

const ratio = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const { database, drop } = await openBenchDatabase(values.dialect, dir);

/** The baseline: the same rows, read in the same keyset batches, one SHA-256 each, chained. Returns the rows read. */
async function plainSha256Loop(): Promise<number> {
  let previous = Buffer.alloc(32);
  let cursor = -1;
  let count = 0;
  for (;;) {
    const batch = await database.db.selectFrom('journal_audit').selectAll().where('seq', '>', cursor).orderBy('seq', 'asc').limit(batchSize).execute();
    for (const row of batch) {
      previous = createHash('sha256').update(previous).update(JSON.stringify(row)).digest();
      count++;
    }
    if (batch.length < batchSize) return count;
    cursor = batch[batch.length - 1]!.seq;
  }
}

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

  const verifyMs: number[] = [];
  const plainMs: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < runs; r++) {
    const steps = [
      async () => {
        const t0 = performance.now();
        const report = await verifyJournal(database.db, database.dialect, files, { batchSize });
        verifyMs.push(performance.now() - t0);
        if (!report.intact || report.checked !== rows) throw new Error(report.message);
      },
      async () => {
        const t0 = performance.now();
        const count = await plainSha256Loop();
        plainMs.push(performance.now() - t0);
        if (count !== rows) throw new Error(`boucle : ${count} lignes`);
      },
    ];
    if (r % 2 === 1) steps.reverse();
    for (const step of steps) await step();
    ratios.push(plainMs.at(-1)! / verifyMs.at(-1)!);
  }
  const v = median(verifyMs);
  console.log(
    `vérification : ${n.format(rows)} entrées en ${n.format(Math.round(v))} ms, soit ${n.format(Math.round((rows * 1000) / v))} entrées/s (lots de ${n.format(batchSize)}, médiane de ${runs})`,
  );
  console.log(`boucle SHA-256 simple sur les mêmes lignes : ${n.format(Math.round(median(plainMs)))} ms`);
  console.log(
    `rapport (boucle / vérification) : ${ratio.format(median(ratios))} × (essais : ${ratios.map((x) => ratio.format(x)).join(' ; ')} ; objectif ≥ ${values.dialect === 'postgres' ? '0,5' : '0,6'} ×)`,
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
