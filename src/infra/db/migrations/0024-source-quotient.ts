import type { Migration } from '../migrations.ts';

/**
 * Which QF priced the family (issue 17): `fiscal` (the avis d'imposition) or `caf` (the CAF's or
 * MSA's quotient), and the sentence saying why, as the policy's `quotient.source` decided. Null
 * on rows written before: those were all fiscal, or set by an agent.
 */
export const m0024SourceQuotient: Migration = {
  name: '0024-source-quotient',
  async up(db) {
    await db.schema.alterTable('quotients').addColumn('source_retenue', 'text').execute();
    await db.schema.alterTable('quotients').addColumn('raison_source', 'text').execute();
  },
};
