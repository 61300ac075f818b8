import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { parsePolitiqueYaml } from '../tarifs/politique-loader.ts';
import { calculerApercu, FOYERS_FISCAUX_FICTIFS } from './apercu.ts';
import { avecContexte, comparerPolitiques, diffLignes } from './politique-diff.ts';

const STRASBOURG = readFileSync(new URL('../../../examples/strasbourg.yaml', import.meta.url), 'utf8');
const BOULOGNE = readFileSync(new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url), 'utf8');

const remplacer = (text: string, from: string, to: string) => {
  assert.ok(text.includes(from), `absent : ${from}`);
  return text.replace(from, to);
};

test('a changed price, an added bracket and a new non-resident price are listed by bracket, before and after', () => {
  const avant = parsePolitiqueYaml(STRASBOURG);
  let texte = remplacer(STRASBOURG, '{ code: "3", min: 300, max: 500, prix: 20.46 }', '{ code: "3", min: 300, max: 500, prix: 21.00 }');
  texte = remplacer(
    texte,
    '{ code: "11", min: 1900, prix: 54.90 }',
    '{ code: "11", min: 1900, max: 2500, prix: 54.90 }\n        - { code: "12", min: 2500, prix: 60.00 }',
  );
  texte = remplacer(texte, '    # Sans quotient connu', '    prixNonResident: 70\n    # Sans quotient connu');
  const apres = parsePolitiqueYaml(texte);
  const sections = comparerPolitiques(avant, apres);
  assert.equal(sections.length, 1);
  assert.equal(sections[0]?.titre, 'Activité : Accueil du soir en école maternelle');
  const parSujet = new Map(sections[0]?.changements.map((c) => [c.sujet, c]));
  assert.deepEqual(parSujet.get('Tranche 3 : prix'), { sujet: 'Tranche 3 : prix', avant: '20,46\u00a0€', apres: '21,00\u00a0€' });
  assert.equal(parSujet.get('Tranche 12 (ajoutée)')?.avant, null);
  assert.match(parSujet.get('Tranche 12 (ajoutée)')?.apres ?? '', /à partir de 2\u00a0500,00\u00a0€ : 60,00\u00a0€/);
  assert.match(parSujet.get('Tranche 11 : quotients')?.apres ?? '', /à moins de 2\u00a0500,00/);
  assert.equal(parSujet.get('Tarif hors commune')?.apres, '70,00\u00a0€');
  assert.equal(parSujet.has('Tranche 4 : prix'), false, 'an unchanged bracket is not listed');
});

test('a change of grid shape, of formula and an activity added or removed are each said', () => {
  const avant = parsePolitiqueYaml(BOULOGNE);
  let texte = remplacer(BOULOGNE, '  formule: rfr-parts', '  formule: revenu-personnes');
  texte = remplacer(texte, '  plusieursFoyers: somme-rfr-somme-parts', '  plusieursFoyers: somme-rfr-recompte-personnes');
  texte = remplacer(
    texte,
    '    grille:\n      type: taux-effort\n      taux: 0.28\n      plancher: 0.38\n      plafond: 8.19',
    '    grille:\n      type: tranches\n      borneIncluse: min\n      tranches:\n        - { code: A, min: 0, max: 800, prix: 1 }\n        - { code: B, min: 800, prix: 3 }',
  );
  texte = texte.slice(0, texte.indexOf('  - id: centre-loisirs-mercredi'));
  texte += '  - id: conservatoire\n    libelle: Conservatoire\n    unite: annee\n    grille: { type: taux-effort, taux: 1, plancher: 50, plafond: 400 }\n';
  const sections = comparerPolitiques(avant, parsePolitiqueYaml(texte));
  const titres = sections.map((s) => s.titre);
  assert.deepEqual(titres, [
    'Calcul du quotient familial',
    'Activité : Temps périscolaire du soir',
    'Activité supprimée : Centre de loisirs du mercredi',
    'Activité ajoutée : Conservatoire',
  ]);
  assert.match(sections[0]?.changements.find((c) => c.sujet === 'Formule')?.apres ?? '', /nombre de personnes/);
  const grille = sections[1]?.changements.find((c) => c.sujet === 'Grille');
  assert.match(grille?.avant ?? '', /taux d’effort de 0,28 %/);
  assert.match(grille?.apres ?? '', /2 tranches, de 1,00\u00a0€ à 3,00\u00a0€/);
});

test('the same policy with other comments has no difference, but its lines do', () => {
  const avant = parsePolitiqueYaml(BOULOGNE);
  const texte = `# Nouvelle présentation\n${BOULOGNE.replace('# à confirmer', '# confirmé')}`;
  assert.deepEqual(comparerPolitiques(avant, parsePolitiqueYaml(texte)), []);
  const lignes = diffLignes(BOULOGNE, texte);
  assert.ok(lignes);
  assert.deepEqual(
    lignes.filter((l) => l.type !== 'egale').map((l) => l.type),
    ['ajoutee', 'retiree', 'ajoutee'],
  );
});

test('the line diff gives back both texts, in order (property)', () => {
  const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd', '', 'prix: 1'), { maxLength: 30 });
  fc.assert(
    fc.property(lines, lines, (a, b) => {
      const d = diffLignes(a.join('\n'), b.join('\n'));
      assert.ok(d);
      assert.deepEqual(
        d.filter((l) => l.type !== 'ajoutee').map((l) => l.texte),
        a.join('\n').split('\n'),
      );
      assert.deepEqual(
        d.filter((l) => l.type !== 'retiree').map((l) => l.texte),
        b.join('\n').split('\n'),
      );
      assert.deepEqual(
        d.filter((l) => l.avant !== null).map((l) => l.avant),
        a
          .join('\n')
          .split('\n')
          .map((_, i) => i + 1),
      );
      assert.deepEqual(
        d.filter((l) => l.apres !== null).map((l) => l.apres),
        b
          .join('\n')
          .split('\n')
          .map((_, i) => i + 1),
      );
      const shown = avecContexte(d, 1);
      if (d.every((l) => l.type === 'egale')) assert.deepEqual(shown, []);
      else assert.ok(shown.some((l) => l !== null && l.type !== 'egale'));
    }),
  );
});

test('the preview prices each case under both versions: bracket, price, and the activity missing from one', () => {
  const avant = parsePolitiqueYaml(STRASBOURG);
  const apres = parsePolitiqueYaml(remplacer(STRASBOURG, '{ code: "3", min: 300, max: 500, prix: 20.46 }', '{ code: "3", min: 300, max: 500, prix: 21.00 }'));
  const [activite] = calculerApercu(avant, apres, [{ type: 'quotient', libelle: 'QF 400', cents: 400_00 }, ...FOYERS_FISCAUX_FICTIFS]);
  assert.ok(activite);
  const ligne = activite.lignes[0];
  assert.equal(ligne?.enVigueur.prix?.tranche, '3');
  assert.equal(ligne?.enVigueur.prix?.cents, 20_46);
  assert.equal(ligne?.candidate.prix?.cents, 21_00);
  // Couple, two children, RFR 48 000 €, 3 parts: QF 1 333,33 € → bracket 8.
  assert.equal(activite.lignes[2]?.candidate.quotient, 1333_33);
  assert.equal(activite.lignes[2]?.candidate.prix?.tranche, '8');
  const boulogne = parsePolitiqueYaml(BOULOGNE);
  const mixte = calculerApercu(boulogne, avant, [{ type: 'quotient', libelle: 'QF 400', cents: 400_00 }]);
  assert.deepEqual(
    mixte.map((a) => a.id),
    ['accueil-soir-maternelle', 'restauration-scolaire', 'periscolaire-soir', 'centre-loisirs-mercredi'],
  );
  assert.equal(mixte[0]?.lignes[0]?.enVigueur.manque, 'Activité absente de cette version.');
  assert.equal(mixte[1]?.lignes[0]?.candidate.manque, 'Activité absente de cette version.');
  assert.equal(mixte[1]?.lignes[0]?.enVigueur.prix?.cents, 1_44);
});
