import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StatutDemande } from '../../domain/demande.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { AGENT_ADMIN, bertinRoussel, drainer, fichierCsv, garnier, harnessCampagnes, homonyme, texteRapport } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-campagnes-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

test('an imported list becomes one request per family, processed as online ones under the robot for the agent who started it', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const changes: Array<[string, StatutDemande]> = [];
    const h = await harnessCampagnes(database, sandbox, { onChange: (id, statut) => changes.push([id, statut]) });
    try {
      const fichier = fichierCsv([bertinRoussel('FAM-001'), garnier('FAM-002'), homonyme('FAM-003')]);
      const { rapport, campagne } = await h.services.campagnes.importer(fichier, 'rentree.csv', 'Rentrée 2026', AGENT_ADMIN);
      assert.deepEqual(rapport.erreurs, []);
      assert.ok(campagne);
      assert.equal(rapport.famillesNouvelles, 3);
      assert.equal((await h.services.campagnes.etat(campagne.id)).statut, 'brouillon');
      assert.deepEqual(
        (await drainer(h)).map((p) => p.type),
        ['aucun'],
        'nothing is claimed before the start',
      );

      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      const passes = await drainer(h);
      assert.deepEqual(
        passes.filter((p) => p.type === 'element').map((p) => p.type === 'element' && p.devenir.type === 'resultat' && p.devenir.issue),
        ['calcule', 'calcule', 'etat_civil'],
      );
      const etat = await h.services.campagnes.etat(campagne.id);
      assert.equal(etat.statut, 'terminee');
      assert.deepEqual(
        [etat.progression.traites, etat.progression.total, etat.progression.parIssue.calcule, etat.progression.parIssue.etat_civil],
        [3, 3, 2, 1],
      );

      // The families exist with the software's reference, each with its QF through the same path as online.
      const familles = await database.db.selectFrom('familles').select(['id', 'reference_externe']).orderBy('reference_externe').execute();
      assert.deepEqual(
        familles.map((f) => f.reference_externe),
        ['FAM-001', 'FAM-002', 'FAM-003'],
      );
      const demandes = await database.db.selectFrom('demandes').select(['id', 'canal', 'statut', 'acteur_type']).execute();
      assert.equal(demandes.length, 3);
      assert.ok(demandes.every((d) => d.canal === 'campagne' && d.acteur_type === 'robot'));
      assert.equal((await database.db.selectFrom('quotients').select('id').execute()).length, 2);

      // Every step of every request is journaled as the robot, on behalf of the agent who started it.
      const entrees = await database.db
        .selectFrom('journal_audit')
        .select(['action', 'actor_type', 'actor_id', 'on_behalf_type', 'on_behalf_id'])
        .where('action', 'in', ['demande.appel_demarre', 'dgfip.situation_recue', 'demande.situation_recue', 'demande.echec_appel', 'demande.creee'])
        .execute();
      assert.ok(entrees.length >= 3 * 2 + 2);
      for (const e of entrees) {
        assert.equal(e.actor_type, 'robot', e.action);
        assert.equal(e.actor_id, `campagne:${campagne.reference}`);
        assert.deepEqual([e.on_behalf_type, e.on_behalf_id], ['agent', AGENT_ADMIN.id]);
      }
      // The consent of each call is the line's signed form, recorded for the agent who imported it.
      const consentements = await database.db.selectFrom('consentements').select(['mode', 'donne_par_type', 'donne_par_id', 'piece', 'recueilli_le']).execute();
      assert.ok(consentements.length >= 3);
      for (const c of consentements) {
        assert.deepEqual([c.mode, c.donne_par_type, c.donne_par_id], ['formulaire_signe', 'agent', AGENT_ADMIN.id]);
        assert.match(String(c.piece), /Formulaire 2025-0042 du 01\/09\/2025/);
        assert.equal(c.recueilli_le, '2025-09-01T00:00:00.000Z');
      }
      // What the items held (état civil, household) left the silo with their results.
      assert.equal((await database.db.selectFrom('coffre_records').select('record_id').where('kind', '=', 'campagne_element').execute()).length, 0);

      const rapportCsv = await texteRapport(h, campagne.id);
      const lignes = rapportCsv
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\r\n');
      assert.equal(lignes[0], 'reference;resultat;libelle_resultat;tranche;demande;traite_le');
      assert.match(lignes[1] as string, /^FAM-001;calcule;Quotient calculé;[^;]+;D-/);
      assert.match(lignes[3] as string, /^FAM-003;etat_civil;/);
      assert.doesNotMatch(rapportCsv, /Bertin|Garnier|1981|€|rfr/i, 'no état civil, no fiscal value in the report');
      // Each family is told, as online: its QF is ready, or what to do.
      assert.deepEqual(changes.map(([, s]) => s).sort(), ['calculee', 'calculee', 'echouee']);
    } finally {
      await h.close();
    }
  });
});
