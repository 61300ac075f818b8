/**
 * Re-wrap throughput of the silo's key rotation (records/s), on SQLite and, when reachable, on a
 * throwaway PostgreSQL database. Figures to read, not a pass/fail test.
 *
 *   node --import tsx bench/coffre-rotation.ts [--records 20000] [--batch 500]
 *
 * For each dialect: seeds the records under one master key, then rotates twice: once without
 * pauses (the raw re-wrap rate) and once with the default pauses (what `quotient keys rotate` does,
 * leaving SQLite's write lock to the application between batches).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDatabase, type Database } from '../src/infra/db/database.ts';
import { migrateToLatest } from '../src/infra/db/migrations.ts';
import { createThrowawayPostgres } from '../src/infra/db/test-databases.ts';
import { Coffre } from '../src/infra/silo/coffre.ts';
import { generateMasterKey, MemoryKeyring, newKeyring } from '../src/infra/silo/keyring.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '20000' }, batch: { type: 'string', default: '500' } } });
const RECORDS = Number(values.records);
const BATCH = Number(values.batch);
const rate = (n: number, ms: number) => `${Math.round((n * 1000) / ms).toLocaleString('fr-FR')} enregistrements/s`;

async function run(label: string, database: Database): Promise<void> {
  await migrateToLatest(database.db, database.dialect);
  const keyring = new MemoryKeyring(newKeyring());
  const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring });
  const value = { anneeRevenus: 2025, rfr: 31_250, nbParts: 2.5, nbPac: 2, declarants: [{ nom: 'Lefèvre', prenoms: 'Anne', dateNaissance: '1985-04-12' }] };
  const seedStart = performance.now();
  for (let i = 0; i < RECORDS; i += 1000) {
    await database.db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(i + 1000, RECORDS); j++) await coffre.put('situation_fiscale', `famille-${j}`, value, trx);
    });
  }
  const seedMs = performance.now() - seedStart;
  console.log(`${label} : ${RECORDS} enregistrements écrits en ${(seedMs / 1000).toFixed(1)} s (${rate(RECORDS, seedMs)})`);
  for (const pauseMs of [0, undefined]) {
    const next = generateMasterKey();
    keyring.set(keyring.current().with(next, { activate: true }));
    const started = performance.now();
    const report = await coffre.rotate(next.id, { batchSize: BATCH, ...(pauseMs === undefined ? {} : { pauseMs }) });
    const ms = performance.now() - started;
    if (report.rewrapped !== RECORDS || Object.keys(report.remaining).length > 0) throw new Error(`rotation incomplete: ${JSON.stringify(report)}`);
    const how = pauseMs === 0 ? 'sans pause' : 'pauses par défaut';
    console.log(
      `${label} : rotation (${how}, lots de ${BATCH}) : ${report.rewrapped} clés rechiffrées en ${(ms / 1000).toFixed(2)} s, ${rate(report.rewrapped, ms)}`,
    );
  }
}

const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-coffre-'));
try {
  const sqlite = openDatabase(`sqlite:${join(dir, 'bench.db')}`);
  try {
    await run('SQLite', sqlite);
  } finally {
    await sqlite.close();
  }
  let postgres: { url: string; drop: () => Promise<void> } | undefined;
  try {
    postgres = await createThrowawayPostgres();
  } catch (error) {
    console.log(`PostgreSQL : ignoré (injoignable : ${error instanceof Error ? error.message : String(error)})`);
  }
  if (postgres !== undefined) {
    const database = openDatabase(postgres.url);
    try {
      await run('PostgreSQL', database);
    } finally {
      await database.close();
      await postgres.drop();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
