import { sql } from 'kysely';
import type { Migration } from '../migrations.ts';

/**
 * The back-office (issue 7): agents and their roles, the sessions they open, the API keys of the
 * billing software, the versions of the tariff policy, and the auditors' periodic controls.
 * Secrets are kept as SHA-256 digests (API keys are 256 random bits). No fiscal value anywhere.
 */
export const m0007BackOffice: Migration = {
  name: '0007-back-office',
  async up(db) {
    // An agent is declared by an administrator (e-mail and roles); the identity provider's
    // (issuer, sub) is bound at the first sign-in with that e-mail.
    await db.schema
      .createTable('agents')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('prenom', 'text', (c) => c.notNull())
      .addColumn('nom', 'text', (c) => c.notNull())
      // JSON array of roles among guichet, instructeur, administrateur, auditeur.
      .addColumn('roles', 'text', (c) => c.notNull())
      .addColumn('actif', 'integer', (c) =>
        c
          .notNull()
          .defaultTo(1)
          .check(sql`actif in (0, 1)`),
      )
      .addColumn('issuer', 'text')
      .addColumn('sub', 'text')
      .addColumn('cree_le', 'text', (c) => c.notNull())
      .addColumn('cree_par', 'text', (c) => c.notNull())
      .addColumn('modifie_le', 'text', (c) => c.notNull())
      .addColumn('desactive_le', 'text')
      .addColumn('derniere_connexion_le', 'text')
      .execute();
    await db.schema.createIndex('agents_issuer_sub').on('agents').columns(['issuer', 'sub']).unique().execute();

    // Disabling an agent deletes their sessions at once.
    await db.schema
      .alterTable('sessions')
      .addColumn('agent_id', 'text', (c) => c.references('agents.id').onDelete('cascade'))
      .execute();
    await db.schema.createIndex('sessions_agent').on('sessions').column('agent_id').execute();

    await db.schema
      .createTable('cles_api')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('libelle', 'text', (c) => c.notNull())
      // The first characters of the key, shown to tell keys apart; the rest is never kept.
      .addColumn('prefixe', 'text', (c) => c.notNull())
      .addColumn('empreinte', 'text', (c) => c.notNull().unique())
      .addColumn('creee_le', 'text', (c) => c.notNull())
      .addColumn('creee_par', 'text', (c) => c.notNull())
      .addColumn('revoquee_le', 'text')
      .addColumn('revoquee_par', 'text')
      .addColumn('derniere_utilisation_le', 'text')
      .execute();

    await db.schema
      .createTable('politique_versions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('libelle', 'text', (c) => c.notNull())
      // The YAML as uploaded, validated before it is kept.
      .addColumn('contenu', 'text', (c) => c.notNull())
      .addColumn('empreinte', 'text', (c) => c.notNull())
      .addColumn('statut', 'text', (c) => c.notNull().check(sql`statut in ('brouillon', 'programmee', 'active', 'remplacee', 'abandonnee')`))
      // The date from which it applies (YYYY-MM-DD), set at activation.
      .addColumn('effet_le', 'text')
      .addColumn('deposee_le', 'text', (c) => c.notNull())
      .addColumn('deposee_par', 'text', (c) => c.notNull())
      .addColumn('activee_le', 'text')
      .addColumn('activee_par', 'text')
      .execute();
    await db.schema.createIndex('politique_versions_effet').on('politique_versions').columns(['statut', 'effet_le']).execute();

    await db.schema
      .createTable('controles')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('periode_du', 'text', (c) => c.notNull())
      .addColumn('periode_au', 'text', (c) => c.notNull())
      // JSON array of the journal sequence numbers drawn, and the seed that drew them (reproducible).
      .addColumn('echantillon', 'text', (c) => c.notNull())
      .addColumn('graine', 'text', (c) => c.notNull())
      .addColumn('cree_le', 'text', (c) => c.notNull())
      .addColumn('cree_par', 'text', (c) => c.notNull())
      .addColumn('observations', 'text')
      .addColumn('clos_le', 'text')
      .execute();
  },
};
