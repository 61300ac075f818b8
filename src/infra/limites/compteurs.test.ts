import assert from 'node:assert/strict';
import { test } from 'node:test';
import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { eachDialect } from '../db/test-databases.ts';
import { CompteursPartages } from './compteurs.ts';
import { magasinPartage } from './magasin-rate-limit.ts';

test('two instances hitting one key at once each get a distinct count: one allowance between them, not two', async (t) => {
  await eachDialect(t, async (fixture) => {
    const [a, b] = [await fixture.open(), await fixture.open({ migrate: false })];
    let now = Date.parse('2026-09-01T08:00:00.000Z');
    const clock = () => now;
    const instances = [new CompteursPartages(a.db, clock), new CompteursPartages(b.db, clock)];
    const hits = await Promise.all(Array.from({ length: 60 }, (_, i) => (instances[i % 2] as CompteursPartages).frapper('essai:cle', 60_000)));
    assert.deepEqual(
      hits.map((h) => h.n).sort((x, y) => x - y),
      Array.from({ length: 60 }, (_, i) => i + 1),
      'every count from 1 to 60 once',
    );
    assert.ok(hits.every((h) => h.resteMs === 60_000));

    // The window runs from the first hit; after it, the next hit starts afresh.
    now += 59_999;
    assert.deepEqual(await instances[1]?.frapper('essai:cle', 60_000), { n: 61, resteMs: 1 });
    now += 1;
    assert.deepEqual(await instances[0]?.frapper('essai:cle', 60_000), { n: 1, resteMs: 60_000 });
    assert.deepEqual(await instances[0]?.frapper('essai:autre', 60_000), { n: 1, resteMs: 60_000 }, 'another key counts apart');
  });
});

test('failures hold a key back after the fifth, on every instance, until the hold ends; then the count starts afresh', async (t) => {
  await eachDialect(t, async (fixture) => {
    const [a, b] = [await fixture.open(), await fixture.open({ migrate: false })];
    let now = Date.parse('2026-09-01T08:00:00.000Z');
    const clock = () => now;
    const [ia, ib] = [new CompteursPartages(a.db, clock), new CompteursPartages(b.db, clock)];
    const HOLD = 15 * 60_000;
    const DAY = 86_400_000;
    for (let i = 1; i <= 4; i++) {
      const echec = await (i % 2 ? ia : ib).echouer('inconnue:x', 5, HOLD, DAY);
      assert.deepEqual([echec.n, echec.bloque], [i, false]);
    }
    assert.equal(await ib.bloque('inconnue:x', 5), null);
    const cinquieme = await ia.echouer('inconnue:x', 5, HOLD, DAY);
    assert.deepEqual(cinquieme, { n: 5, resteMs: HOLD, bloque: true });
    assert.equal(await ib.bloque('inconnue:x', 5), HOLD, 'the other instance holds it back too');
    now += HOLD - 1;
    assert.equal((await ib.echouer('inconnue:x', 5, HOLD, DAY)).resteMs, 1, 'a failure during the hold does not lengthen it');
    now += 1;
    assert.equal(await ia.bloque('inconnue:x', 5), null);
    assert.deepEqual(await ia.echouer('inconnue:x', 5, HOLD, DAY), { n: 1, resteMs: DAY, bloque: false });
  });
});

test('the rate-limit store in the database: two applications on one database share the allowance, with Retry-After', async (t) => {
  await eachDialect(t, async (fixture) => {
    const [a, b] = [await fixture.open(), await fixture.open({ migrate: false })];
    const app = async (database: typeof a) => {
      const server = Fastify({ logger: false });
      await server.register(rateLimit, { global: false, store: magasinPartage(new CompteursPartages(database.db), 'essai') });
      server.get('/limitee', { config: { rateLimit: { max: 3, timeWindow: 60_000 } } }, () => 'ok');
      server.get('/autre', { config: { rateLimit: { max: 3, timeWindow: 60_000 } } }, () => 'ok');
      return server;
    };
    const [one, two] = [await app(a), await app(b)];
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await (i % 2 ? two : one).inject({ url: '/limitee' })).statusCode);
      assert.deepEqual(statuses, [200, 200, 200, 429], 'three calls in all, whichever instance answers');
      const refused = await one.inject({ url: '/limitee' });
      assert.equal(refused.statusCode, 429);
      assert.ok(Number(refused.headers['retry-after']) > 0 && Number(refused.headers['retry-after']) <= 60);
      assert.equal((await two.inject({ url: '/autre' })).statusCode, 200, 'each route keeps its own counts, as in memory');
    } finally {
      await one.close();
      await two.close();
    }
  });
});
