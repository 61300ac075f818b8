import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { loadConfig } from '../../infra/config/config.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { BERTIN_ROUSSEL, createHarness, enLigne } from '../demandes/test-harness.ts';
import { RetentionService } from '../retention/retention-service.ts';
import { AttestationsService } from './attestations-service.ts';

/**
 * The attestations on both dialects (SQLite and PostgreSQL): issued once per request even when two
 * prints race, replaced by a later QF, expired by the clock, and still answered « expirée » once the
 * purge deleted the request (the foreign key sets it to null).
 */

const dir = mkdtempSync(join(tmpdir(), 'quotient-attestations-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const commune = loadConfig({ QUOTIENT_DATA_DIR: dir }, { mode: 'demo', cwd: dir }).commune;

test('one attestation per request, whatever the races; a later QF replaces it; the clock expires it; the purge leaves « expirée »', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox);
    try {
      const famille = { type: 'famille' as const, id: 'compte-attestation' };
      const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
      const demande = async () => {
        const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]], famille));
        assert.equal(await h.traitement.traiter(id), 'calculee');
        return id;
      };
      const premiere = await demande();
      let maintenant = Date.now();
      const service = new AttestationsService({
        db: database.db,
        journal: h.journal,
        familles: h.familles,
        commune,
        publicUrl: 'https://quotient.exemple.fr',
        clock: () => maintenant,
      });

      // Two first prints at once (the family and the counter): one attestation, one code, one entry.
      const [a, b] = await Promise.all([service.attestation(premiere, famille), service.attestation(premiere, { type: 'agent', id: 'agent-guichet' })]);
      assert.equal(a.statut, 'valable');
      assert.equal(b.statut, 'valable');
      assert.ok(a.statut === 'valable' && b.statut === 'valable');
      assert.equal(a.code, b.code);
      assert.equal(a.urlVerification, `https://quotient.exemple.fr/verifier/${a.code}`);
      assert.equal((await database.db.selectFrom('attestations').selectAll().execute()).length, 1);
      assert.equal((await h.journal.query({ action: 'attestation.emise' })).entries.length, 1);
      assert.equal((await service.verifier(a.code, { type: 'anonyme', id: 'r1' })).statut, 'valable');
      assert.equal((await service.verifier(a.code.toLowerCase(), { type: 'anonyme', id: 'r2' })).statut, 'valable');

      // A second request over the same period: the first attestation is replaced, the new one holds.
      const seconde = await demande();
      assert.equal((await service.verifier(a.code, { type: 'anonyme', id: 'r3' })).statut, 'remplacee');
      const hors = await service.attestation(premiere, famille);
      assert.equal(hors.statut, 'remplacee');
      assert.equal(hors.statut === 'remplacee' ? hors.remplacePar?.demandeId : undefined, seconde);
      const c = await service.attestation(seconde, famille);
      assert.ok(c.statut === 'valable');
      assert.notEqual(c.code, a.code);

      // The day after its period: expired, and no attestation is made for it any more.
      maintenant = Date.parse(`${c.validite.au}T12:00:00Z`) + 24 * 3600_000;
      assert.equal((await service.verifier(c.code, { type: 'anonyme', id: 'r4' })).statut, 'expiree');
      assert.equal((await service.attestation(seconde, famille)).statut, 'expiree');

      // Years later the purge deletes both requests: the codes stay, unlinked, and read « expirée ».
      const purge = new RetentionService({
        db: database.db,
        coffre: h.coffre,
        journal: h.journal,
        conservation: commune.conservation,
        clock: () => new Date(maintenant + 5 * 365 * 24 * 3600_000),
      });
      assert.equal((await purge.purger()).demandes, 2);
      const restantes = await database.db.selectFrom('attestations').select(['demande_id', 'famille_id']).execute();
      assert.deepEqual(
        restantes.map((r) => r.demande_id),
        [null, null],
      );
      for (const code of [a.code, c.code]) {
        const v = await service.verifier(code, { type: 'anonyme', id: 'r5' });
        assert.equal(v.statut, 'expiree');
        assert.ok(v.statut === 'expiree' && v.validite.au <= c.validite.au);
      }
      assert.equal((await service.verifier('2222-3333-4444', { type: 'anonyme', id: 'r6' })).statut, 'inconnue');
    } finally {
      await h.close();
      await database.close();
    }
  });
});
