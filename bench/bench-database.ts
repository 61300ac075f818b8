import { join } from 'node:path';
import { openDatabase, type Database } from '../src/infra/db/database.ts';
import { createThrowawayPostgres } from '../src/infra/db/test-databases.ts';

/** A throwaway database for a benchmark: SQLite under `dir`, or a throwaway PostgreSQL database on the local server. */
export async function openBenchDatabase(dialect: string | undefined, dir: string): Promise<{ database: Database; url: string; drop: () => Promise<void> }> {
  if (dialect === 'postgres') {
    const throwaway = await createThrowawayPostgres();
    return { database: openDatabase(throwaway.url), url: throwaway.url, drop: throwaway.drop };
  }
  const url = `sqlite:${join(dir, 'quotient.db')}`;
  return { database: openDatabase(url), url, drop: async () => undefined };
}
