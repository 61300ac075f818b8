/**
 * An auditor's acknowledgement of a broken journal covers that break only: the journal verifies
 * from it while nothing changes, and any new tampering — before the break, inside the part it
 * covers, after its head, or a cut tail — fails again. A row written without the key covers nothing.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../../infra/db/database.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { GENESIS_HASH } from './audit-entry.ts';
import { asPrivileged, openJournal, resetJournal, sampleEntry, seed, tempDir } from './test-support.ts';
import type { JournalAudit } from './journal-audit.ts';

const AUDITEUR = { type: 'agent', id: 'auditrice' } as const;

const editer = (database: Database, seq: number) =>
  asPrivileged(database, async (trx: Kysely<Schema>) => {
    await trx.updateTable('journal_audit').set({ details: '{"motif":"réécrit"}' }).where('seq', '=', seq).execute();
  });

/** A journal of 10 entries whose entry 4 was rewritten, then acknowledged, then 3 more entries (head 14). */
async function brokenThenAcknowledged(database: Database, dir: string): Promise<JournalAudit> {
  await resetJournal(database);
  await database.db.deleteFrom('journal_audit_reconnaissances').execute();
  rmSync(`${dir}/audit-journal.anchor.json`, { force: true });
  const { journal } = await openJournal(database, dir);
  await seed(journal, 10);
  await editer(database, 4);
  const constat = await journal.verify();
  assert.equal(constat.firstBrokenSeq, 4);
  const r = await journal.reconnaitre(AUDITEUR, 'Enquête close : ligne 4 modifiée lors d’un test de restauration', constat);
  assert.equal(r.premiereSequence, 4);
  assert.equal(r.teteSequence, 10);
  assert.equal(r.entreeSequence, 11);
  for (let i = 0; i < 3; i++) await journal.append(sampleEntry(100 + i));
  return journal;
}

test('an acknowledgement covers its break, and only it', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const dir = tempDir(st);

    // Acknowledged, nothing new: the full check still fails, the check from the acknowledgement passes.
    let journal = await brokenThenAcknowledged(database, dir);
    const r = await journal.derniereReconnaissance();
    assert.ok(r);
    assert.equal((await journal.verify()).intact, false, 'the journal stays broken: the acknowledgement repairs nothing');
    const depuis = await journal.verifyFrom(r);
    assert.equal(depuis.intact, true, depuis.message);
    assert.equal(depuis.checked, 3 + 4, 'entries 1–3 before the break and 11–14 after the head were checked');
    const entry = (await journal.query({ action: 'journal.alteration_reconnue' })).entries[0];
    assert.equal(entry?.details.motif, 'Enquête close : ligne 4 modifiée lors d’un test de restauration');
    assert.equal(entry?.details.sequenceRompue, 4);

    const cases: Array<[string, (journal: JournalAudit) => Promise<void>, number, string]> = [
      ['before the break', () => editer(database, 2), 2, 'empreinte_invalide'],
      ['inside the acknowledged part', () => editer(database, 7), 4, 'partie_reconnue_modifiee'],
      ['the acknowledgement entry itself', () => editer(database, 11), 11, 'empreinte_invalide'],
      ['after the head', () => editer(database, 13), 13, 'empreinte_invalide'],
      [
        'a cut tail',
        () =>
          asPrivileged(database, async (trx) => {
            await trx.deleteFrom('journal_audit').where('seq', '>', 12).execute();
          }),
        13,
        'fin_tronquee',
      ],
      [
        'a row removed before the break',
        () =>
          asPrivileged(database, async (trx) => {
            await trx.deleteFrom('journal_audit').where('seq', '=', 1).execute();
          }),
        1,
        'sequence_manquante',
      ],
    ];
    for (const [what, tamper, seq, reason] of cases) {
      journal = await brokenThenAcknowledged(database, dir);
      await tamper(journal);
      const again = await journal.verifyFrom((await journal.derniereReconnaissance()) as NonNullable<typeof r>);
      assert.equal(again.intact, false, `${what}: not seen`);
      assert.equal(again.firstBrokenSeq, seq, `${what}: ${again.message}`);
      assert.equal(again.reason, reason, what);
    }

    // A row written without the key (or edited) covers nothing: it is passed over.
    journal = await brokenThenAcknowledged(database, dir);
    await database.db.updateTable('journal_audit_reconnaissances').set({ tete_sequence: 14 }).execute();
    assert.equal(await journal.derniereReconnaissance(), null);
    await database.db.deleteFrom('journal_audit_reconnaissances').execute();
    await database.db
      .insertInto('journal_audit_reconnaissances')
      .values({
        id: 'faux',
        premiere_sequence: 4,
        raison: 'empreinte_invalide',
        tete_sequence: 10,
        tete_empreinte: GENESIS_HASH,
        empreinte: GENESIS_HASH,
        lignes: 7,
        entree_sequence: 11,
        motif: 'sans clé',
        par_type: 'agent',
        par_id: 'x',
        le: new Date().toISOString(),
        mac: '0'.repeat(64),
      })
      .execute();
    assert.equal(await journal.derniereReconnaissance(), null);

    // Nothing to acknowledge on an intact journal.
    await resetJournal(database);
    rmSync(`${dir}/audit-journal.anchor.json`, { force: true });
    const fresh = (await openJournal(database, dir)).journal;
    await seed(fresh, 3);
    await assert.rejects(fresh.reconnaitre(AUDITEUR, 'rien à voir ici', await fresh.verify()), /intact/);
  });
});
