import { sql } from 'kysely';
import type { Migration } from '../migrations.ts';

/**
 * The standing consents for renewal (issue 14): per family and declarant, what was agreed (text
 * version, resources, data, purpose, route, duration), by whom and how, until when, and when it
 * ended. A table of its own rather than a column of `consentements`: a request and its consents are
 * purged on their own schedule, while a standing consent outlives the request it was given with.
 * The état civil kept for it is in the silo (kind `etat_civil_renouvellement`, id = this row's id),
 * never here; `etat_civil_le` only says since when one is kept. No numéro fiscal anywhere.
 */
export const m0013ConsentementsRenouvellement: Migration = {
  name: '0013-consentements-renouvellement',
  async up(db) {
    await db.schema
      .createTable('consentements_renouvellement')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('famille_id', 'text', (c) => c.notNull().references('familles.id').onDelete('cascade'))
      .addColumn('parent_rang', 'integer', (c) => c.notNull())
      // The request it was given with; not a foreign key: that request may be purged first.
      .addColumn('demande_id', 'text')
      .addColumn('donne_par_type', 'text', (c) => c.notNull())
      .addColumn('donne_par_id', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('piece', 'text')
      .addColumn('version_texte', 'text', (c) => c.notNull())
      // JSON arrays: the habilitation's scopes, and the fields with the labels read.
      .addColumn('ressources', 'text', (c) => c.notNull())
      .addColumn('donnees', 'text', (c) => c.notNull())
      .addColumn('finalite', 'text', (c) => c.notNull())
      .addColumn('voie', 'text', (c) => c.notNull())
      .addColumn('duree_ans', 'integer', (c) => c.notNull())
      .addColumn('recueilli_le', 'text', (c) => c.notNull())
      .addColumn('expire_le', 'text', (c) => c.notNull())
      .addColumn('retire_le', 'text')
      // `retrait` (the family, or an agent for it) or `remplacement` (a newer standing consent).
      .addColumn('fin_motif', 'text')
      .addColumn('etat_civil_le', 'text')
      .execute();
    // One standing consent not ended by a withdrawal per declarant, across every instance.
    await db.schema
      .createIndex('consentements_renouvellement_un_par_declarant')
      .on('consentements_renouvellement')
      .columns(['famille_id', 'parent_rang'])
      .unique()
      .where(sql<boolean>`retire_le is null`)
      .execute();
    await db.schema.createIndex('consentements_renouvellement_expire').on('consentements_renouvellement').column('expire_le').execute();
  },
};
