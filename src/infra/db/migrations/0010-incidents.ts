import { sql } from 'kysely';
import type { Migration } from '../migrations.ts';

/**
 * Incident response (issue 12): the switches an administrator or the operator turns during an
 * incident, read by every instance, and the auditors' acknowledgements of a broken journal, which
 * lift the integrity halt for the break they were given for only.
 */
export const m0010Incidents: Migration = {
  name: '0010-incidents',
  async up(db) {
    // One row per switch, created here: a switch is never missing, only on or off. The row
    // `integrite` is not a switch but the notice instances leave each other when the journal's
    // check fails or a break is acknowledged (each instance then verifies for itself).
    await db.schema
      .createTable('incident_interrupteurs')
      .addColumn('code', 'text', (c) => c.primaryKey())
      .addColumn('actif', 'integer', (c) =>
        c
          .notNull()
          .defaultTo(0)
          .check(sql`actif in (0, 1)`),
      )
      .addColumn('motif', 'text')
      // Who turned it last: the journal's actor (`agent:<id>`, `systeme:cli:<user>`) and how to show them.
      .addColumn('par', 'text')
      .addColumn('par_libelle', 'text')
      .addColumn('le', 'text')
      .execute();
    for (const code of ['appels_dgfip', 'campagnes', 'maintenance', 'integrite']) {
      await db.insertInto('incident_interrupteurs').values({ code, actif: 0 }).execute();
    }

    // Sealed with the journal's key (HMAC, column `mac`): a row written without the key covers nothing.
    await db.schema
      .createTable('journal_audit_reconnaissances')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // The first broken sequence the check reported (null: only the anchor was at fault) and why.
      .addColumn('premiere_sequence', 'integer')
      .addColumn('raison', 'text', (c) => c.notNull())
      // The journal's head when it was acknowledged, and the digest of the entries from the break to it.
      .addColumn('tete_sequence', 'integer', (c) => c.notNull())
      .addColumn('tete_empreinte', 'text', (c) => c.notNull())
      .addColumn('empreinte', 'text', (c) => c.notNull())
      .addColumn('lignes', 'integer', (c) => c.notNull())
      // The journal entry that records the acknowledgement and its reason.
      .addColumn('entree_sequence', 'integer', (c) => c.notNull())
      .addColumn('motif', 'text', (c) => c.notNull())
      .addColumn('par_type', 'text', (c) => c.notNull())
      .addColumn('par_id', 'text', (c) => c.notNull())
      .addColumn('le', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .execute();
  },
};
