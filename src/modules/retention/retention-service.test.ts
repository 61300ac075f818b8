import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { COFFRE } from '../demandes/demandes-repo.ts';
import { createHarness } from '../demandes/test-harness.ts';
import { RetentionService } from './retention-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-retention-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

test('fiscal data leave the silo after the QF’s validity plus the dispute window, requests later, and the journal stays verifiable', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox);
    try {
      const famille = { type: 'famille' as const, id: 'retention' };
      const { id: familleId } = await h.familles.creer({ parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] }, famille);
      const { id } = await h.demandes.soumettre({
        familleId,
        canal: 'en_ligne',
        acteur: famille,
        foyersFiscaux: [
          { parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.rfrZero) }, consentement: { mode: 'en_ligne', donnePar: famille } },
        ],
      });
      assert.equal(await h.traitement.traiter(id), 'calculee');
      const { valide_au: fin } = await database.db.selectFrom('quotients').select('valide_au').where('demande_id', '=', id).executeTakeFirstOrThrow();
      const conservation = { donneesFiscalesMoisApresValidite: 3, demandesMois: 24, journalMois: 12 };
      const at = (iso: string) => new RetentionService({ db: database.db, coffre: h.coffre, journal: h.journal, conservation, clock: () => new Date(iso) });

      // A session long expired and one still alive: only the first goes.
      const session = (id: string, until: string) => ({
        id_hash: id,
        data: '{}',
        compte_id: null,
        agent_id: null,
        created_at: '2000-01-01T00:00:00.000Z',
        last_seen_at: '2000-01-01T00:00:00.000Z',
        idle_expires_at: until,
        absolute_expires_at: until,
      });
      await database.db
        .insertInto('sessions')
        .values([session('expiree', '2000-01-01T00:30:00.000Z'), session('vivante', '2099-01-01T00:00:00.000Z')])
        .execute();

      // While the QF is in force, and during the dispute window, nothing goes.
      const finDate = new Date(`${fin}T12:00:00Z`);
      const plusMonths = (m: number) => new Date(Date.UTC(finDate.getUTCFullYear(), finDate.getUTCMonth() + m, finDate.getUTCDate(), 12)).toISOString();
      assert.deepEqual(
        await at(plusMonths(2)).purger(),
        { donneesFiscales: 0, demandes: 0, journal: 0, sessions: 1, etatsCivilsRenouvellement: 0, avisDeposes: 0 },
        'the journal keeps entries younger than its year',
      );
      assert.deepEqual(
        (await database.db.selectFrom('sessions').select('id_hash').execute()).map((r) => r.id_hash),
        ['vivante'],
      );
      assert.ok(await h.coffre.get(COFFRE.calcul, id));

      // After it, the fiscal data go; the request and its QF stay.
      const apres = await at(plusMonths(4)).purger();
      assert.equal(apres.donneesFiscales, 1);
      assert.equal(await h.coffre.get(COFFRE.calcul, id), undefined);
      assert.equal((await h.familles.exporter(familleId, famille)).situationsFiscales.length, 0);
      assert.equal((await h.demandes.etat(id)).statut, 'calculee');
      assert.deepEqual(
        await at(plusMonths(4)).purger(),
        { donneesFiscales: 0, demandes: 0, journal: 0, sessions: 0, etatsCivilsRenouvellement: 0, avisDeposes: 0 },
        'idempotent',
      );

      // Two years after, the request goes too; the journal keeps its own year and stays verifiable.
      const tard = await at(plusMonths(25)).purger();
      assert.equal(tard.demandes, 1);
      assert.equal(await database.db.selectFrom('demandes').select('id').where('id', '=', id).executeTakeFirst(), undefined);
      assert.equal((await h.journal.verify()).intact, true);
    } finally {
      await h.close();
    }
  });
});
