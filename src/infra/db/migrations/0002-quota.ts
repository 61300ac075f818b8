import type { Migration } from '../migrations.ts';

/**
 * The shared quota slot: every call to a rate-limited upstream (the DGFiP) is recorded when its
 * slot is granted, so that all instances together, before and after restarts, stay under the
 * quota. `quota_state` holds one row per bucket: the lock all instances take in turn, and the pause
 * an upstream `429 Retry-After` imposes on every one of them.
 */
export const m0002Quota: Migration = {
  name: '0002-quota',
  async up(db) {
    await db.schema
      .createTable('quota_state')
      .addColumn('bucket', 'text', (c) => c.primaryKey())
      .addColumn('paused_until', 'text')
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('quota_calls')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('bucket', 'text', (c) => c.notNull().references('quota_state.bucket'))
      .addColumn('taken_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('quota_calls_bucket_taken_at').on('quota_calls').columns(['bucket', 'taken_at']).execute();
  },
};
