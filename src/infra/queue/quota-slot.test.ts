import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { isQuotientError } from '../../domain/errors.ts';
import { eachDialect } from '../db/test-databases.ts';
import { QuotaEpuise, QuotaSlot } from './quota-slot.ts';

test('grants up to the limit in a window, then says when the next slot frees', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    let now = Date.parse('2026-11-23T10:00:00.000Z');
    const slot = new QuotaSlot(database.db, { bucket: 'dgfip', limit: 3, windowMs: 60_000, marginMs: 1_000, clock: () => now });
    const first = now;
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await slot.tryAcquire(), { granted: true });
      now += 10_000;
    }
    const refused = await slot.tryAcquire();
    assert.equal(refused.granted, false);
    // The first call leaves the 61 s window one millisecond after it ends.
    assert.equal(!refused.granted && refused.retryAt, first + 61_000 + 1);
    assert.deepEqual(await slot.usage(), { used: 3, limit: 3, pausedUntil: null });
    now = first + 61_001;
    assert.deepEqual(await slot.tryAcquire(), { granted: true });
  });
});

test('the count survives a restart: a new instance on the same database sees the calls already made', async (t) => {
  await eachDialect(t, async (fixture) => {
    let now = Date.parse('2026-11-23T10:00:00.000Z');
    const before = new QuotaSlot((await fixture.open()).db, { bucket: 'dgfip', limit: 2, clock: () => now });
    await before.tryAcquire();
    await before.tryAcquire();
    now += 5_000;
    const after = new QuotaSlot((await fixture.open()).db, { bucket: 'dgfip', limit: 2, clock: () => now });
    assert.equal((await after.tryAcquire()).granted, false);
  });
});

test('an upstream Retry-After pauses every instance, and a pause never shortens', async (t) => {
  await eachDialect(t, async (fixture) => {
    let now = Date.parse('2026-11-23T10:00:00.000Z');
    const a = new QuotaSlot((await fixture.open()).db, { bucket: 'dgfip', limit: 50, clock: () => now });
    const b = new QuotaSlot((await fixture.open()).db, { bucket: 'dgfip', limit: 50, clock: () => now });
    await a.pauseUntil(now + 30_000);
    await a.pauseUntil(now + 10_000);
    assert.deepEqual(await b.tryAcquire(), { granted: false, retryAt: now + 30_000 });
    assert.equal((await b.usage()).pausedUntil, now + 30_000);
    now += 30_001;
    assert.deepEqual(await b.tryAcquire(), { granted: true });
  });
});

test('acquire gives up at the deadline with a typed error saying when to come back', async (t) => {
  await eachDialect(t, async (fixture) => {
    const slot = new QuotaSlot((await fixture.open()).db, { bucket: 'dgfip', limit: 1, windowMs: 60_000 });
    await slot.acquire(Date.now() + 1000);
    await assert.rejects(slot.acquire(Date.now() + 1000), (error) => {
      assert.ok(isQuotientError(error) && error instanceof QuotaEpuise);
      assert.equal(error.kind, 'rate_limited');
      assert.ok(error.retryAt > Date.now() + 55_000);
      return true;
    });
  });
});

function runChild(url: string, limit: number, windowMs: number, count: number, upstreamUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      new URL('./quota-slot.child.ts', import.meta.url).pathname,
      url,
      String(limit),
      String(windowMs),
      String(count),
      upstreamUrl,
    ]);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`child exited ${code}: ${err}`));
    });
  });
}

test('two processes sharing one database never exceed the quota in any window', async (t) => {
  await eachDialect(t, async (fixture) => {
    await fixture.open(); // migrates
    const limit = 4;
    const windowMs = 2_000;
    // A stand-in for the DGFiP that notes when each call arrives.
    const arrivals: number[] = [];
    const upstream = createServer((_req, res) => {
      arrivals.push(performance.now());
      res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/`;
    try {
      await Promise.all([runChild(fixture.url, limit, windowMs, 7, upstreamUrl), runChild(fixture.url, limit, windowMs, 7, upstreamUrl)]);
    } finally {
      upstream.closeAllConnections();
      upstream.close();
    }
    const grants = arrivals.sort((x, y) => x - y);
    assert.equal(grants.length, 14);
    for (let i = 0; i + limit < grants.length; i++) {
      // Any limit+1 consecutive grants span at least one window.
      const span = (grants[i + limit] as number) - (grants[i] as number);
      assert.ok(span >= windowMs, `${limit + 1} calls within ${span} ms (window ${windowMs} ms)`);
    }
  });
});
