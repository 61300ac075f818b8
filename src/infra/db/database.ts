import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter, SqliteDialect, sql, type DialectAdapter, type SqliteDatabase, type Transaction } from 'kysely';
import pg from 'pg';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from './schema.ts';

export type DialectName = 'sqlite' | 'postgres';

/** Where a use case reads and writes: the database, or the transaction it runs in. */
export type Executor = Kysely<Schema> | Transaction<Schema>;

export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  /** Throws a typed `unavailable` error when the database cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the database named by `QUOTIENT_DATABASE_URL`: `sqlite:PATH` (embedded, the default) or
 * `postgres://...` (when a commune outgrows one machine).
 */
export function openDatabase(url: string): Database {
  if (url.startsWith('sqlite:')) return openSqlite(url.slice('sqlite:'.length));
  if (/^postgres(?:ql)?:\/\//.test(url)) return openPostgres(url);
  throw new QuotientError('invalid', 'url_base_invalide', 'QUOTIENT_DATABASE_URL doit commencer par « sqlite: » ou « postgres:// ».');
}

/** The database file and its WAL and shared-memory files: they hold families' data. */
const sqliteFiles = (path: string) => [path, `${path}-wal`, `${path}-shm`];

function openSqlite(path: string): Database {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Owner-only before SQLite opens it, which gives its -wal and -shm files the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(path);
  } catch (error) {
    throw new QuotientError('unavailable', 'base_inaccessible', `Impossible d’ouvrir la base SQLite ${path}.`, { cause: error });
  }
  // WAL lets readers work during a write; secure_delete overwrites deleted rows so that purged
  // personal data does not linger in free pages; the busy timeout absorbs short write contention.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('secure_delete = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('synchronous = NORMAL');
  // Files left readable by others (created by an earlier release, or copied in) are closed to them.
  if (path !== ':memory:') for (const file of sqliteFiles(path)) ownerOnly(file);
  const db = new Kysely<Schema>({ dialect: new TransactionalDdlSqliteDialect({ database: withStatementCache(sqlite) }) });
  return {
    db,
    dialect: 'sqlite',
    ping: () => ping(db),
    close: () => db.destroy(),
  };
}

/** Statements kept prepared, the most recently used first; beyond this many, the oldest is dropped. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query anew (about a tenth of a page's CPU). The SQL it
 * compiles keeps values as parameters, so the same text comes back: its statement is reused. A
 * statement still iterating (a streamed query) is busy: the same text then gets a fresh one.
 */
function withStatementCache(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      const cached = cache.get(text);
      if (cached && !cached.busy) {
        cache.delete(text);
        cache.set(text, cached);
        return cached;
      }
      const statement = sqlite.prepare(text);
      if (!cached) {
        cache.set(text, statement);
        if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      return statement;
    },
  };
}

function ownerOnly(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  } catch (error) {
    // Not there (no WAL yet) is fine; any other refusal is the operator's to see, not a reason to stop.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') process.emitWarning(`Droits du fichier ${file} non restreints : ${(error as Error).message}`);
  }
}

/**
 * SQLite does roll back DDL inside a transaction, but Kysely's adapter says it does not, which would
 * leave a half-applied migration behind after a failure. We tell it the truth.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

function openPostgres(url: string): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'quotient',
  });
  // A client that loses its server must not crash the process, idle (the pool's 'error') or checked
  // out between two queries of a transaction (the client's own 'error', which the pool does not
  // listen to then): the query in flight or the next one reports it, and the pool drops the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    ping: () => ping(db),
    close: () => db.destroy(),
  };
}

async function ping(db: Kysely<Schema>): Promise<void> {
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    throw new QuotientError('unavailable', 'base_indisponible', 'La base de données ne répond pas.', { cause: error });
  }
}

export const nowIso = (clock: () => Date = () => new Date()): string => clock().toISOString();
