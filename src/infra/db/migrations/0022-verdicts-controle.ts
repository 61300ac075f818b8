import { sql } from 'kysely';
import type { Migration } from '../migrations.ts';

/**
 * The auditor's verdict on each sampled access of a periodic control (issue 15): conforme or non
 * conforme, with a comment. One row per control and journal entry; rows go with their control.
 */
export const m0022VerdictsControle: Migration = {
  name: '0022-verdicts-controle',
  async up(db) {
    await db.schema
      .createTable('controle_verdicts')
      .addColumn('controle_id', 'text', (c) => c.notNull().references('controles.id').onDelete('cascade'))
      .addColumn('sequence', 'integer', (c) => c.notNull())
      .addColumn('verdict', 'text', (c) => c.notNull().check(sql`verdict in ('conforme', 'non_conforme')`))
      .addColumn('commentaire', 'text')
      .addColumn('le', 'text', (c) => c.notNull())
      .addColumn('par', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('controle_verdicts_pk', ['controle_id', 'sequence'])
      .execute();
  },
};
