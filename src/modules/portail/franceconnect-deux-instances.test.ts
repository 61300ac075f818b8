/**
 * Two instances of the service behind one public address, sharing one PostgreSQL database (and the
 * data folder: session keys, journal anchor), as behind a load balancer. The family starts on
 * instance A, FranceConnect sends the browser back to instance B. What was typed on A for the other
 * declarant waits in A's memory, where B cannot see it: B uses the FranceConnect token at once
 * (its one minute does not wait), then asks the family plainly to type the other declarant's entry
 * again — never a request computed on one avis, never an entry silently dropped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { creerCompteLocal } from '../../http/test-comptes.ts';
import { csrfOf, Jar } from '../../http/test-cookies.ts';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { createTestApp, type TestApp } from '../../http/testing.ts';
import { throwawayPostgresOrSkip } from '../../infra/db/test-databases.ts';
import { createSmtpMailer, startCaptureSmtp } from '../../infra/mail/mailer.ts';
import { FC_PASSWORD, startLocalProvider } from '../../sandbox/franceconnect/provider.tsx';
import { SPI_SANDBOX, startSandbox } from '../../sandbox/server.ts';
import { franceConnectRedirectUris } from '../comptes/franceconnect-client.ts';
import { HABILITATION_ETAT_CIVIL, TEST_UPSTREAM_HTTP } from '../demandes/test-harness.ts';

const PUBLIC_URL = 'http://localhost:3997';
const FC_CLIENT = { clientId: 'quotient-deux-instances', clientSecret: 'secret-de-test-des-deux-instances' };
const MOT_DE_PASSE = 'Une phrase de passe 2026 !';
// Unmarried parents, one avis each: the sandbox's Julie Garnier (born in Lille) and Thomas Moreau.
const GARNIER_MOREAU = {
  parents: [
    { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
    { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
  ],
  enfants: [{ prenoms: 'Lina', nom: 'Moreau', dateNaissance: '2019-04-02' }],
};

type Reponse = { statusCode: number; body: string; headers: Record<string, unknown> };

/** One browser, one cookie jar, and whichever instance the load balancer picks for each request. */
function navigateur(jar: Jar) {
  const get = async (app: TestApp, url: string): Promise<Reponse> => {
    const res = await app.app.inject({ url, headers: { cookie: jar.header() } });
    jar.take(res.headers);
    return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
  };
  const post = async (app: TestApp, from: string, url: string, fields: Record<string, string>): Promise<Reponse> => {
    const token = csrfOf((await get(app, from)).body);
    const res = await app.app.inject({
      method: 'POST',
      url,
      payload: new URLSearchParams({ _csrf: token, ...fields }).toString(),
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    });
    jar.take(res.headers);
    return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
  };
  return { get, post };
}

async function familleConnectee(app: TestApp, email: string, courriel: string) {
  const { id: familleId } = await app.services.familles.creer({ ...GARNIER_MOREAU, courriel }, { type: 'agent', id: 'test' });
  await creerCompteLocal(app.database.db, { email, motDePasse: MOT_DE_PASSE, familleId });
  const jar = new Jar();
  const b = navigateur(jar);
  assert.equal((await b.post(app, '/connexion', '/connexion', { email, password: MOT_DE_PASSE })).statusCode, 303, 'signed in');
  return { jar, familleId, ...b };
}

test('FranceConnect sends the family back to the other instance: the avis is asked there at once, the other declarant’s entry is asked again, plainly', async (t: TestContext) => {
  const base = await throwawayPostgresOrSkip(t);
  if (!base) return;
  const dir = mkdtempSync(join(tmpdir(), 'quotient-fc-deux-instances-'));
  const sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  const smtp = await startCaptureSmtp();
  const provider = await startLocalProvider({
    clients: [{ ...FC_CLIENT, redirectUris: franceConnectRedirectUris(PUBLIC_URL), postLogoutRedirectUris: [`${PUBLIC_URL}/deconnexion/fin`] }],
    onAccessToken: (token, spi, expiresAt, scopes) => sandbox.admin.registerFranceConnectToken(token, spi, expiresAt, scopes),
  });
  const instance = (id: string) =>
    createTestApp({
      env: { QUOTIENT_DATABASE_URL: base.url, QUOTIENT_PUBLIC_URL: PUBLIC_URL },
      // One data folder: the session keys (and the journal's) are shared by design.
      dataDir: dir,
      compose: {
        dgfip: sandbox,
        upstreamHttp: TEST_UPSTREAM_HTTP,
        instanceId: id,
        habilitation: HABILITATION_ETAT_CIVIL.sfip,
        mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
        franceConnect: { issuer: provider.issuer, ...FC_CLIENT },
        background: true,
      },
      web: { signInPerMinute: 1000 },
    });
  const a = await instance('instance-a');
  const b = await instance('instance-b');
  try {
    const foyers = (demandeId: string) =>
      a.database.db.selectFrom('demande_foyers').select(['parent_rang', 'voie', 'etat']).where('demande_id', '=', demandeId).orderBy('parent_rang').execute();
    const statut = (demandeId: string) =>
      a.database.db.selectFrom('demandes').select(['statut', 'motif_code', 'detenteur']).where('id', '=', demandeId).executeTakeFirstOrThrow();

    // 1. The numéro fiscal of the other parent, typed on A.
    const f = await familleConnectee(a, 'garnier.moreau.a@exemple.fr', 'garnier.moreau.a@exemple.fr');
    assert.equal(
      (await f.post(a, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' })).statusCode,
      303,
    );
    const envoi = await f.post(a, '/mon-quotient/numero', '/mon-quotient/numero', {
      'voie-1': 'franceconnect',
      'voie-2': 'numero',
      'numero-2': SPI_SANDBOX.parentsNonMaries.parentSansEnfant,
    });
    assert.equal(envoi.statusCode, 303);
    const { back } = await signInAtProvider(new URL(String(envoi.headers.location)), SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, FC_PASSWORD, PUBLIC_URL);
    // The load balancer sends the return to B.
    const retour = await f.get(b, back.pathname + back.search);
    assert.equal(retour.statusCode, 303, retour.body.slice(0, 600));
    const location = String(retour.headers.location);
    assert.match(location, /^\/mon-quotient\/demandes\/[0-9a-f-]{36}$/);
    const id = location.split('/').at(-1) as string;
    // The token was used on B at once: the first avis is received; the second waits for its number, not computed on one avis.
    assert.deepEqual(await statut(id), { statut: 'a_ressaisir', motif_code: 'saisie_a_refaire', detenteur: null });
    assert.deepEqual(
      (await foyers(id)).map((x) => [x.parent_rang, x.voie, x.etat]),
      [
        [1, 'franceconnect', 'recu'],
        [2, 'numero_fiscal', 'a_appeler'],
      ],
    );
    const page = await f.get(b, location);
    assert.match(page.body, /n’a pas pu être gardé pendant la connexion FranceConnect : saisissez-le de nouveau/);
    assert.match(page.body, /Saisir de nouveau le numéro fiscal/);
    assert.match(page.body, /id="numero-2"/, 'the number of Thomas Moreau is asked again');
    assert.doesNotMatch(page.body, /id="numero-1"/, 'not the avis already received');
    assert.ok(!page.body.includes(SPI_SANDBOX.parentsNonMaries.parentSansEnfant));
    // Typed again (on whichever instance): both avis, one request, the QF.
    const relance = await f.post(b, location, `${location}/ressaisie`, { 'numero-2': SPI_SANDBOX.parentsNonMaries.parentSansEnfant });
    assert.equal(relance.statusCode, 303);
    assert.equal((await statut(id)).statut, 'calculee');

    // 2. The état civil of the other parent, typed on A: asked again on its own page.
    const g = await familleConnectee(a, 'garnier.moreau.b@exemple.fr', 'garnier.moreau.b@exemple.fr');
    await g.post(a, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' });
    const ec = await g.post(a, '/mon-quotient/etat-civil', '/mon-quotient/etat-civil', {
      'voie-1': 'franceconnect',
      'voie-2': 'etat_civil',
      'ec-2-nom': 'Moreau',
      'ec-2-prenoms': 'Thomas',
      'ec-2-naissance': '05/01/1991',
      'ec-2-ne': 'france',
      'ec-2-code-commune': '59350',
      'accord-etat-civil': 'oui',
      action: 'envoyer',
    });
    assert.equal(ec.statusCode, 303, ec.body.slice(0, 600));
    const fc = await signInAtProvider(new URL(String(ec.headers.location)), SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, FC_PASSWORD, PUBLIC_URL);
    const retourEc = await g.get(b, fc.back.pathname + fc.back.search);
    assert.equal(retourEc.statusCode, 303);
    const locEc = String(retourEc.headers.location);
    const idEc = locEc.split('/').at(-1) as string;
    assert.deepEqual((await statut(idEc)).motif_code, 'saisie_a_refaire');
    assert.deepEqual(
      (await foyers(idEc)).map((x) => [x.parent_rang, x.voie, x.etat]),
      [
        [1, 'franceconnect', 'recu'],
        [2, 'etat_civil', 'a_appeler'],
      ],
    );
    const pageEc = await g.get(b, locEc);
    assert.match(pageEc.body, /Donner le numéro fiscal, ou de nouveau l’état civil/);
    assert.match(pageEc.body, new RegExp(`href="/mon-quotient/demandes/${idEc}/etat-civil"[^>]*>\\s*Saisir de nouveau l’état civil`));
    const formulaire = await g.get(b, `/mon-quotient/demandes/${idEc}/etat-civil`);
    assert.match(formulaire.body, /value="Moreau"/, 'pre-filled from the household');
    assert.doesNotMatch(formulaire.body, /name="ec-1-nom"/, 'only the declarant still to ask');
    const renvoi = await g.post(b, `/mon-quotient/demandes/${idEc}/etat-civil`, `/mon-quotient/demandes/${idEc}/etat-civil`, {
      'ec-2-nom': 'Moreau',
      'ec-2-prenoms': 'Thomas',
      'ec-2-naissance': '05/01/1991',
      'ec-2-ne': 'france',
      'ec-2-code-commune': '59350',
      'accord-etat-civil': 'oui',
      action: 'envoyer',
    });
    assert.equal(renvoi.statusCode, 303, renvoi.body.slice(0, 600));
    assert.equal((await statut(idEc)).statut, 'calculee');

    // 3. The same journey with the return on A, where the entry waits: one go, no second entry.
    const h = await familleConnectee(a, 'garnier.moreau.c@exemple.fr', 'garnier.moreau.c@exemple.fr');
    await h.post(a, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' });
    const meme = await h.post(a, '/mon-quotient/numero', '/mon-quotient/numero', {
      'voie-1': 'franceconnect',
      'voie-2': 'numero',
      'numero-2': SPI_SANDBOX.parentsNonMaries.parentSansEnfant,
    });
    const fcA = await signInAtProvider(new URL(String(meme.headers.location)), SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, FC_PASSWORD, PUBLIC_URL);
    const retourA = await h.get(a, fcA.back.pathname + fcA.back.search);
    assert.equal((await statut(String(retourA.headers.location).split('/').at(-1) as string)).statut, 'calculee');
  } finally {
    await b.close();
    await a.close();
    await provider.close();
    await smtp.close();
    await sandbox.close();
    await base.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
