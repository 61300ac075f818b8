import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PHRASE_LONGUEUR_MIN, PHRASE_MOTS_MIN, passwordProblems } from './comptes-service.ts';
import { PASSWORD_HINT } from './comptes-views.tsx';

/** The hint shown under the password field and the rule applied to it say the same thing. */

test('the phrase the hint gives as an example is accepted', () => {
  const exemple = /« ([^»]+) »/.exec(PASSWORD_HINT)?.[1];
  assert.ok(exemple, 'the hint gives an example');
  assert.deepEqual(passwordProblems(exemple, 'julie@exemple.fr'), []);
});

test('a phrase of several lowercase words, long enough, is accepted; a short one or too few words is not', () => {
  const mot = fc.stringMatching(/^[a-zéèàç]{3,9}$/);
  fc.assert(
    fc.property(fc.array(mot, { minLength: PHRASE_MOTS_MIN, maxLength: 9 }), (mots) => {
      const phrase = mots.join(' ');
      fc.pre(phrase.length >= PHRASE_LONGUEUR_MIN);
      assert.deepEqual(passwordProblems(phrase), []);
    }),
  );
  fc.assert(
    fc.property(fc.array(mot, { minLength: 1, maxLength: PHRASE_MOTS_MIN - 1 }), (mots) => {
      const phrase = mots.join(' ');
      fc.pre(phrase.length >= 12);
      assert.match(passwordProblems(phrase).join(' '), /trois sortes de caractères/);
    }),
  );
  assert.match(passwordProblems('chat loup ours vent').join(' '), /trois sortes/, '4 words but under the length');
});

test('the usual mix of kinds still passes, and the address is still refused inside', () => {
  assert.deepEqual(passwordProblems('Soleil2026!x'), []);
  assert.match(passwordProblems('julie garnier aime les vélos', 'julie@exemple.fr').join(' '), /adresse électronique/);
});
