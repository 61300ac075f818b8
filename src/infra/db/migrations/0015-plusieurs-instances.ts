import type { Migration } from '../migrations.ts';

/**
 * Several instances on one database (issue 14): what was kept per process becomes shared.
 *
 * - `journal_audit_head.mac`: the journal's head (last sequence and its hash), sealed with the
 *   journal's key by every append, in the same transaction. A database writer without the key can
 *   no longer move the head back over a cut tail: the shared, exact anchor of every instance. Null
 *   until the first append after this migration (the key is not known here).
 * - `limites_compteurs`: the throttles' counters (sign-in attempts per address, failed sign-ins on
 *   an unknown address, the billing API's calls per key), one row per key with the end of its
 *   window, bumped by one atomic upsert, so that N instances share one allowance instead of N.
 */
export const m0015PlusieursInstances: Migration = {
  name: '0015-plusieurs-instances',
  async up(db) {
    await db.schema.alterTable('journal_audit_head').addColumn('mac', 'text').execute();
    await db.schema
      .createTable('limites_compteurs')
      // `<limite>:<clé>`, e.g. `connexion:POST/connexion:203.0.113.7`, `api-quotients:cle:<id>`.
      .addColumn('cle', 'text', (c) => c.primaryKey())
      .addColumn('n', 'integer', (c) => c.notNull())
      // End of the current window (or of the hold), ISO 8601 UTC: past it, the next hit starts afresh.
      .addColumn('fin', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('limites_compteurs_fin').on('limites_compteurs').column('fin').execute();
  },
};
