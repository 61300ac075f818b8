import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { BERTIN_ROUSSEL, HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';
import { COFFRE_ETAT_CIVIL } from '../renouvellement/renouvellement-repo.ts';

/**
 * The counter records the standing consent for renewal from a signed form (never an e-mail), with
 * the same piece; the family's page says whether one is in force, without any name read on an avis.
 */
let t: BackOfficeTestApp;
let jar: Jar;
before(async () => {
  t = await createBackOfficeTestApp({ habilitation: HABILITATION_ETAT_CIVIL.sfip });
  jar = await t.signInAgent('guichet');
});
after(() => t.close());

const fr = (iso: string) => iso.split('-').reverse().join('/');

test('a signed form with the standing consent: recorded by the agent with its piece, journaled, shown on the family’s page', async () => {
  const { id: familleId } = await t.harness.familles.creer(BERTIN_ROUSSEL, { type: 'agent', id: t.agents.guichet.id });
  const etape1 = `/agents/guichet/familles/${familleId}/demande`;
  const page = await t.get(jar, etape1);
  const box = /<input id="renouvellement-1"[^>]*>/.exec(page.body)?.[0];
  assert.ok(box, 'offered');
  assert.doesNotMatch(box, /checked/, 'never pre-ticked');
  assert.match(page.body, /Le formulaire signé comprend aussi l’accord de renouvellement chaque année/);
  assert.match(page.body, /au plus 3 ans/);

  // By e-mail: refused on the field, in French.
  const courriel = await t.post(jar, etape1, etape1, {
    avis: 'commun-1',
    'mode-1': 'courriel',
    'date-1': fr(parisDate(Date.now())),
    'piece-1': 'Courriel du jour',
    'renouvellement-1': 'oui',
  });
  assert.equal(courriel.statusCode, 400);
  assert.match(courriel.body, /L’accord de renouvellement de Paul Bertin ne peut pas être donné par courriel : il faut le formulaire signé/);

  const accord = await t.post(jar, etape1, etape1, {
    avis: 'commun-1',
    'mode-1': 'formulaire_signe',
    'date-1': fr(parisDate(Date.now())),
    'piece-1': 'Formulaire n° 2026-77',
    'renouvellement-1': 'oui',
  });
  assert.equal(accord.statusCode, 303, accord.body.slice(0, 2000));
  // Back to step 1 to check: the box stays ticked as entered.
  assert.match((await t.get(jar, etape1)).body, /<input id="renouvellement-1"[^>]*checked/);
  const envoi = await t.post(jar, `${etape1}/numero`, `${etape1}/numero`, { 'numero-1': SPI_SANDBOX.coupleMarie.declarant1 });
  assert.equal(envoi.statusCode, 303);
  const demandeId = String(envoi.headers.location).split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.attendre(demandeId, 30_000)).statut, 'calculee');

  const [row, ...autres] = await t.database.db.selectFrom('consentements_renouvellement').selectAll().where('famille_id', '=', familleId).execute();
  assert.equal(autres.length, 0);
  assert.equal(row?.mode, 'formulaire_signe');
  assert.equal(row?.piece, 'Formulaire n° 2026-77');
  assert.equal(row?.donne_par_type, 'agent');
  assert.equal(row?.donne_par_id, t.agents.guichet.id);
  assert.ok(row?.etat_civil_le);
  assert.ok(
    (await t.database.db.selectFrom('coffre_records').select('record_id').where('kind', '=', COFFRE_ETAT_CIVIL).execute()).some((r) => r.record_id === row.id),
  );
  const [entree] = (await t.harness.journal.query({ action: 'consentement_renouvellement.recueilli', target: { type: 'famille', id: familleId } })).entries;
  assert.equal(entree?.actor.type, 'agent');
  assert.equal(entree?.actor.id, t.agents.guichet.id);
  assert.equal(entree?.details.mode, 'formulaire_signe');

  const fiche = await t.get(jar, `/agents/guichet/familles/${familleId}`);
  assert.match(fiche.body, /Renouvellement chaque année/);
  assert.match(
    fiche.body,
    /Paul Bertin : en vigueur, donné le [^;]*Formulaire n° 2026-77[^;]*jusqu’au [^;]* au plus ; état civil gardé pour la demande annuelle/,
  );
  // The état civil kept is the avis's spelling: the counter never shows it.
  assert.doesNotMatch(fiche.body, /PAUL HENRI|BERTIN/);
});
