import type { Migration } from '../migrations.ts';

/**
 * Security alerts (issue 12): what the detection rules raised, its status and who moved it, the
 * journal entries behind each alert, and the in-process events some rules count (sign-in failures
 * by network address, which the journal does not hold).
 */
export const m0011Alertes: Migration = {
  name: '0011-alertes',
  async up(db) {
    await db.schema
      .createTable('alertes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // The rule (`connexion.echecs_rafale`) and what it counts by (`compte:<id>`, `adresse:<ip>`).
      .addColumn('regle', 'text', (c) => c.notNull())
      .addColumn('cle', 'text', (c) => c.notNull())
      // `regle|cle` while the alert is not closed, null once closed: the unique index keeps one
      // open alert per rule and key across every instance (no alert storm, no double alert).
      .addColumn('cle_ouverte', 'text')
      .addColumn('gravite', 'text', (c) => c.notNull())
      .addColumn('titre', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('statut', 'text', (c) => c.notNull())
      // How many detections it gathers (each with new evidence), and how many times it was sent.
      .addColumn('occurrences', 'integer', (c) => c.notNull())
      .addColumn('notifications', 'integer', (c) => c.notNull())
      .addColumn('premiere_le', 'text', (c) => c.notNull())
      .addColumn('derniere_le', 'text', (c) => c.notNull())
      .addColumn('notifiee_le', 'text', (c) => c.notNull())
      .addColumn('acquittee_par', 'text')
      .addColumn('acquittee_le', 'text')
      .addColumn('acquittement_motif', 'text')
      .addColumn('cloturee_par', 'text')
      .addColumn('cloturee_le', 'text')
      .addColumn('cloture_motif', 'text')
      .execute();
    await db.schema.createIndex('alertes_cle_ouverte').unique().on('alertes').column('cle_ouverte').execute();
    await db.schema.createIndex('alertes_statut').on('alertes').columns(['statut', 'derniere_le']).execute();

    // The evidence: `j<seq>` for a journal entry (seq kept apart to join), `e<id>` for an event.
    // Unique per rule and key, so that a piece of evidence counts once, even after its alert closed.
    await db.schema
      .createTable('alerte_preuves')
      .addColumn('alerte_id', 'text', (c) => c.notNull())
      .addColumn('regle', 'text', (c) => c.notNull())
      .addColumn('cle', 'text', (c) => c.notNull())
      .addColumn('preuve', 'text', (c) => c.notNull())
      .addColumn('journal_seq', 'integer')
      .addPrimaryKeyConstraint('alerte_preuves_pk', ['regle', 'cle', 'preuve'])
      .execute();
    await db.schema.createIndex('alerte_preuves_alerte').on('alerte_preuves').column('alerte_id').execute();

    // Short-lived: purged past the longest window of the rules.
    await db.schema
      .createTable('detection_evenements')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('cle', 'text', (c) => c.notNull())
      .addColumn('le', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('detection_evenements_type_le').on('detection_evenements').columns(['type', 'le']).execute();
  },
};
