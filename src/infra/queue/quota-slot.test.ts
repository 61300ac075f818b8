import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { test } from 'node:test';
import {
  InsertQueryNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
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

/**
 * A database on which the grant's insert makes the clock jump: the machine stalled between the
 * instant recorded for the slot and the end of its transaction (a loaded host, a slow commit).
 */
class GrantLent implements KyselyPlugin {
  private readonly inserts = new WeakSet<object>();
  constructor(private readonly lenteur: () => void) {}
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node;
    if (InsertQueryNode.is(node) && node.into?.table.identifier.name === 'quota_calls') this.inserts.add(args.queryId);
    return node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.inserts.has(args.queryId)) this.lenteur();
    return args.result;
  }
}

test('a grant that came back later than its share of the margin is given back, never used', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    let now = Date.parse('2026-11-23T10:00:00.000Z');
    let stall = 0;
    const db = database.db.withPlugin(new GrantLent(() => (now += stall)));
    const slot = new QuotaSlot(db, { bucket: 'dgfip', limit: 2, windowMs: 10_000, marginMs: 1_000, clock: () => now });
    stall = 800; // more than half the margin: the call would leave 0.8 s after its recorded instant
    const refused = await slot.tryAcquire();
    assert.deepEqual(refused, { granted: false, retryAt: now });
    assert.equal(slot.rendus, 1);
    assert.equal((await slot.usage()).used, 0, 'the slow grant is deleted: it stands for no call');
    stall = 300; // within half the margin: used
    assert.deepEqual(await slot.tryAcquire(), { granted: true });
    assert.equal((await slot.usage()).used, 1);
    assert.deepEqual((await slot.parMinute(1))[0], { minute: '2026-11-23T10:00', enLigne: 1, campagne: 0 }, 'the given-back grant is not counted');
  });
});

test('slots per minute over the last hour, online and campaigns apart, every instance together; older minutes purged', async (t) => {
  await eachDialect(t, async (fixture) => {
    let now = Date.parse('2026-11-23T10:00:30.000Z');
    const a = new QuotaSlot((await fixture.open()).db, { bucket: 'dgfip', limit: 50, clock: () => now });
    const b = new QuotaSlot((await fixture.open()).db, { bucket: 'dgfip', limit: 50, clock: () => now });
    await a.tryAcquire('en_ligne');
    await b.tryAcquire('en_ligne');
    await b.tryAcquire('campagne');
    now += 60_000; // 10:01
    for (let i = 0; i < 3; i++) await a.tryAcquire('campagne');
    now += 59 * 60_000; // 11:00: 10:00 is now the hour's first minute
    const heure = await b.parMinute(60);
    assert.equal(heure.length, 60);
    assert.deepEqual(heure[0], { minute: '2026-11-23T10:01', enLigne: 0, campagne: 3 });
    assert.deepEqual(heure[59], { minute: '2026-11-23T11:00', enLigne: 0, campagne: 0 });
    assert.deepEqual((await b.parMinute(61))[0], { minute: '2026-11-23T10:00', enLigne: 2, campagne: 1 });
    assert.equal(
      heure.reduce((n, m) => n + m.enLigne + m.campagne, 0),
      3,
    );

    // Two hours later, a grant purges what the dashboard no longer shows.
    now += 2 * 3600_000;
    await a.tryAcquire('en_ligne');
    const gardees = await (await fixture.open()).db.selectFrom('quota_minutes').select('minute').execute();
    assert.deepEqual(
      gardees.map((r) => r.minute),
      ['2026-11-23T13:00'],
    );
  });
});

test('whatever the stalls of the grants, no window of the upstream sees more calls than the quota', async () => {
  // The upstream's view: a call arrives when its grant came back, plus the way there (at most
  // half the margin). Stalls up to 1.5 margin would let 3 calls into 2 s without the give-back.
  const fc = await import('fast-check');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { openDatabase } = await import('../db/database.ts');
  const { migrateToLatest } = await import('../db/migrations.ts');
  const dir = mkdtempSync(join(tmpdir(), 'quota-stall-'));
  const database = openDatabase(`sqlite:${join(dir, 'q.db')}`);
  try {
    await migrateToLatest(database.db, database.dialect);
    const limit = 2;
    const windowMs = 2_000;
    const marginMs = 400;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ stall: fc.integer({ min: 0, max: 600 }), trajet: fc.integer({ min: 0, max: marginMs / 2 }) }), { minLength: 4, maxLength: 14 }),
        async (essais) => {
          let now = Date.parse('2026-11-23T10:00:00.000Z') + run++ * 3_600_000;
          let stall = 0;
          const slot = new QuotaSlot(database.db.withPlugin(new GrantLent(() => (now += stall))), {
            bucket: `b${run}`,
            limit,
            windowMs,
            marginMs,
            clock: () => now,
          });
          const arrivees: number[] = [];
          for (const essai of essais) {
            stall = essai.stall;
            for (let tour = 0; tour < 50; tour++) {
              const answer = await slot.tryAcquire();
              if (answer.granted) {
                arrivees.push(now + essai.trajet);
                break;
              }
              now = Math.max(now + 1, answer.retryAt);
              stall = Math.min(stall, 100); // the machine recovers
            }
          }
          arrivees.sort((a, b) => a - b);
          for (let i = 0; i + limit < arrivees.length; i++) {
            const span = (arrivees[i + limit] as number) - (arrivees[i] as number);
            if (span < windowMs) throw new Error(`${limit + 1} appels en ${span} ms (fenêtre ${windowMs} ms)`);
          }
        },
      ),
      { numRuns: 40 },
    );
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('online first: a campaign gets no slot while an online request waits, and none of the reserve', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    let now = Date.parse('2026-11-23T10:00:00.000Z');
    let enLigne = true;
    const slot = new QuotaSlot(database.db, {
      bucket: 'dgfip',
      limit: 3,
      windowMs: 60_000,
      reserveEnLigne: 1,
      enLigneEnAttente: () => Promise.resolve(enLigne),
      clock: () => now,
    });
    const retenu = await slot.tryAcquire('campagne');
    assert.equal(retenu.granted, false, 'an online request is waiting');
    assert.ok(!retenu.granted && retenu.retryAt > now && retenu.retryAt <= now + 1_000, 'the campaign asks again shortly');
    assert.equal((await slot.librePourCampagne()).granted, false);
    assert.deepEqual(await slot.tryAcquire('en_ligne'), { granted: true });
    enLigne = false;
    assert.deepEqual(await slot.librePourCampagne(), { granted: true });
    assert.deepEqual(await slot.tryAcquire('campagne'), { granted: true });
    now += 1_000;
    // Two of three used: the last one is the families' reserve.
    const reserve = await slot.tryAcquire('campagne');
    assert.equal(reserve.granted, false);
    assert.ok(!reserve.granted && reserve.retryAt > now + 50_000, 'the campaign waits for the window to move');
    assert.deepEqual(await slot.tryAcquire('en_ligne'), { granted: true });
    assert.equal((await slot.usage()).used, 3);
  });
});
