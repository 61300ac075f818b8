import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderToString } from 'preact-render-to-string';
import { loadConfig } from '../../infra/config/config.ts';
import { parsePolitiqueYaml } from '../tarifs/politique-loader.ts';
import { avisAttendu, formulaireFor, simuler } from './simulateur-service.ts';
import { formuleEnClair, SimulateurPage } from './simulateur-views.tsx';

const example = (name: string) => readFileSync(new URL(`../../../examples/${name}`, import.meta.url), 'utf8');
const boulogne = parsePolitiqueYaml(example('boulogne-billancourt.yaml'));
const strasbourg = parsePolitiqueYaml(example('strasbourg.yaml'));

/** Boulogne's grids under another QF formula, as another commune could vote it. */
const parPersonnes = parsePolitiqueYaml(
  example('boulogne-billancourt.yaml')
    .replace('formule: rfr-parts', 'formule: revenu-personnes')
    .replace('plusieursFoyers: somme-rfr-somme-parts', 'plusieursFoyers: somme-rfr-recompte-personnes'),
);
const parCoefficients = parsePolitiqueYaml(
  example('boulogne-billancourt.yaml')
    .replace(
      'formule: rfr-parts',
      'formule: coefficients\n  coefficients: { adulte: 1, enfant: 0.5, adulteRattache: 0.5, autrePersonneACharge: 0.5, majorationParentIsole: 0.5, majorationInvalidite: 0.5 }',
    )
    .replace('plusieursFoyers: somme-rfr-somme-parts', 'plusieursFoyers: refuser'),
);

test('the form asks what the formula needs: parts, persons, or adults and children', () => {
  assert.deepEqual(formulaireFor(boulogne).champs, ['rfr', 'parts']);
  assert.deepEqual(formulaireFor(parPersonnes).champs, ['rfr', 'personnes']);
  assert.deepEqual(formulaireFor(parCoefficients).champs, ['rfr', 'adultes', 'enfants']);
  assert.equal(formulaireFor(boulogne).horsCommune, true);
  assert.equal(formulaireFor(strasbourg).horsCommune, false);
});

test('by persons: 48 000 € for 4 persons is 1 000 € a month; persons are whole and at least one', () => {
  const issue = simuler(parPersonnes, { rfr: '48 000', personnes: '4' });
  assert.equal(issue.kind, 'estimation');
  if (issue.kind !== 'estimation') return;
  assert.equal(issue.estimation.quotient.cents, 100_000);
  assert.match(issue.estimation.quotient.explication, /÷ 4 personnes = 1\u00a0000,00\u00a0€ par mois/);
  for (const [personnes, message] of [
    ['', /Indiquez le nombre de personnes/],
    ['0', /au moins une personne/],
    ['2,5', /nombre entier de personnes/],
    ['100', /trop élevé/],
  ] as const) {
    const bad = simuler(parPersonnes, { rfr: '48000', personnes });
    assert.equal(bad.kind, 'erreurs', personnes);
    if (bad.kind === 'erreurs') {
      assert.equal(bad.erreurs[0]?.champ, 'personnes');
      assert.match(bad.erreurs[0]?.message ?? '', message);
    }
  }
  assert.match(formuleEnClair(parPersonnes), /divisé par le nombre de personnes de votre foyer/);
});

test('by coefficients: a parent alone with two children counts 1 + 2 × 0,5 + 0,5', () => {
  const issue = simuler(parCoefficients, { rfr: '30000', adultes: '1', enfants: '2' });
  assert.equal(issue.kind, 'estimation');
  if (issue.kind === 'estimation') assert.equal(issue.estimation.quotient.cents, 100_000);
  const bad = simuler(parCoefficients, { rfr: '30000', adultes: '3', enfants: '' });
  assert.equal(bad.kind, 'erreurs');
  if (bad.kind === 'erreurs') {
    assert.deepEqual(
      bad.erreurs.map((e) => e.champ),
      ['adultes', 'enfants'],
    );
    assert.match(bad.erreurs[1]?.message ?? '', /0 s’il n’y en a pas/);
  }
  assert.match(
    formuleEnClair(parCoefficients),
    /somme des coefficients des membres de votre foyer \(1 par adulte, 0,5 par enfant, 0,5 de plus pour un parent qui élève seul ses enfants\)/,
  );
});

test('the avis to read follows the policy’s income year and the school year of the day', () => {
  assert.deepEqual(avisAttendu(boulogne, '2025-10-01'), { periode: 'l’année scolaire 2025-2026', anneeRevenus: 2024, repli: 2023 });
  assert.deepEqual(avisAttendu(boulogne, '2025-08-31'), { periode: 'l’année scolaire 2024-2025', anneeRevenus: 2023, repli: 2022 });
  assert.deepEqual(avisAttendu(strasbourg, '2025-10-01'), { periode: 'l’année scolaire 2025-2026', anneeRevenus: 2023, repli: null });
  const commune = loadConfig({}, { mode: 'demo', cwd: '/tmp' }).commune;
  const html = renderToString(SimulateurPage({ commune, politique: boulogne, issue: { kind: 'vide' }, avis: avisAttendu(boulogne, '2025-10-01') }));
  assert.ok(
    html.includes(
      'Pour l’année scolaire 2025-2026, la commune retient l’avis d’impôt 2025 sur les revenus de 2024 ; tant que vous ne l’avez pas reçu, l’avis 2024 sur les revenus de 2023.',
    ),
  );
});
