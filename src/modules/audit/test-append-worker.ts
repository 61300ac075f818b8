/**
 * Test support: a separate process that appends to the same journal as others at the same time
 * (audit-concurrency.test.ts). Arguments: database URL, data folder, count, worker name.
 */
import { openDatabase } from '../../infra/db/database.ts';
import { openJournal } from './test-support.ts';

const [url, dataDir, count, name] = process.argv.slice(2) as [string, string, string, string];
const database = openDatabase(url);
try {
  const { journal, alerts } = await openJournal(database, dataDir);
  for (let i = 0; i < Number(count); i++) {
    const entry = {
      actor: { type: 'robot' as const, id: name, onBehalfOf: { type: 'agent' as const, id: 'agent-1' } },
      action: 'demande.calculee',
      target: { type: 'demande', id: `${name}-${i}` },
      outcome: 'succes' as const,
      details: { i },
    };
    // Half in the caller's transaction, half in the journal's own.
    if (i % 2 === 0) await journal.append(entry);
    else await journal.inTransaction((trx) => journal.append(entry, trx));
  }
  process.stdout.write(JSON.stringify({ alerts }));
} finally {
  await database.close();
}
