import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { lieuNaissanceDgfip } from '../../domain/etat-civil.ts';
import { communesDuCode, normaliserNomCommune, rechercherCommunes } from './communes.ts';

test('a commune is found by the start of its name, whatever the case, accents and hyphens; current communes first', () => {
  assert.equal(rechercherCommunes('nantes')[0]?.code, '44109');
  assert.equal(rechercherCommunes('st etienne')[0]?.nom, 'Saint-Étienne');
  assert.ok(rechercherCommunes('paris 15').some((c) => c.code === '75115'));
  assert.equal(rechercherCommunes('ajaccio')[0]?.code, '2A004');
  assert.equal(rechercherCommunes('44109')[0]?.nom, 'Nantes');
  assert.deepEqual(rechercherCommunes('x'), []);
  assert.ok(rechercherCommunes('saint').length <= 20);
  assert.ok(communesDuCode('97411').some((c) => c.nom === 'Saint-Denis'));
});

test('every commune of the table is a place of birth the DGFiP can take', () => {
  for (const q of ['a', 'b', 'sa', 'mon', 'le', '97', '2A', '2B', '75']) {
    for (const c of rechercherCommunes(q.length < 2 ? `${q}${q}` : q, 1000)) assert.ok(lieuNaissanceDgfip(c.code), c.code);
  }
});

test('the search never throws and never lists more than asked, whatever is typed', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 30 }), (q, n) => {
      const found = rechercherCommunes(q, n);
      assert.ok(found.length <= n);
      const cle = normaliserNomCommune(q);
      for (const c of found) assert.ok(normaliserNomCommune(c.nom).includes(cle) || c.code.startsWith(cle));
    }),
  );
});
