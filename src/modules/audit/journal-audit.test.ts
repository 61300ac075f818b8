import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { sql } from 'kysely';
import { isQuotientError } from '../../domain/errors.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { readAnchor, readAuditKey } from './audit-anchor.ts';
import { canonicalDetails, validateEntry, type AuditEntryInput } from './audit-entry.ts';
import { describeEntry } from './audit-query.ts';
import { JournalAudit } from './journal-audit.ts';
import { asPrivileged, openJournal, sampleEntry, seed, tempDir } from './test-support.ts';

const agent = { type: 'agent', id: 'agent-7' } as const;

test('an appended entry reads back, the chain verifies, and key and anchor are private files outside the database', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const dir = tempDir(st);
    const { journal, files } = await openJournal(database, dir, () => new Date('2026-03-02T10:00:00.000Z'));
    const entry = await journal.append({
      actor: { type: 'robot', id: 'campagne-2026', onBehalfOf: { type: 'agent', id: 'agent-7' } },
      action: 'demande.calculee',
      target: { type: 'demande', id: 'd-1' },
      outcome: 'succes',
      correlationId: 'c-1',
      details: { statut: 'calculee', tentative: 2, urgent: false, motif: null },
    });
    assert.equal(entry.seq, 1);
    assert.equal(entry.time, '2026-03-02T10:00:00.000Z');
    const [read] = (await journal.query()).entries;
    assert.deepEqual(read, entry);
    assert.deepEqual(read?.actor.onBehalfOf, { type: 'agent', id: 'agent-7' });

    const report = await journal.verify();
    assert.equal(report.intact, true, report.message);
    assert.equal(report.checked, 1);
    assert.equal(report.anchor.seq, 1);
    for (const file of [files.keyFile, files.anchorFile]) assert.equal(statSync(file).mode & 0o777, 0o600, file);
  });
});

test('inside the caller’s transaction the entry commits or rolls back with the change, and sequence numbers have no gaps', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    await journal.append(sampleEntry(0));
    await assert.rejects(
      database.db.transaction().execute(async (trx) => {
        await trx.insertInto('installation').values({ id: 'i', created_at: 'x', commune_code_insee: '92012', software_version: '0' }).execute();
        await journal.append(sampleEntry(1), trx);
        throw new Error('the service failed after its entry');
      }),
      /the service failed/,
    );
    assert.equal(await journal.count(), 1, 'the entry went away with the change');
    assert.equal((await database.db.selectFrom('installation').selectAll().execute()).length, 0);

    await journal.inTransaction(async (trx) => {
      await trx.insertInto('installation').values({ id: 'i', created_at: 'x', commune_code_insee: '92012', software_version: '0' }).execute();
      await journal.append(sampleEntry(2), trx);
    });
    const seqs = (await journal.query()).entries.map((e) => e.seq);
    assert.deepEqual(seqs, [2, 1]);
    const report = await journal.verify();
    assert.equal(report.intact, true, report.message);
    assert.equal(report.anchor.seq, 2, 'inTransaction anchors after commit');
  });
});

test('many concurrent appends from one process get consecutive numbers and a valid chain', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal, alerts } = await openJournal(database, tempDir(st));
    const written = await Promise.all(Array.from({ length: 40 }, (_, i) => journal.append(sampleEntry(i))));
    assert.deepEqual(
      written.map((e) => e.seq).sort((a, b) => a - b),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const report = await journal.verify();
    assert.equal(report.intact, true, report.message);
    assert.equal(report.anchor.seq, 40);
    assert.deepEqual(alerts, []);
  });
});

test('an entry that holds something shaped like a numéro fiscal is refused, without repeating it', () => {
  const base: AuditEntryInput = { actor: agent, action: 'famille.consultee', outcome: 'succes' };
  const spi = '3141592653423';
  const cases: AuditEntryInput[] = [
    { ...base, details: { note: spi } },
    { ...base, details: { note: `numéro ${spi.slice(0, 2)} ${spi.slice(2, 4)} ${spi.slice(4, 7)} ${spi.slice(7, 10)} ${spi.slice(10)}` } },
    { ...base, details: { valeur: Number(spi) } },
    { ...base, target: { type: 'famille', id: spi } },
    { ...base, correlationId: `x${spi}` },
    { ...base, actor: { type: 'robot', id: 'r', onBehalfOf: { type: 'famille', id: spi } } },
  ];
  for (const entry of cases) {
    assert.throws(
      () => validateEntry(entry),
      (error) => {
        assert.ok(isQuotientError(error));
        assert.equal(error.code, 'numero_fiscal_interdit');
        assert.equal(error.kind, 'invalid');
        assert.doesNotMatch(JSON.stringify({ m: error.message, d: error.details }), /3141/);
        return true;
      },
    );
  }
  // Identifiers with digit groups between dashes (UUIDs) and twelve digits are fine.
  validateEntry({ ...base, target: { type: 'demande', id: '550e8400-e29b-41d4-a716-446655440000' }, details: { douze: '314159265342', n: 999_999_999_999 } });
});

test('malformed entries are refused with the faulty fields named', () => {
  const bad = (entry: unknown, path: string) =>
    assert.throws(
      () => validateEntry(entry as AuditEntryInput),
      (error) => isQuotientError(error) && error.code === 'entree_audit_invalide' && error.details.some((d) => d.path === path),
      path,
    );
  bad({ actor: { type: 'robot', id: 'r' }, action: 'a.b', outcome: 'succes' }, 'actor.onBehalfOf');
  bad({ actor: { type: 'pirate', id: 'x' }, action: 'a.b', outcome: 'succes' }, 'actor.type');
  bad({ actor: agent, action: 'Demande Calculée', outcome: 'succes' }, 'action');
  bad({ actor: agent, action: 'demande', outcome: 'succes' }, 'action');
  bad({ actor: agent, action: 'a.b', outcome: 'ok' }, 'outcome');
  bad({ actor: agent, action: 'a.b', outcome: 'succes', details: { note: 'ligne\nforgée' } }, 'details.note');
  bad({ actor: agent, action: 'a.b', outcome: 'succes', details: { liste: [1, 2] } }, 'details.liste');
  bad({ actor: agent, action: 'a.b', outcome: 'succes', details: { montant: Number.NaN } }, 'details.montant');
  bad({ actor: agent, action: 'a.b', outcome: 'succes', details: { 'cle avec espace': 1 } }, 'details.(clé)');
});

test('a refused entry writes nothing', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    await assert.rejects(
      journal.append({ actor: agent, action: 'famille.consultee', outcome: 'succes', details: { spi: '1234567890123' } }),
      (e) => isQuotientError(e) && e.code === 'numero_fiscal_interdit',
    );
    assert.equal(await journal.count(), 0);
    assert.equal((await database.db.selectFrom('journal_audit_head').select('seq').executeTakeFirstOrThrow()).seq, 0);
  });
});

test('details are stored in one canonical form whatever the key order', () => {
  assert.equal(canonicalDetails({ b: 1, a: 'x', c: true }), canonicalDetails({ c: true, a: 'x', b: 1 }));
  assert.equal(canonicalDetails(undefined), '{}');
});

test('the database refuses UPDATE, DELETE and TRUNCATE of journal entries and checkpoints', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    await seed(journal, 3);
    const refused = /interdit/;
    await assert.rejects(database.db.updateTable('journal_audit').set({ outcome: 'echec' }).where('seq', '=', 2).execute(), refused);
    await assert.rejects(database.db.updateTable('journal_audit').set({ seq: 9 }).where('seq', '=', 3).execute(), refused);
    await assert.rejects(database.db.deleteFrom('journal_audit').where('seq', '=', 3).execute(), refused);
    await assert.rejects(database.db.deleteFrom('journal_audit').execute(), refused);
    await assert.rejects(database.db.deleteFrom('journal_audit_head').execute(), refused);
    if (database.dialect === 'postgres') {
      await assert.rejects(sql`truncate journal_audit`.execute(database.db), refused);
      await assert.rejects(sql`truncate journal_audit_checkpoint`.execute(database.db), refused);
    }
    await asPrivileged(database, async (trx) => {
      await trx
        .insertInto('journal_audit_checkpoint')
        .values({ first_kept_seq: 1, previous_hash: '0'.repeat(64), purge_seq: 3, purged_before: 'x', purged_count: 0, created_at: 'x', mac: 'x' })
        .execute();
    });
    await assert.rejects(database.db.updateTable('journal_audit_checkpoint').set({ purged_count: 5 }).execute(), refused);
    await assert.rejects(database.db.deleteFrom('journal_audit_checkpoint').execute(), refused);
    assert.equal(await journal.count(), 3);
  });
});

test('queries filter by actor, action family, target, outcome and period, newest first, by pages', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const { journal } = await openJournal(database, tempDir(st), () => new Date((now += 3_600_000)));
    await seed(journal, 30);

    const all = await journal.query({}, { limit: 500 });
    assert.equal(all.entries.length, 30);
    assert.equal(all.nextBefore, null);

    const pages: number[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await journal.query({}, { limit: 7, ...(before === undefined ? {} : { before }) });
      pages.push(...page.entries.map((e) => e.seq));
      if (page.nextBefore === null) break;
      before = page.nextBefore;
    }
    assert.deepEqual(
      pages,
      Array.from({ length: 30 }, (_, i) => 30 - i),
    );

    const byActor = await journal.query({ actor: { type: 'agent', id: 'agent-1' } }, { limit: 500 });
    assert.ok(byActor.entries.length > 0);
    assert.ok(byActor.entries.every((e) => e.actor.type === 'agent' && e.actor.id === 'agent-1'));
    const forAgent = await journal.query({ onBehalfOf: { id: 'agent-1' } }, { limit: 500 });
    assert.ok(forAgent.entries.length > 0 && forAgent.entries.every((e) => e.actor.type === 'robot'));
    const demandes = await journal.query({ action: 'demande.' }, { limit: 500 });
    assert.deepEqual(new Set(demandes.entries.map((e) => e.action)), new Set(['demande.calculee', 'demande.a_verifier']));
    assert.equal((await journal.query({ action: 'demande.a_verifier' }, { limit: 500 })).entries.length, await journal.count({ action: 'demande.a_verifier' }));
    const refus = await journal.query({ outcome: 'refus', target: { type: 'famille' } }, { limit: 500 });
    assert.ok(refus.entries.every((e) => e.outcome === 'refus' && e.target?.type === 'famille'));

    const from = '2026-01-01T05:00:00.000Z';
    const to = new Date('2026-01-01T10:00:00.000Z');
    const period = await journal.query({ from, to }, { limit: 500 });
    const expected = all.entries.filter((e) => e.time >= from && e.time < to.toISOString()).map((e) => e.seq);
    assert.equal(expected.length, 5);
    assert.deepEqual(
      period.entries.map((e) => e.seq),
      expected,
    );
    await assert.rejects(journal.query({ from: 'hier' }), (e) => isQuotientError(e) && e.code === 'periode_invalide');
  });
});

test('queries by several targets, by records involved in any role, by sequence numbers; the filtered export streams oldest first', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    await seed(journal, 40);
    const all = (await journal.query({}, { limit: 500 })).entries;
    const targets = [
      { type: 'famille', id: 'id-0' },
      { type: 'demande', id: 'id-3' },
    ];
    const byTargets = await journal.query({ targets }, { limit: 500 });
    assert.deepEqual(
      byTargets.entries.map((e) => e.seq),
      all.filter((e) => targets.some((r) => e.target?.type === r.type && e.target.id === r.id)).map((e) => e.seq),
    );
    assert.ok(byTargets.entries.length > 2);
    const involving = [{ type: 'agent', id: 'agent-1' }];
    const involved = await journal.query({ involving }, { limit: 500 });
    const expected = all.filter(
      (e) => (e.actor.type === 'agent' && e.actor.id === 'agent-1') || (e.actor.onBehalfOf?.type === 'agent' && e.actor.onBehalfOf.id === 'agent-1'),
    );
    assert.deepEqual(
      involved.entries.map((e) => e.seq),
      expected.map((e) => e.seq),
    );
    assert.ok(
      involved.entries.some((e) => e.actor.type === 'robot'),
      'acting for the agent counts',
    );
    assert.deepEqual(
      (await journal.query({ seqs: [3, 17, 40, 99] })).entries.map((e) => e.seq),
      [40, 17, 3],
    );
    assert.deepEqual((await journal.query({ seqs: [] })).entries, []);
    assert.deepEqual((await journal.query({ targets: [] })).entries, []);
    const streamed: number[] = [];
    for await (const e of journal.exportMatching({ action: 'famille.' })) streamed.push(e.seq);
    assert.deepEqual(
      streamed,
      all
        .filter((e) => e.action.startsWith('famille.'))
        .map((e) => e.seq)
        .reverse(),
    );
  });
});

test('the export for one record streams its entries in order over a period, and its own actions on request', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    let now = Date.parse('2026-01-01T00:00:00.000Z');
    const { journal } = await openJournal(database, tempDir(st), () => new Date((now += 60_000)));
    await seed(journal, 40);
    await journal.append({ actor: { type: 'famille', id: 'id-2' }, action: 'famille.donnees_exportees', outcome: 'succes' });

    const about: number[] = [];
    for await (const e of journal.exportForTarget({ type: 'famille', id: 'id-2' })) about.push(e.seq);
    const expected = (await journal.query({ target: { type: 'famille', id: 'id-2' } }, { limit: 500 })).entries.map((e) => e.seq).reverse();
    assert.deepEqual(about, expected);
    assert.ok(about.length > 0);

    const withOwn: number[] = [];
    for await (const e of journal.exportForTarget({ type: 'famille', id: 'id-2' }, {}, { includeActor: true })) withOwn.push(e.seq);
    assert.deepEqual(withOwn, [...about, 41]);

    const windowed: number[] = [];
    for await (const e of journal.exportForTarget({ type: 'famille', id: 'id-2' }, { from: '2026-01-01T00:10:00.000Z', to: '2026-01-01T00:30:00.000Z' }))
      windowed.push(e.seq);
    assert.deepEqual(
      windowed,
      about.filter((s) => s >= 10 && s < 30),
    );

    const [first] = (await journal.query({ target: { type: 'famille', id: 'id-2' } }, { limit: 1 })).entries;
    assert.match(describeEntry(first!), /^n° \d+ — \d{2}\/\d{2}\/2026 \d{2}:\d{2}:\d{2} UTC — .+ : [a-z_.]+ sur famille id-2 — (réussi|échoué|refusé)$/);
  });
});

test('purge on a fake clock removes what is older than the retention, keeps the rest, and the chain still verifies', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    // One entry a week for two years.
    let now = Date.parse('2024-01-01T12:00:00.000Z');
    const { journal } = await openJournal(database, tempDir(st), () => new Date(now));
    await journal.inTransaction(async (trx) => {
      for (let i = 0; i < 104; i++) {
        now += 7 * 86_400_000;
        await journal.append(sampleEntry(i), trx);
      }
    });
    const end = now;
    const retentionStart = new Date(end - 365 * 86_400_000).toISOString();
    const olderCount = await journal.count({ to: retentionStart });
    assert.ok(olderCount > 40 && olderCount < 60);
    const sixMonths = new Date(end - 183 * 86_400_000);
    const youngCount = await journal.count({ from: sixMonths });

    await assert.rejects(journal.purge(new Date(end - 30 * 86_400_000)), (e) => isQuotientError(e) && e.code === 'purge_trop_recente');
    assert.throws(
      () => journal.purgeExpired(90),
      (e) => isQuotientError(e) && e.code === 'retention_invalide',
    );

    const report = await journal.purgeExpired();
    assert.equal(report.purged, olderCount);
    assert.equal(report.firstKeptSeq, olderCount + 1);
    assert.equal(report.purgeSeq, 105);
    assert.equal(await journal.count({ to: retentionStart }), 0, 'nothing older than the retention remains');
    assert.equal(await journal.count({ from: sixMonths }), youngCount + 1, 'the last six months are all there, plus the purge entry');
    assert.equal(await journal.count(), 104 - olderCount + 1);
    const [purgeEntry] = (await journal.query({ action: 'journal.purge' })).entries;
    assert.deepEqual(purgeEntry?.details, { avant: retentionStart, entreesSupprimees: olderCount, premiereSequenceConservee: olderCount + 1 });

    const verified = await journal.verify();
    assert.equal(verified.intact, true, verified.message);
    assert.equal(verified.firstSeq, olderCount + 1);
    assert.equal(verified.checkpoint?.firstKeptSeq, olderCount + 1);

    // Purging again with nothing older writes nothing.
    assert.deepEqual(await journal.purgeExpired(), { purged: 0, firstKeptSeq: olderCount + 1, purgeSeq: null });

    // Below the checkpoint the guards allow deletion, above it they still refuse.
    await assert.rejects(
      database.db
        .deleteFrom('journal_audit')
        .where('seq', '=', olderCount + 1)
        .execute(),
      /interdit/,
    );

    // Tampering after a purge is still pinned to its entry.
    await asPrivileged(database, async (trx) => {
      await trx
        .deleteFrom('journal_audit')
        .where('seq', '=', olderCount + 1)
        .execute();
    });
    const broken = await journal.verify();
    assert.equal(broken.intact, false);
    assert.equal(broken.firstBrokenSeq, olderCount + 1);
    assert.equal(broken.reason, 'sequence_manquante');
  });
});

test('a purge refuses to remove tampered entries, and a forged checkpoint does not hide removed ones', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    let now = Date.parse('2024-01-01T12:00:00.000Z');
    const { journal } = await openJournal(database, tempDir(st), () => new Date((now += 30 * 86_400_000)));
    await seed(journal, 24);
    await asPrivileged(database, async (trx) => {
      await trx.updateTable('journal_audit').set({ actor_id: 'quelquun-dautre' }).where('seq', '=', 3).execute();
    });
    await assert.rejects(journal.purgeExpired(), (e) => isQuotientError(e) && e.code === 'journal_altere' && /n° 3\b/.test(e.message));
    assert.equal(await journal.count(), 24, 'the evidence is kept');

    // Someone removes entries 1–5 and writes a checkpoint to cover it, without the key.
    await asPrivileged(database, async (trx) => {
      const row = await trx.selectFrom('journal_audit').select('hash').where('seq', '=', 5).executeTakeFirstOrThrow();
      await trx
        .insertInto('journal_audit_checkpoint')
        .values({ first_kept_seq: 6, previous_hash: row.hash, purge_seq: 6, purged_before: 'x', purged_count: 5, created_at: 'x', mac: 'f'.repeat(64) })
        .execute();
      await trx.deleteFrom('journal_audit').where('seq', '<=', 5).execute();
    });
    const report = await journal.verify();
    assert.equal(report.firstBrokenSeq, 1);
    assert.equal(report.reason, 'sequence_manquante');
  });
});

test('the anchor: a cut tail is seen even with the head rewritten, the anchor never moves over it, and its loss is reported', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const dir = tempDir(st);
    const { journal, files, alerts } = await openJournal(database, dir);
    await seed(journal, 10);
    await asPrivileged(database, async (trx) => {
      const kept = await trx.selectFrom('journal_audit').select('hash').where('seq', '=', 7).executeTakeFirstOrThrow();
      await trx.deleteFrom('journal_audit').where('seq', '>', 7).execute();
      await trx.updateTable('journal_audit_head').set({ seq: 7, hash: kept.hash }).execute();
    });
    const cut = await journal.verify();
    assert.equal(cut.intact, false);
    assert.equal(cut.firstBrokenSeq, 8);
    assert.equal(cut.reason, 'fin_tronquee');

    // The service goes on appending: the anchor stays where it was, and the operator is told.
    await journal.append(sampleEntry(99));
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.code, 'chaine_rompue');
    const anchor = readAnchor(files.anchorFile, readAuditKey(files.keyFile)!);
    assert.equal(anchor.state === 'valide' && anchor.anchor.seq, 10);
    assert.equal((await journal.verify()).intact, false);

    // A forged or deleted anchor is itself a failure.
    writeFileSync(files.anchorFile, readFileSync(files.anchorFile, 'utf8').replace(/"seq":10/, '"seq":8'));
    assert.equal((await journal.verify()).reason, 'ancre_invalide');
    rmSync(files.anchorFile);
    const lost = await journal.verify();
    assert.equal(lost.reason, 'ancre_absente');
    assert.equal(lost.firstBrokenSeq, null);
  });
});

test('an anchor that lags (entries committed, anchor not yet written) is accepted and caught up', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    await seed(journal, 3);
    await database.db.transaction().execute(async (trx) => {
      await journal.append(sampleEntry(3), trx);
      await journal.append(sampleEntry(4), trx);
    });
    const lagging = await journal.verify();
    assert.equal(lagging.intact, true, lagging.message);
    assert.equal(lagging.anchor.seq, 3);
    assert.equal(lagging.lastSeq, 5);
    assert.deepEqual(await journal.anchor(), { state: 'avancee', seq: 5 });
    assert.deepEqual(await journal.anchor(), { state: 'a_jour', seq: 5 });
  });
});

test('a database started afresh next to an old anchor gets a new anchor; a lost anchor needs an explicit, audited re-anchoring', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const dir = tempDir(st);
    const first = await fixture.open();
    const { journal, files } = await openJournal(first, dir);
    await seed(journal, 4);
    // Same data folder, empty journal in another database (the demo reset its database).
    await first.db.updateTable('journal_audit_head').set({ journal_id: 'autre' }).execute();
    await asPrivileged(first, async (trx) => {
      await trx.deleteFrom('journal_audit').execute();
      await trx
        .updateTable('journal_audit_head')
        .set({ seq: 0, hash: '0'.repeat(64) })
        .execute();
    });
    const fresh = await openJournal(first, dir);
    assert.equal((await fresh.journal.verify()).intact, true);
    await seed(fresh.journal, 2);
    assert.equal((await fresh.journal.verify()).intact, true);

    rmSync(files.anchorFile);
    const reopened = await openJournal(first, dir);
    assert.equal(reopened.alerts[0]?.code, 'ancre_absente');
    assert.equal((await reopened.journal.verify()).reason, 'ancre_absente');
    const entry = await reopened.journal.reanchor({ type: 'agent', id: 'rssi' });
    assert.equal(entry.action, 'journal.reancre');
    assert.deepEqual(entry.details, { ancrePrecedente: 'absente' });
    const after = await reopened.journal.verify();
    assert.equal(after.intact, true, after.message);
    assert.equal(after.anchor.seq, 3);
  });
});

test('outside the demo, an emptied journal next to its old anchor is not silently re-anchored, and the key is never generated', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const dir = tempDir(st);
    const database = await fixture.open();
    const { journal, files } = await openJournal(database, dir);
    await seed(journal, 3);
    const production = { ...files, createKey: false, replaceForeignAnchor: false };
    // Emptied, with a new journal id: what a fresh database looks like, and what a wipe would imitate.
    await database.db.updateTable('journal_audit_head').set({ journal_id: 'autre' }).execute();
    await asPrivileged(database, async (trx) => {
      await trx.deleteFrom('journal_audit').execute();
      await trx
        .updateTable('journal_audit_head')
        .set({ seq: 0, hash: '0'.repeat(64) })
        .execute();
    });
    const alerts: string[] = [];
    const reopened = await JournalAudit.open({ db: database.db, dialect: database.dialect, files: production, onAlert: (a) => alerts.push(a.code) });
    assert.deepEqual(alerts, ['ancre_autre_journal']);
    assert.equal((await reopened.verify()).reason, 'ancre_autre_journal');
    await reopened.reanchor({ type: 'agent', id: 'rssi' });
    assert.equal((await reopened.verify()).intact, true);

    await assert.rejects(
      JournalAudit.open({ db: database.db, dialect: database.dialect, files: { ...production, keyFile: `${dir}/absente.key` } }),
      (e) => isQuotientError(e) && e.code === 'cle_audit_absente',
    );
  });
});
