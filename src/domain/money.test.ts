import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { centsToEuros, compare, eurosToCents, formatEuros, formatNombre, mul, rational, rationalFromDecimal, roundRational, roundToStep } from './money.ts';

test('decimals written by a person become exact fractions', () => {
  assert.deepEqual(rationalFromDecimal(0.36), { n: 9n, d: 25n });
  assert.deepEqual(rationalFromDecimal(2.5), { n: 5n, d: 2n });
  assert.deepEqual(rationalFromDecimal(1e-7), { n: 1n, d: 10_000_000n });
  assert.deepEqual(rationalFromDecimal(1e21), { n: 10n ** 21n, d: 1n });
  assert.deepEqual(rationalFromDecimal(-0.1), { n: -1n, d: 10n });
  // 0.1 + 0.2 is not 0.3 in floating point; as fractions it is.
  assert.equal(compare(rationalFromDecimal(0.3), { n: 3n, d: 10n }), 0);
});

test('each rounding mode does what its name says, including exact halves', () => {
  const half = rational(5n, 2n);
  assert.equal(roundRational(half, 'inferieur'), 2n);
  assert.equal(roundRational(half, 'superieur'), 3n);
  assert.equal(roundRational(half, 'plus-proche'), 3n);
  assert.equal(roundRational(rational(7n, 3n), 'plus-proche'), 2n);
  assert.equal(roundRational(rational(4n), 'superieur'), 4n);
  assert.equal(roundToStep(rational(133_333n), 100n, 'inferieur'), 133_300n);
  assert.equal(roundToStep(rational(133_350n), 100n, 'plus-proche'), 133_400n);
});

test('euros with at most two decimals convert to cents exactly; more decimals are refused', () => {
  assert.equal(eurosToCents(4.8), 480);
  assert.equal(eurosToCents(0.29), 29); // 0.29 * 100 is 28.999999999999996 in floating point
  assert.equal(eurosToCents(1.005), null);
  assert.equal(eurosToCents(Number.NaN), null);
});

test('amounts print the French way', () => {
  assert.equal(formatEuros(133_333), '1\u00a0333,33\u00a0€');
  assert.equal(formatEuros(4_800_000, { wholeEuros: true }), '48\u00a0000\u00a0€');
  assert.equal(formatEuros(5), '0,05\u00a0€');
  assert.equal(formatNombre(2.5), '2,5');
  assert.equal(formatNombre(1234567.25), '1\u00a0234\u00a0567,25');
});

test('property: cents → euros → cents is the identity (no drift through JSON numbers)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000_000_000_000 }), (cents) => {
      const euros = centsToEuros(cents);
      assert.equal(eurosToCents(euros), cents);
      assert.equal(eurosToCents(JSON.parse(JSON.stringify(euros)) as number), cents);
      assert.ok(/^\d+(\.\d{1,2})?$/.test(String(euros)));
    }),
  );
});

test('property: rounding brackets the exact value within one unit', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (n, d) => {
      const r = rational(n, d);
      const down = roundRational(r, 'inferieur');
      const up = roundRational(r, 'superieur');
      const near = roundRational(r, 'plus-proche');
      assert.ok(down * d <= n && n < (down + 1n) * d);
      assert.ok(up - down <= 1n && up * d >= n);
      assert.ok(near === down || near === up);
      // The nearest one is never farther than half a unit.
      assert.ok(2n * (near * d - n < 0n ? n - near * d : near * d - n) <= d);
    }),
  );
});

test('property: products of decimals are exact', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 1, max: 100_000 }), (cents, tenThousandths) => {
      // cents × (k / 10 000) must equal the integer computation, whatever floating point would say.
      const product = mul(rational(BigInt(cents)), rationalFromDecimal(tenThousandths / 10_000));
      assert.equal(compare(product, rational(BigInt(cents) * BigInt(tenThousandths), 10_000n)), 0);
    }),
  );
});
