/**
 * The counter's état civil form sent twice — the agent double-clicks, or reloads the POST, or comes
 * back to it — makes one request and one DGFiP call, and every submit lands on the page of the
 * request created (POST → 303 → the request), as the numéro fiscal's form does. A commune search
 * (the same form posted back) sends nothing.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Jar } from '../../http/test-cookies.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';

let t: BackOfficeTestApp;
let jar: Jar;
before(async () => {
  t = await createBackOfficeTestApp({ habilitation: HABILITATION_ETAT_CIVIL.sfip });
  jar = await t.signInAgent('guichet');
});
after(() => t.close());

const fr = (iso: string) => iso.split('-').reverse().join('/');
// The sandbox's Julie Garnier and Thomas Moreau, born in Lille, each with an avis SFiP finds from the état civil.
const PERSONNES = {
  garnier: { prenoms: 'Julie', nom: 'Garnier', naissance: '17/09/1992' },
  moreau: { prenoms: 'Thomas', nom: 'Moreau', naissance: '05/01/1991' },
};
type Personne = (typeof PERSONNES)[keyof typeof PERSONNES];
const etatCivil = (p: Personne) => ({
  'ec-1-nom': p.nom,
  'ec-1-prenoms': p.prenoms,
  'ec-1-naissance': p.naissance,
  'ec-1-ne': 'france',
  'ec-1-code-commune': '59350',
});

async function etape2(p: Personne): Promise<{ familleId: string; url: string; token: string }> {
  const creee = await t.post(jar, '/agents/guichet/familles/nouvelle', '/agents/guichet/familles', {
    'parent1-prenoms': p.prenoms,
    'parent1-nomNaissance': p.nom,
    'parent1-dateNaissance': p.naissance,
  });
  assert.equal(creee.statusCode, 303, creee.body.slice(0, 2000));
  const familleId = String(creee.headers.location).split('/').at(-1) as string;
  const etape1 = `/agents/guichet/familles/${familleId}/demande`;
  const accord = await t.post(jar, etape1, etape1, { 'mode-1': 'formulaire_signe', 'date-1': fr(parisDate(Date.now())), 'piece-1': 'Formulaire papier' });
  assert.equal(accord.statusCode, 303);
  const url = `${etape1}/etat-civil`;
  const formulaire = await t.get(jar, url);
  assert.equal(formulaire.statusCode, 200);
  const token = /name="_csrf" value="([^"]+)"/.exec(formulaire.body)?.[1];
  assert.ok(token, 'the form carries its CSRF token');
  return { familleId, url, token };
}

const demandesDe = (familleId: string) => t.database.db.selectFrom('demandes').select('id').where('famille_id', '=', familleId).execute();
const appelsSfip = () => t.sandbox.admin.calls().filter((c) => c.api === 'sfip').length;

test('the état civil sent twice at once (double click): one request, one SFiP call; both answers go to the request', async () => {
  const { familleId, url, token } = await etape2(PERSONNES.garnier);
  const avant = appelsSfip();
  // The same form, same token and cookie, sent twice at once (as a browser does on a double click).
  const envoyer = () =>
    t.app.inject({
      method: 'POST',
      url,
      payload: new URLSearchParams({ _csrf: token, ...etatCivil(PERSONNES.garnier), action: 'envoyer' }).toString(),
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    });
  const reponses = await Promise.all([envoyer(), envoyer()]);
  for (const r of reponses) jar.take(r.headers);
  assert.deepEqual(
    reponses.map((r) => r.statusCode),
    [303, 303],
  );
  const demandes = await demandesDe(familleId);
  assert.equal(demandes.length, 1, 'one request for the family');
  const page = `/agents/guichet/demandes/${demandes[0]?.id}`;
  assert.ok(reponses.some((r) => r.headers.location === page));
  for (const r of reponses) assert.ok([page, `/agents/guichet/familles/${familleId}`].includes(String(r.headers.location)), String(r.headers.location));
  assert.equal(appelsSfip() - avant, 1, 'one call to the DGFiP');
  assert.match((await t.get(jar, page)).body, /quotient calculé/i);

  // Sent again later (the browser reloads the POST, or the back button): to the request created, still one.
  const encore = await envoyer();
  assert.equal(encore.statusCode, 303);
  assert.equal(encore.headers.location, page);
  assert.equal((await demandesDe(familleId)).length, 1);
  assert.equal(appelsSfip() - avant, 1);
});

test('a commune search posts the form back and sends nothing; the submit then redirects (303) to the request page', async () => {
  const { familleId, url } = await etape2(PERSONNES.moreau);
  const recherche = await t.post(jar, url, url, { ...etatCivil(PERSONNES.moreau), 'ec-1-code-commune': '', 'ec-1-commune': 'Lille', action: 'rechercher-1' });
  assert.equal(recherche.statusCode, 200);
  assert.match(recherche.body, /Choisissez la commune de naissance/);
  assert.equal((await demandesDe(familleId)).length, 0, 'a search sends nothing');
  const envoi = await t.post(jar, url, url, { ...etatCivil(PERSONNES.moreau), action: 'envoyer' });
  assert.equal(envoi.statusCode, 303);
  const demandes = await demandesDe(familleId);
  assert.equal(demandes.length, 1);
  assert.equal(envoi.headers.location, `/agents/guichet/demandes/${demandes[0]?.id}`);
});
