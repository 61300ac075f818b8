import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addDays, firstDayOfNextMonth, formatDateFrancaise, isIsoDate, parseIsoDate } from './dates.ts';

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
