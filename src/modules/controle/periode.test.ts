import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { debutJourParis, instantDebut, instantFin, jourFrancais, jourParis, lireDate } from './periode.ts';

const jour = fc
  .date({ min: new Date('1971-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const heureParis = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit', second: '2-digit' });

test('a day starts at midnight in Paris, winter and summer alike', () => {
  fc.assert(
    fc.property(jour, (j) => {
      const start = debutJourParis(j);
      assert.equal(jourParis(start), j);
      assert.equal(heureParis.format(new Date(start)), '00:00:00');
      assert.equal(jourParis(new Date(Date.parse(start) - 1).toISOString()) < j, true, 'the millisecond before is the day before');
    }),
  );
  assert.equal(debutJourParis('2026-01-15'), '2026-01-14T23:00:00.000Z');
  assert.equal(debutJourParis('2026-07-15'), '2026-07-14T22:00:00.000Z');
  // The days of the clock changes last 23 and 25 hours.
  assert.equal(Date.parse(instantFin({ jour: '2026-03-29' })) - Date.parse(instantDebut({ jour: '2026-03-29' })), 23 * 3600_000);
  assert.equal(Date.parse(instantFin({ jour: '2026-10-25' })) - Date.parse(instantDebut({ jour: '2026-10-25' })), 25 * 3600_000);
  // 26 September 1976: summer time ended at 1 h, so midnight came twice; the day starts at the first and lasts 25 hours.
  assert.equal(debutJourParis('1976-09-26'), '1976-09-25T22:00:00.000Z');
  assert.equal(Date.parse(instantFin({ jour: '1976-09-26' })) - Date.parse(instantDebut({ jour: '1976-09-26' })), 25 * 3600_000);
});

test('dates typed in French or ISO format read as the same day; anything else is refused', () => {
  fc.assert(
    fc.property(jour, (j) => {
      assert.deepEqual(lireDate(jourFrancais(j)), { jour: j });
      assert.deepEqual(lireDate(` ${j} `), { jour: j });
    }),
  );
  assert.deepEqual(lireDate('3/2/2026'), { jour: '2026-02-03' });
  assert.deepEqual(lireDate('2026-02-03T10:15:00+01:00'), { instant: '2026-02-03T09:15:00.000Z' });
  for (const bad of ['31/02/2026', '2026-13-01', '12/2026', 'hier', '', '2026-02-03T25:00:00Z', '1234567890123']) assert.equal(lireDate(bad), null, bad);
  fc.assert(fc.property(fc.string(), (s) => void lireDate(s)));
});

test('a period given by days covers the whole last day', () => {
  fc.assert(
    fc.property(jour, (j) => {
      const end = instantFin({ jour: j });
      assert.equal(jourParis(new Date(Date.parse(end) - 1).toISOString()), j);
      assert.notEqual(jourParis(end), j);
    }),
  );
});
