import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { QuotientError } from '../domain/errors.ts';
import type { Runtime, Services } from '../app/compose.ts';
import { buildApp } from '../http/app.ts';
import { ecouterMetriques, lireJetonMetriques, type EcouteMetriques } from '../http/metriques.ts';
import { loadConfig, type RunMode } from '../infra/config/config.ts';
import { openDatabase } from '../infra/db/database.ts';
import { ensureInstallation } from '../infra/db/installation.ts';
import { migrateToLatest, type MigrationReport } from '../infra/db/migrations.ts';
import { createLogger } from '../infra/log/logger.ts';
import type { CliIo } from './io.ts';

export const SOFTWARE_VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** Configuration, logger and database: what every long-running command starts from. */
export function openRuntime(io: CliIo, mode: RunMode, options: { logToStderr?: boolean } = {}): Runtime {
  const config = loadConfig(io.env, { mode, cwd: io.cwd });
  // One-shot commands keep standard output for their result (`--json`); their log goes to stderr.
  const logger = createLogger({ level: config.logLevel, ...(options.logToStderr ? { destination: pino.destination({ dest: 2, sync: true }) } : {}) });
  const database = openDatabase(config.databaseUrl);
  return { config, logger, database };
}

export function migrate(runtime: Runtime): Promise<MigrationReport> {
  return migrateToLatest(runtime.database.db, runtime.database.dialect);
}

/** Where the database is, for a person: never the password of a PostgreSQL URL. */
export function describeDatabase(url: string): string {
  if (url.startsWith('sqlite:')) return `SQLite (${url.slice('sqlite:'.length)})`;
  try {
    const parsed = new URL(url);
    return `PostgreSQL (${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname})`;
  } catch {
    return 'PostgreSQL';
  }
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly port: number;
  /** The internal listener of `/metrics`, when QUOTIENT_METRICS_ADDRESS asks for one. */
  readonly metriques?: EcouteMetriques;
  /** Resolves with the exit status once a signal has stopped the server cleanly. */
  readonly stopped: Promise<number>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Listens, then waits for SIGINT/SIGTERM: new requests get 503, requests under way finish, the
 * database is closed, and the command returns 0. A second signal, or a shutdown that takes longer
 * than the grace period, stops at once with status 1.
 */
export async function startHttpServer(runtime: Runtime, services: Services, options: { onStop?: Array<() => Promise<void>> } = {}): Promise<RunningServer> {
  const { config, logger, database } = runtime;
  await ensureInstallation(database.db, config.commune.commune.codeInsee, SOFTWARE_VERSION);
  const app = await buildApp({ config, database, logger, services });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new QuotientError(
        'conflict',
        'port_occupe',
        `Le port ${config.port} est déjà utilisé par un autre programme : arrêtez-le ou choisissez un autre port avec QUOTIENT_PORT.`,
      );
    }
    if (code === 'EACCES') {
      throw new QuotientError('forbidden', 'port_interdit', `Le port ${config.port} est réservé : choisissez un port supérieur à 1024 avec QUOTIENT_PORT.`);
    }
    throw error;
  }
  const metriques = await ouvrirMetriques(runtime, services).catch(async (error: unknown) => {
    await app.close().catch(() => undefined);
    throw error;
  });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = config.mode === 'demo' ? `http://localhost:${port}` : config.publicUrl;

  // The requests under way end first (app.close), then the background work, then the database.
  const stopped = attendreArret(
    runtime,
    [() => app.close(), ...(metriques ? [() => metriques.close()] : []), ...(options.onStop ?? [])],
    'fin des requêtes en cours',
  );
  return { app, url, port, stopped, ...(metriques ? { metriques } : {}) };
}

/** The separate listener of `/metrics` (QUOTIENT_METRICS_ADDRESS), for web and worker processes alike. */
export async function ouvrirMetriques(runtime: Runtime, services: Services): Promise<EcouteMetriques | undefined> {
  const { metricsAddress, metricsTokenFile } = runtime.config;
  if (metricsAddress === undefined) return undefined;
  return ecouterMetriques(metricsAddress, { metriques: services.metriques, jeton: lireJetonMetriques(metricsTokenFile) });
}

/**
 * A process without HTTP (`serve --role worker`): waits for SIGINT/SIGTERM, then lets the work under
 * way finish (`onStop`), closes the database and resolves 0; a second signal, or a stop longer than
 * the grace period, resolves 1 at once.
 */
export function attendreArret(runtime: Runtime, onStop: ReadonlyArray<() => Promise<void>>, enCours = 'fin des éléments en cours'): Promise<number> {
  const { logger, database } = runtime;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal : arrêt immédiat');
        resolve(1);
        return;
      }
      stopping = true;
      logger.info({ signal }, `arrêt demandé : ${enCours}`);
      const timer = setTimeout(() => {
        logger.error('arrêt trop long : arrêt forcé');
        resolve(1);
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      void (async () => {
        for (const stopOne of onStop) await stopOne();
        await database.close();
      })().then(
        () => {
          clearTimeout(timer);
          logger.info('arrêt terminé');
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(timer);
          logger.error({ err: error }, 'erreur pendant l’arrêt');
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
