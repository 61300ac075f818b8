import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { addDays } from './dates.ts';
import { NAISSANCE_MIN, naissancePlausible, nomPlausible } from './etat-civil.ts';

test('a name holds no digit, in any script; letters, spaces, hyphens and apostrophes are names', () => {
  for (const nom of ['Bertin', 'Lefèvre-Dupré', 'N’Diaye', 'de La Tour', 'Çelik', 'Nguyễn', 'Ωμέγα']) assert.equal(nomPlausible(nom), true, nom);
  for (const nom of ['B3rtin', 'Louis 14', 'Paul٣', '４８']) assert.equal(nomPlausible(nom), false, nom);
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom(..."abcdeéèçñøßAZÉ -’'"), maxLength: 30 }),
      fc.string({ unit: 'grapheme', maxLength: 10 }),
      fc.integer({ min: 0, max: 9 }),
      (lettres, autre, chiffre) => {
        assert.equal(nomPlausible(lettres), true);
        assert.equal(nomPlausible(`${autre}${chiffre}${lettres}`), false);
      },
    ),
  );
});

test('a birth date is plausible from 1900 to today included, never before nor in the future', () => {
  const aujourdhui = '2026-03-15';
  assert.equal(naissancePlausible(NAISSANCE_MIN, aujourdhui), true);
  assert.equal(naissancePlausible('1899-12-31', aujourdhui), false);
  assert.equal(naissancePlausible(aujourdhui, aujourdhui), true);
  assert.equal(naissancePlausible(addDays(aujourdhui, 1), aujourdhui), false);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 46_000 }), fc.integer({ min: 1, max: 40_000 }), (jours, ecart) => {
      const date = addDays(NAISSANCE_MIN, jours);
      assert.equal(naissancePlausible(date, aujourdhui), date <= aujourdhui);
      assert.equal(naissancePlausible(addDays(NAISSANCE_MIN, -ecart), aujourdhui), false, 'before 1900');
      assert.equal(naissancePlausible(addDays(aujourdhui, ecart), aujourdhui), false, 'in the future');
    }),
  );
});
