/**
 * Which income year the DGFiP can already answer for. The avis of income year N-1 exists from
 * its taxation date in year N (22 July in 2024 and 2025, configurable); before it, the latest is
 * N-2. Dates are calendar dates in France (`AAAA-MM-JJ`), computed by the caller.
 */
import { QuotientError } from './errors.ts';
import { parseIsoDate } from './dates.ts';

export interface DateTaxation {
  readonly mois: number;
  readonly jour: number;
}

export const DATE_TAXATION_PAR_DEFAUT: DateTaxation = { mois: 7, jour: 22 };

export function derniereAnneeImposee(aujourdhui: string, taxation: DateTaxation = DATE_TAXATION_PAR_DEFAUT): number {
  const date = parseIsoDate(aujourdhui);
  if (date === null) throw new QuotientError('invalid', 'date_invalide', `Date invalide : ${aujourdhui} (AAAA-MM-JJ attendu).`);
  const taxed = date.month > taxation.mois || (date.month === taxation.mois && date.day >= taxation.jour);
  return taxed ? date.year - 1 : date.year - 2;
}

/** True when `anneeRevenus` cannot have an avis yet at that date (the year not yet taxed). */
export function anneePasEncoreImposee(anneeRevenus: number, aujourdhui: string, taxation: DateTaxation = DATE_TAXATION_PAR_DEFAUT): boolean {
  return anneeRevenus > derniereAnneeImposee(aujourdhui, taxation);
}
