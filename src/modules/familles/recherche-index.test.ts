/**
 * The counter's name search goes through an index on both dialects (a prefix of a normalised
 * word, issue 16), and the words follow the names when they change.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { eachDialect } from '../../infra/db/test-databases.ts';

test('a prefix of a normalised word is found through the index of parents_mots, not by reading every parent', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const motif = 'lef%';
    if (database.dialect === 'sqlite') {
      const plan = await sql<{ detail: string }>`explain query plan select parent_id from parents_mots where mot like ${motif}`.execute(database.db);
      const details = plan.rows.map((r) => r.detail).join(' | ');
      assert.match(details, /USING (COVERING )?INDEX/, details);
      assert.doesNotMatch(details, /^SCAN parents_mots$/, details);
    } else {
      await database.db.transaction().execute(async (trx) => {
        // The tables are nearly empty here: without this the planner rightly prefers a scan.
        await sql`set local enable_seqscan = off`.execute(trx);
        const plan = await sql<{ 'QUERY PLAN': string }>`explain select parent_id from parents_mots where mot like ${motif}`.execute(trx);
        const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        assert.match(text, /Index.*parents_mots_prefixe|Index.*parents_mots/, text);
      });
    }
  });
});
