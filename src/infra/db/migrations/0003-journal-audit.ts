import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { QuotientError } from '../../../domain/errors.ts';
import type { Migration, SchemaAgnosticDb } from '../migrations.ts';

/**
 * The journal d'audit (see src/modules/audit/). Three tables:
 * - `journal_audit`: the hash-chained entries, append-only: triggers refuse UPDATE, TRUNCATE and
 *   DELETE, except DELETE of entries below the latest checkpoint (the purge path);
 * - `journal_audit_head`: one row (sequence, hash, journal id) that every append updates first,
 *   which serialises appends from all processes on both dialects;
 * - `journal_audit_checkpoint`: where the chain restarts after a purge, append-only too.
 *
 * On PostgreSQL, when QUOTIENT_DB_APP_ROLE names the role the application connects with (distinct
 * from the role that runs migrations), that role gets SELECT and INSERT only on the journal, and
 * purges through a SECURITY DEFINER function that deletes nothing above the latest checkpoint.
 */
export const m0003JournalAudit: Migration = {
  name: '0003-journal-audit',
  async up(db, dialect) {
    await db.schema
      .createTable('journal_audit')
      .addColumn('seq', 'integer', (c) => c.primaryKey())
      .addColumn('recorded_at', 'text', (c) => c.notNull())
      .addColumn('actor_type', 'text', (c) => c.notNull())
      .addColumn('actor_id', 'text', (c) => c.notNull())
      .addColumn('on_behalf_type', 'text')
      .addColumn('on_behalf_id', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target_type', 'text')
      .addColumn('target_id', 'text')
      .addColumn('outcome', 'text', (c) => c.notNull())
      .addColumn('correlation_id', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .execute();
    // The screens filter by target, actor, action and period, newest first.
    await db.schema.createIndex('journal_audit_target').on('journal_audit').columns(['target_type', 'target_id', 'seq']).execute();
    await db.schema.createIndex('journal_audit_actor').on('journal_audit').columns(['actor_type', 'actor_id', 'seq']).execute();
    await db.schema.createIndex('journal_audit_on_behalf').on('journal_audit').columns(['on_behalf_type', 'on_behalf_id', 'seq']).execute();
    await db.schema.createIndex('journal_audit_action').on('journal_audit').columns(['action', 'seq']).execute();
    await db.schema.createIndex('journal_audit_recorded_at').on('journal_audit').columns(['recorded_at']).execute();

    await db.schema
      .createTable('journal_audit_head')
      .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('journal_id', 'text', (c) => c.notNull())
      .execute();
    // journal_id ties the anchor file to this journal: a new database next to an old anchor (a demo
    // started afresh) is told apart from a journal whose entries were removed.
    await db
      .insertInto('journal_audit_head')
      .values({ id: 1, seq: 0, hash: '0'.repeat(64), journal_id: randomUUID() })
      .execute();

    await db.schema
      .createTable('journal_audit_checkpoint')
      .addColumn('first_kept_seq', 'integer', (c) => c.primaryKey())
      .addColumn('previous_hash', 'text', (c) => c.notNull())
      .addColumn('purge_seq', 'integer', (c) => c.notNull())
      .addColumn('purged_before', 'text', (c) => c.notNull())
      .addColumn('purged_count', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('mac', 'text', (c) => c.notNull())
      .execute();

    if (dialect === 'sqlite') await sqliteGuards(db);
    else await postgresGuards(db);
  },
};

async function sqliteGuards(db: SchemaAgnosticDb): Promise<void> {
  const statements = [
    `create trigger journal_audit_no_update before update on journal_audit
       begin select raise(abort, 'journal_audit : modification interdite (journal en ajout seul)'); end`,
    `create trigger journal_audit_no_delete before delete on journal_audit
       when old.seq >= coalesce((select max(first_kept_seq) from journal_audit_checkpoint), 1)
       begin select raise(abort, 'journal_audit : suppression interdite hors purge'); end`,
    `create trigger journal_audit_checkpoint_no_update before update on journal_audit_checkpoint
       begin select raise(abort, 'journal_audit_checkpoint : modification interdite'); end`,
    `create trigger journal_audit_checkpoint_no_delete before delete on journal_audit_checkpoint
       begin select raise(abort, 'journal_audit_checkpoint : suppression interdite'); end`,
    `create trigger journal_audit_head_no_delete before delete on journal_audit_head
       begin select raise(abort, 'journal_audit_head : suppression interdite'); end`,
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

async function postgresGuards(db: SchemaAgnosticDb): Promise<void> {
  // The purge function runs with its owner's rights: pin its search_path to this schema so that a
  // role able to create objects elsewhere cannot slip its own `journal_audit` in front.
  const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s ?? 'public';
  const statements = [
    `create function journal_audit_refuse_change() returns trigger language plpgsql as $$
     begin
       if tg_op = 'DELETE' and old.seq < coalesce((select max(first_kept_seq) from journal_audit_checkpoint), 1) then
         return old;
       end if;
       raise exception 'journal_audit : % interdit (journal en ajout seul)', tg_op using errcode = 'insufficient_privilege';
     end $$`,
    `create function journal_audit_refuse_always() returns trigger language plpgsql as $$
     begin
       raise exception '% : % interdit (journal en ajout seul)', tg_table_name, tg_op using errcode = 'insufficient_privilege';
     end $$`,
    `create trigger journal_audit_append_only before update or delete on journal_audit for each row execute function journal_audit_refuse_change()`,
    `create trigger journal_audit_no_truncate before truncate on journal_audit for each statement execute function journal_audit_refuse_always()`,
    `create trigger journal_audit_checkpoint_append_only before update or delete on journal_audit_checkpoint for each row execute function journal_audit_refuse_always()`,
    `create trigger journal_audit_checkpoint_no_truncate before truncate on journal_audit_checkpoint for each statement execute function journal_audit_refuse_always()`,
    `create trigger journal_audit_head_no_delete before delete on journal_audit_head for each row execute function journal_audit_refuse_always()`,
    `create trigger journal_audit_head_no_truncate before truncate on journal_audit_head for each statement execute function journal_audit_refuse_always()`,
    `create function journal_audit_purge() returns integer language plpgsql security definer
       set search_path = ${quoteIdent(schema)}, pg_temp as $$
     declare removed integer;
     begin
       delete from journal_audit where seq < coalesce((select max(first_kept_seq) from journal_audit_checkpoint), 1);
       get diagnostics removed = row_count;
       return removed;
     end $$`,
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
  const role = process.env.QUOTIENT_DB_APP_ROLE?.trim();
  if (role) await restrictJournalToAppRole(db, role);
}

/**
 * Gives the application role INSERT-only rights on the journal. Exported so that an installation
 * that names its role after this migration ran can apply it (same statements, idempotent).
 */
export async function restrictJournalToAppRole(db: SchemaAgnosticDb, role: string): Promise<void> {
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(role)) {
    throw new QuotientError(
      'invalid',
      'role_applicatif_invalide',
      'QUOTIENT_DB_APP_ROLE doit être un nom de rôle PostgreSQL simple (lettres, chiffres, « _ »).',
    );
  }
  const found = await sql<{
    rolsuper: boolean;
    is_me: boolean;
  }>`select rolsuper, rolname = current_user as is_me from pg_roles where rolname = ${role}`.execute(db);
  const row = found.rows[0];
  if (row === undefined)
    throw new QuotientError(
      'invalid',
      'role_applicatif_inconnu',
      `Le rôle « ${role} » (QUOTIENT_DB_APP_ROLE) n’existe pas dans PostgreSQL : créez-le d’abord.`,
    );
  if (row.is_me || row.rolsuper) {
    throw new QuotientError(
      'invalid',
      'role_applicatif_invalide',
      `Le rôle « ${role} » (QUOTIENT_DB_APP_ROLE) doit être distinct du rôle qui applique les migrations et ne pas être superutilisateur : sinon ses droits ne peuvent pas être restreints.`,
    );
  }
  const r = quoteIdent(role);
  const statements = [
    `revoke all on journal_audit, journal_audit_checkpoint, journal_audit_head from public`,
    `revoke all on journal_audit, journal_audit_checkpoint, journal_audit_head from ${r}`,
    `grant select, insert on journal_audit, journal_audit_checkpoint to ${r}`,
    `grant select, update on journal_audit_head to ${r}`,
    `revoke all on function journal_audit_purge() from public`,
    `grant execute on function journal_audit_purge() to ${r}`,
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
