/**
 * Test support: runs a data-layer test on every dialect. SQLite uses a file in a temporary folder
 * (WAL and pragmas behave as in production, unlike `:memory:`); PostgreSQL gets a throwaway
 * database on the local server (or `QUOTIENT_TEST_POSTGRES_URL`), dropped afterwards. When no
 * PostgreSQL answers, the test is reported as skipped, loudly, never as passed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database, type DialectName } from './database.ts';
import { migrateToLatest } from './migrations.ts';

const ADMIN_URL = process.env.QUOTIENT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface DialectFixture {
  readonly dialect: DialectName;
  readonly url: string;
  /** Opens (and migrates, unless told not to) a fresh connection to this test's database. */
  open(options?: { migrate?: boolean }): Promise<Database>;
}

let postgresReachable: Promise<string | null> | undefined;

/** null when reachable, otherwise why not. */
function checkPostgres(): Promise<string | null> {
  postgresReachable ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      await client.end().catch(() => undefined);
    }
  })();
  return postgresReachable;
}

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

export async function createThrowawayPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `quotient_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  await withAdmin((c) => c.query(`create database "${name}"`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

/**
 * A throwaway PostgreSQL database for a test that needs one (several instances, the CLI), or null
 * when no PostgreSQL answers: the test is then reported as skipped, loudly, never as passed.
 */
export async function throwawayPostgresOrSkip(t: TestContext): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const unreachable = await checkPostgres();
  if (unreachable !== null) {
    const why = `PostgreSQL injoignable (${ADMIN_URL}) : ${unreachable}`;
    console.error(`\n*** TEST IGNORÉ : ${why}\n`);
    t.skip(why);
    return null;
  }
  return createThrowawayPostgres();
}

/**
 * Declares one sub-test per dialect. Every database opened through the fixture is closed, and the
 * throwaway files or database removed, when the sub-test ends.
 */
export async function eachDialect(t: TestContext, body: (fixture: DialectFixture, t: TestContext) => Promise<void>): Promise<void> {
  await t.test('sqlite', async (st) => {
    const dir = mkdtempSync(join(tmpdir(), 'quotient-test-'));
    const url = `sqlite:${join(dir, 'quotient.db')}`;
    const opened: Database[] = [];
    try {
      await body(fixture('sqlite', url, opened), st);
    } finally {
      await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
    }
  });
  await t.test('postgres', async (st) => {
    const postgres = await throwawayPostgresOrSkip(st);
    if (!postgres) return;
    const { url, drop } = postgres;
    const opened: Database[] = [];
    try {
      await body(fixture('postgres', url, opened), st);
    } finally {
      await Promise.all(opened.map((d) => d.close().catch(() => undefined)));
      await drop();
    }
  });
}

function fixture(dialect: DialectName, url: string, opened: Database[]): DialectFixture {
  return {
    dialect,
    url,
    async open(options = {}) {
      const database = openDatabase(url);
      opened.push(database);
      if (options.migrate !== false) await migrateToLatest(database.db, database.dialect);
      return database;
    },
  };
}
