import type { Migration } from '../migrations.ts';

/**
 * Attestations of quotient familial (issue 15): one per request whose QF is attested, the same for
 * the family and the counter, with the random code anyone checks on the public page /verifier.
 * The code reveals nothing by itself; what the page says comes from the QF it points to. When the
 * retention purge deletes the request or the family, the attestation stays, unlinked, with its
 * period only: its code then reads « expirée », never « inconnue » nor anyone's QF.
 */
export const m0016Attestations: Migration = {
  name: '0016-attestations',
  async up(db) {
    await db.schema
      .createTable('attestations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      // `7KQ4-M2XH-9TRC`: drawn at random (about 2⁵⁹ codes), unique.
      .addColumn('code', 'text', (c) => c.notNull().unique())
      // One attestation per request: printed again, it keeps its code.
      .addColumn('demande_id', 'text', (c) => c.unique().references('demandes.id').onDelete('set null'))
      .addColumn('famille_id', 'text', (c) => c.references('familles.id').onDelete('set null'))
      .addColumn('valide_du', 'text', (c) => c.notNull())
      .addColumn('valide_au', 'text', (c) => c.notNull())
      .addColumn('emise_le', 'text', (c) => c.notNull())
      .addColumn('emise_par_type', 'text', (c) => c.notNull())
      .addColumn('emise_par_id', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('attestations_famille').on('attestations').column('famille_id').execute();
  },
};
