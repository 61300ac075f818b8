import type { Generated } from 'kysely';

/**
 * The tables, as Kysely sees them. Conventions shared by both dialects so that one migration source
 * and one repository code serve SQLite and PostgreSQL:
 * - timestamps are ISO-8601 UTC text (`2026-11-23T12:58:00.000Z`), which sorts and compares as text;
 * - booleans are integers 0/1; structured values are JSON text.
 * Each capability adds its tables here with its migration.
 */
export interface InstallationTable {
  id: string;
  created_at: string;
  commune_code_insee: string;
  software_version: string;
}

export interface QuotaStateTable {
  bucket: string;
  paused_until: string | null;
  version: Generated<number>;
}

export interface QuotaCallTable {
  id: string;
  bucket: string;
  taken_at: string;
}

export interface Schema {
  installation: InstallationTable;
  quota_state: QuotaStateTable;
  quota_calls: QuotaCallTable;
}
