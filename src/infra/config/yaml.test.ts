import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bombeYaml } from './test-support.ts';
import { lireYaml, MESSAGE_ALIAS, ouvertureNonFermee, YamlRefuse } from './yaml.ts';

// A safety net only: the refusal is immediate; a regression would otherwise hang the run.
const borne = { timeout: 20_000 };

test('the alias bomb is refused before anything is expanded, with a French reason and its place', borne, () => {
  const bombe = bombeYaml();
  assert.ok(bombe.length > 5_000 && bombe.length < 7_000);
  assert.throws(
    () => lireYaml(bombe),
    (e) => e instanceof YamlRefuse && e.code === 'alias' && e.raison === MESSAGE_ALIAS && e.position === 'ligne 2, colonne 9',
  );
});

test('one alias, or a merge key, is refused too; anchors alone and plain YAML are read', borne, () => {
  for (const text of ['a: &x 1\nb: *x\n', 'base: &b { x: 1 }\nautre:\n  <<: *b\n  y: 2\n']) {
    assert.throws(
      () => lireYaml(text),
      (e) => e instanceof YamlRefuse && e.code === 'alias',
      text,
    );
  }
  assert.deepEqual(lireYaml('a: &x 1\nb: [2, "2024-09-01"]\n'), { a: 1, b: [2, '2024-09-01'] });
});

test('oversized text, deep nesting and syntax errors are refused in French', borne, () => {
  assert.throws(
    () => lireYaml(`# ${'x'.repeat(1_000_001)}`),
    (e) => e instanceof YamlRefuse && e.code === 'trop_grand' && /1 Mo/.test(e.raison),
  );
  assert.throws(
    () => lireYaml('['.repeat(50_000)),
    (e) => e instanceof YamlRefuse && e.code === 'syntaxe' && e.raison === 'imbrication trop profonde',
  );
  assert.throws(
    () => lireYaml('a: 1\na: 2\n'),
    (e) => e instanceof YamlRefuse && e.raison === 'ce champ apparaît deux fois' && e.position === 'ligne 2, colonne 1',
  );
});

test('the first bracket left open is found outside quotes, comments and plain texts', () => {
  assert.deepEqual(ouvertureNonFermee('a: { b: 1 }\nc: [1, 2]\n'), null);
  assert.deepEqual(ouvertureNonFermee('a: "{"\nb: Tarif [A\n# { commentaire\n'), null);
  assert.deepEqual(ouvertureNonFermee('a: 1\nb: [1, { c: 2 }\nd: 3\n'), { ligne: 2, colonne: 4, caractere: '[' });
  assert.deepEqual(ouvertureNonFermee('- { a: 1\n- b\n'), { ligne: 1, colonne: 3, caractere: '{' });
});
