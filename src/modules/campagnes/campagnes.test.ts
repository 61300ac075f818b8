import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StatutDemande } from '../../domain/demande.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { isQuotientError } from '../../domain/errors.ts';
import type { DemandeTable } from '../../infra/db/schema.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { findDemande } from '../demandes/demandes-repo.ts';
import { SpiVault } from '../demandes/spi-vault.ts';
import { BERTIN_ROUSSEL, enLigne } from '../demandes/test-harness.ts';
import { enregistrerResultat, lierDemande, prolonger, reclamer, type ElementReclame } from './campagnes-repo.ts';
import type { Passe } from './execution.ts';
import { AGENT_ADMIN, bertinRoussel, drainer, fichierCsv, garnier, harnessCampagnes, homonyme, texteRapport } from './test-support.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-campagnes-'));
let sandbox: SandboxHandle;
before(async () => {
  // Many tests share this sandbox: its own quota (per minute) is out of their way.
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), quota: { limit: 10_000, windowMs: 60_000 } });
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

test('an item is claimed by one worker at a time; a lapsed lease is taken again; a result is recorded once', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const autre = await fixture.open();
    const h = await harnessCampagnes(database, sandbox);
    try {
      const lignes = Array.from({ length: 12 }, (_, i) => garnier(`FAM-${100 + i}`));
      const { campagne } = await h.services.campagnes.importer(fichierCsv(lignes), 'liste.csv', 'Liste', AGENT_ADMIN);
      assert.ok(campagne);
      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      const t0 = Date.parse('2030-01-01T10:00:00.000Z');
      const iso = (ms: number) => new Date(ms).toISOString();
      // Twelve workers on two connections claim at once: twelve different items, and nothing more.
      const claims = await Promise.all(
        Array.from({ length: 14 }, (_, i) => reclamer(i % 2 ? database.db : autre.db, fixture.dialect, `w${i}`, iso(t0), iso(t0 + 60_000))),
      );
      const ids = claims.filter((c) => c !== null).map((c) => c.id);
      assert.equal(ids.length, 12);
      assert.equal(new Set(ids).size, 12, 'no item held twice');
      assert.equal(await reclamer(database.db, fixture.dialect, 'w-tard', iso(t0 + 59_000), iso(t0 + 119_000)), null, 'leases still held');
      const premier = claims.find((c) => c?.rang === 1) as ElementReclame;
      // The lease lapses: another worker takes the first item back, and the first claim is void.
      const repris = await reclamer(autre.db, fixture.dialect, 'w-repreneur', iso(t0 + 60_001), iso(t0 + 120_001));
      assert.equal(repris?.id, premier.id);
      assert.equal(repris?.essais, 2);
      assert.equal(await prolonger(database.db, premier, iso(t0 + 200_000)), false, 'the old claim cannot renew');
      const resultat = {
        elementId: premier.id,
        campagneId: campagne.id,
        issue: 'calcule' as const,
        demandeId: null,
        tranche: 'A',
        motifCode: null,
        le: iso(t0),
        par: 'w0',
      };
      assert.equal(await enregistrerResultat(database.db, resultat), true);
      assert.equal(await enregistrerResultat(autre.db, { ...resultat, issue: 'echec', par: 'w-repreneur' }), false);
      const rows = await database.db.selectFrom('campagne_resultats').selectAll().where('element_id', '=', premier.id).execute();
      assert.deepEqual(
        rows.map((r) => [r.issue, r.par]),
        [['calcule', 'w0']],
      );
      assert.equal(
        await reclamer(database.db, fixture.dialect, 'w-fin', iso(t0 + 500_000), iso(t0 + 560_000)).then((c) => c?.id === premier.id),
        false,
        'a done item is never claimed again',
      );
    } finally {
      await h.close();
    }
  });
});

test('a worker gone mid-call loses nothing: its item is taken again after the lease, resumed, and has one result', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    // One data folder for both (keys, the journal's anchor), as two processes of one installation.
    const dataDir = mkdtempSync(join(dir, 'deux-'));
    const a = await harnessCampagnes(database, sandbox, { instanceId: 'worker-a', vault: new SpiVault(), bailMs: 400, dataDir });
    const b = await harnessCampagnes(database, sandbox, { instanceId: 'worker-b', vault: new SpiVault(), bailMs: 400, dataDir });
    try {
      const { campagne } = await a.services.campagnes.importer(fichierCsv([bertinRoussel('FAM-201'), garnier('FAM-202')]), 'l.csv', 'Reprise', AGENT_ADMIN);
      assert.ok(campagne);
      await a.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      // Worker A claims the first item, creates its request and starts the call, then dies (its memory with it).
      const now = () => new Date().toISOString();
      const el = (await reclamer(database.db, fixture.dialect, 'worker-a', now(), new Date(Date.now() + 400).toISOString())) as ElementReclame;
      const familleId = (await a.familles.creer({ parents: BERTIN_ROUSSEL.parents }, AGENT_ADMIN, { referenceExterne: 'FAM-201' })).id;
      const robot = { type: 'robot' as const, id: `campagne:${campagne.reference}`, onBehalfOf: AGENT_ADMIN };
      const { id: demandeId } = await a.demandes.soumettre({
        familleId,
        canal: 'campagne',
        acteur: robot,
        foyersFiscaux: [
          {
            parentRang: 1,
            identifiant: { etatCivil: { nom: 'Bertin', prenoms: 'Paul Henri', dateNaissance: '1981-04-09' } },
            consentement: { mode: 'formulaire_signe', donnePar: AGENT_ADMIN, piece: 'Formulaire signé', recueilliLe: '2025-09-01T00:00:00.000Z' },
          },
        ],
        lier: (trx, id) => lierDemande(trx, el.id, id, familleId),
      });
      const d = await findDemande(database.db, demandeId);
      await a.services.transitions.executer((uow) => uow.avancer(d as DemandeTable, { type: 'appel_demarre' }, robot, { tentatives: 1 }));
      await a.close();
      assert.equal((await findDemande(database.db, demandeId))?.statut, 'en_cours');

      // Worker B takes it once the lease has lapsed, then the other item.
      const issues: string[] = [];
      const limite = Date.now() + 30_000;
      while (issues.length < 2 && Date.now() < limite) {
        const p = await b.services.executeurCampagnes.passe();
        if (p.type === 'element' && p.devenir.type === 'resultat') issues.push(p.devenir.issue);
        else await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(issues, ['calcule', 'calcule']);
      const apres = await findDemande(database.db, demandeId);
      assert.equal(apres?.statut, 'calculee');
      assert.equal(apres?.detenteur, null);
      const repris = await database.db
        .selectFrom('journal_audit')
        .select(['details', 'actor_type'])
        .where('action', '=', 'demande.echec_appel')
        .where('target_id', '=', demandeId)
        .execute();
      assert.equal(repris.length, 1);
      assert.match(repris[0]?.details as string, /processus_interrompu/);
      assert.equal((await database.db.selectFrom('campagne_resultats').select('element_id').execute()).length, 2);
      assert.equal((await database.db.selectFrom('demandes').select('id').execute()).length, 2, 'no second request for the item taken again');
      assert.equal((await b.services.campagnes.etat(campagne.id)).statut, 'terminee');
    } finally {
      await a.close();
      await b.close();
    }
  });
});

test('a request concluded just before a crash is only recorded when its item is taken again: no second call', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await harnessCampagnes(database, sandbox, { bailMs: 300 });
    try {
      const { campagne } = await h.services.campagnes.importer(fichierCsv([garnier('FAM-301')]), 'l.csv', 'Fin', AGENT_ADMIN);
      assert.ok(campagne);
      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      const el = (await reclamer(
        database.db,
        fixture.dialect,
        'disparu',
        new Date().toISOString(),
        new Date(Date.now() + 300).toISOString(),
      )) as ElementReclame;
      const familleId = (
        await h.familles.creer({ parents: [{ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' }] }, AGENT_ADMIN, {
          referenceExterne: 'FAM-301',
        })
      ).id;
      const robot = { type: 'robot' as const, id: `campagne:${campagne.reference}`, onBehalfOf: AGENT_ADMIN };
      const { id: demandeId } = await h.demandes.soumettre({
        familleId,
        canal: 'campagne',
        acteur: robot,
        foyersFiscaux: [
          {
            parentRang: 1,
            identifiant: { etatCivil: { nom: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' } },
            consentement: { mode: 'formulaire_signe', donnePar: AGENT_ADMIN, piece: 'Formulaire signé', recueilliLe: '2025-09-01T00:00:00.000Z' },
          },
        ],
        lier: (trx, id) => lierDemande(trx, el.id, id, familleId),
      });
      assert.equal(await h.traitement.traiter(demandeId, { acteur: robot, priorite: 'campagne' }), 'calculee');
      const appels = sandbox.admin.calls().length;
      let p: Passe = { type: 'aucun' };
      for (const limite = Date.now() + 30_000; Date.now() < limite; await new Promise((r) => setTimeout(r, 100))) {
        p = await h.services.executeurCampagnes.passe();
        if (p.type === 'element') break;
      }
      assert.deepEqual(p, { type: 'element', devenir: { type: 'resultat', issue: 'calcule' } });
      assert.equal(sandbox.admin.calls().length, appels, 'no call made again');
    } finally {
      await h.close();
    }
  });
});

test('pause, resume, cancel and the kill switch: nothing is claimed while held; the report names what was left', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await harnessCampagnes(database, sandbox);
    try {
      const lignes = [garnier('FAM-401'), garnier('FAM-402'), garnier('FAM-403'), garnier('FAM-404')];
      const { campagne } = await h.services.campagnes.importer(fichierCsv(lignes), 'l.csv', 'Contrôle', AGENT_ADMIN);
      assert.ok(campagne);
      const { campagnes, executeurCampagnes: worker, incident } = h.services;
      await campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      assert.equal((await worker.passe()).type, 'element');
      await assert.rejects(campagnes.agir(campagne.id, 'pause', AGENT_ADMIN, ''), /motif/);
      const enPause = await campagnes.agir(campagne.id, 'pause', AGENT_ADMIN, 'Vérification du fichier');
      assert.deepEqual([enPause.statut, enPause.motif, enPause.actions], ['en_pause', 'Vérification du fichier', ['reprendre', 'annuler']]);
      assert.equal((await worker.passe()).type, 'aucun', 'a paused campaign gives nothing to claim');
      await campagnes.agir(campagne.id, 'reprendre', AGENT_ADMIN);
      assert.equal((await worker.passe()).type, 'element');

      // The incident switch stops every campaign, whatever its status.
      const par = { acteur: { type: 'systeme' as const, id: 'cli:test' }, libelle: 'l’exploitant' };
      await incident.incidents.basculer('campagnes', true, 'Campagne qui s’emballe', par);
      assert.equal((await worker.passe()).type, 'arrete');
      await incident.incidents.basculer('campagnes', false, 'Cause trouvée', par);
      assert.equal((await worker.passe()).type, 'element');

      const annulee = await campagnes.agir(campagne.id, 'annuler', AGENT_ADMIN, 'Fichier de l’an dernier');
      assert.equal(annulee.statut, 'annulee');
      assert.deepEqual(annulee.actions, []);
      assert.equal((await worker.passe()).type, 'aucun');
      await assert.rejects(campagnes.agir(campagne.id, 'reprendre', AGENT_ADMIN), (e) => isQuotientError(e) && e.kind === 'conflict');
      const rapport = await texteRapport(h, campagne.id);
      assert.match(rapport, /FAM-404;non_traite;Non traité;;;/);
      assert.equal((rapport.match(/;calcule;/g) ?? []).length, 3);
      const actions = (await database.db.selectFrom('journal_audit').select('action').where('action', 'like', 'campagne.%').execute()).map((e) => e.action);
      for (const a of ['campagne.creee', 'campagne.demarree', 'campagne.mise_en_pause', 'campagne.reprise', 'campagne.annulee', 'campagne.rapport_telecharge'])
        assert.ok(actions.includes(a), a);
    } finally {
      await h.close();
    }
  });
});

test('online first: while a family’s request waits for the DGFiP, the campaign takes no slot', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await harnessCampagnes(database, sandbox);
    try {
      const { campagne } = await h.services.campagnes.importer(fichierCsv([garnier('FAM-501')]), 'l.csv', 'Priorité', AGENT_ADMIN);
      assert.ok(campagne);
      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      const famille = { type: 'famille' as const, id: 'compte-en-ligne' };
      const { id: familleId } = await h.familles.creer(BERTIN_ROUSSEL, famille);
      const { id } = await h.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
      const p = await h.services.executeurCampagnes.passe();
      assert.equal(p.type, 'quota', 'the queued online request goes first');
      assert.equal((await h.services.campagnes.etat(campagne.id)).progression.traites, 0);
      assert.equal(await h.traitement.traiter(id), 'calculee');
      const suite = await h.services.executeurCampagnes.passe();
      assert.deepEqual(suite, { type: 'element', devenir: { type: 'resultat', issue: 'calcule' } });
    } finally {
      await h.close();
    }
  });
});

test('a campaign failing in numbers raises the detection’s alert (rule 10) as its items complete', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await harnessCampagnes(database, sandbox);
    try {
      // Homonyms without a birthplace: the DGFiP cannot tell them apart, every item is an error.
      const lignes = Array.from({ length: 20 }, (_, i) => homonyme(`FAM-${600 + i}`));
      const { campagne } = await h.services.campagnes.importer(fichierCsv(lignes), 'l.csv', 'Mauvais fichier', AGENT_ADMIN);
      assert.ok(campagne);
      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      await drainer(h);
      assert.equal((await h.services.campagnes.etat(campagne.id)).progression.parIssue.etat_civil, 20);
      const alertes = await database.db.selectFrom('alertes').select(['regle', 'cle', 'message']).where('regle', '=', 'campagne.taux_erreur').execute();
      assert.equal(alertes.length, 1);
      assert.equal(alertes[0]?.cle, `campagne:${campagne.reference}`);
      assert.match(alertes[0]?.message as string, /100 % d’échecs \(20 sur 20/);
    } finally {
      await h.close();
    }
  });
});
