import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { anneePasEncoreImposee, derniereAnneeImposee } from './annee-imposition.ts';
import { formatIsoDate } from './dates.ts';

test('N-1 is served from the taxation date on, N-2 before', () => {
  assert.equal(derniereAnneeImposee('2025-03-15'), 2023);
  assert.equal(derniereAnneeImposee('2025-07-21'), 2023);
  assert.equal(derniereAnneeImposee('2025-07-22'), 2024);
  assert.equal(derniereAnneeImposee('2025-10-01'), 2024);
  assert.equal(derniereAnneeImposee('2026-07-21', { mois: 8, jour: 1 }), 2024);
  assert.equal(anneePasEncoreImposee(2025, '2026-03-01'), true);
  assert.equal(anneePasEncoreImposee(2024, '2026-03-01'), false);
});

test('the latest taxed year is always N-1 or N-2, and never goes back as time passes', () => {
  const date = fc.record({ year: fc.integer({ min: 2000, max: 2100 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 28 }) });
  fc.assert(
    fc.property(date, date, (a, b) => {
      for (const d of [a, b]) {
        const y = derniereAnneeImposee(formatIsoDate(d));
        assert.ok(y === d.year - 1 || y === d.year - 2);
      }
      const [earlier, later] = [formatIsoDate(a), formatIsoDate(b)].sort() as [string, string];
      assert.ok(derniereAnneeImposee(later) >= derniereAnneeImposee(earlier));
    }),
  );
  assert.throws(() => derniereAnneeImposee('2025-02-30'), /Date invalide/);
});
