import type { Migration } from '../migrations.ts';

/**
 * Avis d'imposition uploaded by families (issue 15), the fallback when the DGFiP could not give the
 * avis. This table holds only what the file is (its format and size), whom it is for, and when it
 * goes; the file itself is in the silo (`coffre_records`, kind `avis_depose`, the row's id), never
 * here, and its name as the family's computer gave it is not kept. The row stays after the file
 * is destroyed, to say so; links are set to null (not cascaded) so that deleting a request never
 * leaves a file in the silo with no row to find it by: the purge finds it by `expire_le`.
 */
export const m0018AvisDeposes: Migration = {
  name: '0018-avis-deposes',
  async up(db) {
    await db.schema
      .createTable('avis_deposes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('famille_id', 'text', (c) => c.references('familles.id').onDelete('set null'))
      .addColumn('demande_id', 'text', (c) => c.references('demandes.id').onDelete('set null'))
      .addColumn('contestation_id', 'text', (c) => c.references('contestations.id').onDelete('set null'))
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('taille', 'integer', (c) => c.notNull())
      .addColumn('depose_le', 'text', (c) => c.notNull())
      .addColumn('depose_par_type', 'text', (c) => c.notNull())
      .addColumn('depose_par_id', 'text', (c) => c.notNull())
      // The latest the file may stay, whatever happens to the request.
      .addColumn('expire_le', 'text', (c) => c.notNull())
      .addColumn('detruit_le', 'text')
      // `decision`, `remplace`, `annulation`, `delai`: why it went.
      .addColumn('destruction', 'text')
      .execute();
    await db.schema.createIndex('avis_deposes_demande').on('avis_deposes').column('demande_id').execute();
    await db.schema.createIndex('avis_deposes_contestation').on('avis_deposes').column('contestation_id').execute();
    await db.schema.createIndex('avis_deposes_expire').on('avis_deposes').columns(['detruit_le', 'expire_le']).execute();
  },
};
