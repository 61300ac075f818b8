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

// The journal d'audit (0003): hash-chained entries, the head every append updates first, and the
// checkpoints purges leave. See src/modules/audit/.
export interface JournalAuditTable {
  seq: number;
  recorded_at: string;
  actor_type: string;
  actor_id: string;
  on_behalf_type: string | null;
  on_behalf_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  correlation_id: string | null;
  details: string;
  hash: string;
  mac: string;
}

export interface JournalAuditHeadTable {
  id: number;
  seq: number;
  hash: string;
  journal_id: string;
}

export interface JournalAuditCheckpointTable {
  first_kept_seq: number;
  previous_hash: string;
  purge_seq: number;
  purged_before: string;
  purged_count: number;
  created_at: string;
  mac: string;
}

// The secure silo (0004): master key ids and check values (the keys live in the key file), and
// the encrypted records. Bytes are Buffers (blob on SQLite, bytea on PostgreSQL).
export interface CoffreMasterKeyTable {
  key_id: string;
  fingerprint: string;
  created_at: string;
  active: Generated<number>;
  retired_at: string | null;
}

export interface CoffreRecordTable {
  kind: string;
  record_id: string;
  format: number;
  key_id: string;
  wrapped_key: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: string;
  updated_at: string;
  rewrapped_at: string | null;
}

export interface Schema {
  installation: InstallationTable;
  quota_state: QuotaStateTable;
  quota_calls: QuotaCallTable;
  journal_audit: JournalAuditTable;
  journal_audit_head: JournalAuditHeadTable;
  journal_audit_checkpoint: JournalAuditCheckpointTable;
  coffre_master_keys: CoffreMasterKeyTable;
  coffre_records: CoffreRecordTable;
}
