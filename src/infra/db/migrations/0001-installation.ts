import type { Migration } from '../migrations.ts';

/** One row that identifies this installation: which commune, since when. */
export const m0001Installation: Migration = {
  name: '0001-installation',
  async up(db) {
    await db.schema
      .createTable('installation')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('commune_code_insee', 'text', (c) => c.notNull())
      .addColumn('software_version', 'text', (c) => c.notNull())
      .execute();
  },
};
