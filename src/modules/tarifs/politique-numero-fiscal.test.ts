/**
 * A tariff policy's texts go through the one free-text normaliser (issue 12, hole 4): a label,
 * a tranche's name or code, the commune's name, the délibération, a comment, a field's name shaped
 * like a numéro fiscal, in any separator or digit form, is refused with a French message naming the
 * field and its line, never quoting it; numbers stay numbers, web addresses keep their slashes, and
 * every example of examples/ still loads.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { isQuotientError } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { loadCommuneConfig, loadPolitiqueOfCommune } from '../../infra/config/config.ts';
import { loadPolitiqueFile, localiserErreurs, parsePolitiqueYaml } from './politique-loader.ts';

const EXEMPLES = new URL('../../../examples/', import.meta.url);
const BOULOGNE = readFileSync(new URL('boulogne-billancourt.yaml', EXEMPLES), 'utf8');
const STRASBOURG = readFileSync(new URL('strasbourg.yaml', EXEMPLES), 'utf8');

/** The same numéro fiscal as a family might type it: plain, dashed, dotted, spaced and tabbed, slashed, in full-width digits. */
const FORMES = [
  '3141592653423',
  '31-41-592-653-423',
  '31.41.592.653.423',
  '31 41  592\t653 423',
  '31/41/592/653/423',
  '３１４１５９２６５３４２３',
  '３１-４１-５９２-６５３-４２３',
];

function remplacer(texte: string, avant: string, apres: string): string {
  assert.ok(texte.includes(avant), avant);
  return texte.replace(avant, apres);
}

const ligneDe = (texte: string, morceau: string) => texte.split('\n').findIndex((l) => l.includes(morceau)) + 1;

/** The refusal of `texte`, its problems located as the administrator reads them (`chemin (ligne n) : message`). */
function refus(texte: string): { message: string; problemes: string[] } {
  try {
    parsePolitiqueYaml(texte, 'version déposée');
  } catch (error) {
    assert.ok(isQuotientError(error), String(error));
    assert.equal(error.kind, 'invalid');
    assert.equal(error.code, 'politique_numero_fiscal');
    const problemes = localiserErreurs(texte, error.details).map((d) => `${d.path} : ${d.message}`);
    // Whatever it says, it never says the number back.
    assert.equal(ressembleANumeroFiscal([error.message, ...problemes].join('\n')), false, problemes.join('\n'));
    return { message: error.message, problemes };
  }
  assert.fail('the policy was accepted');
}

test('an activity label shaped like a numéro fiscal, in any separator or digit form, is refused naming the field and its line', () => {
  for (const forme of FORMES) {
    const texte = remplacer(BOULOGNE, 'libelle: Restauration scolaire', `libelle: "Cantine ${forme}"`);
    const { message, problemes } = refus(texte);
    assert.match(message, /^La politique tarifaire contient un texte qui ressemble à un numéro fiscal : retirez-le des champs indiqués\.$/);
    assert.deepEqual(
      problemes,
      [
        `activites[0].libelle (ligne ${ligneDe(texte, 'libelle: "Cantine')}) : ce texte ressemble à un numéro fiscal : retirez-le. Les textes de la politique tarifaire sont enregistrés et montrés aux familles ; un numéro fiscal n’y a jamais sa place.`,
      ],
      forme,
    );
  }
});

test('every other text of the policy too: commune, délibération, a tranche’s name or code, a comment, a field’s name', () => {
  const cas: Array<[string, string, string, string]> = [
    // [what, text before, text after, the problem's path]
    ['commune name', 'nom: Strasbourg', 'nom: "Strasbourg 31-41-592-653-423"', 'commune.nom'],
    ['délibération', 'intitule: Tarification solidaire', 'intitule: Tarification 31.41.592.653.423 solidaire', 'deliberation.intitule'],
    [
      'tranche name',
      '- { code: "2", min: 100',
      '- { code: "2", libelle: "Tranche ３１４１５９２６５３４２３", min: 100',
      'activites[0].grille.tranches[1].libelle',
    ],
    ['tranche code as text', '- { code: "3", min: 300', '- { code: "31 41 592 653 423", min: 300', 'activites[0].grille.tranches[2].code'],
    ['tranche code as a number', '- { code: "4", min: 500', '- { code: 3141592653423, min: 500', 'activites[0].grille.tranches[3].code'],
  ];
  for (const [quoi, avant, apres, chemin] of cas) {
    const texte = remplacer(STRASBOURG, avant, apres);
    const { problemes } = refus(texte);
    assert.equal(problemes.length, 1, `${quoi}: ${problemes.join(' | ')}`);
    assert.match(
      problemes[0] ?? '',
      new RegExp(`^${chemin.replace(/[.[\]]/g, '\\$&')} \\(ligne ${ligneDe(texte, apres)}\\) : ce (texte|nombre) ressemble à un numéro fiscal : retirez-le\\.`),
      quoi,
    );
  }
  // The file is kept as pasted, comments included: a comment is named by its line.
  const commentaire = `${STRASBOURG}\n# dossier de la famille 31-41-592-653-423\n`;
  assert.deepEqual(refus(commentaire).problemes, [
    `ligne ${ligneDe(commentaire, '# dossier')} : cette ligne contient un texte qui ressemble à un numéro fiscal (dans un commentaire, un nom de champ ?) : retirez-le. Le texte de la politique est enregistré tel quel.`,
  ]);
  // A field's name: never quoted, not even as « unknown field ».
  const cle = remplacer(STRASBOURG, 'nom: Strasbourg', 'nom: Strasbourg\n  "3141592653423": oui');
  const { problemes } = refus(cle);
  assert.deepEqual(problemes, [`commune (ligne ${ligneDe(cle, '"3141592653423"')}) : le nom d’un champ ici ressemble à un numéro fiscal : retirez-le.`]);
});

test('web addresses keep their slashes: a council’s link loads; a number whole in one part of it does not', () => {
  const source = /source: .*/.exec(STRASBOURG)?.[0] ?? 'source:';
  const lien = 'https://www.ville.fr/documents/976405/1280877/0/deliberation-2024-09-12.pdf';
  assert.equal(parsePolitiqueYaml(remplacer(STRASBOURG, source, `source: ${lien} # ${lien}`)).deliberation.source, lien);
  const avecNumero = remplacer(STRASBOURG, source, 'source: https://www.ville.fr/avis?n=31-41-592-653-423');
  assert.deepEqual(
    refus(avecNumero).problemes.map((p) => p.split(' : ')[0]),
    [`deliberation.source (ligne ${ligneDe(avecNumero, 'source: https://www.ville.fr/avis')})`],
  );
});

test('every example in examples/ still loads: the policies, and the commune file with its policy', async () => {
  const fichiers = readdirSync(EXEMPLES).filter((f) => f.endsWith('.yaml'));
  assert.ok(fichiers.length >= 3, fichiers.join(', '));
  for (const fichier of fichiers) {
    const chemin = new URL(fichier, EXEMPLES).pathname;
    if (/^politiqueTarifaire:/m.test(readFileSync(chemin, 'utf8'))) {
      const commune = loadCommuneConfig(chemin);
      assert.ok(loadPolitiqueOfCommune(join(dirname(chemin), commune.politiqueTarifaire), chemin).activites.length > 0, fichier);
    } else assert.ok((await loadPolitiqueFile(chemin)).activites.length > 0, fichier);
  }
});
