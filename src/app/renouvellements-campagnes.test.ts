import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ajouterAns } from '../domain/consentement-renouvellement.ts';
import { addDays } from '../domain/dates.ts';
import type { Database } from '../infra/db/database.ts';
import { eachDialect } from '../infra/db/test-databases.ts';
import { createLogger } from '../infra/log/logger.ts';
import type { Courriel, Mailer } from '../infra/mail/mailer.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../sandbox/server.ts';
import { AGENT_ADMIN, drainer, harnessCampagnes, texteRapport } from '../modules/campagnes/test-support.ts';
import { BERTIN_ROUSSEL, enLigne, type Harness } from '../modules/demandes/test-harness.ts';
import { tacheRenouvellementAnnuel } from './renouvellement-annuel.ts';

/**
 * The standing consents wired into the campaigns (issue 14): a family that consented online with
 * the standing consent is renewed by état civil through the usual path when its QF expires; a
 * consent withdrawn or expired after the campaign was made is not called; a declarant whose état
 * civil is not kept is asked again. The composition's default source is used (no stand-in).
 */

const dir = mkdtempSync(join(tmpdir(), 'quotient-renouvellements-campagnes-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), quota: { limit: 10_000, windowMs: 60_000 } });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A mailer that keeps what it sends and lets a test wait for a message (bounded), not for time. */
function boiteAuxLettres(): Mailer & { recus: Courriel[]; attendre(to: string): Promise<Courriel> } {
  const recus: Courriel[] = [];
  const attentes: Array<() => void> = [];
  return {
    recus,
    send(message) {
      recus.push(message);
      for (const a of attentes.splice(0)) a();
      return Promise.resolve();
    },
    async attendre(to) {
      for (let i = 0; i < 50; i++) {
        const m = recus.find((r) => r.to === to);
        if (m) return m;
        await new Promise<void>((resolve) => {
          attentes.push(resolve);
          setTimeout(resolve, 400).unref();
        });
      }
      throw new Error(`aucun courriel pour ${to}`);
    },
  };
}

const FAMILLE = { type: 'famille' as const, id: 'compte-test' };

/** A family asks online with its declarant's number and ticks the standing consent; returns its id and the request's status. */
async function demanderEnLigne(h: Harness, composition: unknown, spi: string) {
  const { id: familleId } = await h.familles.creer(composition, FAMILLE);
  const { id } = await h.demandes.soumettre({ ...enLigne(familleId, [[1, spi]], FAMILLE), renouvellement: [1] });
  return { familleId, statut: await h.traitement.traiter(id) };
}

async function finDuQuotient(database: Database, familleId: string): Promise<string> {
  const row = await database.db.selectFrom('quotients').select('valide_au').where('famille_id', '=', familleId).executeTakeFirstOrThrow();
  return String(row.valide_au);
}

const sfipAppels = () => sandbox.admin.calls().filter((c) => c.api === 'sfip').length;

test('a standing consent given online renews the family’s QF through the usual path; withdrawn, expired or without état civil, nobody is called', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const courriels = boiteAuxLettres();
    const h = await harnessCampagnes(database, sandbox, { mailer: courriels });
    try {
      const bertin = await demanderEnLigne(h, { ...BERTIN_ROUSSEL, courriel: 'bertin@example.org' }, SPI_SANDBOX.coupleMarie.declarant1);
      const garnier = await demanderEnLigne(
        h,
        { parents: [{ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' }], courriel: 'garnier@example.org' },
        SPI_SANDBOX.parentsNonMaries.parentAvecEnfant,
      );
      const moreau = await demanderEnLigne(
        h,
        { parents: [{ nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' }], courriel: 'moreau@example.org' },
        SPI_SANDBOX.parentsNonMaries.parentSansEnfant,
      );
      // Nobody has this number: the request goes to an instructor, no état civil is kept for the consent.
      const durand = await demanderEnLigne(
        h,
        { parents: [{ nomNaissance: 'Durand', prenoms: 'Luc', dateNaissance: '1980-01-01' }], courriel: 'durand@example.org' },
        SPI_SANDBOX.inconnu,
      );
      assert.deepEqual([bertin.statut, garnier.statut, moreau.statut, durand.statut], ['calculee', 'calculee', 'calculee', 'a_verifier']);
      // The family told that an agent will look at its request: that e-mail leaves after the commit.
      await courriels.attendre('durand@example.org');
      courriels.recus.length = 0;

      // The QF expires: the renewal campaign lists the four families with a standing consent in force.
      const echeance = addDays(await finDuQuotient(database, bertin.familleId), 1);
      const campagne = await h.services.campagnes.creerRenouvellement(echeance, 'Renouvellement 2026', AGENT_ADMIN);
      assert.equal(campagne.total, 4);
      const lus = await database.db
        .selectFrom('journal_audit')
        .select(['actor_type', 'on_behalf_id'])
        .where('action', '=', 'renouvellement.etat_civil_lu')
        .execute();
      assert.equal(lus.length, 3, 'the kept état civil of three families read, each journaled');
      assert.ok(lus.every((e) => e.actor_type === 'robot' && e.on_behalf_id === AGENT_ADMIN.id));

      // Between the campaign's making and its calls: Garnier withdraws, Moreau's consent expires.
      const [accordGarnier] = await h.services.renouvellement.consentements(garnier.familleId);
      assert.ok(accordGarnier);
      await h.services.renouvellement.retirer(garnier.familleId, accordGarnier.id, FAMILLE);
      // Expired: given as many years ago as it lasts, and a day more (the expiry derives from both).
      const ilYA = new Date();
      ilYA.setUTCDate(ilYA.getUTCDate() - 1);
      const accordMoreau = await database.db
        .selectFrom('consentements_renouvellement')
        .select('duree_ans')
        .where('famille_id', '=', moreau.familleId)
        .executeTakeFirstOrThrow();
      ilYA.setUTCFullYear(ilYA.getUTCFullYear() - accordMoreau.duree_ans);
      await database.db
        .updateTable('consentements_renouvellement')
        .set({ recueilli_le: ilYA.toISOString(), expire_le: ajouterAns(ilYA.toISOString(), accordMoreau.duree_ans) })
        .where('famille_id', '=', moreau.familleId)
        .execute();
      assert.equal((await h.services.renouvellement.consentements(moreau.familleId))[0]?.etat, 'expire');

      await h.services.campagnes.agir(campagne.id, 'demarrer', AGENT_ADMIN);
      const avant = sfipAppels();
      await drainer(h);
      const etat = await h.services.campagnes.etat(campagne.id);
      assert.equal(etat.statut, 'terminee');
      assert.deepEqual([etat.progression.parIssue.calcule, etat.progression.parIssue.sans_accord, etat.progression.parIssue.a_redemander], [1, 2, 1]);
      assert.equal(sfipAppels() - avant, 1, 'one call: Bertin’s; nobody else is asked for');

      // Bertin's new request went through the usual path: by état civil, identity control, QF and prices.
      const demandes = await database.db
        .selectFrom('demandes')
        .select(['id', 'reference', 'statut', 'canal', 'acteur_type', 'acteur_id'])
        .where('famille_id', '=', bertin.familleId)
        .where('canal', '=', 'campagne')
        .execute();
      assert.equal(demandes.length, 1);
      const renouvelee = demandes[0] as (typeof demandes)[number];
      assert.deepEqual([renouvelee.statut, renouvelee.acteur_type, renouvelee.acteur_id], ['calculee', 'robot', `campagne:${etat.reference}`]);
      const foyers = await database.db.selectFrom('demande_foyers').select(['voie', 'parent_rang']).where('demande_id', '=', renouvelee.id).execute();
      assert.deepEqual(
        foyers.map((f) => [f.voie, f.parent_rang]),
        [['etat_civil', 1]],
      );
      assert.equal((await database.db.selectFrom('quotients').select('id').where('famille_id', '=', bertin.familleId).execute()).length, 2);
      // Its consent is the copy of the standing consent the family gave online.
      const consentement = await database.db
        .selectFrom('consentements')
        .select(['mode', 'donne_par_type', 'donne_par_id'])
        .where('demande_id', '=', renouvelee.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([consentement.mode, consentement.donne_par_type, consentement.donne_par_id], ['en_ligne', 'famille', FAMILLE.id]);
      // Every step journaled under the robot, on behalf of the agent who started the campaign.
      const entrees = await database.db
        .selectFrom('journal_audit')
        .select(['action', 'actor_type', 'actor_id', 'on_behalf_id'])
        .where('target_id', '=', renouvelee.id)
        .where('action', 'in', ['demande.creee', 'demande.appel_demarre', 'dgfip.situation_recue', 'demande.situation_recue'])
        .execute();
      assert.ok(entrees.length >= 3, `journal: ${entrees.map((e) => e.action).join(', ')}`);
      for (const e of entrees) assert.deepEqual([e.actor_type, e.actor_id, e.on_behalf_id], ['robot', `campagne:${etat.reference}`, AGENT_ADMIN.id], e.action);

      // The family is told by e-mail; the others, not called, are not.
      const courriel = await courriels.attendre('bertin@example.org');
      assert.equal(courriel.subject, `Votre quotient familial est calculé (demande ${renouvelee.reference})`);
      assert.deepEqual(
        courriels.recus.map((c) => c.to),
        ['bertin@example.org'],
        courriels.recus.map((c) => `${c.to}: ${c.subject}`).join(' ; '),
      );

      // The report says who must be asked again.
      const lignes = (await texteRapport(h, campagne.id))
        .replace(/^\uFEFF/, '')
        .trim()
        .split('\r\n');
      const references = await database.db.selectFrom('familles').select(['id', 'reference']).execute();
      const ref = (id: string) => references.find((r) => r.id === id)?.reference as string;
      const ligne = (id: string) => lignes.find((l) => l.startsWith(`${ref(id)};`)) ?? '';
      assert.match(ligne(bertin.familleId), new RegExp(`;calcule;Quotient calculé;[^;]+;${renouvelee.reference};`));
      assert.match(ligne(garnier.familleId), /;sans_accord;/);
      assert.match(ligne(moreau.familleId), /;sans_accord;/);
      assert.match(ligne(durand.familleId), /;a_redemander;À redemander à la famille/);
    } finally {
      await h.close();
    }
  });
});

test('the yearly job creates and starts a non-empty renewal campaign from the standing consents', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const h = await harnessCampagnes(database, sandbox);
    try {
      const bertin = await demanderEnLigne(h, BERTIN_ROUSSEL, SPI_SANDBOX.coupleMarie.declarant1);
      assert.equal(bertin.statut, 'calculee');
      const fin = await finDuQuotient(database, bertin.familleId);
      const admin = await h.services.agents.creer({ email: 'admin@ville.test', prenom: 'Alice', nom: 'Admin', roles: ['administrateur'] }, AGENT_ADMIN);
      const tache = tacheRenouvellementAnnuel({
        db: database.db,
        // From the day the QF ends on; the QFs expiring within 31 days of it are renewed.
        config: { renouvellementAnnuel: { jour: fin.slice(5), responsable: 'admin@ville.test' } },
        campagnes: h.services.campagnes,
        agents: h.services.agents,
        logger: createLogger({ level: 'silent' }),
        clock: () => Date.parse(`${fin}T12:00:00.000Z`),
      });
      await tache.executer();
      const campagnes = await database.db.selectFrom('campagnes').select(['id', 'type', 'statut', 'demarree_par']).execute();
      assert.equal(campagnes.length, 1);
      const c = campagnes[0] as (typeof campagnes)[number];
      assert.deepEqual([c.type, c.statut, c.demarree_par], ['renouvellement', 'en_cours', admin.id]);
      assert.equal((await h.services.campagnes.etat(c.id)).progression.total, 1);
      await tache.executer();
      assert.equal((await database.db.selectFrom('campagnes').select('id').execute()).length, 1, 'once a year');
    } finally {
      await h.close();
    }
  });
});
