import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { expressionAutorisee, licenceDeclaree, paquetsDuLockfile, parseSpdx, verifierPaquet, type Paquet } from '../../scripts/check-licences.ts';

const paquet = (nom: string, licence: string | null, dev = false): Paquet => ({ nom, version: '1.0.0', licence, dev });

test('a permissive or EUPL-compatible licence passes, a copyleft one that would bind the commune does not', () => {
  assert.equal(verifierPaquet(paquet('a', 'MIT')).ok, true);
  assert.equal(verifierPaquet(paquet('a', 'MPL-2.0')).ok, true);
  const gpl = verifierPaquet(paquet('b', 'GPL-3.0-only'));
  assert.equal(gpl.ok, false);
  assert.match(!gpl.ok ? gpl.motif : '', /GPL-3\.0-only.*hors de la liste autorisée/);
  const sspl = verifierPaquet(paquet('c', 'SSPL-1.0', true));
  assert.equal(sspl.ok, false, 'development packages follow the same list');
});

test('an OR needs one allowed branch, an AND needs all of them', () => {
  assert.equal(verifierPaquet(paquet('a', '(MIT OR WTFPL)')).ok, true);
  assert.equal(verifierPaquet(paquet('a', '(GPL-2.0-only OR Apache-2.0)')).ok, true);
  assert.equal(verifierPaquet(paquet('a', 'MIT AND GPL-2.0-only')).ok, false);
  assert.equal(verifierPaquet(paquet('a', 'MIT AND (ISC OR GPL-2.0-only)')).ok, true);
  // AND binds tighter than OR, as SPDX says.
  assert.equal(verifierPaquet(paquet('a', 'GPL-2.0-only OR MIT AND SSPL-1.0')).ok, false);
});

test('no licence, or a string that is not SPDX, is refused unless an exception names that very licence', () => {
  const sans = verifierPaquet(paquet('x', null));
  assert.equal(sans.ok, false);
  assert.match(!sans.ok ? sans.motif : '', /aucune licence/);
  assert.equal(verifierPaquet(paquet('x', 'SEE LICENSE IN LICENSE.txt')).ok, false);
  assert.equal(verifierPaquet(paquet('x', 'MIT OR')).ok, false);
  assert.equal(verifierPaquet(paquet('x', '(MIT')).ok, false);
  const exceptions = [{ paquet: 'x', licence: 'CC-BY-3.0', raison: 'données' }];
  assert.equal(verifierPaquet(paquet('x', 'CC-BY-3.0'), exceptions).ok, true);
  const change = verifierPaquet(paquet('x', 'CC-BY-NC-4.0'), exceptions);
  assert.equal(change.ok, false, 'an exception does not follow a licence change');
  assert.match(!change.ok ? change.motif : '', /une exception existe pour « CC-BY-3.0 »/);
  assert.equal(verifierPaquet(paquet('y', 'CC-BY-3.0'), exceptions).ok, false, 'an exception covers only its package');
});

test('licences come from the lockfile, else from the installed package.json (legacy forms included)', () => {
  const lock = {
    packages: {
      '': { name: 'quotient', license: 'EUPL-1.2' },
      'node_modules/a': { version: '1.0.0', license: 'MIT' },
      'node_modules/@s/b': { version: '2.0.0', dev: true },
      'node_modules/a/node_modules/c': { version: '3.0.0' },
      'node_modules/lien': { link: true, resolved: '../ailleurs' },
    },
  };
  const manifestes: Record<string, Record<string, unknown>> = {
    'node_modules/@s/b': { license: { type: 'ISC' } },
    'node_modules/a/node_modules/c': { licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] },
  };
  const found = paquetsDuLockfile(lock, (chemin) => manifestes[chemin] ?? null);
  assert.deepEqual(found, [
    { nom: 'a', version: '1.0.0', licence: 'MIT', dev: false },
    { nom: '@s/b', version: '2.0.0', licence: 'ISC', dev: true },
    { nom: 'c', version: '3.0.0', licence: '(MIT OR Apache-2.0)', dev: false },
  ]);
  assert.equal(licenceDeclaree({}), null);
  assert.throws(() => paquetsDuLockfile({ lockfileVersion: 1, dependencies: {} }), /sans section « packages »/);
});

const ids = fc.constantFrom('MIT', 'ISC', 'Apache-2.0', 'GPL-3.0-only', 'SSPL-1.0', 'BSD-3-Clause', 'AGPL-3.0-or-later');
type Tree = { id: string } | { op: 'AND' | 'OR'; l: Tree; r: Tree };
const tree: fc.Arbitrary<Tree> = fc.letrec<{ t: Tree }>((tie) => ({
  t: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    ids.map((id) => ({ id })),
    fc.record({ op: fc.constantFrom('AND' as const, 'OR' as const), l: tie('t'), r: tie('t') }),
  ),
})).t;
const text = (t: Tree): string => ('id' in t ? t.id : `(${text(t.l)} ${t.op} ${text(t.r)})`);
const allowed = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-3-Clause']);
const truth = (t: Tree): boolean => ('id' in t ? allowed.has(t.id) : t.op === 'AND' ? truth(t.l) && truth(t.r) : truth(t.l) || truth(t.r));

test('property: any parenthesised expression is read, and its verdict is the boolean reading of the allow-list', () => {
  fc.assert(
    fc.property(tree, (t) => {
      const expr = parseSpdx(text(t));
      assert.notEqual(expr, null);
      assert.equal(expressionAutorisee(expr!, new Map([...allowed].map((id) => [id, 'test']))), truth(t));
    }),
  );
});

test('property: arbitrary text never throws; it is read or refused', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 60 }), (s) => {
      const v = verifierPaquet(paquet('p', s), []);
      assert.equal(typeof v.ok, 'boolean');
    }),
  );
});
