import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { daysInMonth, formatIsoDate, isIsoDate } from '../../domain/dates.ts';
import { formatEuros } from '../../domain/money.ts';
import { MAX_QUOTIENTS, parseDateEffet, parseQuotients } from './saisies.ts';

const dateParts = fc
  .record({ year: fc.integer({ min: 1000, max: 9999 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 31 }) })
  .filter((d) => d.day <= daysInMonth(d.year, d.month));

test('an effective date typed the French way or as the date field sends it gives the same day', () => {
  fc.assert(
    fc.property(dateParts, fc.constantFrom('/', '.', '-'), fc.boolean(), (d, sep, pad) => {
      const iso = formatIsoDate(d);
      const day = pad ? String(d.day).padStart(2, '0') : String(d.day);
      const month = pad ? String(d.month).padStart(2, '0') : String(d.month);
      assert.equal(parseDateEffet(iso), iso);
      assert.equal(parseDateEffet(` ${day}${sep}${month}${sep}${d.year} `), iso);
    }),
  );
});

test('any text is either refused or read as a real calendar date, never thrown at', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}$/), fc.stringMatching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/)), (text) => {
      const result = parseDateEffet(text);
      assert.ok(result === null || isIsoDate(result), `${text} → ${result}`);
    }),
  );
});

test('days that do not exist are refused', () => {
  for (const text of ['31/02/2026', '29/02/2027', '2026-13-01', '00/01/2026', '1/1/26', '2026-02-30', '', 'demain']) assert.equal(parseDateEffet(text), null, text);
  assert.equal(parseDateEffet('29/02/2028'), '2028-02-29');
});

test('quotients written the French way are read back to the cent', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 9_999_999_99 }), { minLength: 1, maxLength: MAX_QUOTIENTS }), fc.constantFrom(' ; ', ';', '\n', '\r\n'), (cents, sep) => {
      const text = cents.map((c) => formatEuros(c)).join(sep);
      const parsed = parseQuotients(text);
      assert.deepEqual(parsed.erreurs, []);
      assert.deepEqual(parsed.cents, [...new Set(cents)]);
    }),
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
