import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CLE_AGENT, CLE_FAMILLE } from '../../http/formulaire.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { ACTION_ESSAI } from '../demandes/limites-numero-fiscal.ts';

/**
 * Issue 12, hole 3: a numéro fiscal whose mod-511 key does not check is most likely a typo. The
 * portal and the counter ask again, at the field, with a box to confirm it: nothing is submitted,
 * no DGFiP call is made and no try counts against the anti-fishing limits. The number typed is
 * never shown back. With the box ticked, the number is sent as any other.
 */
let t: BackOfficeTestApp;
before(async () => {
  t = await createBackOfficeTestApp();
});
after(() => t.close());

/** A published identity of the DGFiP's sandbox whose numéro fails the key (3999999776 mod 511 = 156, not 202). */
const DUBIGNOT = { spi: '3999999776202', prenoms: 'Jean Philippe Arnaud', nom: 'Dubignot', naissance: '1943-06-15' };
/** Another (3999999776 mod 511 = 156, not 201). */
const DUBOIS = { spi: '3999999776201', prenoms: 'Angela Claire Louise', nom: 'Dubois', naissance: '1962-08-24' };
/** A sandbox number with its last digit mistyped: the key no longer checks. */
const typo = (spi: string) => `${spi.slice(0, 12)}${(Number(spi[12]) + 1) % 10}`;
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
const fr = (iso: string) => iso.split('-').reverse().join('/');

/** What a submission would leave behind for this family: DGFiP calls, requests, tries counted. */
async function traces(familleId: string) {
  const demandes = await t.database.db.selectFrom('demandes').select('id').where('famille_id', '=', familleId).execute();
  const essais = (await t.harness.journal.query({ action: ACTION_ESSAI }, { limit: 500 })).entries.filter((e) => e.target?.id === familleId);
  return { appels: t.sandbox.admin.calls().length, demandes: demandes.length, essais: essais.length };
}

function assertRedemande(res: { statusCode: number; body: string }, typed: string, message: string, confirmation: string) {
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /<title>Erreur : /);
  const page = text(res.body);
  assert.ok(page.includes(message), 'the message says what to do');
  // At the field: its error, its box, the box described by the error; the field itself empty.
  assert.match(res.body, /<input id="numero-1" name="numero-1"[^>]*aria-describedby="numero-1-aide numero-1-erreur"[^>]*aria-invalid="true"/);
  assert.doesNotMatch(res.body, /id="numero-1"[^>]*value="[^"]/, 'the field comes back empty');
  assert.match(res.body, /<input id="confirme-1" name="confirme-1" type="checkbox" value="oui" aria-describedby="numero-1-erreur confirme-1-aide"\/>/);
  assert.ok(page.includes(confirmation));
  assert.match(res.body, /href="#numero-1"/, 'the error summary links to the field');
  for (const part of [typed, typed.slice(0, 10), typed.slice(3)]) assert.equal(res.body.includes(part), false, 'the number typed is never shown back');
}

async function familleEnLigne(email: string, parent: { prenoms: string; nom: string; naissance: string }) {
  return t.signedInFamily(
    {
      parents: [{ nomNaissance: parent.nom, prenoms: parent.prenoms, dateNaissance: parent.naissance }],
      enfants: [{ prenoms: 'Hugo', nom: parent.nom, dateNaissance: '2015-04-02' }],
      courriel: email,
    },
    email,
  );
}

async function accordEnLigne(jar: Jar) {
  const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  assert.equal(accord.statusCode, 303, text(accord.body).slice(0, 500));
}

test('portal: a key that does not check is asked again with « Je confirme ce numéro », at no cost; ticked, the number is sent and counts', async () => {
  const { jar, familleId } = await familleEnLigne('jean.dubignot@exemple.fr', DUBIGNOT);
  await accordEnLigne(jar);
  const avant = await traces(familleId);
  for (const typed of [typo(SPI_SANDBOX.primoDeclarant), DUBIGNOT.spi]) {
    const res = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': typed });
    assertRedemande(res, typed, CLE_FAMILLE.message, 'Je confirme ce numéro');
  }
  assert.deepEqual(await traces(familleId), avant, 'no DGFiP call, no request, no try counted');
  // The box without the number typed again: the number is asked for, nothing sent.
  const vide = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'confirme-1': 'oui' });
  assert.equal(vide.statusCode, 400);
  assert.deepEqual(await traces(familleId), avant);

  // Typed again with the box: sent as it is; the DGFiP knows this number.
  const envoi = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': DUBIGNOT.spi, 'confirme-1': 'oui' });
  assert.equal(envoi.statusCode, 303, text(envoi.body).slice(0, 800));
  const demandeId = String(envoi.headers.location).split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.attendre(demandeId, 20_000)).statut, 'calculee');
  const apres = await traces(familleId);
  assert.equal(apres.demandes, avant.demandes + 1);
  assert.equal(apres.essais, avant.essais + 1, 'a confirmed number counts as a try');
  assert.ok(apres.appels > avant.appels, 'the DGFiP was called');
});

test('portal, typing the number again after a failure: the same question before the request is relaunched', async () => {
  const spi = SPI_SANDBOX.rfrZero;
  const { jar, familleId } = await familleEnLigne('lea.roux@exemple.fr', { prenoms: 'Léa', nom: 'Roux', naissance: '2003-05-19' });
  await accordEnLigne(jar);
  t.sandbox.admin.addFault({ kind: 'malformedJson', spi, times: 1 });
  const envoi = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': spi });
  assert.equal(envoi.statusCode, 303);
  const url = String(envoi.headers.location);
  const demandeId = url.split('/').at(-1) as string;
  assert.ok(['a_ressaisir', 'echouee'].includes((await t.harness.demandes.attendre(demandeId, 20_000)).statut));
  const avant = await traces(familleId);
  const res = await t.post(jar, url, `${url}/ressaisie`, { 'numero-1': typo(spi) });
  assertRedemande(res, typo(spi), CLE_FAMILLE.message, 'Je confirme ce numéro');
  assert.deepEqual(await traces(familleId), avant, 'nothing relaunched, no DGFiP call, no try');
  const relance = await t.post(jar, url, `${url}/ressaisie`, { 'numero-1': spi });
  assert.equal(relance.statusCode, 303);
  assert.equal((await t.harness.demandes.attendre(demandeId, 20_000)).statut, 'calculee');
});

test('counter: « La clé du numéro ne correspond pas », then « Numéro vérifié sur le document » sends it; the agent’s tries are not counted for a typo', async () => {
  const jar = await t.signInAgent('guichet');
  const creee = await t.post(jar, '/agents/guichet/familles/nouvelle', '/agents/guichet/familles', {
    'parent1-prenoms': DUBOIS.prenoms,
    'parent1-nomNaissance': DUBOIS.nom,
    'parent1-dateNaissance': fr(DUBOIS.naissance),
    'enfant1-prenoms': 'Hugo',
    'enfant1-nom': DUBOIS.nom,
    'enfant1-dateNaissance': '02/04/2015',
    'enfant1-residence': 'exclusive',
    resident: 'oui',
  });
  assert.equal(creee.statusCode, 303, text(creee.body).slice(0, 800));
  const familleId = String(creee.headers.location).split('/').at(-1) as string;
  const etape1 = `/agents/guichet/familles/${familleId}/demande`;
  const accord = await t.post(jar, etape1, etape1, { 'mode-1': 'formulaire_signe', 'date-1': fr(parisDate(Date.now())), 'piece-1': 'Formulaire 7' });
  assert.equal(accord.statusCode, 303, text(accord.body).slice(0, 800));
  const avant = await traces(familleId);
  const res = await t.post(jar, `${etape1}/numero`, `${etape1}/numero`, { 'numero-1': DUBOIS.spi });
  assertRedemande(res, DUBOIS.spi, CLE_AGENT.message, 'Numéro vérifié sur le document');
  assert.deepEqual(await traces(familleId), avant, 'no DGFiP call, no request, no try counted');
  // The consent entered is still there: the same step, the number typed again with the box.
  const envoi = await t.post(jar, `${etape1}/numero`, `${etape1}/numero`, { 'numero-1': DUBOIS.spi, 'confirme-1': 'oui' });
  assert.equal(envoi.statusCode, 303, text(envoi.body).slice(0, 800));
  assert.match(String(envoi.headers.location), /^\/agents\/guichet\/demandes\/[0-9a-f-]{36}$/);
  const demandeId = String(envoi.headers.location).split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.attendre(demandeId, 20_000)).statut, 'calculee');
  const apres = await traces(familleId);
  assert.equal(apres.demandes, avant.demandes + 1);
  assert.equal(apres.essais, avant.essais + 1);
});

test('counter, typing the number again after a failure: asked again, nothing relaunched until it is right or confirmed', async () => {
  const jar = await t.signInAgent('guichet');
  const spi = SPI_SANDBOX.primoDeclarant;
  const creee = await t.post(jar, '/agents/guichet/familles/nouvelle', '/agents/guichet/familles', {
    'parent1-prenoms': 'Hugo',
    'parent1-nomNaissance': 'Girard',
    'parent1-dateNaissance': '30/11/2004',
  });
  assert.equal(creee.statusCode, 303, text(creee.body).slice(0, 800));
  const familleId = String(creee.headers.location).split('/').at(-1) as string;
  const etape1 = `/agents/guichet/familles/${familleId}/demande`;
  assert.equal((await t.post(jar, etape1, etape1, { 'mode-1': 'courriel', 'date-1': fr(parisDate(Date.now())), 'piece-1': 'Courriel' })).statusCode, 303);
  t.sandbox.admin.addFault({ kind: 'malformedJson', spi, times: 1 });
  const envoi = await t.post(jar, `${etape1}/numero`, `${etape1}/numero`, { 'numero-1': spi });
  assert.equal(envoi.statusCode, 303);
  const url = String(envoi.headers.location);
  assert.ok(['a_ressaisir', 'echouee'].includes((await t.harness.demandes.attendre(url.split('/').at(-1) as string, 20_000)).statut));
  const avant = await traces(familleId);
  const res = await t.post(jar, url, `${url}/ressaisie`, { 'numero-1': typo(spi) });
  assertRedemande(res, typo(spi), CLE_AGENT.message, 'Numéro vérifié sur le document');
  assert.deepEqual(await traces(familleId), avant);
  assert.equal((await t.post(jar, url, `${url}/ressaisie`, { 'numero-1': spi })).statusCode, 303);
});
