/**
 * Test fixture run as a separate process: takes `count` slots from the shared quota and, after
 * each, calls the upstream stand-in at `upstreamUrl` (the parent test records arrival times there).
 * Used to prove that instances share the limit as the upstream sees it.
 */
import { openDatabase } from '../db/database.ts';
import { QuotaSlot } from './quota-slot.ts';

const [url, limit, windowMs, count, upstreamUrl] = process.argv.slice(2);
const database = openDatabase(url as string);
// The margin covers the time from the grant to the call's arrival; on a loaded 2-core CI machine
// that can reach a few hundred milliseconds (production: 1 s for a 60 s window).
const slot = new QuotaSlot(database.db, { bucket: 'dgfip', limit: Number(limit), windowMs: Number(windowMs), marginMs: 700 });
try {
  for (let i = 0; i < Number(count); i++) {
    await slot.acquire(Date.now() + 60_000);
    await (await fetch(upstreamUrl as string)).arrayBuffer();
  }
} finally {
  await database.close();
}
