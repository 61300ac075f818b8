import type { Migration } from '../migrations.ts';

/**
 * Campaigns (issue 14): a batch of requests, one item per family, each item claimed by a worker
 * with a lease so that a worker killed with `kill -9` loses nothing (the item is taken again once
 * the lease has lapsed), and one result per item (its primary key). The leases of the singleton
 * jobs (one leader among the workers) have their own table. No column holds a numéro fiscal: an
 * item's état civil (what the call needs) waits in the silo, and is deleted with its result.
 */
export const m0014Campagnes: Migration = {
  name: '0014-campagnes',
  async up(db) {
    await db.schema
      .createTable('campagnes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('reference', 'text', (c) => c.notNull().unique())
      .addColumn('libelle', 'text', (c) => c.notNull())
      // `import` (a CSV of the commune's family software) or `renouvellement` (standing consents).
      .addColumn('type', 'text', (c) => c.notNull())
      // brouillon, en_cours, en_pause, annulee, terminee.
      .addColumn('statut', 'text', (c) => c.notNull())
      .addColumn('annee_revenus', 'integer')
      .addColumn('total', 'integer', (c) => c.notNull())
      // The imported file: its name as uploaded and its SHA-256, to name a file imported twice.
      .addColumn('fichier_nom', 'text')
      .addColumn('fichier_empreinte', 'text')
      .addColumn('creee_le', 'text', (c) => c.notNull())
      .addColumn('creee_par', 'text', (c) => c.notNull())
      // The agent on whose behalf the robot acts: who started it.
      .addColumn('demarree_le', 'text')
      .addColumn('demarree_par', 'text')
      .addColumn('terminee_le', 'text')
      // Why it was last paused or cancelled (as typed by the agent).
      .addColumn('motif', 'text')
      .addColumn('modifiee_le', 'text', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('campagnes_statut').on('campagnes').columns(['statut', 'demarree_le']).execute();

    await db.schema
      .createTable('campagne_elements')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('campagne_id', 'text', (c) => c.notNull().references('campagnes.id').onDelete('cascade'))
      // The line of the file (import) or the order of the list (renewal).
      .addColumn('rang', 'integer', (c) => c.notNull())
      // The family's reference in the commune's software (import), or Quotient's (renewal).
      .addColumn('reference', 'text', (c) => c.notNull())
      .addColumn('famille_id', 'text', (c) => c.references('familles.id').onDelete('set null'))
      // The request it became; one request per item.
      .addColumn('demande_id', 'text', (c) => c.unique())
      // The consent that covers its calls (invariant 2): a signed form (import) or a standing consent.
      .addColumn('accord_mode', 'text', (c) => c.notNull())
      .addColumn('accord_piece', 'text')
      .addColumn('accord_le', 'text')
      .addColumn('accord_renouvellement_id', 'text')
      // The lease: who holds it, until when, and the token of that claim.
      .addColumn('reclame_par', 'text')
      .addColumn('bail_jusqua', 'text')
      .addColumn('jeton', 'text')
      .addColumn('essais', 'integer', (c) => c.notNull().defaultTo(0))
      // Not before (a retry after a DGFiP outage, the quota's next slot).
      .addColumn('disponible_le', 'text')
      .addColumn('traite_le', 'text')
      .addUniqueConstraint('campagne_elements_reference', ['campagne_id', 'reference'])
      .execute();
    await db.schema.createIndex('campagne_elements_a_traiter').on('campagne_elements').columns(['campagne_id', 'traite_le', 'rang']).execute();

    await db.schema
      .createTable('campagne_resultats')
      // One result per item, whoever records it first: a worker retaken after a crash cannot add a second.
      .addColumn('element_id', 'text', (c) => c.primaryKey().references('campagne_elements.id').onDelete('cascade'))
      .addColumn('campagne_id', 'text', (c) => c.notNull().references('campagnes.id').onDelete('cascade'))
      .addColumn('issue', 'text', (c) => c.notNull())
      .addColumn('demande_id', 'text')
      // The bracket(s) of the new QF, as the report gives them (no fiscal value).
      .addColumn('tranche', 'text')
      .addColumn('motif_code', 'text')
      .addColumn('enregistre_le', 'text', (c) => c.notNull())
      .addColumn('par', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('campagne_resultats_issue').on('campagne_resultats').columns(['campagne_id', 'issue']).execute();
    await db.schema.createIndex('campagne_resultats_le').on('campagne_resultats').columns(['campagne_id', 'enregistre_le']).execute();

    // The singleton jobs' leader: one row per job family, held by one process until it lapses.
    await db.schema
      .createTable('baux')
      .addColumn('nom', 'text', (c) => c.primaryKey())
      .addColumn('detenteur', 'text', (c) => c.notNull())
      .addColumn('expire_le', 'text', (c) => c.notNull())
      .addColumn('pris_le', 'text', (c) => c.notNull())
      .execute();

    // A family imported from the commune's software keeps that software's reference, so that next
    // year's import finds it again instead of creating it twice.
    await db.schema.alterTable('familles').addColumn('reference_externe', 'text').execute();
    await db.schema.createIndex('familles_reference_externe').unique().on('familles').column('reference_externe').execute();
  },
};
