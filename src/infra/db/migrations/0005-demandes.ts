import type { Migration } from '../migrations.ts';

/**
 * Families, consents, requests and their results. No column anywhere holds a numéro fiscal: the
 * requests keep which declarant each foyer belongs to, and the numbers live in memory only while
 * the call is made (ARCHITECTURE §3.1). Fiscal situations themselves are in the silo (encrypted).
 */
export const m0005Demandes: Migration = {
  name: '0005-demandes',
  async up(db) {
    await db.schema
      .createTable('habilitations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('empreinte', 'text', (c) => c.notNull().unique())
      .addColumn('contenu', 'text', (c) => c.notNull())
      .addColumn('enregistree_le', 'text', (c) => c.notNull())
      .execute();

    // Live processes: a request held by a process that stopped beating has lost its numéros fiscaux.
    await db.schema
      .createTable('instances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('demarree_le', 'text', (c) => c.notNull())
      .addColumn('vue_le', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('familles')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('reference', 'text', (c) => c.notNull().unique())
      .addColumn('resident', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('courriel', 'text')
      .addColumn('creee_le', 'text', (c) => c.notNull())
      .addColumn('modifiee_le', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('parents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('famille_id', 'text', (c) => c.notNull().references('familles.id').onDelete('cascade'))
      .addColumn('rang', 'integer', (c) => c.notNull())
      .addColumn('nom_naissance', 'text', (c) => c.notNull())
      .addColumn('nom_usage', 'text')
      .addColumn('prenoms', 'text', (c) => c.notNull())
      .addColumn('date_naissance', 'text')
      .addColumn('au_foyer', 'integer', (c) => c.notNull().defaultTo(1))
      .addUniqueConstraint('parents_famille_rang', ['famille_id', 'rang'])
      .execute();

    await db.schema
      .createTable('enfants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('famille_id', 'text', (c) => c.notNull().references('familles.id').onDelete('cascade'))
      .addColumn('prenoms', 'text', (c) => c.notNull())
      .addColumn('nom', 'text', (c) => c.notNull())
      .addColumn('date_naissance', 'text')
      .addColumn('residence', 'text', (c) => c.notNull().defaultTo('exclusive'))
      .execute();

    await db.schema
      .createTable('demandes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('reference', 'text', (c) => c.notNull().unique())
      .addColumn('famille_id', 'text', (c) => c.notNull().references('familles.id').onDelete('cascade'))
      .addColumn('canal', 'text', (c) => c.notNull())
      .addColumn('statut', 'text', (c) => c.notNull())
      .addColumn('annee_revenus', 'integer')
      .addColumn('motif', 'text')
      .addColumn('tentatives', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('prochain_essai_le', 'text')
      .addColumn('acteur_type', 'text', (c) => c.notNull())
      .addColumn('acteur_id', 'text', (c) => c.notNull())
      .addColumn('creee_le', 'text', (c) => c.notNull())
      .addColumn('modifiee_le', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      // The process holding the numéros fiscaux of this request in memory, while it waits or runs.
      .addColumn('detenteur', 'text')
      .execute();
    await db.schema.createIndex('demandes_statut').on('demandes').columns(['statut', 'creee_le']).execute();
    await db.schema.createIndex('demandes_famille').on('demandes').columns(['famille_id', 'creee_le']).execute();

    await db.schema
      .createTable('consentements')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('demande_id', 'text', (c) => c.notNull().references('demandes.id').onDelete('cascade'))
      .addColumn('parent_rang', 'integer', (c) => c.notNull())
      .addColumn('donne_par_type', 'text', (c) => c.notNull())
      .addColumn('donne_par_id', 'text', (c) => c.notNull())
      .addColumn('mode', 'text', (c) => c.notNull())
      .addColumn('version_texte', 'text', (c) => c.notNull())
      .addColumn('donnees', 'text', (c) => c.notNull())
      .addColumn('finalite', 'text', (c) => c.notNull())
      .addColumn('habilitation_id', 'text', (c) => c.notNull().references('habilitations.id'))
      .addColumn('piece', 'text')
      .addColumn('recueilli_le', 'text', (c) => c.notNull())
      .addColumn('retire_le', 'text')
      .execute();

    await db.schema
      .createTable('demande_foyers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('demande_id', 'text', (c) => c.notNull().references('demandes.id').onDelete('cascade'))
      .addColumn('parent_rang', 'integer', (c) => c.notNull())
      .addColumn('voie', 'text', (c) => c.notNull())
      .addColumn('etat', 'text', (c) => c.notNull())
      .addColumn('annee_revenus', 'integer')
      .addColumn('source', 'text')
      .addColumn('recu_le', 'text')
      .addUniqueConstraint('demande_foyers_rang', ['demande_id', 'parent_rang'])
      .execute();

    await db.schema
      .createTable('quotients')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // One QF per request, whatever crashes and retries happen: the database says no to a second.
      .addColumn('demande_id', 'text', (c) => c.notNull().unique().references('demandes.id').onDelete('cascade'))
      .addColumn('famille_id', 'text', (c) => c.notNull().references('familles.id').onDelete('cascade'))
      .addColumn('valeur_cents', 'integer', (c) => c.notNull())
      .addColumn('periode', 'text', (c) => c.notNull())
      // The formula's name only: the sentence that explains it quotes the RFR and the parts, which
      // counter agents must not see; it is rebuilt from the silo for those allowed to read it.
      .addColumn('formule', 'text', (c) => c.notNull())
      .addColumn('politique', 'text', (c) => c.notNull())
      .addColumn('prix', 'text', (c) => c.notNull())
      .addColumn('valide_du', 'text', (c) => c.notNull())
      .addColumn('valide_au', 'text', (c) => c.notNull())
      .addColumn('origine', 'text', (c) => c.notNull())
      .addColumn('calcule_le', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('quotients_famille').on('quotients').columns(['famille_id', 'valide_du']).execute();

    await db.schema
      .createTable('decisions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('demande_id', 'text', (c) => c.notNull().references('demandes.id').onDelete('cascade'))
      .addColumn('agent_id', 'text', (c) => c.notNull())
      .addColumn('decision', 'text', (c) => c.notNull())
      .addColumn('justification', 'text', (c) => c.notNull())
      .addColumn('piece', 'text')
      .addColumn('decidee_le', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('contestations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('famille_id', 'text', (c) => c.notNull().references('familles.id').onDelete('cascade'))
      .addColumn('demande_id', 'text', (c) => c.references('demandes.id').onDelete('cascade'))
      .addColumn('motif', 'text', (c) => c.notNull())
      .addColumn('statut', 'text', (c) => c.notNull())
      .addColumn('reponse', 'text')
      .addColumn('ouverte_le', 'text', (c) => c.notNull())
      .addColumn('traitee_le', 'text')
      .execute();
  },
};
