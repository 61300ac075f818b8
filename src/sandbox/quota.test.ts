import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SPI_SANDBOX } from './population.ts';
import { maxCallsInAnyWindow, SlidingWindowQuota } from './quota.ts';
import { assertDocumented, startTestSandbox, type TestSandbox } from './test-support.ts';

describe('fenêtre glissante', () => {
  it('n’accepte jamais plus de `limit` appels dans une fenêtre, quelle que soit la suite des instants', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 10, max: 1000 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }),
        (limit, windowMs, gaps) => {
          let now = 0;
          const quota = new SlidingWindowQuota({ limit, windowMs }, () => now);
          const accepted: number[] = [];
          for (const gap of gaps) {
            now += gap;
            const d = quota.take('client');
            if (d.ok) accepted.push(now);
            else assert.ok(d.retryAfterSeconds >= 1);
          }
          for (const at of accepted) assert.ok(accepted.filter((x) => x > at - windowMs && x <= at).length <= limit);
        },
      ),
    );
  });

  it('compte dans le journal des appels le plus grand nombre tombé dans une même fenêtre', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 80 }), fc.integer({ min: 1, max: 2000 }), (instants, windowMs) => {
        const naive = Math.max(0, ...instants.map((at) => instants.filter((x) => x > at - windowMs && x <= at).length));
        assert.equal(maxCallsInAnyWindow(instants, windowMs), naive);
      }),
    );
    assert.equal(maxCallsInAnyWindow([0, 999, 1000, 1999], 1000), 2);
  });

  it('annonce dans Retry-After le délai jusqu’à la sortie du plus ancien appel', () => {
    let now = 0;
    const quota = new SlidingWindowQuota({ limit: 2, windowMs: 60_000 }, () => now);
    assert.ok(quota.take('a').ok);
    now = 20_000;
    assert.ok(quota.take('a').ok);
    now = 30_000;
    assert.deepEqual(quota.take('a'), { ok: false, retryAfterSeconds: 30 });
    assert.ok(quota.take('b').ok, 'chaque client a son quota');
    now = 60_001;
    assert.ok(quota.take('a').ok);
    assert.equal(quota.usage('a'), 2);
  });
});

describe('quota de la passerelle', () => {
  let clock = Date.UTC(2025, 9, 1, 10);
  let t: TestSandbox;
  before(async () => {
    t = await startTestSandbox({
      now: () => clock,
      quota: { limit: 3, windowMs: 10_000 },
      clients: [
        { clientId: 'commune-a', clientSecret: 'a' },
        { clientId: 'commune-b', clientSecret: 'b' },
      ],
    });
  });
  after(() => t.close());

  const p = `/spi/${SPI_SANDBOX.publies[0]}/situations/ir/assiettes/annrev/2024`;

  it('répond 429 avec Retry-After au-delà de la limite, puis rouvre quand la fenêtre glisse', async () => {
    const token = await t.token(undefined, 'commune-a');
    for (let i = 0; i < 3; i++) {
      assert.equal((await t.get(t.sb.baseUrl + p, t.headers(token))).status, 200);
      clock += 1000;
    }
    const refused = await t.get(t.sb.baseUrl + p, t.headers(token));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '7');
    assertDocumented('impot-particulier', p, refused);
    assert.equal(t.sb.admin.quotaUsage('commune-a'), 3);

    // Another téléservice is not slowed down.
    const other = await t.token(undefined, 'commune-b');
    assert.equal((await t.get(t.sb.baseUrl + p, t.headers(other))).status, 200);

    clock += 7000;
    assert.equal((await t.get(t.sb.baseUrl + p, t.headers(token))).status, 200);
    t.sb.admin.resetQuota();
    assert.equal(t.sb.admin.quotaUsage('commune-a'), 0);
  });

  it('compte les demandes de jeton seulement si on le demande', async () => {
    const counting = await startTestSandbox({ now: () => clock, quota: { limit: 2, windowMs: 10_000, includeTokenRequests: true } });
    try {
      const token = await counting.token();
      assert.equal((await counting.get(counting.sb.baseUrl + p, counting.headers(token))).status, 200);
      const refused = await counting.get(counting.sb.baseUrl + p, counting.headers(token));
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    } finally {
      await counting.close();
    }
  });
});
