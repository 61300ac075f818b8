import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { SourceFiscaleError } from '../fiscal-source.ts';
import { interpret } from './impot-particulier-source.ts';
import { parentIsole, ReponseIrInvalide, situationFromReponseIr } from './reponse-ir.ts';

const avis = (extra: Record<string, unknown> = {}) => ({
  rfr: 24000,
  nbPart: 2,
  sitFam: 'M',
  pac: { nbPac: 1 },
  nmNaiDec1: 'MARTIN',
  prnmDec1: 'JEANNE',
  dateNaisDec1: { jour: '22', mois: '08', annee: '1978' },
  ...extra,
});

test('sitParIso: « true » in any case is yes, an empty or unreadable value is unknown, never a silent no', () => {
  for (const oui of ['true', 'TRUE', 'True', 'T', 'o', 'OUI', '1', ' T ']) assert.equal(parentIsole(oui), true, oui);
  for (const non of ['false', 'N', 'non', '0', 'F']) assert.equal(parentIsole(non), false, non);
  for (const inconnu of [undefined, null, '', '   ', 'peut-être', 'X']) assert.equal(parentIsole(inconnu), null, String(inconnu));
  assert.equal(situationFromReponseIr(avis({ sitParIso: 'true' }), 2025, 'impot-particulier').parentIsole, true);
  assert.equal(situationFromReponseIr(avis({ sitParIso: '' }), 2025, 'impot-particulier').parentIsole, null);
});

test('property: sitParIso is read case- and space-insensitively, and only known words give an answer', () => {
  const known = ['T', 'O', 'OUI', '1', 'TRUE', 'VRAI', 'N', 'NON', '0', 'FALSE', 'FAUX', 'F'];
  fc.assert(
    fc.property(fc.string(), (text) => {
      const answer = parentIsole(text);
      const word = text.trim().toUpperCase();
      if (!known.includes(word)) assert.equal(answer, null);
      else assert.equal(answer, ['T', 'O', 'OUI', '1', 'TRUE', 'VRAI'].includes(word));
      assert.equal(parentIsole(` ${text.toLowerCase()} `), parentIsole(text.toUpperCase()));
    }),
  );
});

test('a missing pac (or pac.nbPac) is not zero dependants: a typed « incomplete » the instructor examines', () => {
  for (const pac of [undefined, null, {}, { nbPac: null }, { nbPacF: 2 }]) {
    const body = avis({ pac });
    if (pac === undefined) delete (body as Record<string, unknown>).pac;
    assert.throws(
      () => situationFromReponseIr(body, 2025, 'impot-particulier'),
      (e: unknown) => e instanceof ReponseIrInvalide && e.raison === 'situation_incomplete',
    );
    try {
      interpret({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), correlationId: 'c' }, 2025);
      assert.fail('no situation without pac.nbPac');
    } catch (error) {
      assert.ok(error instanceof SourceFiscaleError);
      assert.equal(error.raison, 'situation_incomplete');
      assert.match(error.message, /personnes à charge/);
    }
  }
  assert.equal(situationFromReponseIr(avis({ pac: { nbPac: 0 } }), 2025, 'impot-particulier').nbPac, 0, 'a zero that was said stays zero');
});
