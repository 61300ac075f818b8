import { QuotientError } from './errors.ts';
import { addDays, firstDayOfNextMonth, isIsoDate, maxDate, yearOf } from './dates.ts';
import type { RegleQuotient } from './politique-tarifaire.ts';

/**
 * When a QF applies: its validity period (school year or calendar year), the day a newly
 * computed QF takes effect (no retroactivity unless the policy says so), and which income year
 * the avis must be of.
 */

export interface Periode {
  /** First day, `AAAA-MM-JJ`. */
  readonly du: string;
  /** Last day, inclusive. */
  readonly au: string;
}

type RegleValidite = Pick<RegleQuotient, 'dureeValidite' | 'debutAnneeScolaire' | 'priseEffet' | 'retroactivite' | 'anneeRevenus'>;

function requireDate(date: string, field: string): void {
  if (!isIsoDate(date)) {
    throw new QuotientError('invalid', 'date_invalide', 'Date invalide : format attendu AAAA-MM-JJ.', {
      details: [{ path: field, message: 'date attendue au format AAAA-MM-JJ' }],
    });
  }
}

/** The validity period that contains a date. */
export function periodeValidite(regle: RegleValidite, date: string): Periode {
  requireDate(date, 'date');
  const year = yearOf(date);
  if (regle.dureeValidite === 'annee-civile') return { du: `${year}-01-01`, au: `${year}-12-31` };
  const startThisYear = `${year}-${regle.debutAnneeScolaire}`;
  const start = date >= startThisYear ? startThisYear : `${year - 1}-${regle.debutAnneeScolaire}`;
  return { du: start, au: addDays(`${yearOf(start) + 1}-${regle.debutAnneeScolaire}`, -1) };
}

/** The first day a QF requested on `dateDemande` may be billed on, under the policy's rule. */
export function datePriseEffet(regle: RegleValidite, dateDemande: string): string {
  requireDate(dateDemande, 'dateDemande');
  return regle.priseEffet === 'date-de-la-demande' ? dateDemande : firstDayOfNextMonth(dateDemande);
}

/**
 * The days a newly computed QF is used for billing. `debutSouhaite` is the start the family or
 * the campaign aims at (the next rentrée, for a request made in June): the QF never applies
 * before its effective date unless the policy allows retroactivity, and then only back to the
 * start of the validity period of the request.
 */
export function periodeApplication(regle: RegleValidite, demande: { dateDemande: string; debutSouhaite?: string }): Periode {
  const effet = datePriseEffet(regle, demande.dateDemande);
  if (demande.debutSouhaite !== undefined) requireDate(demande.debutSouhaite, 'debutSouhaite');
  let du: string;
  if (regle.retroactivite) {
    du = demande.debutSouhaite ?? periodeValidite(regle, demande.dateDemande).du;
    // Retroactivity reaches back to the start of the current period, never further.
    du = maxDate(du, periodeValidite(regle, demande.dateDemande).du);
  } else {
    du = maxDate(effet, demande.debutSouhaite ?? effet);
  }
  return { du, au: periodeValidite(regle, du).au };
}

/**
 * Income years accepted for a QF applying from `debut`: the year the validity period starts,
 * minus the policy's gap; then the year before when the policy allows falling back on the
 * previous avis (the latest one not yet established, a late declarant).
 */
export function anneesRevenusAcceptees(regle: RegleValidite, debut: string): number[] {
  const periode = periodeValidite(regle, debut);
  const principale = yearOf(periode.du) - regle.anneeRevenus.ecart;
  return regle.anneeRevenus.repliAnneePrecedente ? [principale, principale - 1] : [principale];
}
