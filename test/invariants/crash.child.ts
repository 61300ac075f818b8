/**
 * Test fixture, run as a separate process that the test kills with SIGKILL: it submits requests
 * for existing families with the given numéro fiscal and processes them against a sandbox whose
 * calls hang, printing `EN_COURS` once the calls are under way.
 */
import { NumeroFiscal } from '../../src/domain/numero-fiscal.ts';
import { openDatabase } from '../../src/infra/db/database.ts';
import { createHarness } from '../../src/modules/demandes/test-harness.ts';
import type { DgfipConnection } from '../../src/sources/dgfip.ts';

const [url, dataDir, spi, ...familles] = process.argv.slice(2) as [string, string, string, ...string[]];
const connection = JSON.parse(process.env.QUOTIENT_TEST_CONNECTION as string) as DgfipConnection;
const database = openDatabase(url);
const h = await createHarness(database, connection, { instanceId: `crash-${process.pid}`, dataDir, deadlineMs: 120_000 });
const ids: string[] = [];
for (const familleId of familles) {
  const famille = { type: 'famille' as const, id: familleId };
  ids.push(
    (
      await h.demandes.soumettre({
        familleId,
        canal: 'en_ligne',
        acteur: famille,
        foyersFiscaux: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(spi) }, consentement: { mode: 'en_ligne', donnePar: famille } }],
      })
    ).id,
  );
}
const running = ids.map((id) => h.traitement.traiter(id));
process.stdout.write(`EN_COURS ${ids.join(' ')}\n`);
await Promise.allSettled(running);
