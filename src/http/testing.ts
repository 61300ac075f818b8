/**
 * Test support: the real application on a throwaway SQLite database, its services composed by
 * `composeServices` as in production (the test's adapters passed in), driven with `inject` (no
 * socket) or listening on loopback. Every test closes what it opened through `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { composeServices, type CompositionOptions, type Services } from '../app/compose.ts';
import type { LimitesConfig } from '../modules/demandes/limites-numero-fiscal.ts';
import { LIMITES_HORS_DE_PORTEE } from '../modules/demandes/test-harness.ts';
import { loadConfig, type AppConfig } from '../infra/config/config.ts';
import { openDatabase, type Database } from '../infra/db/database.ts';
import { migrateToLatest } from '../infra/db/migrations.ts';
import { createLogger, type LogLevel } from '../infra/log/logger.ts';
import { buildApp, type WebOptions } from './app.ts';
import { verifierAlertes } from './test-alertes.ts';

export interface TestApp {
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly config: AppConfig;
  readonly services: Services;
  /** Everything logged, by the app and by the services alike. */
  readonly logLines: string[];
  /** The data folder (keys, journal anchor, built-in sandbox PKI), removed by `close()`. */
  readonly dataDir: string;
  /**
   * Evaluates every detection rule now and fails unless exactly the declared alerts were raised
   * (`alertesAttendues`), then closes everything, whatever the outcome.
   */
  close(): Promise<void>;
}

/** What a test app checks at `close()`: the rule codes of the alerts its suite raises on purpose. */
export interface OptionsAlertes {
  /**
   * The alerts (rule codes, `acces.refus_repetes`) the suite raises on purpose: `close()` fails
   * unless exactly these were raised. None by default: an ordinary run raises no alert.
   */
  alertesAttendues?: readonly string[];
  /**
   * Why this test cannot be checked (it closes the database under the app, say): no evaluation at
   * `close()`. Never for a suite that only raises alerts: declare them in `alertesAttendues`.
   */
  sansControleAlertes?: string;
}

/** The alert options of a harness's own options, to pass on to `createTestApp` (only those given). */
export const alertesDe = (o: OptionsAlertes): OptionsAlertes => ({
  ...(o.alertesAttendues ? { alertesAttendues: o.alertesAttendues } : {}),
  ...(o.sansControleAlertes ? { sansControleAlertes: o.sansControleAlertes } : {}),
});

export async function createTestApp(
  options: {
    env?: Record<string, string>;
    /** A folder the caller owns (and removes); by default a fresh one removed by `close()`. */
    dataDir?: string;
    logLevel?: LogLevel;
    beforeReady?: (app: FastifyInstance) => void;
    /**
     * The test's adapters (DGFiP, mailer, identity providers, clock...). The background jobs are off
     * unless asked: most tests never queue a request, and a few close the database under the app.
     */
    compose?: CompositionOptions;
    web?: WebOptions;
    /**
     * The anti-fishing limits (`securite.numeroFiscal`). Every request of a test comes from one
     * address and few families, so by default they are set out of reach; the tests of the limits
     * give their own.
     */
    numeroFiscal?: LimitesConfig;
  } & OptionsAlertes = {},
): Promise<TestApp> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'quotient-app-'));
  const loaded = loadConfig({ QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`, QUOTIENT_DATA_DIR: dir, ...options.env }, { mode: 'demo', cwd: dir });
  const numeroFiscal = options.numeroFiscal ?? LIMITES_HORS_DE_PORTEE;
  const config: AppConfig = { ...loaded, commune: { ...loaded.commune, securite: { ...loaded.commune.securite, numeroFiscal } } };
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database.db, database.dialect);
  const logLines: string[] = [];
  const logger = createLogger({ level: options.logLevel ?? 'info', destination: { write: (line: string) => void logLines.push(line) } });
  const services = await composeServices({ config, logger, database }, { background: false, ...options.compose });
  // A refused start (a bad token file, say) must not leave the composed services running: the
  // test process would never exit.
  const app = await buildApp({ config, database, logger, services, ...(options.web ? { web: options.web } : {}) }).catch(async (error: unknown) => {
    await services.stop();
    await database.close();
    if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  options.beforeReady?.(app);
  await app.ready();
  return {
    app,
    database,
    config,
    services,
    logLines,
    dataDir: dir,
    async close() {
      try {
        if (!options.sansControleAlertes) await verifierAlertes(services, options.alertesAttendues);
      } finally {
        await app.close();
        await services.stop();
        await database.close();
        if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
