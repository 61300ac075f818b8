/**
 * Two web instances behind the same PostgreSQL database (issue 14, « plusieurs instances pour de
 * vrai »), composed as in production, each with its processing loop, sharing one data folder (the
 * journal's key and anchor, the silo's key file, the session key) as the operations guide says:
 * - a family queued on one instance sees a position that counts the other's queue, and requests
 *   are called in the order they were queued, whichever instance holds them;
 * - `quotient audit verify` passes after both wrote, and the shared anchor follows both;
 * - a key rotation run by the operator stops neither instance;
 * - the sign-in throttle, the hold on an unknown address and the billing API's allowance per key
 *   are one allowance for the two instances, not one each.
 * The operator's CLI is a third party on the same database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../cli/main.ts';
import { STATUTS_AVEC_NUMERO_FISCAL } from '../domain/demande.ts';
import { NumeroFiscal } from '../domain/numero-fiscal.ts';
import { connecterParMotDePasse, creerCompteLocal } from '../http/test-comptes.ts';
import { csrfOf, Jar } from '../http/test-cookies.ts';
import { createTestApp, type TestApp } from '../http/testing.ts';
import { throwawayPostgresOrSkip } from '../infra/db/test-databases.ts';
import { createSmtpMailer, startCaptureSmtp } from '../infra/mail/mailer.ts';
import { KeyringFile } from '../infra/silo/keyring.ts';
import { HABILITATION_TEST, TEST_UPSTREAM_HTTP } from '../modules/demandes/test-harness.ts';
import { startLocalAgentsProvider } from '../sandbox/agents/provider.tsx';
import { SPI_SANDBOX, startSandbox } from '../sandbox/server.ts';

/** Only to keep a broken test from hanging: nothing is expected anywhere near it. */
const BORNE_MS = 60_000;
const MOT_DE_PASSE = 'Une phrase de passe 2026 !';
const SIGN_IN_PER_MINUTE = 6;
const ADMIN = { acteur: { type: 'agent', id: 'administratrice-test' }, libelle: 'Administratrice de test' } as const;
const AGENTS_CLIENT = { clientId: 'quotient-instances-agents', clientSecret: 'secret-de-test-des-deux-instances' };
const PUBLIC_URL = 'http://localhost:3996';

async function jusqua(quoi: string, effet: () => Promise<boolean> | boolean): Promise<void> {
  const debut = performance.now();
  while (!(await effet())) {
    if (performance.now() - debut > BORNE_MS) assert.fail(`${quoi} : toujours pas après ${BORNE_MS} ms`);
    await sleep(25);
  }
}

async function famille(app: TestApp, nom: string): Promise<string> {
  const { id } = await app.services.familles.creer(
    { parents: [{ nomNaissance: nom, prenoms: 'Léa', dateNaissance: '2003-05-19' }] },
    { type: 'agent', id: 'test' },
  );
  return id;
}

/** A family with a local account, signed in on `app`. */
async function familleConnectee(app: TestApp, email: string): Promise<{ jar: Jar; familleId: string; compteId: string }> {
  const familleId = await famille(app, 'Roux');
  const compteId = await creerCompteLocal(app.database.db, { email, motDePasse: MOT_DE_PASSE, familleId });
  const jar = await connecterParMotDePasse(app, email, MOT_DE_PASSE);
  return { jar, familleId, compteId };
}

async function soumettre(app: TestApp, familleId: string, acteur = { type: 'agent' as const, id: 'guichet-test' }): Promise<string> {
  const { id } = await app.services.demandes.soumettre({
    familleId,
    canal: acteur.type === 'agent' ? 'guichet' : 'en_ligne',
    acteur,
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.rfrZero) },
        consentement:
          acteur.type === 'agent' ? { mode: 'formulaire_signe', donnePar: acteur, piece: 'Formulaire signé' } : { mode: 'en_ligne', donnePar: acteur },
      },
    ],
  });
  // Queue times a few milliseconds apart: the order asserted below is theirs.
  await sleep(5);
  return id;
}

test('two instances on one PostgreSQL: one queue, one journal, one key file, one allowance', async (t: TestContext) => {
  const base = await throwawayPostgresOrSkip(t);
  if (!base) return;
  const dir = mkdtempSync(join(tmpdir(), 'quotient-plusieurs-instances-'));
  const sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  const smtp = await startCaptureSmtp();
  // The back-office's provider: its presence is what opens the billing API.
  const agentsProvider = await startLocalAgentsProvider({
    clients: [{ ...AGENTS_CLIENT, redirectUris: [`${PUBLIC_URL}/agents/connexion/retour`], postLogoutRedirectUris: [`${PUBLIC_URL}/agents/deconnexion/fin`] }],
  });
  // The throttles count in windows of a minute: the tests of an allowance stop the clock, so that a
  // loaded machine taking more than a minute for 120 calls does not open a new window under them.
  let horlogeArretee: number | undefined;
  const horloge = () => horlogeArretee ?? Date.now();
  const arreterHorloge = async (pendant: () => Promise<void>) => {
    horlogeArretee = Date.now();
    try {
      await pendant();
    } finally {
      horlogeArretee = undefined;
    }
  };
  const instance = (id: string) =>
    createTestApp({
      env: { QUOTIENT_DATABASE_URL: base.url, QUOTIENT_PUBLIC_URL: PUBLIC_URL },
      // One data folder: the journal's key and anchor, the silo's key file are shared by design.
      dataDir: dir,
      compose: {
        dgfip: sandbox,
        upstreamHttp: TEST_UPSTREAM_HTTP,
        instanceId: id,
        habilitation: HABILITATION_TEST,
        mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
        agentsOidc: { issuer: agentsProvider.issuer, ...AGENTS_CLIENT, signingAlg: 'ES256', acr: 'eidas1' },
        background: true,
        incidentRefreshMs: 300,
        clock: horloge,
      },
      web: { signInPerMinute: SIGN_IN_PER_MINUTE },
      // The allowance test reads the billing API 120 times with one key: a bulk export, on purpose.
      alertesAttendues: ['export.massif'],
    });
  const a = await instance('instance-a');
  const b = await instance('instance-b');
  const io = {
    out: (text: string) => void sortie.push(text),
    err: (text: string) => void sortie.push(text),
    env: { QUOTIENT_DATABASE_URL: base.url, QUOTIENT_DATA_DIR: dir, QUOTIENT_LOG_LEVEL: 'silent' },
    cwd: dir,
  };
  const sortie: string[] = [];
  try {
    await t.test('a family queued on A sees a position that counts B’s queue, and requests are called in queue order across instances', async () => {
      const connectee = await familleConnectee(a, 'lea.roux@exemple.fr');
      // Calls held everywhere, so that the queue builds up on both instances.
      await a.services.incident.incidents.basculer('appels_dgfip', true, 'Essai de file sur deux instances', ADMIN);
      await jusqua(
        'suspension vue par les deux instances',
        async () => (await a.services.incident.suspensionAppels()) !== null && (await b.services.incident.suspensionAppels()) !== null,
      );

      const b1 = await soumettre(b, await famille(b, 'Martin'));
      const b2 = await soumettre(b, await famille(b, 'Bernard'));
      const a1 = await soumettre(a, connectee.familleId, { type: 'famille', id: connectee.compteId } as never);
      const a2 = await soumettre(a, await famille(a, 'Petit'));
      const a3 = await soumettre(a, await famille(a, 'Durand'));
      const b3 = await soumettre(b, await famille(b, 'Moreau'));
      const ordre = [b1, b2, a1, a2, a3, b3];

      const etat = await a.services.demandes.etat(a1);
      assert.equal(etat.file?.position, 3, 'B’s two requests, queued first, stand before it');
      const page = await a.app.inject({ url: `/mon-quotient/demandes/${a1}`, headers: { cookie: connectee.jar.header() } });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /3e dans la file/);
      assert.equal((await b.services.demandes.etat(b3)).file?.position, 6, 'and B counts A’s');

      const avant = sandbox.admin.calls().length;
      await a.services.incident.incidents.basculer('appels_dgfip', false, 'Fin de l’essai de file', ADMIN);
      a.services.wake();
      b.services.wake();
      await jusqua('les six demandes appelées', async () => {
        for (const id of ordre) if (STATUTS_AVEC_NUMERO_FISCAL.includes((await a.services.demandes.etat(id)).statut)) return false;
        return true;
      });
      assert.ok(sandbox.admin.calls().length >= avant + ordre.length);
      // The order in which the calls started, from the journal both instances write.
      const demarrees: string[] = [];
      for await (const entry of a.services.journal.exportMatching({ action: 'demande.appel_demarre' })) {
        const id = entry.target?.id;
        if (id !== undefined && ordre.includes(id) && !demarrees.includes(id)) demarrees.push(id);
      }
      const noms = new Map(ordre.map((id, i) => [id, ['b1', 'b2', 'a1', 'a2', 'a3', 'b3'][i] as string]));
      assert.deepEqual(
        demarrees.map((id) => noms.get(id)),
        ['b1', 'b2', 'a1', 'a2', 'a3', 'b3'],
        'called in queue order, whichever instance held them',
      );
    });

    await t.test('quotient audit verify passes after both wrote, and the anchor follows the entries of either', async () => {
      const deA = await a.services.journal.append({ actor: { type: 'systeme', id: 'instance-a' }, action: 'essai.ecriture', outcome: 'succes' });
      const deB = await b.services.journal.append({ actor: { type: 'systeme', id: 'instance-b' }, action: 'essai.ecriture', outcome: 'succes' });
      assert.ok(deB.seq > deA.seq);
      // Group commit moves the anchor within its window; B's move, once done, is what A's verify reads.
      await b.services.journal.flush();
      sortie.length = 0;
      assert.equal(await main(['audit', 'verify', '--json'], io), 0, sortie.join('\n'));
      const rapport = JSON.parse(sortie.join('\n')) as { intact: boolean; derniereSequence: number; ancre: { etat: string; sequence: number } };
      assert.equal(rapport.intact, true);
      assert.equal(rapport.ancre.etat, 'valide');
      assert.equal(rapport.derniereSequence, deB.seq);
      assert.equal(rapport.ancre.sequence, deB.seq, 'the anchor A reads names the last entry, written by B');
      for (const app of [a, b]) assert.equal((await app.services.journal.verify()).intact, true);
    });

    await t.test('a key rotation run by the operator stops neither instance', async () => {
      const avantRotation = await a.database.db.selectFrom('coffre_records').select(['kind', 'record_id']).execute();
      assert.ok(avantRotation.length > 0, 'the silo holds records of both instances');
      const cleAvant = KeyringFile.open(join(dir, 'cles-coffre.json')).current().activeId;
      // Each instance has read its records (and so cached the key file) before the rotation.
      for (const r of avantRotation.slice(0, 2)) for (const app of [a, b]) assert.notEqual(await app.services.coffre.get(r.kind, r.record_id), undefined);

      sortie.length = 0;
      assert.equal(await main(['keys', 'rotate'], io), 0, sortie.join('\n'));
      const cleApres = KeyringFile.open(join(dir, 'cles-coffre.json')).current();
      assert.notEqual(cleApres.activeId, cleAvant);
      assert.deepEqual(cleApres.ids, [cleApres.activeId], 'the old key left the file');

      // Both read every record, now under the new key, and both go on writing.
      for (const app of [a, b]) for (const r of avantRotation) assert.notEqual(await app.services.coffre.get(r.kind, r.record_id), undefined, r.record_id);
      const surA = await soumettre(a, await famille(a, 'Roux'));
      const surB = await soumettre(b, await famille(b, 'Roux'));
      a.services.wake();
      b.services.wake();
      for (const [app, id] of [
        [a, surA],
        [b, surB],
      ] as const) {
        const fin = await app.services.demandes.attendre(id, 30_000);
        assert.equal(fin.statut, 'calculee', JSON.stringify(fin));
      }
      const nouvelles = await a.database.db.selectFrom('coffre_records').select('key_id').where('key_id', '<>', cleApres.activeId).execute();
      assert.deepEqual(nouvelles, [], 'nothing is written under the old key');
    });

    await t.test('the sign-in throttle and the hold on an unknown address count once for both instances', () =>
      arreterHorloge(async () => {
        const jar = new Jar();
        const form = await a.app.inject({ url: '/connexion' });
        jar.take(form.headers);
        const jeton = csrfOf(form.body);
        const essai = (app: TestApp, email: string, remoteAddress: string) =>
          app.app.inject({
            method: 'POST',
            url: '/connexion',
            remoteAddress,
            payload: new URLSearchParams({ _csrf: jeton, email, password: 'mauvais mot de passe' }).toString(),
            headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
          });
        // From one address, alternately on A and B: the allowance is the one of one instance.
        const statuts: number[] = [];
        let derniere = '';
        for (let i = 0; i <= SIGN_IN_PER_MINUTE; i++) {
          const res = await essai(i % 2 === 0 ? a : b, `essai-${i}@exemple.fr`, '203.0.113.7');
          statuts.push(res.statusCode);
          derniere = res.body;
        }
        assert.deepEqual(statuts, [...Array<number>(SIGN_IN_PER_MINUTE).fill(400), 429]);
        assert.match(derniere, /Trop de tentatives/);

        // Five failures on one unknown address, spread over both instances: held back on both.
        const echecs: number[] = [];
        for (let i = 0; i < 5; i++) echecs.push((await essai(i % 2 === 0 ? b : a, 'personne@exemple.fr', '203.0.113.8')).statusCode);
        assert.deepEqual(echecs, [400, 400, 400, 400, 429]);
        const retenue = await essai(b, 'personne@exemple.fr', '203.0.113.9');
        assert.equal(retenue.statusCode, 429, 'from another address too');
        assert.match(retenue.body, /Trop d’essais infructueux/);
      }),
    );

    await t.test('the billing API’s allowance per key is one for both instances', () =>
      arreterHorloge(async () => {
        const { secret } = await a.services.clesApi.creer('Logiciel de facturation', { type: 'agent', id: 'administratrice-test' });
        const appel = (app: TestApp) => app.app.inject({ url: '/api/v1/quotients', headers: { authorization: `Bearer ${secret}` } });
        // The default allowance, 120 calls a minute, taken alternately on A and B.
        const ALLOWANCE = 120;
        for (let i = 0; i < ALLOWANCE; i++) {
          const res = await appel(i % 2 === 0 ? a : b);
          assert.equal(res.statusCode, 200, `call ${i + 1}: ${res.body}`);
        }
        for (const app of [a, b]) {
          const refus = await appel(app);
          assert.equal(refus.statusCode, 429);
          assert.equal(refus.headers['content-type'], 'application/problem+json; charset=utf-8');
          assert.ok(Number(refus.headers['retry-after']) > 0);
          assert.match((refus.json() as { detail: string }).detail, /Trop d’appels en une minute/);
        }
      }),
    );
  } finally {
    await b.close();
    await a.close();
    await agentsProvider.close();
    await smtp.close();
    await sandbox.close();
    await base.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
