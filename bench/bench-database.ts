import { join } from 'node:path';
import { openDatabase, type Database } from '../src/infra/db/database.ts';
import { createThrowawayPostgres } from '../src/infra/db/test-databases.ts';

/** A throwaway database for a benchmark: SQLite under `dir`, or a throwaway PostgreSQL database on the local server. */
export async function openBenchDatabase(dialect: string | undefined, dir: string): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (dialect === 'postgres') {
    const throwaway = await createThrowawayPostgres();
    return { database: openDatabase(throwaway.url), drop: throwaway.drop };
  }
  return { database: openDatabase(`sqlite:${join(dir, 'quotient.db')}`), drop: async () => undefined };
}
