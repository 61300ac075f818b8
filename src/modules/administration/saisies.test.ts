import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatEuros } from '../../domain/money.ts';
import { MAX_QUOTIENTS, parseQuotients } from './saisies.ts';

test('quotients written the French way are read back to the cent', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 9_999_999_99 }), { minLength: 1, maxLength: MAX_QUOTIENTS }),
      fc.constantFrom(' ; ', ';', '\n', '\r\n'),
      (cents, sep) => {
        const text = cents.map((c) => formatEuros(c)).join(sep);
        const parsed = parseQuotients(text);
        assert.deepEqual(parsed.erreurs, []);
        assert.deepEqual(parsed.cents, [...new Set(cents)]);
      },
    ),
  );
});

test('what is not an amount is named in the error, the rest is kept', () => {
  const parsed = parseQuotients('500 ; douze ; 1 333,33 € ; -5 ; 12,345 ; 800.5');
  assert.deepEqual(parsed.cents, [500_00, 1333_33, 800_50]);
  assert.equal(parsed.erreurs.length, 3);
  assert.match(parsed.erreurs[0] ?? '', /« douze » n’est pas un montant/);
  fc.assert(
    fc.property(fc.string(), (text) => {
      const r = parseQuotients(text);
      assert.ok(r.cents.length <= MAX_QUOTIENTS);
      assert.ok(r.cents.every((c) => Number.isSafeInteger(c) && c >= 0));
    }),
  );
});

test('more than the maximum of quotients is said, not silently cut', () => {
  const parsed = parseQuotients(Array.from({ length: MAX_QUOTIENTS + 3 }, (_, i) => String(i * 10)).join(';'));
  assert.equal(parsed.cents.length, MAX_QUOTIENTS);
  assert.match(parsed.erreurs.join(' '), /Au plus 20 quotients/);
});
