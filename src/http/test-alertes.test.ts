/**
 * The no-false-positive check every test app runs at `close()`: it fails when a rule fires that the
 * suite did not declare, when a declared one did not fire, and when the journal was broken; it
 * passes when exactly the declared alerts were raised; and it closes the app whatever the outcome.
 */
import assert, { AssertionError } from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { detectionSchema } from '../infra/config/securite-config.ts';
import { asPrivileged } from '../modules/audit/test-support.ts';
import { createTestApp, type TestApp } from './testing.ts';

/** As many refusals for one agent as the rule « refus répétés » needs: journal entries only, no alert yet. */
async function rafaleDeRefus(t: TestApp): Promise<void> {
  const { seuil } = detectionSchema.parse({}).refusSession;
  for (let i = 0; i < seuil; i++)
    await t.services.journal.append({
      actor: { type: 'agent', id: 'agent-curieux' },
      action: 'acces.refuse',
      outcome: 'refus',
      correlationId: `req-${i}`,
      details: { methode: 'GET', route: '/agents/controle/journal', roles: 'guichet' },
    });
  assert.deepEqual(await t.services.incident.alertesStore.lister(), [], 'nothing raised before the check evaluates the rules');
}

const echoue =
  (...motifs: RegExp[]) =>
  (error: unknown) => {
    assert.ok(error instanceof AssertionError, `an assertion error, not ${String(error)}`);
    for (const motif of motifs) assert.match(error.message, motif);
    return true;
  };

test('an undeclared alert fails the close, names the rule, and the app is closed all the same', async () => {
  const t = await createTestApp();
  await rafaleDeRefus(t);
  await assert.rejects(t.close(), echoue(/false positives/, /acces\.refus_repetes \(agent:agent-curieux, ouverte\)/, /Nombreux refus d’accès/));
  assert.equal(existsSync(t.dataDir), false, 'the data folder is removed');
  await assert.rejects(t.database.db.selectFrom('alertes').selectAll().execute(), 'the database is closed');
});

test('the declared alert passes; an ordinary run passes with nothing declared', async () => {
  const declaree = await createTestApp({ alertesAttendues: ['acces.refus_repetes'] });
  await rafaleDeRefus(declaree);
  await declaree.close();

  const ordinaire = await createTestApp();
  await ordinaire.services.journal.append({ actor: { type: 'agent', id: 'agent-curieux' }, action: 'acces.refuse', outcome: 'refus', details: {} });
  await ordinaire.close();
});

test('a declared alert that was not raised fails the close', async () => {
  const t = await createTestApp({ alertesAttendues: ['acces.refus_repetes'] });
  await assert.rejects(t.close(), echoue(/declared by the suite but not raised: acces\.refus_repetes/));
});

test('a journal broken during the run is found by the check (integrity, not only the rules)', async () => {
  const t = await createTestApp();
  await t.services.journal.append({ actor: { type: 'agent', id: 'agent-curieux' }, action: 'acces.refuse', outcome: 'refus', details: {} });
  await asPrivileged(t.database, async (trx) => {
    await trx.updateTable('journal_audit').set({ outcome: 'succes' }).where('seq', '=', 1).execute();
  });
  await assert.rejects(t.close(), echoue(/journal\.integrite_rompue/));
});

test('a test that cannot be checked says why, and is not evaluated', async () => {
  const t = await createTestApp({ sansControleAlertes: 'la base est fermée sous l’application' });
  await rafaleDeRefus(t);
  await t.close();
});
