import { sql } from 'kysely';
import type { Migration } from '../migrations.ts';

/**
 * Sign-in (issue 6): server-side sessions, family accounts (FranceConnect or local) and the
 * single-use tokens of e-mail verification and password reset. Secrets are never stored as such:
 * the session id and the tokens are kept as SHA-256 digests (they are 192/256 random bits, so a
 * digest is enough to make a leaked table useless), passwords as argon2id hashes.
 */
export const m0006Comptes: Migration = {
  name: '0006-comptes',
  async up(db) {
    await db.schema
      .createTable('comptes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('franceconnect', 'local')`))
      // FranceConnect: the identity is the pair (issuer, sub), never sub alone (mix-up, RFC 9700 §4.4).
      .addColumn('issuer', 'text')
      .addColumn('sub', 'text')
      .addColumn('email', 'text')
      .addColumn('password_hash', 'text')
      .addColumn('email_verified_at', 'text')
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('famille_id', 'text', (c) => c.notNull().references('familles.id').onDelete('cascade'))
      .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('locked_until', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_sign_in_at', 'text')
      .execute();
    await db.schema
      .createIndex('comptes_issuer_sub')
      .on('comptes')
      .columns(['issuer', 'sub'])
      .unique()
      .where(sql<boolean>`kind = 'franceconnect'`)
      .execute();
    await db.schema
      .createIndex('comptes_email_local')
      .on('comptes')
      .column('email')
      .unique()
      .where(sql<boolean>`kind = 'local'`)
      .execute();
    await db.schema.createIndex('comptes_famille').on('comptes').column('famille_id').execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id_hash', 'text', (c) => c.primaryKey())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('compte_id', 'text', (c) => c.references('comptes.id').onDelete('cascade'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('idle_expires_at', 'text', (c) => c.notNull())
      .addColumn('absolute_expires_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_compte').on('sessions').column('compte_id').execute();
    await db.schema.createIndex('sessions_idle').on('sessions').column('idle_expires_at').execute();

    await db.schema
      .createTable('compte_jetons')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('compte_id', 'text', (c) => c.notNull().references('comptes.id').onDelete('cascade'))
      .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('verification', 'reinitialisation')`))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('used_at', 'text')
      .execute();
    await db.schema.createIndex('compte_jetons_compte').on('compte_jetons').columns(['compte_id', 'purpose']).execute();
  },
};
