import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { estUnAcces, nouvelleGraine, tirerEchantillon } from './echantillon.ts';

const population = fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000 }), { maxLength: 300 });
const graine = fc.string({ minLength: 1, maxLength: 40 });

test('the same seed draws the same sample, whatever the order of the population', () => {
  fc.assert(
    fc.property(population, graine, fc.integer({ min: 0, max: 50 }), (pop, g, n) => {
      const a = tirerEchantillon(pop, g, n);
      assert.deepEqual(tirerEchantillon([...pop].reverse(), g, n), a);
      assert.deepEqual(tirerEchantillon([...pop, ...pop], g, n), a, 'duplicates count once');
    }),
  );
});

test('a sample is a sorted subset of the population, of the size asked or the whole population', () => {
  fc.assert(
    fc.property(population, graine, fc.integer({ min: 0, max: 50 }), (pop, g, n) => {
      const s = tirerEchantillon(pop, g, n);
      assert.equal(s.length, Math.min(n, pop.length));
      assert.equal(new Set(s).size, s.length);
      assert.ok(s.every((x) => pop.includes(x)));
      assert.deepEqual(
        s,
        [...s].sort((x, y) => x - y),
      );
      // A larger sample from the same seed contains the smaller one: the draw is one ranking.
      assert.ok(s.every((x) => tirerEchantillon(pop, g, n + 5).includes(x)));
    }),
  );
});

test('different seeds draw different samples, each entry about as often as any other', () => {
  const pop = Array.from({ length: 20 }, (_, i) => i + 1);
  const hits = new Map<number, number>();
  const samples = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const s = tirerEchantillon(pop, `graine-${i}`, 5);
    samples.add(s.join(','));
    for (const x of s) hits.set(x, (hits.get(x) ?? 0) + 1);
  }
  assert.ok(samples.size > 1500, 'seeds give different samples');
  // Each entry is expected 2000 × 5 / 20 = 500 times; a uniform draw stays well within ±25 %.
  for (const x of pop) assert.ok(Math.abs((hits.get(x) ?? 0) - 500) < 125, `entry ${x}: ${hits.get(x)}`);
  assert.throws(() => tirerEchantillon(pop, 'g', -1));
});

test('seeds are fresh and carry no digit, so they never look like a numéro fiscal', () => {
  const a = nouvelleGraine();
  assert.match(a, /^[a-z]{28}$/);
  assert.notEqual(a, nouvelleGraine());
});

test('accesses are agents opening or exporting a family’s records, not the auditor’s own reads', () => {
  const agent = { type: 'agent' };
  assert.ok(estUnAcces({ actor: agent, action: 'famille.consultee', target: { type: 'famille' } }));
  assert.ok(estUnAcces({ actor: agent, action: 'demande.consultee_instruction', target: { type: 'demande' } }));
  assert.ok(estUnAcces({ actor: agent, action: 'famille.exportee', target: { type: 'famille' } }));
  assert.ok(estUnAcces({ actor: agent, action: 'demande.apercu_instruction', target: { type: 'demande' } }));
  assert.ok(estUnAcces({ actor: agent, action: 'contestation.consultee_instruction', target: { type: 'contestation' } }));
  assert.ok(!estUnAcces({ actor: { type: 'famille' }, action: 'famille.consultee', target: { type: 'famille' } }));
  assert.ok(!estUnAcces({ actor: agent, action: 'famille.creee', target: { type: 'famille' } }));
  assert.ok(!estUnAcces({ actor: agent, action: 'journal.consulte', target: { type: 'famille' } }));
  assert.ok(!estUnAcces({ actor: agent, action: 'agent.consulte', target: { type: 'agent' } }));
  assert.ok(!estUnAcces({ actor: agent, action: 'famille.consultee', target: null }));
});
