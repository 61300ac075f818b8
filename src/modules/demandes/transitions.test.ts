import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { StatutDemande } from '../../domain/demande.ts';
import type { Database } from '../../infra/db/database.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { findDemande, insertDemande, newId, newReference } from './demandes-repo.ts';
import { motif } from './motifs.ts';
import { BERTIN_ROUSSEL, createHarness, enLigne, type Harness } from './test-harness.ts';

/**
 * The one home of a request's moves: the effects the domain computes for each transition are
 * carried out once the transaction committed (the numbers forgotten, the family told), and none
 * of them when it rolled back.
 */

const dir = mkdtempSync(join(tmpdir(), 'quotient-transitions-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-test' };
const agent = { type: 'agent' as const, id: 'agent-test' };

async function withHarness(t: TestContext, body: (h: Harness, notifiees: Array<[string, StatutDemande]>, database: Database) => Promise<void>) {
  await eachDialect(t, async (fixture) => {
    const notifiees: Array<[string, StatutDemande]> = [];
    const database = await fixture.open();
    const h = await createHarness(database, sandbox, { onChange: (id, statut) => notifiees.push([id, statut]) });
    try {
      await body(h, notifiees, database);
    } finally {
      await h.close();
    }
  });
}

test('a move that rolls back keeps the numéro fiscal and tells nobody; once committed, the number goes and the family is told', async (t) => {
  await withHarness(t, async (h, notifiees) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    assert.equal(h.vault.size, 1);
    const annuler = async (echouer: boolean) =>
      h.services.transitions.executer(async (uow) => {
        const demande = await findDemande(uow.trx, id);
        assert.ok(demande);
        await uow.avancer(demande, { type: 'annulation', par: 'agent' }, agent);
        if (echouer) throw new Error('écriture suivante impossible');
      });

    await assert.rejects(annuler(true), /écriture suivante impossible/);
    assert.equal((await h.demandes.etat(id)).statut, 'en_file', 'rolled back');
    assert.equal(h.vault.size, 1, 'the request still waits for its call: its number stays');
    assert.deepEqual(notifiees, []);

    await annuler(false);
    assert.equal((await h.demandes.etat(id)).statut, 'annulee');
    assert.equal(h.vault.size, 0, 'leaving the call path forgot the number');
    assert.deepEqual(notifiees, [[id, 'annulee']], 'a cancellation by an agent is told to the family');
  });
});

test('a move on a request changed meanwhile is a conflict, with no effect', async (t) => {
  await withHarness(t, async (h, notifiees, database) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
    const perimee = await findDemande(database.db, id);
    assert.ok(perimee);
    // Meanwhile, the call starts (a move with no effect).
    await h.services.transitions.executer((uow) => uow.avancer(perimee, { type: 'appel_demarre' }, { type: 'systeme', id: 'quotient' }));
    await assert.rejects(
      h.services.transitions.executer((uow) => uow.avancer(perimee, { type: 'annulation', par: 'agent' }, agent)),
      { kind: 'conflict', code: 'demande_modifiee' },
    );
    assert.equal((await h.demandes.etat(id)).statut, 'en_cours');
    assert.equal(h.vault.size, 1, 'the call in flight keeps its number');
    assert.deepEqual(notifiees, []);
  });
});

test('several moves of one request in one transaction: the family hears once, of the status it has at the commit; the reason is stored with its code', async (t) => {
  await withHarness(t, async (h, notifiees, database) => {
    const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
    const id = newId();
    await h.services.transitions.executer(async (uow) => {
      await insertDemande(uow.trx, {
        id,
        reference: newReference('D'),
        familleId,
        canal: 'guichet',
        acteur: agent,
        anneeRevenus: null,
        detenteur: null,
        le: new Date().toISOString(),
      });
      // A review opened (the family would be told it is being checked), then decided at once.
      const revue = await uow.avancer({ id, version: 0, statut: 'brouillon' }, { type: 'reexamen' }, agent, { motif: motif('reexamen') });
      await uow.avancer({ id, ...revue }, { type: 'decision_instructeur', decision: 'refuse', motif: 'Aucun document présenté.' }, agent, {
        motif: motif('refuse', 'Aucun document présenté.'),
      });
    });
    assert.deepEqual(notifiees, [[id, 'refusee']]);
    const row = await database.db.selectFrom('demandes').select(['statut', 'motif', 'motif_code']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(row, {
      statut: 'refusee',
      motif: 'Demande refusée après examen par un agent de la mairie : Aucun document présenté.',
      motif_code: 'refuse',
    });
    const actions = (await h.journal.query({ target: { type: 'demande', id } })).entries.map((e) => e.action).reverse();
    assert.deepEqual(actions, ['demande.reexamen', 'demande.decision_instructeur'], 'each move is one journal entry');
  });
});
