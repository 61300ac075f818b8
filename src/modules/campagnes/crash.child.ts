/**
 * Test fixture run as a separate process that the crash test kills with SIGKILL: a campaign worker
 * (the `worker` role's loop) on the test's database and sandbox, printing `PRET` once it claims.
 */
import { openDatabase } from '../../infra/db/database.ts';
import type { DgfipConnection } from '../../sources/dgfip.ts';
import { createHarness, HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';
import { POLITIQUE_TRANCHES } from './test-support.ts';

const [url, dataDir, instanceId] = process.argv.slice(2) as [string, string, string];
const connection = JSON.parse(process.env.QUOTIENT_TEST_CONNECTION as string) as DgfipConnection;
const database = openDatabase(url);
const h = await createHarness(database, connection, {
  instanceId,
  dataDir,
  habilitation: HABILITATION_ETAT_CIVIL.sfip,
  politique: () => POLITIQUE_TRANCHES,
  // One item at a time: a kill interrupts at most one call.
  campagnes: { bailMs: 3_000, attenteMs: 50, concurrence: 1 },
});
h.services.executeurCampagnes.start();
process.stdout.write('PRET\n');
process.once('SIGTERM', () => {
  void h
    .close()
    .then(() => database.close())
    .then(() => process.exit(0));
});
