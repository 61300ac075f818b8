/**
 * Test support: the real application on a throwaway SQLite database, driven with `inject` (no
 * socket) or listening on loopback. Every test closes what it opened through `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type AppConfig } from '../infra/config/config.ts';
import { openDatabase, type Database } from '../infra/db/database.ts';
import { migrateToLatest } from '../infra/db/migrations.ts';
import { createLogger } from '../infra/log/logger.ts';
import { buildApp, type AppDependencies } from './app.ts';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly config: AppConfig;
  readonly logLines: string[];
  close(): Promise<void>;
}

export async function createTestApp(
  options: {
    env?: Record<string, string>;
    beforeReady?: (app: FastifyInstance) => void;
    /** Further dependencies of the app (clock, sign-in services...). */
    deps?: Partial<Omit<AppDependencies, 'config' | 'database' | 'logger'>>;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'quotient-app-'));
  const config = loadConfig({ QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`, QUOTIENT_DATA_DIR: dir, ...options.env }, { mode: 'demo', cwd: dir });
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database.db, database.dialect);
  const logLines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });
  const app = await buildApp({ config, database, logger, ...options.deps });
  options.beforeReady?.(app);
  await app.ready();
  return {
    app,
    database,
    config,
    logLines,
    async close() {
      await app.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
