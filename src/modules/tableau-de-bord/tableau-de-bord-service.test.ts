import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { minuteDe } from '../../infra/queue/quota-slot.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { reclamer } from '../campagnes/campagnes-repo.ts';
import { AGENT_ADMIN, bertinRoussel, drainer, fichierCsv, garnier, harnessCampagnes, homonyme, POLITIQUE_TRANCHES } from '../campagnes/test-support.ts';
import { enLigne } from '../demandes/test-harness.ts';
import { annoncerInstance } from '../traitement/file-repo.ts';

/**
 * The dashboard's figures of issue 14, read from the database that every instance shares: the
 * campaigns with their progress by outcome, the quota's use per minute split online and
 * campaigns, the queue of every instance (not only this process's), on both dialects.
 */

const dir = mkdtempSync(join(tmpdir(), 'quotient-tdb-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), quota: { limit: 10_000, windowMs: 60_000 } });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

test('campaigns, quota per minute online and campaigns apart, and the queue of every instance, from the database', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { db } = database;
    const h = await harnessCampagnes(database, sandbox, { instanceId: 'web-1' });
    try {
      const tdb = h.services.tableauDeBord;
      const vide = await tdb.resume(POLITIQUE_TRANCHES);
      assert.deepEqual(vide.campagnes, []);
      assert.deepEqual(vide.file.enLigne, { enAttente: 0, enCours: 0, plusAncienne: null });
      assert.deepEqual(vide.file.campagnes, { aTraiter: 0, enCours: 0 });
      assert.equal(vide.quota.parMinute.length, 60);
      assert.ok(vide.quota.parMinute.every((m) => m.enLigne === 0 && m.campagne === 0));

      // The quota: two online calls and one of a campaign this minute (before any online request waits: campaigns go after them).
      const quota = h.services.dgfip.quota;
      assert.equal((await quota.tryAcquire('en_ligne')).granted, true);
      assert.equal((await quota.tryAcquire('campagne')).granted, true);
      assert.equal((await quota.tryAcquire('en_ligne')).granted, true);

      // Three families queued online (none called: no loop runs here): two held by this instance,
      // one by another web instance, and a fourth instance, long silent, holds nothing.
      const now = Date.now();
      const vu = new Date(now).toISOString();
      await annoncerInstance(db, 'web-1', vu);
      await annoncerInstance(db, 'web-2', vu);
      await annoncerInstance(db, 'ancienne', new Date(now - 3600_000).toISOString());
      const famille = { type: 'famille' as const, id: 'compte-test' };
      const demandes: string[] = [];
      for (const nom of ['Aubert', 'Blanc', 'Carré']) {
        const f = await h.familles.creer({ parents: [{ nomNaissance: nom, prenoms: 'Alex', dateNaissance: '1980-02-03' }] }, famille);
        demandes.push((await h.demandes.soumettre(enLigne(f.id, [[1, SPI_SANDBOX.coupleMarie.declarant1]], famille))).id);
      }
      await db
        .updateTable('demandes')
        .set({ detenteur: 'web-2' })
        .where('id', '=', demandes[2] as string)
        .execute();
      await db
        .updateTable('demandes')
        .set({ statut: 'en_cours' })
        .where('id', '=', demandes[1] as string)
        .execute();

      // A campaign of three families started, one of them claimed by a worker with a live lease.
      const { campagne } = await h.services.campagnes.importer(
        fichierCsv([bertinRoussel('FAM-1'), garnier('FAM-2'), homonyme('FAM-3')]),
        'rentree.csv',
        'Rentrée 2026',
        AGENT_ADMIN,
      );
      assert.ok(campagne);
      const brouillon = (await tdb.resume(POLITIQUE_TRANCHES)).campagnes;
      assert.deepEqual(
        brouillon.map((c) => [c.reference, c.statut, c.progression.traites, c.progression.total]),
        [[campagne.reference, 'brouillon', 0, 3]],
      );
      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      await annoncerInstance(db, 'worker-1', vu);
      const claim = await reclamer(db, database.dialect, 'worker-1', vu, new Date(now + 60_000).toISOString());
      assert.ok(claim);

      const r = await tdb.resume(POLITIQUE_TRANCHES);
      assert.equal(r.file.enLigne.enAttente, 2, 'both instances’ waiting requests');
      assert.equal(r.file.enLigne.enCours, 1);
      const premiere = await db
        .selectFrom('demandes')
        .select('creee_le')
        .where('id', '=', demandes[0] as string)
        .executeTakeFirstOrThrow();
      assert.equal(r.file.enLigne.plusAncienne, premiere.creee_le);
      assert.deepEqual(r.file.campagnes, { aTraiter: 3, enCours: 1 });
      assert.deepEqual(
        r.file.instances.map((i) => [i.id, i.vivante, i.enAttente, i.enCours, i.elements]),
        [
          ['web-1', true, 1, 1, 0],
          ['web-2', true, 1, 0, 0],
          ['worker-1', true, 0, 0, 1],
        ],
        'the silent instance holding nothing is not listed',
      );
      const derniere = r.quota.parMinute[59];
      assert.ok(derniere);
      // The grants may straddle a minute's end: the last two minutes together hold them.
      const deux = r.quota.parMinute.slice(58);
      assert.equal(derniere.minute, minuteDe(Date.now()));
      assert.deepEqual([deux.reduce((n, m) => n + m.enLigne, 0), deux.reduce((n, m) => n + m.campagne, 0)], [2, 1]);
      assert.equal(r.quota.limite, 50);
      assert.deepEqual(
        r.campagnes.map((c) => [c.reference, c.statut, c.progression.traites]),
        [[campagne.reference, 'en_cours', 0]],
      );

      // The worker dies: its lease lapses, the item is waiting again, not « in progress ».
      await db
        .updateTable('campagne_elements')
        .set({ bail_jusqua: new Date(now - 1000).toISOString() })
        .where('id', '=', claim.id)
        .execute();
      await db
        .updateTable('instances')
        .set({ vue_le: new Date(now - 3600_000).toISOString() })
        .where('id', '=', 'worker-1')
        .execute();
      const apres = await tdb.resume(POLITIQUE_TRANCHES);
      assert.deepEqual(apres.file.campagnes, { aTraiter: 3, enCours: 0 });
      assert.deepEqual(
        apres.file.instances.map((i) => i.id),
        ['web-1', 'web-2'],
      );

      // Processed to the end: the outcomes counted, the campaign still shown once ended.
      // The online requests out of the way (online first), the campaign runs to its end.
      await db.updateTable('demandes').set({ statut: 'refusee' }).where('id', 'in', demandes).execute();
      const appels = () => sandbox.admin.calls().filter((a) => a.api === 'sfip').length;
      const avant = appels();
      await drainer(h);
      const faits = appels() - avant;
      assert.ok(faits >= 2);
      const fin = await tdb.resume(POLITIQUE_TRANCHES);
      const [c] = fin.campagnes;
      assert.ok(c);
      assert.equal(c.statut, 'terminee');
      assert.equal(c.progression.traites, 3);
      assert.equal(c.progression.parIssue.calcule, 2);
      assert.equal(c.progression.parIssue.etat_civil, 1);
      assert.deepEqual(fin.file.campagnes, { aTraiter: 0, enCours: 0 });
      const minutes = fin.quota.parMinute.slice(58);
      assert.equal(
        minutes.reduce((n, m) => n + m.campagne, 0),
        1 + faits,
        'every call the sandbox saw, counted as the campaign’s',
      );
      assert.equal(
        minutes.reduce((n, m) => n + m.enLigne, 0),
        2,
      );
    } finally {
      await h.close();
    }
  });
});
