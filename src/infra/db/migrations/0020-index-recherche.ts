import { sql } from 'kysely';
import type { Migration } from '../migrations.ts';
import { motsParent } from '../../../domain/mots-du-nom.ts';

/**
 * Indexes the hot reads lacked (issue 16), and the counter's name search through an index: each
 * parent's names as normalised words (lower case, accents and hyphens folded), one row per word,
 * found by prefix. PostgreSQL: `text_pattern_ops` so that `LIKE 'mot%'` uses the index whatever
 * the database's collation; SQLite: `COLLATE NOCASE`, the collation its LIKE optimisation needs.
 * Rows go with their parent (foreign key, cascade). Existing parents are filled in here.
 */
export const m0020IndexRecherche: Migration = {
  name: '0020-index-recherche',
  async up(db, dialect) {
    await db.schema.createIndex('enfants_famille').on('enfants').column('famille_id').execute();
    await db.schema.createIndex('consentements_demande').on('consentements').column('demande_id').execute();
    await db.schema.createIndex('decisions_demande').on('decisions').column('demande_id').execute();
    await db.schema.createIndex('contestations_famille').on('contestations').column('famille_id').execute();
    await db.schema.createIndex('parents_date_naissance').on('parents').column('date_naissance').execute();

    await db.schema
      .createTable('parents_mots')
      .addColumn('parent_id', 'text', (c) => c.notNull().references('parents.id').onDelete('cascade'))
      .addColumn('mot', 'text', (c) => (dialect === 'sqlite' ? c.notNull().modifyEnd(sql`collate nocase`) : c.notNull()))
      .addPrimaryKeyConstraint('parents_mots_pk', ['mot', 'parent_id'])
      .execute();
    if (dialect === 'postgres') await sql`create index parents_mots_prefixe on parents_mots (mot text_pattern_ops)`.execute(db);
    await db.schema.createIndex('parents_mots_parent').on('parents_mots').column('parent_id').execute();

    const parents = await sql<{ id: string; nom_naissance: string; nom_usage: string | null; prenoms: string }>`
      select id, nom_naissance, nom_usage, prenoms from parents`.execute(db);
    for (const p of parents.rows) {
      for (const mot of motsParent(p)) await sql`insert into parents_mots (parent_id, mot) values (${p.id}, ${mot})`.execute(db);
    }
  },
};
