/**
 * Tamper trials (T10): a privileged connection edits, deletes, inserts, reorders entries or cuts
 * the tail, at positions chosen by fast-check; `verify` must notice every time and name the very
 * first sequence number that was touched.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import type { Schema } from '../../infra/db/schema.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { chainHash, GENESIS_HASH, rowContent, type AuditRow } from './audit-entry.ts';
import { asPrivileged, openJournal, resetJournal, sampleEntry, seed, shiftSeq, tempDir } from './test-support.ts';

const FIELDS = [
  'recorded_at',
  'actor_type',
  'actor_id',
  'on_behalf_type',
  'on_behalf_id',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'correlation_id',
  'details',
  'hash',
  'mac',
] as const;
type Field = (typeof FIELDS)[number];

type Tamper =
  /** `brut`: the value only; `rehache`: the entry's hash recomputed too; `rechaine`: every hash from it to the end recomputed (all without the key). */
  | { kind: 'edit'; seq: number; field: Field; mode: 'brut' | 'rehache' | 'rechaine' }
  | { kind: 'delete'; seq: number }
  | { kind: 'insert'; seq: number }
  | { kind: 'reorder'; a: number; b: number }
  | { kind: 'truncate'; keep: number; rewriteHead: boolean };

const trial = fc.integer({ min: 2, max: 12 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    offset: fc.integer({ min: 0, max: 1000 }),
    tamper: fc.oneof(
      // Edits weigh more: thirteen fields in three ways.
      {
        arbitrary: fc.record({
          kind: fc.constant('edit' as const),
          seq: fc.integer({ min: 1, max: n }),
          field: fc.constantFrom(...FIELDS),
          mode: fc.constantFrom('brut' as const, 'rehache' as const, 'rechaine' as const),
        }),
        weight: 4,
      },
      fc.record({ kind: fc.constant('delete' as const), seq: fc.integer({ min: 1, max: n - 1 }) }),
      fc.record({ kind: fc.constant('insert' as const), seq: fc.integer({ min: 1, max: n + 1 }) }),
      fc.record({ kind: fc.constant('reorder' as const), a: fc.integer({ min: 1, max: n }), b: fc.integer({ min: 1, max: n }) }).filter((r) => r.a !== r.b),
      fc.record({ kind: fc.constant('truncate' as const), keep: fc.integer({ min: 0, max: n - 1 }), rewriteHead: fc.boolean() }),
    ) as fc.Arbitrary<Tamper>,
  }),
);

function expectedFirstBroken(tamper: Tamper): number {
  switch (tamper.kind) {
    case 'edit':
    case 'delete':
    case 'insert':
      return tamper.seq;
    case 'reorder':
      return Math.min(tamper.a, tamper.b);
    case 'truncate':
      return tamper.keep + 1;
  }
}

function changed(row: AuditRow, field: Field): string {
  const old = row[field];
  if (field === 'hash' || field === 'mac') return `${row[field].startsWith('0') ? '1' : '0'}${row[field].slice(1)}`;
  if (field === 'details') return JSON.stringify({ ...(JSON.parse(old as string) as object), ajoute: 'x' });
  return `${old ?? ''}x`;
}

async function rehash(trx: Kysely<Schema>, from: number, to: number): Promise<void> {
  const rows = (await trx
    .selectFrom('journal_audit')
    .selectAll()
    .where('seq', '>=', from - 1)
    .where('seq', '<=', to)
    .orderBy('seq')
    .execute()) as AuditRow[];
  let previous = from === 1 ? GENESIS_HASH : (rows.shift() as AuditRow).hash;
  for (const row of rows) {
    const hash = chainHash(previous, row);
    await trx.updateTable('journal_audit').set({ hash }).where('seq', '=', row.seq).execute();
    previous = hash;
  }
}

async function apply(trx: Kysely<Schema>, tamper: Tamper, n: number): Promise<void> {
  switch (tamper.kind) {
    case 'edit': {
      const row = (await trx.selectFrom('journal_audit').selectAll().where('seq', '=', tamper.seq).executeTakeFirstOrThrow()) as AuditRow;
      await trx
        .updateTable('journal_audit')
        .set({ [tamper.field]: changed(row, tamper.field) })
        .where('seq', '=', tamper.seq)
        .execute();
      if (tamper.field !== 'hash' && tamper.field !== 'mac' && tamper.mode !== 'brut')
        await rehash(trx, tamper.seq, tamper.mode === 'rehache' ? tamper.seq : n);
      return;
    }
    case 'delete':
      await trx.deleteFrom('journal_audit').where('seq', '=', tamper.seq).execute();
      return;
    case 'insert': {
      await shiftSeq(trx, tamper.seq, 1);
      const before = await trx
        .selectFrom('journal_audit')
        .select('hash')
        .where('seq', '=', tamper.seq - 1)
        .executeTakeFirst();
      const content = rowContent(tamper.seq, new Date().toISOString(), sampleEntry(4242));
      // A well-formed entry, chained correctly to the one before it; only the seal cannot be made.
      const hash = chainHash(before?.hash ?? GENESIS_HASH, content);
      await trx
        .insertInto('journal_audit')
        .values({ ...content, hash, mac: randomBytes(32).toString('hex') })
        .execute();
      return;
    }
    case 'reorder':
      await trx.updateTable('journal_audit').set({ seq: -1 }).where('seq', '=', tamper.a).execute();
      await trx.updateTable('journal_audit').set({ seq: tamper.a }).where('seq', '=', tamper.b).execute();
      await trx.updateTable('journal_audit').set({ seq: tamper.b }).where('seq', '=', -1).execute();
      return;
    case 'truncate': {
      await trx.deleteFrom('journal_audit').where('seq', '>', tamper.keep).execute();
      if (tamper.rewriteHead) {
        const last = await trx.selectFrom('journal_audit').select('hash').where('seq', '=', tamper.keep).executeTakeFirst();
        await trx
          .updateTable('journal_audit_head')
          .set({ seq: tamper.keep, hash: last?.hash ?? GENESIS_HASH })
          .execute();
      }
      return;
    }
  }
}

test('every generated tampering is detected with the right first sequence number', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const dir = tempDir(st);
    const tally: Record<string, { trials: number; detected: number }> = {};
    await fc.assert(
      fc.asyncProperty(trial, async ({ n, offset, tamper }) => {
        await resetJournal(database);
        rmSync(`${dir}/audit-journal.anchor.json`, { force: true });
        const { journal } = await openJournal(database, dir);
        await seed(journal, n, offset);
        const before = await journal.verify();
        assert.equal(before.intact, true, before.message);

        await asPrivileged(database, (trx) => apply(trx, tamper, n));
        const report = await journal.verify();
        const label = tamper.kind === 'edit' ? `edit ${tamper.mode}` : tamper.kind;
        tally[label] ??= { trials: 0, detected: 0 };
        tally[label].trials += 1;
        assert.equal(report.intact, false, `${JSON.stringify(tamper)} not detected`);
        assert.equal(report.firstBrokenSeq, expectedFirstBroken(tamper), `${JSON.stringify(tamper)}: ${report.message}`);
        tally[label].detected += 1;
      }),
      { numRuns: 150 },
    );
    const total = Object.values(tally).reduce((sum, k) => sum + k.trials, 0);
    st.diagnostic(`${total} essais, ${Object.values(tally).reduce((sum, k) => sum + k.detected, 0)} détectés : ${JSON.stringify(tally)}`);
  });
});

test('the tail cut is seen only thanks to the anchor: without it, the shortened chain is self-consistent', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const dir = tempDir(st);
    const { journal, files } = await openJournal(database, dir);
    await seed(journal, 6);
    await asPrivileged(database, (trx) => apply(trx, { kind: 'truncate', keep: 4, rewriteHead: true }, 6));
    const withAnchor = await journal.verify();
    assert.equal(withAnchor.firstBrokenSeq, 5);
    assert.equal(withAnchor.reason, 'fin_tronquee');
    // Without the anchor the remaining entries verify: the only evidence was outside the database.
    rmSync(files.anchorFile);
    const withoutAnchor = await journal.verify();
    assert.equal(withoutAnchor.reason, 'ancre_absente');
    assert.equal(withoutAnchor.checked, 4, 'the four remaining entries chain correctly');
    assert.equal(withoutAnchor.firstBrokenSeq, null);
  });
});

test('the head sealed in the database shows a tail cut below a lagging anchor file, and the next entries do not cover it', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    for (const forgery of ['tete_reecrite', 'sceau_retire'] as const) {
      const database = await fixture.open();
      await resetJournal(database);
      const dir = tempDir(st);
      const { journal } = await openJournal(database, dir);
      await seed(journal, 6);
      // Three entries committed, the anchor file not yet moved (an instance stopped between the two).
      await database.db.transaction().execute(async (trx) => {
        for (let i = 6; i < 9; i++) await journal.append(sampleEntry(i), trx);
      });
      const lagging = await journal.verify();
      assert.equal(lagging.intact, true, lagging.message);
      assert.equal(lagging.anchor.seq, 6);

      // The last two removed and the head moved back onto the 7th, without the key.
      await asPrivileged(database, async (trx) => {
        const kept = await trx.selectFrom('journal_audit').select('hash').where('seq', '=', 7).executeTakeFirstOrThrow();
        await trx.deleteFrom('journal_audit').where('seq', '>', 7).execute();
        await trx
          .updateTable('journal_audit_head')
          .set({ seq: 7, hash: kept.hash, ...(forgery === 'sceau_retire' ? { mac: null } : {}) })
          .execute();
      });
      const cut = await journal.verify();
      assert.equal(cut.intact, false, `${forgery}: ${cut.message}`);
      assert.equal(cut.reason, 'tete_invalide', forgery);
      assert.equal(cut.firstBrokenSeq, 8, forgery);
      assert.match(cut.message, /tête du journal/);

      // The application goes on: its next entries neither hide the rewrite nor move the anchor over it.
      await journal.append(sampleEntry(20));
      const later = await journal.verify();
      assert.equal(later.reason, 'tete_invalide', forgery);
      assert.equal(later.anchor.seq, 6, forgery);
    }
  });
});
