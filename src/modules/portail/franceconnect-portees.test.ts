/**
 * The FranceConnect sign-in made for an avis asks FranceConnect for the DGFiP data scopes of the
 * habilitation's fields (not only the identity); a token without them is refused — by Quotient at
 * the return when FranceConnect says it did not grant them, by the DGFiP in the queue otherwise —
 * and the family reads why in French and chooses how to go on: FranceConnect again, the numéro
 * fiscal, or « Je n'ai pas mon numéro fiscal » (the état civil). Never a silent switch.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { porteesFranceConnect } from '../../domain/habilitation.ts';
import { Jar } from '../../http/test-cookies.ts';
import { FC_SCOPE } from '../comptes/franceconnect-client.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';
import { createPortailTestApp, type PortailTestApp } from './test-support.ts';

let t: PortailTestApp;
before(async () => {
  // The état civil route open (SFiP): the pages that say FranceConnect failed offer it too.
  t = await createPortailTestApp({ habilitation: HABILITATION_ETAT_CIVIL.sfip });
});
after(() => t.close());

// The sandbox's Léa Roux (numéro fiscal rfrZero, born 19/05/2003 in Marseille): her FranceConnect login is her numéro.
let n = 0;
const roux = () => {
  n += 1;
  const courriel = `lea.roux.portees${n}@exemple.fr`;
  return {
    courriel,
    famille: {
      parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }],
      enfants: [{ prenoms: 'Jade', nom: 'Roux', dateNaissance: '2023-01-30' }],
      courriel,
    },
  };
};
const appelsImpotParticulier = () => t.sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length;
const demandesDe = (familleId: string) =>
  t.database.db.selectFrom('demandes').select(['id', 'statut', 'motif_code']).where('famille_id', '=', familleId).execute();

/** The three ways on, as links the family follows (never a switch made for them). */
function voiesProposees(body: string, base: string, etatCivil: string) {
  assert.match(body, /Comment continuer \?/);
  assert.match(body, new RegExp(`href="${base}(\\?voie=franceconnect)?"[^>]*>\\s*Se reconnecter avec FranceConnect`));
  assert.match(body, new RegExp(`href="${base}\\?voie=numero"[^>]*>\\s*Saisir le numéro fiscal`));
  assert.match(body, new RegExp(`href="${etatCivil}"[^>]*>\\s*Je n’ai pas mon numéro fiscal`));
}

test('the authorisation asks FranceConnect for the DGFiP data scopes of the habilitation, and the sign-in of the space for the identity only', async () => {
  const { courriel, famille } = roux();
  const { jar } = await t.signedInFamily(famille, courriel);
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  const { authorize, retour } = await t.viaFranceConnect(
    jar,
    '/mon-quotient/numero',
    '/mon-quotient/numero',
    { 'voie-1': 'franceconnect' },
    SPI_SANDBOX.rfrZero,
  );
  const demandees = String(authorize.searchParams.get('scope')).split(' ');
  const dgfip = porteesFranceConnect(HABILITATION_ETAT_CIVIL.sfip);
  assert.ok(dgfip.includes('dgfip_rfr') && dgfip.includes('dgfip_nbpart') && dgfip.includes('dgfip_aft') && dgfip.includes('dgfip_sitfam'));
  for (const portee of [...FC_SCOPE.split(' '), ...dgfip]) assert.ok(demandees.includes(portee), `scope ${portee} asked`);
  // FranceConnect granted them with the token, and the DGFiP (which checks them) gave the avis.
  assert.deepEqual([...(t.fcTokens.at(-1)?.scopes ?? [])].filter((s) => s.startsWith('dgfip_')).sort(), dgfip);
  assert.equal(retour.statusCode, 303);
  const id = String(retour.headers.location).split('/').at(-1) as string;
  assert.equal(
    (await demandesDe((await t.database.db.selectFrom('demandes').select('famille_id').where('id', '=', id).executeTakeFirstOrThrow()).famille_id))[0]?.statut,
    'calculee',
  );

  // Signing in to the family space asks for the identity and the e-mail address, nothing fiscal.
  const connexion = await t.post(new Jar(), '/connexion', '/connexion/franceconnect', {});
  assert.equal(connexion.statusCode, 303);
  const scopeConnexion = String(new URL(String(connexion.headers.location)).searchParams.get('scope')).split(' ');
  assert.deepEqual(scopeConnexion.sort(), FC_SCOPE.split(' ').sort());
  assert.ok(scopeConnexion.includes('email'), 'the e-mail address is asked: the family is written to');
  assert.ok(!scopeConnexion.some((s) => s.startsWith('dgfip_')));
});

test('a token FranceConnect gave without the DGFiP scopes: refused at the return in French, nothing asked of the DGFiP, the three ways on offered', async () => {
  const { courriel, famille } = roux();
  const { jar, familleId } = await t.signedInFamily(famille, courriel);
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  const avant = appelsImpotParticulier();
  t.setFranceConnectRefusedScopes(['dgfip_rfr', 'dgfip_nbpart']);
  try {
    const { retour } = await t.viaFranceConnect(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'voie-1': 'franceconnect' }, SPI_SANDBOX.rfrZero);
    assert.equal(retour.statusCode, 403);
    assert.match(retour.body, /Données fiscales non transmises par FranceConnect/);
    assert.match(retour.body, /FranceConnect n’a pas transmis votre accord pour toutes les données fiscales/);
    assert.match(retour.body, /aucun avis n’a été demandé/);
    voiesProposees(retour.body, '/mon-quotient/numero', '/mon-quotient/etat-civil');
  } finally {
    t.setFranceConnectRefusedScopes([]);
  }
  assert.equal(appelsImpotParticulier(), avant, 'no call to the DGFiP');
  assert.deepEqual(await demandesDe(familleId), [], 'no request recorded');
  // The way chosen on that page is the one shown: the numéro fiscal, not FranceConnect.
  const numero = await t.get(jar, '/mon-quotient/numero?voie=numero');
  assert.match(numero.body, /id="voie-1-numero"[^>]*checked/);
  // « Je n'ai pas mon numéro fiscal »: the état civil, pre-filled, gets the QF.
  const ec = await t.get(jar, '/mon-quotient/etat-civil');
  assert.equal(ec.statusCode, 200);
  assert.match(ec.body, /value="Roux"/);
  const envoi = await t.post(jar, '/mon-quotient/etat-civil', '/mon-quotient/etat-civil', {
    'voie-1': 'etat_civil',
    'ec-1-nom': 'Roux',
    'ec-1-prenoms': 'Léa',
    'ec-1-naissance': '19/05/2003',
    'ec-1-ne': 'france',
    'ec-1-code-commune': '13055',
    'accord-etat-civil': 'oui',
    action: 'envoyer',
  });
  assert.equal(envoi.statusCode, 303, envoi.body.slice(0, 600));
  assert.deepEqual(
    (await demandesDe(familleId)).map((d) => d.statut),
    ['calculee'],
  );
});

test('the DGFiP refuses the token in the queue (no consent to a scope): « reconnectez-vous », or the numéro fiscal, or the état civil, chosen by the family', async () => {
  const { courriel, famille } = roux();
  const { jar, familleId } = await t.signedInFamily(famille, courriel);
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  // FranceConnect says it granted every scope; the DGFiP does not see the consent to the RFR.
  t.setScopesUnknownToDgfip(['dgfip_rfr']);
  let location: string;
  try {
    const { retour } = await t.viaFranceConnect(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'voie-1': 'franceconnect' }, SPI_SANDBOX.rfrZero);
    assert.equal(retour.statusCode, 303);
    location = String(retour.headers.location);
  } finally {
    t.setScopesUnknownToDgfip([]);
  }
  const id = location.split('/').at(-1) as string;
  assert.deepEqual(
    (await demandesDe(familleId)).map((d) => [d.statut, d.motif_code]),
    [['a_ressaisir', 'franceconnect_refuse']],
  );
  const last = t.sandbox.admin
    .calls()
    .filter((c) => c.api === 'impot-particulier')
    .at(-1);
  assert.equal(last?.status, 403, 'the DGFiP refused the token');
  const page = await t.get(jar, location);
  assert.match(page.body, /La DGFiP a refusé la connexion FranceConnect/);
  assert.match(page.body, /Reconnectez-vous avec FranceConnect/);
  assert.match(page.body, /id="voie-1-franceconnect"[^>]*checked/, 'FranceConnect stays the way shown');
  assert.match(page.body, /id="voie-1-numero"/, 'the numéro fiscal offered');
  assert.match(page.body, new RegExp(`href="/mon-quotient/demandes/${id}/etat-civil"[^>]*>\\s*Je n’ai pas mon numéro fiscal`));
  // Nothing switched by itself: the request still waits for the family's choice.
  assert.equal((await demandesDe(familleId))[0]?.statut, 'a_ressaisir');

  // The family chooses the état civil: the same request, relaunched, gets the QF.
  const ec = await t.get(jar, `/mon-quotient/demandes/${id}/etat-civil`);
  assert.equal(ec.statusCode, 200);
  assert.match(ec.body, /Sans numéro fiscal : votre état civil/);
  assert.match(ec.body, /value="Roux"/);
  assert.match(ec.body, /value="19\/05\/2003"/);
  const envoi = await t.post(jar, `/mon-quotient/demandes/${id}/etat-civil`, `/mon-quotient/demandes/${id}/etat-civil`, {
    'voie-1': 'etat_civil',
    'ec-1-nom': 'Roux',
    'ec-1-prenoms': 'Léa',
    'ec-1-naissance': '19/05/2003',
    'ec-1-ne': 'france',
    'ec-1-code-commune': '13055',
    'accord-etat-civil': 'oui',
    action: 'envoyer',
  });
  assert.equal(envoi.statusCode, 303, envoi.body.slice(0, 600));
  assert.equal(envoi.headers.location, `/mon-quotient/demandes/${id}`);
  assert.deepEqual(
    (await demandesDe(familleId)).map((d) => d.statut),
    ['calculee'],
  );
  const voies = await t.database.db.selectFrom('demande_foyers').select('voie').where('demande_id', '=', id).execute();
  assert.deepEqual(
    voies.map((v) => v.voie),
    ['etat_civil'],
  );
});

test('a token expired in the queue: the request page offers FranceConnect again, the numéro fiscal and « Je n’ai pas mon numéro fiscal »; the numéro chosen relaunches it', async () => {
  const { courriel, famille } = roux();
  const { jar, familleId } = await t.signedInFamily(famille, courriel);
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  // Shorter than the margin the call needs: already too old when the request is made.
  t.setFranceConnectTtl(5);
  let location: string;
  try {
    const { retour } = await t.viaFranceConnect(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'voie-1': 'franceconnect' }, SPI_SANDBOX.rfrZero);
    location = String(retour.headers.location);
  } finally {
    t.setFranceConnectTtl(60);
  }
  const id = location.split('/').at(-1) as string;
  assert.deepEqual(
    (await demandesDe(familleId)).map((d) => [d.statut, d.motif_code]),
    [['a_ressaisir', 'franceconnect_expire']],
  );
  const page = await t.get(jar, location);
  assert.match(page.body, /Reconnectez-vous avec FranceConnect/);
  assert.match(page.body, /saisir le numéro fiscal ou donner l’état civil à la place/);
  assert.match(page.body, /id="voie-1-franceconnect"[^>]*checked/);
  assert.match(page.body, new RegExp(`href="/mon-quotient/demandes/${id}/etat-civil"[^>]*>\\s*Je n’ai pas mon numéro fiscal`));
  // Chosen explicitly: the numéro fiscal.
  const relance = await t.post(jar, location, `${location}/ressaisie`, { 'voie-1': 'numero', 'numero-1': SPI_SANDBOX.rfrZero });
  assert.equal(relance.statusCode, 303);
  assert.equal(relance.headers.location, location);
  assert.deepEqual(
    (await demandesDe(familleId)).map((d) => d.statut),
    ['calculee'],
  );
});
