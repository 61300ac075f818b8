import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../http/testing.ts';

/**
 * The public check is throttled per network address, on an application without family accounts (the
 * limiter is then its own): past the limit, a French 429 with when to try again, and a journal entry.
 */

let t: TestApp;
before(async () => {
  t = await createTestApp({ web: { verificationsPerMinute: 3 } });
});
after(() => t?.close());

test('past its limit per address the check answers 429 in French, says when to try again, and the journal says so; another address is not held', async () => {
  const code = (i: number) => `/verifier/2222-3333-44${i}${i}`;
  // Three checks within the minute (a window of 60 s against a few milliseconds of requests).
  for (let i = 5; i < 8; i++) {
    const res = await t.app.inject({ url: code(i) });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Code inconnu/);
  }
  const refuse = await t.app.inject({ url: code(8) });
  assert.equal(refuse.statusCode, 429);
  assert.match(refuse.body, /Trop de vérifications en peu de temps depuis votre connexion : patientez une minute avant de réessayer/);
  assert.match(refuse.body, /lang="fr"/);
  assert.ok(Number(refuse.headers['retry-after']) > 0, 'Retry-After');
  // Refused again: still one entry for this address and minute, however many refusals.
  assert.equal((await t.app.inject({ url: code(8) })).statusCode, 429);
  // The entry is written after the answer: waited for, within a generous bound.
  let limitees = (await t.services.journal.query({ action: 'attestation.verification_limitee' })).entries;
  for (let i = 0; i < 200 && limitees.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    limitees = (await t.services.journal.query({ action: 'attestation.verification_limitee' })).entries;
  }
  assert.equal(limitees.length, 1);
  assert.equal(limitees[0]?.actor.type, 'anonyme');
  // Only three checks reached the service: the fourth was stopped before.
  assert.equal((await t.services.journal.query({ action: 'attestation.verifiee' })).entries.length, 3);

  const ailleurs = await t.app.inject({ url: code(9), remoteAddress: '127.0.0.2' });
  assert.equal(ailleurs.statusCode, 200, 'another address has its own allowance');
});
