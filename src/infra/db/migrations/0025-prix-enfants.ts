import type { Migration } from '../migrations.ts';

/**
 * The prices of each child where they differ from the family's (child rank, alternating
 * residence), beside the family's prices of a QF: a JSON list, null for the QFs recorded before,
 * which were priced for the first child only.
 */
export const m0025PrixEnfants: Migration = {
  name: '0025-prix-enfants',
  async up(db) {
    await db.schema.alterTable('quotients').addColumn('prix_enfants', 'text').execute();
  },
};
