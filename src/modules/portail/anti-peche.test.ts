import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { ACTION_ESSAI, ACTION_LIMITE } from '../demandes/limites-numero-fiscal.ts';
import { MOTIF_FAMILLE_A_VERIFIER } from '../demandes/motifs.ts';
import { HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';

/**
 * Issue 12, hole 3: a family account that submits numéros fiscaux one after the other (fishing
 * for someone's avis) is stopped at the limit, before any DGFiP call, with a French page that says
 * when to try again; each try and the refusal are journaled.
 */
let t: BackOfficeTestApp;
before(async () => {
  // The limits refuse a try on purpose: the alert that tells someone is the one of this app.
  t = await createBackOfficeTestApp({ numeroFiscal: { parCompte: { heure: 2, jour: 10 } }, alertesAttendues: ['numero_fiscal.limite_atteinte'] });
});
after(() => t.close());

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

test('the third number within the hour from one account is refused with a French page (429) saying when to retry; no DGFiP call is made', async () => {
  const { jar, familleId } = await t.signedInFamily(
    {
      parents: [{ nomNaissance: 'Martin', prenoms: 'Claire', dateNaissance: '1980-06-01' }],
      enfants: [{ prenoms: 'Hugo', nom: 'Martin', dateNaissance: '2015-04-02' }],
      courriel: 'claire@exemple.fr',
    },
    'claire.martin@exemple.fr',
  );
  const soumettre = async (spi: string) => {
    const accord = await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
    assert.equal(accord.statusCode, 303, text(accord.body));
    return t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': spi });
  };
  // An unknown number, then someone else's avis: the family reads the same page, word for word.
  const pages: string[] = [];
  for (const spi of [SPI_SANDBOX.inconnu, SPI_SANDBOX.primoDeclarant]) {
    const sent = await soumettre(spi);
    assert.equal(sent.statusCode, 303);
    const demandeId = String(sent.headers.location).split('/').at(-1) as string;
    assert.equal((await t.harness.demandes.attendre(demandeId, 20_000)).statut, 'a_verifier');
    const page = text((await t.get(jar, String(sent.headers.location))).body);
    pages.push(page.replace(/D-[A-Z0-9]{4}-[A-Z0-9]{4}/g, 'D-…').replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'id'));
  }
  assert.equal(pages[0], pages[1], 'an unknown number and someone else’s avis read the same');
  assert.ok(pages[0]?.includes(MOTIF_FAMILLE_A_VERIFIER));
  assert.doesNotMatch(pages[0] ?? '', /ne trouve pas|aucun des parents|Revenu fiscal|€/);
  const callsBefore = t.sandbox.admin.calls().length;
  const refused = await soumettre(SPI_SANDBOX.rfrZero);
  assert.equal(refused.statusCode, 429);
  const page = text(refused.body);
  assert.match(page, /Trop de numéros fiscaux ont été saisis en peu de temps/);
  assert.match(page, /Vous pourrez réessayer le \d+ \S+ à partir de \d+ h \d\d/);
  assert.ok(!refused.body.includes(SPI_SANDBOX.rfrZero), 'the number is not echoed');
  assert.equal(t.sandbox.admin.calls().length, callsBefore, 'no DGFiP call for the refused try');
  const essais = (await t.harness.journal.query({ action: ACTION_ESSAI }, { limit: 50 })).entries.filter((e) => e.target?.id === familleId);
  const limites = (await t.harness.journal.query({ action: ACTION_LIMITE }, { limit: 50 })).entries.filter((e) => e.target?.id === familleId);
  assert.equal(essais.length, 2);
  assert.equal(limites.length, 1);
  assert.deepEqual([limites[0]?.details.canal, limites[0]?.details.portee, limites[0]?.details.fenetre], ['en_ligne', 'compte', 'heure']);
});

test('état civil tries count against the same limits: the third within the hour is refused on the état civil form itself (429), with no DGFiP call', async () => {
  const ec = await createBackOfficeTestApp({
    habilitation: HABILITATION_ETAT_CIVIL.sfip,
    numeroFiscal: { parCompte: { heure: 2, jour: 10 } },
    alertesAttendues: ['numero_fiscal.limite_atteinte'],
  });
  try {
    const { jar } = await ec.signedInFamily(
      {
        parents: [{ nomNaissance: 'Mercier', prenoms: 'Anne', dateNaissance: '1987-02-03' }],
        enfants: [{ prenoms: 'Jade', nom: 'Mercier', dateNaissance: '2019-01-30' }],
        courriel: 'anne.mercier@exemple.fr',
      },
      'anne.mercier@exemple.fr',
    );
    const essayer = async (prenoms: string) => {
      // Once a QF is in force, a new request first says what changed (harmless before: sent back to step 1).
      assert.equal((await ec.post(jar, '/mon-foyer', '/mon-quotient/pourquoi', { raison: 'autre' })).statusCode, 303);
      assert.equal((await ec.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' })).statusCode, 303);
      return ec.post(jar, '/mon-quotient/etat-civil', '/mon-quotient/etat-civil', {
        'ec-1-nom': 'Mercier',
        'ec-1-prenoms': prenoms,
        'ec-1-sexe': 'F',
        'ec-1-naissance': '03/02/1987',
        'ec-1-ne': 'france',
        'ec-1-code-commune': '31555',
        'accord-etat-civil': 'oui',
        action: 'envoyer',
      });
    };
    for (const prenoms of ['Anne', 'Annie']) assert.equal((await essayer(prenoms)).statusCode, 303);
    const callsBefore = ec.sandbox.admin.calls().length;
    const refused = await essayer('Anna');
    assert.equal(refused.statusCode, 429);
    const page = text(refused.body);
    assert.match(page, /Trop de numéros fiscaux ont été saisis en peu de temps/);
    assert.match(page, /Sans numéro fiscal : votre état civil/, 'the état civil form again, not a bare error page');
    assert.equal(ec.sandbox.admin.calls().length, callsBefore, 'no DGFiP call for the refused try');
  } finally {
    await ec.close();
  }
});
