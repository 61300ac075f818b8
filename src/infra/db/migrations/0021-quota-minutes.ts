import type { Migration } from '../migrations.ts';

/**
 * The quota's use minute by minute (issue 14, the dashboard): `quota_calls` keeps only the current
 * window, so the last hour is counted here, by the instance that grants the slot, in the grant's
 * own transaction, split by who asked (`en_ligne`: families' requests, portal and counter;
 * `campagne`: a campaign's items). Shared by every instance like the quota itself; a grant given
 * back (too slow to stand for the call) is counted down. Rows older than two hours are purged.
 */
export const m0021QuotaMinutes: Migration = {
  name: '0021-quota-minutes',
  async up(db) {
    await db.schema
      .createTable('quota_minutes')
      .addColumn('bucket', 'text', (c) => c.notNull())
      // The minute's start, ISO 8601 UTC cut to the minute: `2026-12-02T14:05`.
      .addColumn('minute', 'text', (c) => c.notNull())
      .addColumn('priorite', 'text', (c) => c.notNull())
      .addColumn('n', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('quota_minutes_pk', ['bucket', 'minute', 'priorite'])
      .execute();
  },
};
