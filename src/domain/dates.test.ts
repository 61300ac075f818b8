import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addDays,
  daysInMonth,
  firstDayOfNextMonth,
  formatDateCourte,
  formatDateFrancaise,
  formatIsoDate,
  isIsoDate,
  parseDateSaisie,
  parseIsoDate,
} from './dates.ts';

test('only real calendar dates are ISO dates', () => {
  assert.ok(isIsoDate('2024-02-29'));
  assert.ok(!isIsoDate('2023-02-29'));
  assert.ok(!isIsoDate('2024-13-01'));
  assert.ok(!isIsoDate('2024-9-1'));
  assert.ok(!isIsoDate(20240901));
});

test('day arithmetic crosses months and years', () => {
  assert.equal(addDays('2024-12-31', 1), '2025-01-01');
  assert.equal(addDays('2025-09-01', -1), '2025-08-31');
  assert.equal(firstDayOfNextMonth('2025-12-15'), '2026-01-01');
  assert.equal(formatDateFrancaise('2022-12-01'), '1er décembre 2022');
});

test('property: ISO dates round-trip through the JavaScript calendar', () => {
  fc.assert(
    fc.property(fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2199-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
      const iso = d.toISOString().slice(0, 10);
      assert.ok(parseIsoDate(iso));
      assert.equal(addDays(addDays(iso, 40), -40), iso);
      assert.ok(firstDayOfNextMonth(iso) > iso);
    }),
  );
});

const dateParts = fc
  .record({ year: fc.integer({ min: 1000, max: 9999 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 31 }) })
  .filter((d) => d.day <= daysInMonth(d.year, d.month));

test('a date typed the French way or as the date field sends it gives the same day', () => {
  fc.assert(
    fc.property(dateParts, fc.constantFrom('/', '.', '-'), fc.boolean(), (d, sep, pad) => {
      const iso = formatIsoDate(d);
      const day = pad ? String(d.day).padStart(2, '0') : String(d.day);
      const month = pad ? String(d.month).padStart(2, '0') : String(d.month);
      assert.equal(parseDateSaisie(iso), iso);
      assert.equal(parseDateSaisie(` ${day}${sep}${month}${sep}${d.year} `), iso);
    }),
  );
});

test('any text is either refused or read as a real calendar date, never thrown at', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.stringMatching(/^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}$/), fc.stringMatching(/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/)),
      (text) => {
        const result = parseDateSaisie(text);
        assert.ok(result === null || isIsoDate(result), `${text} → ${result}`);
      },
    ),
  );
});

test('days that do not exist are refused', () => {
  for (const text of ['31/02/2026', '29/02/2027', '2026-13-01', '00/01/2026', '1/1/26', '2026-02-30', '', 'demain'])
    assert.equal(parseDateSaisie(text), null, text);
  assert.equal(parseDateSaisie('29/02/2028'), '2028-02-29');
});

test('property: the short French form and the typed date round-trip', () => {
  fc.assert(
    fc.property(dateParts, (d) => {
      const iso = formatIsoDate(d);
      const fr = formatDateCourte(iso);
      assert.match(fr, /^[0-9]{2}\/[0-9]{2}\/[0-9]{4}$/);
      assert.equal(fr, iso.split('-').reverse().join('/'), 'day, month and year of the ISO date, in the French order');
      assert.equal(parseDateSaisie(fr), iso);
    }),
  );
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}$/), (typed) => {
      const iso = parseDateSaisie(typed);
      if (iso === null) return;
      const [day, month, year] = typed.split(/[/.-]/).map(Number);
      assert.equal(formatDateCourte(iso), `${String(day).padStart(2, '0')}/${String(month).padStart(2, '0')}/${String(year).padStart(4, '0')}`);
    }),
  );
  assert.equal(formatDateCourte('2026-09-01'), '01/09/2026');
  assert.throws(() => formatDateCourte('2026-02-30'), RangeError);
});
