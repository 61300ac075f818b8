import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuotientError } from './errors.ts';
import { parsePolitiqueTarifaire, type RegleQuotient } from './politique-tarifaire.ts';
import { anneesRevenusAcceptees, datePriseEffet, periodeApplication, periodeValidite } from './validite-quotient.ts';
import { politiqueInput, withChanges } from './test-support.ts';

type Changes = Partial<Pick<RegleQuotient, 'dureeValidite' | 'debutAnneeScolaire' | 'priseEffet' | 'retroactivite' | 'anneeRevenus'>>;

function regle(changes: Changes = {}): RegleQuotient {
  return parsePolitiqueTarifaire(withChanges(politiqueInput(), { quotient: changes })).quotient;
}

test('a school year runs from 1 September to 31 August; a calendar year from January to December', () => {
  assert.deepEqual(periodeValidite(regle(), '2025-08-31'), { du: '2024-09-01', au: '2025-08-31' });
  assert.deepEqual(periodeValidite(regle(), '2025-09-01'), { du: '2025-09-01', au: '2026-08-31' });
  assert.deepEqual(periodeValidite(regle({ debutAnneeScolaire: '08-25' }), '2025-08-26'), { du: '2025-08-25', au: '2026-08-24' });
  assert.deepEqual(periodeValidite(regle({ dureeValidite: 'annee-civile' }), '2025-03-15'), { du: '2025-01-01', au: '2025-12-31' });
});

test('a new QF takes effect on the request day or on the first day of the next month', () => {
  assert.equal(datePriseEffet(regle(), '2025-10-15'), '2025-10-15');
  assert.equal(datePriseEffet(regle({ priseEffet: 'premier-jour-du-mois-suivant' }), '2025-12-15'), '2026-01-01');
});

test('without retroactivity a QF computed in October is not applied to September', () => {
  assert.deepEqual(periodeApplication(regle(), { dateDemande: '2025-10-15', debutSouhaite: '2025-09-01' }), { du: '2025-10-15', au: '2026-08-31' });
});

test('with retroactivity it goes back to the start of the school year, never to the previous one', () => {
  const r = regle({ retroactivite: true });
  assert.deepEqual(periodeApplication(r, { dateDemande: '2025-10-15' }), { du: '2025-09-01', au: '2026-08-31' });
  assert.deepEqual(periodeApplication(r, { dateDemande: '2025-10-15', debutSouhaite: '2025-03-01' }), { du: '2025-09-01', au: '2026-08-31' });
});

test('a request made in June for the next rentrée applies from the rentrée, for the whole school year', () => {
  assert.deepEqual(periodeApplication(regle(), { dateDemande: '2025-06-10', debutSouhaite: '2025-09-01' }), { du: '2025-09-01', au: '2026-08-31' });
  // Month-after rule: a request on 31 August still applies from 1 September.
  const moisSuivant = regle({ priseEffet: 'premier-jour-du-mois-suivant' });
  assert.deepEqual(periodeApplication(moisSuivant, { dateDemande: '2025-08-31' }), { du: '2025-09-01', au: '2026-08-31' });
});

test('tricky case: the income year expected, with a fallback on the previous avis when the policy allows it', () => {
  assert.deepEqual(anneesRevenusAcceptees(regle(), '2025-09-01'), [2024]);
  assert.deepEqual(anneesRevenusAcceptees(regle(), '2026-03-01'), [2024]);
  assert.deepEqual(anneesRevenusAcceptees(regle({ anneeRevenus: { ecart: 1, repliAnneePrecedente: true } }), '2025-09-01'), [2024, 2023]);
  assert.deepEqual(anneesRevenusAcceptees(regle({ anneeRevenus: { ecart: 2, repliAnneePrecedente: false } }), '2024-09-01'), [2022]);
});

test('an invalid date is a typed error naming the field', () => {
  assert.throws(
    () => periodeApplication(regle(), { dateDemande: '2025-02-30' }),
    (e) => e instanceof QuotientError && e.kind === 'invalid' && e.details[0]?.path === 'dateDemande',
  );
});

test('property: the application period starts on or after the effective date unless retroactive, and lies in one validity period', () => {
  const date = fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10));
  const regles = [
    regle(),
    regle({ retroactivite: true }),
    regle({ priseEffet: 'premier-jour-du-mois-suivant' }),
    regle({ dureeValidite: 'annee-civile', priseEffet: 'premier-jour-du-mois-suivant' }),
  ];
  fc.assert(
    fc.property(fc.constantFrom(...regles), date, fc.option(date, { nil: undefined }), (r, dateDemande, debutSouhaite) => {
      const p = periodeApplication(r, { dateDemande, debutSouhaite });
      assert.ok(p.du <= p.au);
      assert.deepEqual(periodeValidite(r, p.du).au, p.au);
      if (!r.retroactivite) assert.ok(p.du >= datePriseEffet(r, dateDemande));
      else assert.ok(p.du >= periodeValidite(r, dateDemande).du);
    }),
  );
});
