import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachDialect } from '../db/test-databases.ts';
import { Bail } from './bail.ts';

test('one holder at a time: renewed by its holder, taken over only once lapsed, given back on a clean stop', async (t) => {
  await eachDialect(t, async (fixture) => {
    const a = await fixture.open();
    const b = await fixture.open();
    let now = Date.parse('2026-09-01T08:00:00.000Z');
    const clock = () => now;
    const bailA = new Bail(a.db, { nom: 'planificateur', detenteur: 'A', dureeMs: 30_000, clock });
    const bailB = new Bail(b.db, { nom: 'planificateur', detenteur: 'B', dureeMs: 30_000, clock });
    assert.equal(await bailA.prendre(), true);
    assert.equal(await bailB.prendre(), false);
    now += 20_000;
    assert.equal(await bailA.prendre(), true, 'renewed');
    now += 29_000;
    assert.equal(await bailB.prendre(), false, 'still within the renewed lease');
    now += 2_000;
    assert.equal(await bailB.prendre(), true, 'A stopped beating: B takes over');
    assert.equal(await bailA.prendre(), false, 'A cannot take it back while B holds it');
    assert.deepEqual(await bailA.detenteur(), { detenteur: 'B', expireLe: new Date(now + 30_000).toISOString() });
    await bailA.rendre();
    assert.equal(await bailA.prendre(), false, 'A cannot give back what it does not hold');
    await bailB.rendre();
    assert.equal(await bailA.prendre(), true, 'given back: taken at once');
    // Many contenders at once: one winner.
    now += 60_000;
    const gagnants = await Promise.all(
      Array.from({ length: 8 }, (_, i) => new Bail(i % 2 ? a.db : b.db, { nom: 'course', detenteur: `p${i}`, dureeMs: 30_000, clock }).prendre()),
    );
    assert.equal(gagnants.filter(Boolean).length, 1);
  });
});
