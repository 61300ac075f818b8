import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { pdfAvis, pngAvis } from '../../domain/test-avis.ts';
import type { Database } from '../../infra/db/database.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { createHarness, enLigne, type Harness } from '../demandes/test-harness.ts';
import { RetentionService } from '../retention/retention-service.ts';
import { AvisService, COFFRE_AVIS } from './avis-service.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-avis-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const famille = { type: 'famille' as const, id: 'compte-avis' };
const agent = { type: 'agent' as const, id: 'agent-instructeur' };
const PARENTS = [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }];

async function withHarness(t: TestContext, body: (h: Harness, database: Database, url: string) => Promise<void>) {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await createHarness(database, sandbox);
    try {
      await body(h, database, fixture.url);
    } finally {
      await h.close();
    }
  });
}

async function demande(h: Harness, spi: string): Promise<{ familleId: string; id: string; statut: string }> {
  const { id: familleId } = await h.familles.creer({ parents: PARENTS }, famille);
  const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, spi]], famille));
  return { familleId, id, statut: await h.traitement.traiter(id) };
}

const actions = async (database: Database, prefix: string) =>
  (await database.db.selectFrom('journal_audit').select(['action', 'details']).where('action', 'like', `${prefix}%`).orderBy('seq').execute()).map((e) => ({
    action: e.action,
    details: e.details,
  }));

test('an avis uploaded for a request « non trouvé » is kept encrypted, read by the instructor, and destroyed at the decision', async (t) => {
  await withHarness(t, async (h, database, url) => {
    const avis = h.services.avis;
    const { familleId, id, statut } = await demande(h, SPI_SANDBOX.inconnu);
    assert.equal(statut, 'a_verifier');
    const marque = `AVIS-CANARI-${SPI_SANDBOX.inconnu}`;
    const depose = await avis.deposerPourDemande(familleId, id, pdfAvis(marque), famille);
    assert.equal(depose.format, 'pdf');
    assert.equal((await avis.enCours({ demandeId: id })).length, 1);

    // Neither the database (file and log) nor the journal holds the file or the number it shows.
    if (database.dialect === 'sqlite') {
      await sql`pragma wal_checkpoint(PASSIVE)`.execute(database.db);
      const path = url.slice('sqlite:'.length);
      for (const file of [path, `${path}-wal`]) if (existsSync(file)) assert.equal(readFileSync(file).indexOf(marque), -1, file);
    } else {
      const n = await sql<{ n: number }>`select count(*)::int as n from coffre_records where position(${Buffer.from(marque)}::bytea in ciphertext) > 0`.execute(
        database.db,
      );
      assert.equal(n.rows[0]?.n, 0);
    }
    const journal = JSON.stringify(await actions(database, ''));
    assert.ok(!journal.includes(marque) && !journal.includes(SPI_SANDBOX.inconnu));
    assert.ok(!h.logLines.join('\n').includes(marque));

    // Only an agent reads it, and the reading is journaled with its reason.
    await assert.rejects(avis.lire(depose.id, famille, 'curiosité'), { code: 'avis_reserve' });
    const lu = await avis.lire(depose.id, agent, 'Quotient à fixer au vu d’un document présenté');
    assert.equal(lu.format, 'pdf');
    assert.ok(lu.octets.includes(marque));
    assert.deepEqual(
      (await actions(database, 'avis.')).map((e) => e.action),
      ['avis.depose', 'avis.consulte'],
    );

    await h.decisions.decider(id, agent, { decision: 'qf_manuel', justification: 'Avis déposé en ligne', piece: 'avis 2025 déposé en ligne', qfCents: 61_250 });
    assert.equal(await h.coffre.getBytes(COFFRE_AVIS, depose.id), undefined, 'the file left the silo');
    assert.deepEqual(await avis.enCours({ demandeId: id }), []);
    await assert.rejects(avis.lire(depose.id, agent, 'après'), { code: 'avis_introuvable' });
    const row = await database.db.selectFrom('avis_deposes').selectAll().where('id', '=', depose.id).executeTakeFirstOrThrow();
    assert.equal(row.destruction, 'decision');
    const detruit = (await actions(database, 'avis.detruit'))[0];
    assert.ok(detruit && JSON.stringify(detruit.details).includes('decision'));
    const q = await database.db.selectFrom('quotients').select(['valeur_cents', 'origine']).where('demande_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(q.valeur_cents, 61_250);
  });
});

test('a failed call goes to an instructor with the avis; a calculated request takes none; a wrong file is refused and nothing is kept', async (t) => {
  await withHarness(t, async (h, database) => {
    const avis = h.services.avis;
    const echec = await demande(h, SPI_SANDBOX.fautes.malformedJson);
    assert.equal(echec.statut, 'echouee');
    await assert.rejects(avis.deposerPourDemande(echec.familleId, echec.id, new TextEncoder().encode('<html>pas un avis</html>'.repeat(4)), famille), {
      code: 'avis_refuse',
    });
    assert.equal((await database.db.selectFrom('avis_deposes').select('id').execute()).length, 0);
    await assert.rejects(avis.deposerPourDemande('autre-famille', echec.id, pngAvis(), famille), { code: 'avis_introuvable' });

    const premier = await avis.deposerPourDemande(echec.familleId, echec.id, pngAvis(), famille);
    const etat = await h.demandes.etat(echec.id);
    assert.equal(etat.statut, 'a_verifier');
    assert.match(etat.motif ?? '', /avis d’imposition est bien reçu/);
    assert.ok((await h.services.instruction.file()).some((e) => e.id === echec.id));
    // Sent again: the first file goes, the second stays.
    const second = await avis.deposerPourDemande(echec.familleId, echec.id, pdfAvis(), famille);
    assert.equal(await h.coffre.getBytes(COFFRE_AVIS, premier.id), undefined);
    assert.deepEqual(
      (await avis.enCours({ demandeId: echec.id })).map((a) => a.id),
      [second.id],
    );
    await h.decisions.decider(echec.id, agent, { decision: 'refuse', justification: 'Avis illisible, merci de venir au guichet' });
    assert.equal(await h.coffre.getBytes(COFFRE_AVIS, second.id), undefined, 'a refusal destroys it too');

    const calculee = await demande(h, SPI_SANDBOX.rfrZero);
    assert.equal(calculee.statut, 'calculee');
    await assert.rejects(avis.deposerPourDemande(calculee.familleId, calculee.id, pdfAvis(), famille), { code: 'avis_non_attendu' });
  });
});

test('a document joined to a contestation goes with its answer; any avis left goes after its delay, by the purge', async (t) => {
  await withHarness(t, async (h, database) => {
    const { familleId, id, statut } = await demande(h, SPI_SANDBOX.rfrZero);
    assert.equal(statut, 'calculee');
    await h.familles.contester(familleId, id, 'Notre revenu a changé', famille);
    const c = await database.db.selectFrom('contestations').select('id').where('demande_id', '=', id).executeTakeFirstOrThrow();
    const joint = await h.services.avis.deposerPourContestation(familleId, c.id, pdfAvis(), famille);
    await h.decisions.repondre(c.id, agent, { reponse: 'Le quotient est maintenu.', suite: 'maintien' });
    assert.equal(await h.coffre.getBytes(COFFRE_AVIS, joint.id), undefined);

    // An avis nobody decided on: kept until its delay (30 days by default), then destroyed by the purge.
    const oublie = await demande(h, SPI_SANDBOX.inconnu);
    const reste = await h.services.avis.deposerPourDemande(oublie.familleId, oublie.id, pdfAvis(), famille);
    const purge = (jours: number) => {
      const clock = () => Date.now() + jours * 86_400_000;
      const avis = new AvisService({
        db: database.db,
        coffre: h.coffre,
        journal: h.journal,
        transitions: undefined as never,
        reglages: { tailleMaxKo: 5120, conservationJoursMax: 30 },
        clock,
      });
      const conservation = { donneesFiscalesMoisApresValidite: 3, demandesMois: 24, journalMois: 12 };
      return new RetentionService({ db: database.db, coffre: h.coffre, journal: h.journal, conservation, avis, clock: () => new Date(clock()) }).purger();
    };
    assert.equal((await purge(29)).avisDeposes, 0);
    assert.ok(await h.coffre.getBytes(COFFRE_AVIS, reste.id));
    assert.equal((await purge(31)).avisDeposes, 1);
    assert.equal(await h.coffre.getBytes(COFFRE_AVIS, reste.id), undefined);
    assert.equal((await purge(32)).avisDeposes, 0, 'idempotent');
    const row = await database.db.selectFrom('avis_deposes').select(['destruction']).where('id', '=', reste.id).executeTakeFirstOrThrow();
    assert.equal(row.destruction, 'delai');
    assert.equal((await h.demandes.etat(oublie.id)).statut, 'a_verifier', 'the request itself stays for the instructor');
  });
});
