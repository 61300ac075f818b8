/**
 * Every incident measure turned on one instance takes effect on another that shares the same
 * PostgreSQL database (and the journal's key and anchor), within the switches' refresh delay:
 * two applications composed as in production, each with its processing loop, on one throwaway
 * database; a third party, the operator's CLI, turns the maintenance. Each effect is observed on
 * the other instance through what it really does (its loop, its pages, its sessions), and the
 * delay measured is reported; only a generous bound is asserted, never a timing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../cli/main.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { connecterParMotDePasse, creerCompteLocal } from '../../http/test-comptes.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { createTestApp, type TestApp } from '../../http/testing.ts';
import { throwawayPostgresOrSkip } from '../../infra/db/test-databases.ts';
import { createSmtpMailer, startCaptureSmtp } from '../../infra/mail/mailer.ts';
import { SPI_SANDBOX, startSandbox } from '../../sandbox/server.ts';
import { asPrivileged } from '../audit/test-support.ts';
import { HABILITATION_TEST, TEST_UPSTREAM_HTTP } from '../demandes/test-harness.ts';
import type { Operateur } from './incident-service.ts';
import { AVIS_FAMILLES } from './interrupteurs.ts';

/** The refresh delay configured for both instances. */
const DELAI_MS = 1_000;
/** Only to keep a broken test from hanging: no effect is expected anywhere near it. */
const BORNE_MS = 20_000;
const MOT_DE_PASSE = 'Une phrase de passe 2026 !';
const ADMIN: Operateur = { acteur: { type: 'agent', id: 'administratrice-test' }, libelle: 'Administratrice de test' };
const AUDITEUR = { type: 'agent', id: 'auditrice-test' } as const;

/** Waits until `effet` holds, and says how long it took. */
async function delaiJusqua(quoi: string, effet: () => Promise<boolean> | boolean): Promise<number> {
  const debut = performance.now();
  while (!(await effet())) {
    if (performance.now() - debut > BORNE_MS) assert.fail(`${quoi} : aucun effet sur l’autre instance après ${BORNE_MS} ms`);
    await sleep(20);
  }
  return Math.round(performance.now() - debut);
}

async function familleConnectee(app: TestApp, email: string): Promise<{ jar: Jar; familleId: string; compteId: string }> {
  const { id: familleId } = await app.services.familles.creer(
    { parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] },
    { type: 'agent', id: 'test' },
  );
  const compteId = await creerCompteLocal(app.database.db, { email, motDePasse: MOT_DE_PASSE, familleId });
  const jar = await connecterParMotDePasse(app, email, MOT_DE_PASSE);
  return { jar, familleId, compteId };
}

test('each incident measure turned on one instance takes effect on another sharing PostgreSQL, within the refresh delay', async (t: TestContext) => {
  const base = await throwawayPostgresOrSkip(t);
  if (!base) return;
  const dir = mkdtempSync(join(tmpdir(), 'quotient-deux-instances-'));
  const sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  const smtp = await startCaptureSmtp();
  const instance = (id: string) =>
    createTestApp({
      env: { QUOTIENT_DATABASE_URL: base.url },
      // One data folder: the journal's key and its anchor are shared by design.
      dataDir: dir,
      compose: {
        dgfip: sandbox,
        upstreamHttp: TEST_UPSTREAM_HTTP,
        instanceId: id,
        habilitation: HABILITATION_TEST,
        mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
        background: true,
        incidentRefreshMs: DELAI_MS,
      },
      web: { signInPerMinute: 1000 },
      // The journal broken on purpose below: its alert, the only one, is in the base both share.
      alertesAttendues: ['journal.integrite_rompue'],
    });
  const a = await instance('instance-a');
  const b = await instance('instance-b');
  const noter = (quoi: string, ms: number) => t.diagnostic(`${quoi} : ${ms} ms (délai configuré : ${DELAI_MS} ms)`);
  const echecs: unknown[] = [];
  try {
    const famille = await familleConnectee(b, 'lea.roux@exemple.fr');
    const page = (jar: Jar, url: string) => b.app.inject({ url, headers: { cookie: jar.header() } });

    // DGFiP calls suspended on A: B's loop stops taking requests, B's pages say so.
    await a.services.incident.incidents.basculer('appels_dgfip', true, 'Essai de coupure sur deux instances', ADMIN);
    noter(
      'appels DGFiP suspendus, vus par la boucle de B',
      await delaiJusqua('suspension', () => b.services.incident.cache.dernier().interrupteurs.appels_dgfip.actif),
    );
    const appels = sandbox.admin.calls().length;
    const { id } = await b.services.demandes.soumettre({
      familleId: famille.familleId,
      canal: 'en_ligne',
      acteur: { type: 'famille', id: famille.compteId },
      foyersFiscaux: [
        {
          parentRang: 1,
          identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.rfrZero) },
          consentement: { mode: 'en_ligne', donnePar: { type: 'famille', id: famille.familleId } },
        },
      ],
    });
    b.services.wake();
    await sleep(2 * DELAI_MS + 500);
    assert.equal((await b.services.demandes.etat(id)).statut, 'en_file', 'B holds the request and does not call');
    assert.equal(sandbox.admin.calls().length, appels, 'nothing reached the sandbox');
    assert.ok((await page(famille.jar, `/mon-quotient/demandes/${id}`)).body.includes(AVIS_FAMILLES.incident));
    await a.services.incident.incidents.basculer('appels_dgfip', false, 'Fin de l’essai de coupure', ADMIN);
    noter('appels DGFiP repris : demande de B calculée', await delaiJusqua('reprise', async () => (await b.services.demandes.etat(id)).statut === 'calculee'));
    assert.ok(sandbox.admin.calls().length > appels);

    // Campaigns stopped on A: what B's campaign runner will ask answers the switch.
    await a.services.incident.incidents.basculer('campagnes', true, 'Essai d’arrêt des campagnes', ADMIN);
    noter('campagnes arrêtées, vues par B', await delaiJusqua('campagnes', async () => (await b.services.incident.cache.campagnesArretees()) !== null));
    await a.services.incident.incidents.basculer('campagnes', false, 'Fin de l’essai', ADMIN);
    noter(
      'campagnes reprises, vues par B',
      await delaiJusqua('campagnes reprises', async () => (await b.services.incident.cache.campagnesArretees()) === null),
    );

    // Maintenance turned by the operator's CLI, a third process on the same database: B's portal answers 503.
    const io = {
      out: () => undefined,
      err: () => undefined,
      env: { QUOTIENT_DATABASE_URL: base.url, QUOTIENT_DATA_DIR: dir, QUOTIENT_LOG_LEVEL: 'silent' },
      cwd: dir,
    };
    assert.equal(await main(['incident', 'maintenance', 'on', '--motif', 'Essai de maintenance'], io), 0);
    noter('maintenance (CLI), page de B en 503', await delaiJusqua('maintenance', async () => (await page(famille.jar, '/mes-demandes')).statusCode === 503));
    assert.equal((await b.app.inject({ url: '/healthz' })).statusCode, 200);
    assert.equal(await main(['incident', 'maintenance', 'off', '--motif', 'Fin de la maintenance'], io), 0);
    noter(
      'fin de maintenance (CLI), page de B rouverte',
      await delaiJusqua('réouverture', async () => (await page(famille.jar, '/mes-demandes')).statusCode === 200),
    );

    // The family's sessions revoked on A: B signs it out at its next request.
    assert.equal((await page(famille.jar, '/mes-demandes')).statusCode, 200);
    const reference = (await a.database.db.selectFrom('familles').select('reference').where('id', '=', famille.familleId).executeTakeFirstOrThrow()).reference;
    await a.services.incident.incidents.revoquerSessions({ famille: reference }, 'Essai de révocation', ADMIN);
    noter(
      'sessions de la famille révoquées, B la déconnecte',
      await delaiJusqua('révocation', async () => (await page(famille.jar, '/mes-demandes')).headers.location === '/connexion'),
    );

    // The journal broken, seen by A's check: B halts too; A's acknowledgement lifts it on B.
    const cible = (await a.services.journal.query({ action: 'demande.creee' })).entries[0]?.seq as number;
    await asPrivileged(a.database, async (trx) => {
      await trx.updateTable('journal_audit').set({ outcome: 'echec' }).where('seq', '=', cible).execute();
    });
    assert.equal((await a.services.incident.integrite.verifier('demande')).etat.etat, 'arret');
    noter('arrêt d’intégrité décidé sur A, appliqué par B', await delaiJusqua('arrêt', () => b.services.incident.integrite.arret() !== null));
    assert.equal((await b.services.incident.integrite.verifier('demande')).etat.etat, 'arret', 'B’s own check agrees');
    await a.services.incident.integrite.reconnaitre(AUDITEUR, 'Essai d’altération sur deux instances, reconnu');
    noter('altération reconnue sur A, reprise sur B', await delaiJusqua('reconnaissance', () => b.services.incident.integrite.etat().etat === 'reconnu'));
  } finally {
    // Both close even when one's check of the alerts fails; the first failure is told at the end.
    for (const instanceOuverte of [b, a]) await instanceOuverte.close().catch((error: unknown) => echecs.push(error));
    await smtp.close();
    await sandbox.close();
    await base.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (echecs.length > 0) throw echecs[0];
});
