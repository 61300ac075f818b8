import type { Migration } from '../migrations.ts';

/**
 * The billing API walks the QFs in (calcule_le, id) order, page after page from a cursor: this
 * index lets each page start where the previous one ended instead of sorting the whole table.
 */
export const m0008IndexQuotients: Migration = {
  name: '0008-index-quotients',
  async up(db) {
    await db.schema.createIndex('quotients_calcule_le').on('quotients').columns(['calcule_le', 'id']).execute();
  },
};
