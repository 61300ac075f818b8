import type { Migration } from '../migrations.ts';

/**
 * The secure silo (ARCHITECTURE §3.4). `coffre_records` holds encrypted records identified by
 * (kind, record_id); each names the master key that wrapped its data key. `coffre_master_keys`
 * lists those keys by id with a check value (never the key itself, which lives in the key file):
 * its single active row is what writers and a rotation agree on.
 */
export const m0004Coffre: Migration = {
  name: '0004-coffre',
  async up(db, dialect) {
    const bytes = dialect === 'postgres' ? 'bytea' : 'blob';
    await db.schema
      .createTable('coffre_master_keys')
      .addColumn('key_id', 'text', (c) => c.primaryKey())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('active', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('retired_at', 'text')
      .execute();
    // At most one active key, whatever two processes try at the same time.
    await db.schema.createIndex('coffre_master_keys_one_active').on('coffre_master_keys').column('active').unique().where('active', '=', 1).execute();

    await db.schema
      .createTable('coffre_records')
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('record_id', 'text', (c) => c.notNull())
      .addColumn('format', 'integer', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull().references('coffre_master_keys.key_id'))
      .addColumn('wrapped_key', bytes, (c) => c.notNull())
      .addColumn('nonce', bytes, (c) => c.notNull())
      .addColumn('ciphertext', bytes, (c) => c.notNull())
      .addColumn('tag', bytes, (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('rewrapped_at', 'text')
      .addPrimaryKeyConstraint('coffre_records_pk', ['kind', 'record_id'])
      .execute();
    await db.schema.createIndex('coffre_records_key_id').on('coffre_records').column('key_id').execute();
  },
};
