import type { Migration } from '../migrations.ts';

/**
 * Anti-fishing (issue 12, hole 3): the numéros fiscaux submitted, counted per family account, per
 * family, per client address and per counter agent, in fixed windows (an hour, a day). One row per
 * key, window and start, bumped by one conditional upsert, so that two instances sharing
 * PostgreSQL never both let the try that crosses the limit through. No number is kept, only counts.
 */
export const m0012NumeroFiscalEssais: Migration = {
  name: '0012-numero-fiscal-essais',
  async up(db) {
    await db.schema
      .createTable('numero_fiscal_essais')
      // `compte:<id>`, `famille:<id>`, `adresse:<ip>`, `agent:<id>`.
      .addColumn('cle', 'text', (c) => c.notNull())
      .addColumn('fenetre', 'text', (c) => c.notNull())
      // The window's start, ISO 8601 UTC: rows older than a day are purged as new ones come.
      .addColumn('debut', 'text', (c) => c.notNull())
      .addColumn('n', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('numero_fiscal_essais_pk', ['cle', 'fenetre', 'debut'])
      .execute();
    await db.schema.createIndex('numero_fiscal_essais_debut').on('numero_fiscal_essais').column('debut').execute();
  },
};
