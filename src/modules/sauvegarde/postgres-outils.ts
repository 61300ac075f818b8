import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's PostgreSQL client tools, newest first; otherwise whatever PATH finds. */
const DOSSIERS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

export function outilPostgres(nom: 'pg_dump' | 'pg_restore', env: NodeJS.ProcessEnv = process.env): string {
  const dossier = env.QUOTIENT_PG_BIN ?? DOSSIERS.find((d) => existsSync(join(d, nom)));
  return dossier === undefined ? nom : join(dossier, nom);
}

/**
 * The connection as libpq variables: the password travels in the child's environment, never on its
 * command line (which every local account can read in the process list).
 */
export function variablesPostgres(url: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const parsed = new URL(url);
  const env: NodeJS.ProcessEnv = { PATH: base.PATH ?? '', HOME: base.HOME ?? '' };
  if (parsed.hostname) env.PGHOST = decodeURIComponent(parsed.hostname);
  if (parsed.port) env.PGPORT = parsed.port;
  if (parsed.username) env.PGUSER = decodeURIComponent(parsed.username);
  if (parsed.password) env.PGPASSWORD = decodeURIComponent(parsed.password);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database) env.PGDATABASE = database;
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}
