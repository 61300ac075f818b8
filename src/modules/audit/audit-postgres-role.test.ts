import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isQuotientError } from '../../domain/errors.ts';
import { openDatabase } from '../../infra/db/database.ts';
import { migrateToLatest } from '../../infra/db/migrations.ts';
import { restrictJournalToAppRole } from '../../infra/db/migrations/0003-journal-audit.ts';
import { createThrowawayPostgres } from '../../infra/db/test-databases.ts';
import { openJournal, seed, tempDir } from './test-support.ts';

const ADMIN_URL = process.env.QUOTIENT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

test('PostgreSQL: with QUOTIENT_DB_APP_ROLE the application role may read and append to the journal, never change or remove entries', async (t) => {
  let throwaway: Awaited<ReturnType<typeof createThrowawayPostgres>>;
  try {
    throwaway = await createThrowawayPostgres();
  } catch (error) {
    const why = `PostgreSQL injoignable (${ADMIN_URL}) : ${error instanceof Error ? error.message : String(error)}`;
    console.error(`\n*** TEST IGNORÉ : ${why}\n`);
    t.skip(why);
    return;
  }
  const role = `quotient_app_${randomBytes(4).toString('hex')}`;
  await admin(`create role ${role} login`);
  const owner = openDatabase(throwaway.url);
  const appUrl = new URL(throwaway.url);
  appUrl.username = role;
  const app = openDatabase(appUrl.toString());
  try {
    const previous = process.env.QUOTIENT_DB_APP_ROLE;
    process.env.QUOTIENT_DB_APP_ROLE = role;
    try {
      await migrateToLatest(owner.db, owner.dialect);
    } finally {
      if (previous === undefined) delete process.env.QUOTIENT_DB_APP_ROLE;
      else process.env.QUOTIENT_DB_APP_ROLE = previous;
    }

    // The application, connected as its role, appends, reads, verifies and purges.
    let now = Date.parse('2024-01-01T00:00:00.000Z');
    const { journal } = await openJournal(app, tempDir(t), () => new Date((now += 20 * 86_400_000)));
    await seed(journal, 30);
    await journal.append({ actor: { type: 'agent', id: 'a' }, action: 'famille.consultee', outcome: 'succes' });
    assert.equal(await journal.count(), 31);
    assert.equal((await journal.verify()).intact, true);
    const purge = await journal.purgeExpired();
    assert.ok(purge.purged > 0);
    const afterPurge = await journal.verify();
    assert.equal(afterPurge.intact, true, afterPurge.message);

    // Anything else is refused by the database itself, before any trigger.
    const denied = (error: unknown) => {
      assert.equal((error as { code?: string }).code, '42501', String(error));
      assert.match(String(error), /permission denied/);
      return true;
    };
    const first = afterPurge.firstSeq as number;
    await assert.rejects(app.db.updateTable('journal_audit').set({ outcome: 'echec' }).where('seq', '=', first).execute(), denied);
    await assert.rejects(app.db.deleteFrom('journal_audit').where('seq', '=', first).execute(), denied);
    await assert.rejects(sql`truncate journal_audit`.execute(app.db), denied);
    await assert.rejects(app.db.updateTable('journal_audit_checkpoint').set({ purged_count: 0 }).execute(), denied);
    await assert.rejects(app.db.deleteFrom('journal_audit_checkpoint').execute(), denied);
    await assert.rejects(app.db.deleteFrom('journal_audit_head').execute(), denied);
    await assert.rejects(sql`drop trigger journal_audit_append_only on journal_audit`.execute(app.db), /must be owner/);
    // The purge function removes nothing above the latest checkpoint, whoever calls it.
    assert.equal((await sql<{ n: number }>`select journal_audit_purge() as n`.execute(app.db)).rows[0]?.n, 0);
    assert.equal((await journal.verify()).intact, true);

    // The role must exist, and must not be the one that owns the tables.
    await assert.rejects(restrictJournalToAppRole(owner.db, 'role_qui_n_existe_pas'), (e) => isQuotientError(e) && e.code === 'role_applicatif_inconnu');
    await assert.rejects(restrictJournalToAppRole(owner.db, 'postgres'), (e) => isQuotientError(e) && e.code === 'role_applicatif_invalide');
    await assert.rejects(restrictJournalToAppRole(owner.db, 'x; drop table journal_audit'), (e) => isQuotientError(e) && e.code === 'role_applicatif_invalide');
  } finally {
    await app.close();
    await owner.close();
    await throwaway.drop();
    await admin(`drop role if exists ${role}`);
  }
});
