/**
 * Test fixture run as a separate process (another instance of the application): it keeps writing,
 * deleting and reading back its own records through the silo until its standard input says
 * `stop`, then prints what each of its records should hold, when it wrote, and any error it met.
 * Used to prove that a rotation in another process loses nothing and stops no one.
 */
import { createInterface } from 'node:readline';
import { openDatabase } from '../db/database.ts';
import { Coffre, type JsonValue } from './coffre.ts';
import { KeyringFile } from './keyring.ts';

const [url, keyFile, prefix, count] = process.argv.slice(2) as [string, string, string, string];
const database = openDatabase(url);
const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: KeyringFile.open(keyFile) });
const ids = Array.from({ length: Number(count) }, (_, i) => `${prefix}-${i}`);
// The parent seeded each of our ids with `{ seed: id }` before starting us.
const model = new Map<string, JsonValue | null>(ids.map((id) => [id, { seed: id }]));
const writes: number[] = [];
const errors: string[] = [];

let stopping = false;
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() !== 'stop') return;
  stopping = true;
  // An open standard input would keep this process alive after its report.
  lines.close();
  process.stdin.destroy();
});

let n = 0;
while (!stopping) {
  n++;
  const id = ids[n % ids.length] as string;
  try {
    const roll = n % 10;
    if (roll < 5) {
      const value = { prefix, n, texte: `valeur ${n} — é`, liste: [n, n + 1] };
      await coffre.put('situation_fiscale', id, value);
      model.set(id, value);
      writes.push(Date.now());
    } else if (roll === 5) {
      await coffre.delete('situation_fiscale', id);
      model.set(id, null);
      writes.push(Date.now());
    } else if (roll === 6) {
      // Two records in one transaction of the caller, as a service would store them.
      const other = ids[(n + 1) % ids.length] as string;
      await database.db.transaction().execute(async (trx) => {
        await coffre.put('situation_fiscale', id, { prefix, n, paire: 1 }, trx);
        await coffre.put('situation_fiscale', other, { prefix, n, paire: 2 }, trx);
      });
      model.set(id, { prefix, n, paire: 1 });
      model.set(other, { prefix, n, paire: 2 });
      writes.push(Date.now());
    } else {
      const read = (await coffre.get('situation_fiscale', id)) ?? null;
      const expected = model.get(id) ?? null;
      if (JSON.stringify(read) !== JSON.stringify(expected)) errors.push(`${id}: read ${JSON.stringify(read)}, expected ${JSON.stringify(expected)}`);
    }
  } catch (error) {
    errors.push(`${id}: ${error instanceof Error ? `${error.name} ${(error as { code?: string }).code ?? ''} ${error.message}` : String(error)}`);
  }
  if (n === 1) process.stdout.write('ready\n');
  // Yield so that the stop line can be read even when every operation completes synchronously.
  if (n % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
}
await database.close();
process.stdout.write(`${JSON.stringify({ model: Object.fromEntries(model), writes, errors })}\n`);
