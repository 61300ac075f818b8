import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { BERTIN_ROUSSEL, HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';
import { COFFRE_ETAT_CIVIL } from '../renouvellement/renouvellement-repo.ts';
import { createPortailTestApp, type PortailTestApp } from './test-support.ts';

/**
 * The standing consent for renewal on the family portal: offered on the consent step, unticked,
 * recorded only when ticked, shown in « Mes données », withdrawn there in one click (the état civil
 * kept for it deleted), journaled, and in the family's export.
 */
let t: PortailTestApp;
before(async () => {
  t = await createPortailTestApp({ habilitation: HABILITATION_ETAT_CIVIL.sfip });
});
after(() => t.close());

const SPI = SPI_SANDBOX.coupleMarie.declarant1;
let n = 0;
async function famille(): Promise<{ jar: Jar; familleId: string; compteId: string }> {
  n++;
  return t.signedInFamily({ ...BERTIN_ROUSSEL, courriel: `bertin.${n}@exemple.fr` }, `bertin.${n}@exemple.fr`);
}

/** Steps 2 and 3 with Paul's number; `champs` are what step 2 posts besides the joint avis and Paul's consent. */
async function demander(jar: Jar, champs: Record<string, string>): Promise<string> {
  const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'commune', 'accord-1': 'oui', ...champs });
  assert.equal(accord.statusCode, 303, accord.body.slice(0, 300));
  const sent = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPI });
  assert.equal(sent.statusCode, 303);
  const id = String(sent.headers.location).split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.attendre(id, 30_000)).statut, 'calculee');
  return id;
}

const kept = () => t.database.db.selectFrom('coffre_records').select('record_id').where('kind', '=', COFFRE_ETAT_CIVIL).execute();
const standing = (familleId: string) => t.database.db.selectFrom('consentements_renouvellement').selectAll().where('famille_id', '=', familleId).execute();

test('the consent step offers the standing consent apart, unticked, in plain words, with what is kept and how to withdraw', async () => {
  const { jar } = await famille();
  const page = await t.get(jar, '/mon-quotient/accord');
  assert.equal(page.statusCode, 200);
  for (const rang of [1, 2]) {
    const box = new RegExp(`<input id="renouvellement-${rang}" name="renouvellement-${rang}" type="checkbox" value="oui"[^>]*>`).exec(page.body)?.[0];
    assert.ok(box, `a box for declarant ${rang}`);
    assert.doesNotMatch(box, /checked/, 'never pre-ticked');
  }
  assert.ok(
    page.body.includes(
      'Paul Bertin : J’accepte aussi que la commune redemande chaque année mon avis d’imposition à la DGFiP, pour le même usage, jusqu’à ce que je retire cet accord (au plus 3 ans)',
    ),
  );
  assert.match(page.body, /garde, chiffrés, les nom de naissance, prénoms, date et lieu de naissance et sexe de la personne/);
  assert.match(page.body, /jamais le numéro fiscal/);
  assert.match(page.body, /retirer cet accord à tout moment dans « Mes données »/);
  // With a joint avis, the renewal goes with the first declarant's consent: ticking Claire's alone is said, not dropped.
  const mal = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'commune', 'accord-1': 'oui', 'renouvellement-2': 'oui' });
  assert.equal(mal.statusCode, 400);
  assert.match(mal.body, /Avec un seul avis commun, l’avis est redemandé avec l’accord de Paul Bertin/);
  assert.match(mal.body, /<input id="renouvellement-2"[^>]*checked/, 'what was ticked is shown again');
});

test('not ticked: the request goes as today, nothing more is kept, « Mes données » says there is no standing consent', async () => {
  const { jar, familleId } = await famille();
  const avant = (await kept()).length;
  await demander(jar, {});
  assert.deepEqual(await standing(familleId), []);
  assert.equal((await kept()).length, avant);
  const donnees = await t.get(jar, '/mes-donnees');
  assert.match(donnees.body, /Aucun accord de renouvellement en cours/);
});

test('ticked: recorded with the request, shown in « Mes données » and the export, withdrawn in one click with its état civil, journaled', async () => {
  const { jar, familleId, compteId } = await famille();
  const demandeId = await demander(jar, { 'renouvellement-1': 'oui' });
  const [row] = await standing(familleId);
  assert.ok(row);
  assert.equal(row.parent_rang, 1);
  assert.equal(row.demande_id, demandeId);
  assert.equal(row.mode, 'en_ligne');
  assert.equal(row.voie, 'etat_civil');
  assert.equal(row.duree_ans, 3);
  assert.ok(row.etat_civil_le, 'the état civil of the matched avis is kept');
  assert.ok((await kept()).some((r) => r.record_id === row.id));

  const page = await t.get(jar, '/mes-donnees');
  const fin = new Date(row.expire_le);
  const finEnMots = `${fin.getUTCDate() === 1 ? '1er' : fin.getUTCDate()} `;
  assert.match(page.body, /Renouvellement chaque année/);
  assert.match(
    page.body,
    /<strong>Paul Bertin<\/strong> accepte que la commune redemande chaque année son avis d’imposition à la DGFiP, par son état civil, depuis le/,
  );
  assert.ok(page.body.includes(`au plus tard jusqu’au ${finEnMots}`), 'until when');
  assert.match(page.body, /Son état civil est gardé, chiffré/);
  assert.match(page.body, /le revenu fiscal de référence/, 'what it covers');

  const exporte = JSON.parse((await t.get(jar, '/mes-donnees/export.json')).body) as { consentementsRenouvellement: Array<Record<string, unknown>> };
  assert.deepEqual(exporte.consentementsRenouvellement[0]?.etatCivilConserve, { nom: 'BERTIN', prenoms: 'PAUL HENRI', dateNaissance: '1981-04-09' });
  assert.match((await t.get(jar, '/mes-donnees/export')).body, /Accords de renouvellement/);

  // Without the form's token: refused, nothing changes.
  const url = `/mes-donnees/renouvellement/${row.id}/retrait`;
  assert.equal((await t.post(jar, null, url, {})).statusCode, 403);
  assert.equal((await standing(familleId))[0]?.retire_le, null);
  // Another family cannot withdraw it: the same answer as for none.
  const autre = await famille();
  const refus = await t.post(autre.jar, '/mon-foyer', url, {});
  assert.equal(refus.statusCode, 404);
  assert.equal((await standing(familleId))[0]?.retire_le, null);
  assert.equal((await t.post(jar, '/mon-foyer', '/mes-donnees/renouvellement/pas-un-identifiant/retrait', {})).statusCode, 404);

  // « Mes données » links to a page that asks to confirm; its button posts, then the browser is sent back (POST, redirect, GET).
  const confirmation = await t.get(jar, url);
  assert.equal(confirmation.statusCode, 200);
  assert.match(confirmation.body, /Retirer l’accord de renouvellement de Paul Bertin \?/);
  assert.equal((await standing(familleId))[0]?.retire_le, null, 'the confirmation page changes nothing');
  const poste = await t.post(jar, url, url, {});
  assert.equal(poste.statusCode, 303);
  assert.equal(poste.headers.location, '/mes-donnees');
  const retrait = await t.get(jar, '/mes-donnees');
  assert.match(
    retrait.body,
    /L’accord de renouvellement de Paul Bertin est retiré : la commune ne redemandera plus son avis chaque année, et son état civil gardé pour cela est effacé/,
  );
  assert.match(retrait.body, /Aucun accord de renouvellement en cours/);
  assert.match(retrait.body, /Accords de renouvellement terminés/);
  assert.ok(!(await kept()).some((r) => r.record_id === row.id), 'the état civil left the silo');
  assert.ok((await standing(familleId))[0]?.retire_le);
  const journal = await t.harness.journal.query({ target: { type: 'famille', id: familleId } });
  const entree = journal.entries.find((e) => e.action === 'consentement_renouvellement.retire');
  assert.equal(entree?.actor.type, 'famille');
  assert.equal(entree?.actor.id, compteId);
  assert.ok(journal.entries.some((e) => e.action === 'consentement_renouvellement.recueilli'));
  // Refreshed, the page says nothing again; a second post (back button): said, harmless.
  assert.doesNotMatch((await t.get(jar, '/mes-donnees')).body, /est retiré/);
  assert.equal((await t.post(jar, '/mon-foyer', url, {})).statusCode, 303);
  assert.match((await t.get(jar, '/mes-donnees')).body, /était déjà terminé : rien à retirer/);
  assert.equal((await t.harness.journal.verify()).intact, true);
});

test('« Retirer mon accord » withdraws the standing consent too, and its état civil', async () => {
  const { jar, familleId } = await famille();
  await demander(jar, { 'renouvellement-1': 'oui' });
  const [row] = await standing(familleId);
  assert.ok(row?.etat_civil_le);
  assert.equal((await t.post(jar, '/mes-donnees/retrait', '/mes-donnees/retrait', {})).statusCode, 303);
  const res = await t.get(jar, '/mes-donnees');
  assert.match(res.body, /Votre accord est retiré/);
  assert.match(res.body, /les accords de renouvellement sont retirés aussi/);
  assert.match(res.body, /Aucun accord de renouvellement en cours/);
  assert.equal((await standing(familleId))[0]?.fin_motif, 'retrait');
  assert.ok(!(await kept()).some((r) => r.record_id === row.id));
});

test('by état civil: the sex and place of birth typed for the call are kept with the names of the avis, for next year’s call', async () => {
  const { jar, familleId } = await famille();
  const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { situation: 'commune', 'accord-1': 'oui', 'renouvellement-1': 'oui' });
  assert.equal(accord.statusCode, 303);
  const sent = await t.post(jar, '/mon-quotient/etat-civil', '/mon-quotient/etat-civil', {
    'ec-1-nom': 'Bertin',
    'ec-1-prenoms': 'Paul Henri',
    'ec-1-sexe': 'M',
    'ec-1-naissance': '09/04/1981',
    'ec-1-ne': 'france',
    'ec-1-code-commune': '44109',
    'accord-etat-civil': 'oui',
    action: 'envoyer',
  });
  assert.equal(sent.statusCode, 303, sent.body.slice(0, 500));
  const id = String(sent.headers.location).split('/').at(-1) as string;
  assert.equal((await t.harness.demandes.attendre(id, 30_000)).statut, 'calculee');
  const [du] = (await t.harness.services.renouvellement.renouvellementsDus({ quotientAvant: '2999-01-01' }, { type: 'systeme', id: 'test' })).filter(
    (d) => d.familleId === familleId,
  );
  assert.deepEqual(du?.declarants[0]?.etatCivil, {
    nom: 'BERTIN',
    prenoms: 'PAUL HENRI',
    dateNaissance: '1981-04-09',
    sexe: 'M',
    naisCodePays: '99100',
    naisCodeDept: '44',
    naisCodeCommune: '109',
  });
  // Nor the état civil typed in any log line: it is kept in the silo only.
  assert.ok(![...t.logLines, ...t.harness.logLines].some((l) => /BERTIN|Bertin/.test(l) && /1981|44109/.test(l)));
});
