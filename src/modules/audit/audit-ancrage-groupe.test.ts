/**
 * Group commit of the anchor: a burst of appends returns once committed and costs one anchor
 * write; the batch limit and shutdown move it without waiting for the interval; tampering after a
 * move is still seen; and each move can be copied to a syslog server (RFC 5424, loopback here).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { analyserSyslog, demarrerRecepteurSyslog } from '../../infra/alertes/test-support.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { auditFilesFor, readAnchor, readAuditKey, type Anchor } from './audit-anchor.ts';
import { cibleSyslog, copieSyslogAncre, SD_ID_ANCRE } from './audit-anchor-syslog.ts';
import { JournalAudit, type AncrageGroupe, type AuditAlert } from './journal-audit.ts';
import { asPrivileged, resetJournal, sampleEntry, tempDir } from './test-support.ts';
import { EventEmitter } from 'node:events';
import type { Database } from '../../infra/db/database.ts';

async function openGrouped(database: Database, dir: string, groupe: AncrageGroupe, onAnchored?: (a: Anchor, mac: string) => void) {
  const files = auditFilesFor({ mode: 'demo', dataDir: dir });
  const moves = new EventEmitter();
  const anchored: Anchor[] = [];
  const alerts: AuditAlert[] = [];
  const journal = await JournalAudit.open({
    db: database.db,
    dialect: database.dialect,
    files,
    ancrageGroupe: groupe,
    onAlert: (a) => alerts.push(a),
    onAnchored: (a, mac) => {
      anchored.push(a);
      onAnchored?.(a, mac);
      moves.emit('moved', a);
    },
  });
  const anchorSeq = () => {
    const key = readAuditKey(files.keyFile);
    assert.ok(key);
    const read = readAnchor(files.anchorFile, key);
    return read.state === 'valide' ? read.anchor.seq : -1;
  };
  return { journal, files, anchored, alerts, moves, anchorSeq };
}

test('a burst of appends returns once committed, and the anchor follows in one write when flushed', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    await resetJournal(database);
    const { journal, anchored, alerts, anchorSeq } = await openGrouped(database, tempDir(st), { delaiMs: 600_000, entreesMax: 1000 });
    const before = anchored.length;
    await Promise.all(Array.from({ length: 40 }, (_, i) => journal.append(sampleEntry(i))));
    // Every entry is in the journal (reads stay journaled), the anchor has not moved yet.
    assert.equal(await journal.count(), 40);
    assert.equal(anchorSeq(), 0);
    assert.equal(anchored.length, before);
    const outcome = await journal.flush();
    assert.deepEqual(outcome, { state: 'avancee', seq: 40 });
    assert.equal(anchored.length, before + 1, 'one anchor write for the burst');
    assert.equal(anchorSeq(), 40);
    const report = await journal.verify();
    assert.equal(report.intact, true, report.message);

    // Once anchored, a cut tail shows exactly as before.
    await asPrivileged(database, async (trx) => {
      const kept = await trx.selectFrom('journal_audit').select('hash').where('seq', '=', 35).executeTakeFirstOrThrow();
      await trx.deleteFrom('journal_audit').where('seq', '>', 35).execute();
      await trx.updateTable('journal_audit_head').set({ seq: 35, hash: kept.hash }).execute();
    });
    const cut = await journal.verify();
    assert.equal(cut.intact, false);
    assert.equal(cut.firstBrokenSeq, 36);
    assert.equal(alerts.length, 0);
    // Shutdown's flush refuses to move the anchor over the cut, and says so.
    await journal.close();
    assert.deepEqual(
      alerts.map((a) => a.code),
      ['chaine_rompue'],
    );
    assert.equal(anchorSeq(), 40);
  });
});

test('a full batch moves the anchor without waiting for the interval, and shutdown anchors what is left', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    await resetJournal(database);
    const { journal, moves, anchorSeq } = await openGrouped(database, tempDir(st), { delaiMs: 600_000, entreesMax: 5 });
    const moved = once(moves, 'moved');
    for (let i = 0; i < 5; i++) await journal.append(sampleEntry(i));
    const [anchor] = (await moved) as [Anchor];
    assert.equal(anchor.seq, 5);
    for (let i = 5; i < 8; i++) await journal.append(sampleEntry(i));
    assert.equal(anchorSeq(), 5);
    await journal.close();
    assert.equal(anchorSeq(), 8, 'close() anchors the last entries');
    // After close, an append anchors at once (nothing would flush it later).
    await journal.append(sampleEntry(9));
    assert.equal(anchorSeq(), 9);
  });
});

test('the interval moves the anchor on its own', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    await resetJournal(database);
    const { journal, moves, anchorSeq } = await openGrouped(database, tempDir(st), { delaiMs: 20, entreesMax: 1000 });
    const moved = once(moves, 'moved');
    await journal.append(sampleEntry(1));
    // Waiting for the event, not for the clock: only the interval can move it here.
    await moved;
    assert.equal(anchorSeq(), 1);
    await journal.close();
  });
});

test('each anchor move is copied to a syslog server, over UDP and TCP, in RFC 5424 with the seal', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    for (const transport of ['udp', 'tcp'] as const) {
      const database = await fixture.open();
      await resetJournal(database);
      const recepteur = await demarrerRecepteurSyslog(transport);
      st.after(() => recepteur.close());
      const errors: unknown[] = [];
      const copie = copieSyslogAncre(cibleSyslog(`${transport}://127.0.0.1:${recepteur.port}`), (e) => errors.push(e));
      const { journal, alerts } = await openGrouped(database, tempDir(st), { delaiMs: 600_000, entreesMax: 1000 }, copie);
      for (let i = 0; i < 3; i++) await journal.append(sampleEntry(i));
      await journal.flush();
      // Two moves: the new journal's start (sequence 0), then the three entries.
      const messages = (await recepteur.inbox.wait(2)).map((m) => analyserSyslog(m));
      assert.deepEqual(messages.map((m) => m.sd.find((e) => e.id === SD_ID_ANCRE)?.params.seq).sort(), ['0', '3']);
      const parsed = messages.find((m) => m.sd.some((e) => e.params.seq === '3')) as ReturnType<typeof analyserSyslog>;
      assert.deepEqual(alerts, []);
      assert.equal(parsed.pri, 13 * 8 + 6, transport);
      assert.equal(parsed.msgId, 'ancre');
      assert.equal(parsed.bom, true);
      const sd = parsed.sd.find((e) => e.id === SD_ID_ANCRE);
      const head = await database.db.selectFrom('journal_audit_head').select(['seq', 'hash', 'journal_id']).executeTakeFirstOrThrow();
      assert.equal(sd?.params.seq, '3');
      assert.equal(sd?.params.hash, head.hash);
      assert.equal(sd?.params.journal, head.journal_id);
      assert.match(sd?.params.mac ?? '', /^[0-9a-f]{64}$/);
      assert.match(parsed.msg, /séquence n° 3/);
      assert.deepEqual(errors, []);
      await journal.close();
    }
  });
});

test('a syslog address that is not udp:// or tcp:// is refused with a French message', () => {
  assert.deepEqual(cibleSyslog('tcp://[::1]:6000'), { hote: '[::1]', port: 6000, transport: 'tcp' });
  assert.deepEqual(cibleSyslog('udp://journal.ville.fr'), { hote: 'journal.ville.fr', port: 514, transport: 'udp' });
  for (const bad of ['http://x:1', 'journal:514', ''])
    assert.throws(
      () => cibleSyslog(bad),
      (e: Error) => /udp:\/\/hôte:port/.test(e.message),
    );
});
