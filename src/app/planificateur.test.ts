import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachDialect } from '../infra/db/test-databases.ts';
import { createLogger } from '../infra/log/logger.ts';
import { Bail } from '../infra/queue/bail.ts';
import { Planificateur } from './planificateur.ts';

test('only the leader runs the singleton jobs; when it stops, the other process takes them over', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    let now = Date.parse('2026-09-01T08:00:00.000Z');
    const clock = () => now;
    const logger = createLogger({ level: 'silent' });
    const runs: string[] = [];
    const planificateur = (qui: string) =>
      new Planificateur({
        bail: new Bail(database.db, { nom: 'planificateur', detenteur: qui, dureeMs: 30_000, clock }),
        taches: [{ nom: 'purge', intervalleMs: 60_000, executer: async () => void runs.push(qui) }],
        logger,
        tickMs: 10_000,
        clock,
      });
    const p1 = planificateur('worker-1');
    const p2 = planificateur('worker-2');
    await p1.tick();
    await p2.tick();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual([p1.estLeader, p2.estLeader, runs], [true, false, ['worker-1']]);
    now += 10_000;
    await p1.tick();
    await p2.tick();
    assert.deepEqual(runs, ['worker-1'], 'not due again, and never on the other process');
    // worker-1 is killed (no clean stop): its lease lapses, worker-2 takes over and runs the job at once.
    now += 31_000;
    await p2.tick();
    await new Promise((r) => setImmediate(r));
    assert.equal(p2.estLeader, true);
    assert.deepEqual(runs, ['worker-1', 'worker-2']);
    await p2.stop();
    await p1.tick();
    assert.equal(p1.estLeader, true, 'a clean stop gives the lease back');
    await p1.stop();
  });
});
