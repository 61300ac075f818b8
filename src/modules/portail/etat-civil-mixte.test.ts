/**
 * One request, two declarants asked two ways (unmarried parents, one avis each), end to end
 * against the sandbox: parent 1 with FranceConnect and parent 2 by état civil; parent 1 by numéro
 * fiscal and parent 2 by état civil. Both by SFiP and by R2P then Impôt particulier. The page
 * « Je n'ai pas mon numéro fiscal » offers each declarant its own way.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';
import { createPortailTestApp, type PortailTestApp } from './test-support.ts';

const apps: Partial<Record<'sfip' | 'r2p', PortailTestApp>> = {};
before(async () => {
  apps.sfip = await createPortailTestApp({ habilitation: HABILITATION_ETAT_CIVIL.sfip });
  apps.r2p = await createPortailTestApp({ habilitation: HABILITATION_ETAT_CIVIL.r2p });
});
after(async () => {
  await apps.sfip?.close();
  await apps.r2p?.close();
});

// The sandbox's Julie Garnier and Thomas Moreau, both born in Lille (59350), each with an avis.
let n = 0;
function famille() {
  n += 1;
  const courriel = `garnier.moreau.mixte${n}@exemple.fr`;
  return {
    courriel,
    famille: {
      parents: [
        { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
        { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
      ],
      enfants: [{ prenoms: 'Lina', nom: 'Moreau', dateNaissance: '2019-04-02' }],
      courriel,
    },
  };
}
const MOREAU_ETAT_CIVIL = {
  'voie-2': 'etat_civil',
  'ec-2-nom': 'Moreau',
  'ec-2-prenoms': 'Thomas',
  'ec-2-naissance': '05/01/1991',
  'ec-2-ne': 'france',
  'ec-2-code-commune': '59350',
  'accord-etat-civil': 'oui',
  action: 'envoyer',
};

async function resultat(t: PortailTestApp, familleId: string) {
  const demandes = await t.database.db.selectFrom('demandes').select(['id', 'statut']).where('famille_id', '=', familleId).execute();
  assert.equal(demandes.length, 1, 'one request');
  const id = (demandes[0] as { id: string }).id;
  const foyers = await t.database.db
    .selectFrom('demande_foyers')
    .select(['parent_rang', 'voie', 'etat', 'source'])
    .where('demande_id', '=', id)
    .orderBy('parent_rang')
    .execute();
  return {
    statut: (demandes[0] as { statut: string }).statut,
    foyers: foyers.map((f) => [f.parent_rang, f.voie, f.etat]),
    sources: foyers.map((f) => f.source),
  };
}

for (const voie of ['sfip', 'r2p'] as const) {
  test(`${voie}: parent 1 with FranceConnect, parent 2 by état civil, in one request: both avis, the QF`, async () => {
    const t = apps[voie] as PortailTestApp;
    const { courriel, famille: f } = famille();
    const { jar, familleId } = await t.signedInFamily(f, courriel);
    await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' });
    const page = await t.get(jar, '/mon-quotient/etat-civil');
    // Each declarant its own way on the page « Je n'ai pas mon numéro fiscal ».
    for (const rang of [1, 2]) {
      for (const option of ['etat_civil', 'numero', 'franceconnect']) assert.match(page.body, new RegExp(`id="voie-${rang}-${option}"`));
      assert.match(page.body, new RegExp(`id="voie-${rang}-etat_civil"[^>]*checked`), 'the état civil by default here');
    }
    const { retour } = await t.viaFranceConnect(
      jar,
      '/mon-quotient/etat-civil',
      '/mon-quotient/etat-civil',
      { 'voie-1': 'franceconnect', ...MOREAU_ETAT_CIVIL },
      SPI_SANDBOX.parentsNonMaries.parentAvecEnfant,
    );
    assert.equal(retour.statusCode, 303, retour.body.slice(0, 600));
    const r = await resultat(t, familleId);
    assert.equal(r.statut, 'calculee');
    assert.deepEqual(r.foyers, [
      [1, 'franceconnect', 'recu'],
      [2, 'etat_civil', 'recu'],
    ]);
    const resultatPage = await t.get(jar, String(retour.headers.location));
    assert.match(resultatPage.body, /Quotient familial/);
  });

  test(`${voie}: parent 1 by numéro fiscal, parent 2 by état civil, in one request: both avis, the QF`, async () => {
    const t = apps[voie] as PortailTestApp;
    const { courriel, famille: f } = famille();
    const { jar, familleId } = await t.signedInFamily(f, courriel);
    await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'separee', 'accord-1': 'oui', 'accord-2': 'oui' });
    // A number mistyped: the page says so, the état civil typed is kept, the number is not sent back.
    const erreur = await t.post(jar, '/mon-quotient/etat-civil', '/mon-quotient/etat-civil', {
      'voie-1': 'numero',
      'numero-1': '123',
      ...MOREAU_ETAT_CIVIL,
    });
    assert.equal(erreur.statusCode, 400);
    assert.match(erreur.body, /13 chiffres/);
    assert.match(erreur.body, /value="Moreau"/);
    assert.match(erreur.body, /id="voie-1-numero"[^>]*checked/);
    const envoi = await t.post(jar, '/mon-quotient/etat-civil', '/mon-quotient/etat-civil', {
      'voie-1': 'numero',
      'numero-1': SPI_SANDBOX.parentsNonMaries.parentAvecEnfant,
      ...MOREAU_ETAT_CIVIL,
    });
    assert.equal(envoi.statusCode, 303, envoi.body.slice(0, 600));
    const r = await resultat(t, familleId);
    assert.equal(r.statut, 'calculee');
    assert.deepEqual(r.foyers, [
      [1, 'numero_fiscal', 'recu'],
      [2, 'etat_civil', 'recu'],
    ]);
    assert.equal(r.sources[1], voie === 'sfip' ? 'sfip' : 'impot-particulier');
    const calls = t.sandbox.admin.calls();
    assert.ok(
      calls.some((c) => c.api === (voie === 'sfip' ? 'sfip' : 'r2p')),
      `${voie} was called`,
    );
  });
}
