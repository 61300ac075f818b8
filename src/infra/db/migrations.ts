import { Migrator, type Kysely, type MigrationResultSet } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { DialectName } from './database.ts';
import { m0001Installation } from './migrations/0001-installation.ts';
import { m0002Quota } from './migrations/0002-quota.ts';
import { m0003JournalAudit } from './migrations/0003-journal-audit.ts';
import { m0004Coffre } from './migrations/0004-coffre.ts';
import { m0005Demandes } from './migrations/0005-demandes.ts';
import { m0006Comptes } from './migrations/0006-comptes.ts';
import { m0007BackOffice } from './migrations/0007-back-office.ts';
import { m0008IndexQuotients } from './migrations/0008-index-quotients.ts';
import { m0009MotifCode } from './migrations/0009-motif-code.ts';
import { m0010Incidents } from './migrations/0010-incidents.ts';
import { m0011Alertes } from './migrations/0011-alertes.ts';
import { m0012NumeroFiscalEssais } from './migrations/0012-numero-fiscal-essais.ts';
import { m0013ConsentementsRenouvellement } from './migrations/0013-consentements-renouvellement.ts';
import { m0014Campagnes } from './migrations/0014-campagnes.ts';
import { m0015PlusieursInstances } from './migrations/0015-plusieurs-instances.ts';
import { m0016Attestations } from './migrations/0016-attestations.ts';
import { m0018AvisDeposes } from './migrations/0018-avis-deposes.ts';
import { m0020IndexRecherche } from './migrations/0020-index-recherche.ts';
import { m0021QuotaMinutes } from './migrations/0021-quota-minutes.ts';
import { m0022VerdictsControle } from './migrations/0022-verdicts-controle.ts';
import { m0024SourceQuotient } from './migrations/0024-source-quotient.ts';
import { m0025PrixEnfants } from './migrations/0025-prix-enfants.ts';

/**
 * One migration source for both dialects: migrations use Kysely's schema builder, which speaks
 * each dialect, and receive the dialect name for the rare statement that differs.
 */
/** Migrations work below the typed schema (they create it), as Kysely recommends. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SchemaAgnosticDb = Kysely<any>;

export interface Migration {
  readonly name: string;
  up(db: SchemaAgnosticDb, dialect: DialectName): Promise<void>;
}

/** In order. Never edit a migration that has shipped: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  m0001Installation,
  m0002Quota,
  m0003JournalAudit,
  m0004Coffre,
  m0005Demandes,
  m0006Comptes,
  m0007BackOffice,
  m0008IndexQuotients,
  m0009MotifCode,
  m0010Incidents,
  m0011Alertes,
  m0012NumeroFiscalEssais,
  m0013ConsentementsRenouvellement,
  m0014Campagnes,
  m0015PlusieursInstances,
  m0016Attestations,
  m0018AvisDeposes,
  m0020IndexRecherche,
  m0021QuotaMinutes,
  m0022VerdictsControle,
  m0024SourceQuotient,
  m0025PrixEnfants,
];

const MIGRATION_TABLES = { migrationTableName: 'schema_migrations', migrationLockTableName: 'schema_migrations_lock' } as const;

export interface MigrationReport {
  readonly applied: string[];
  readonly alreadyApplied: number;
}

export async function migrateToLatest(db: SchemaAgnosticDb, dialect: DialectName, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  const migrator = new Migrator({
    ...MIGRATION_TABLES,
    db,
    provider: {
      getMigrations: async () => Object.fromEntries(migrations.map((m) => [m.name, { up: (inner: SchemaAgnosticDb) => m.up(inner, dialect) }])),
    },
  });
  const before = await migrator.getMigrations();
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error !== undefined) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'inconnue';
    throw new QuotientError('unavailable', 'migration_echouee', `La migration « ${failed} » a échoué ; la base est restée dans son état précédent.`, {
      cause: result.error,
    });
  }
  const applied = (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  return { applied, alreadyApplied: before.filter((m) => m.executedAt !== undefined).length };
}

/** Names of the migrations not yet applied; a database that cannot answer is a typed error. */
export async function pendingMigrations(db: SchemaAgnosticDb, migrations: readonly Migration[] = MIGRATIONS): Promise<string[]> {
  const migrator = new Migrator({
    ...MIGRATION_TABLES,
    db,
    provider: { getMigrations: async () => Object.fromEntries(migrations.map((m) => [m.name, { up: async () => undefined }])) },
  });
  try {
    return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
  } catch (error) {
    throw new QuotientError(
      'unavailable',
      'base_indisponible',
      'La base de données ne répond pas : vérifiez QUOTIENT_DATABASE_URL et que le serveur de base de données est démarré.',
      { cause: error },
    );
  }
}
