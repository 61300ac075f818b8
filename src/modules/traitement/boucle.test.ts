import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { createHarness } from '../demandes/test-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-boucle-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the loop processes what is queued as soon as it is woken, and hands back what it holds when it stops', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox, { instanceId: 'boucle-1' });
    const loop = h.services.boucle;
    try {
      const famille = { type: 'famille' as const, id: 'boucle' };
      const { id: familleId } = await h.familles.creer({ parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] }, famille);
      const submit = async () =>
        (
          await h.demandes.soumettre({
            familleId,
            canal: 'en_ligne',
            acteur: famille,
            foyersFiscaux: [
              { parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.rfrZero) }, consentement: { mode: 'en_ligne', donnePar: famille } },
            ],
          })
        ).id;
      await loop.start();
      const first = await submit();
      loop.wake();
      const etat = await h.demandes.attendre(first, 20_000);
      assert.equal(etat.statut, 'calculee');
      assert.equal(etat.quotient?.cents, 0, 'RFR 0 gives a QF of 0');

      // A request whose call cannot finish before the stop: it is handed back, never left half-done.
      sandbox.admin.addFault({ kind: 'http503', spi: SPI_SANDBOX.rfrZero });
      const second = await submit();
      loop.wake();
      for (let i = 0; i < 100 && (await h.demandes.etat(second)).statut !== 'en_file'; i++) await new Promise((r) => setTimeout(r, 100));
      await loop.stop();
      sandbox.admin.clearFaults();
      assert.equal((await h.demandes.etat(second)).statut, 'a_ressaisir');
      assert.equal(await database.db.selectFrom('instances').select('id').where('id', '=', 'boucle-1').executeTakeFirst(), undefined);
    } finally {
      await loop.stop();
      sandbox.admin.clearFaults();
      await h.close();
    }
  });
});
