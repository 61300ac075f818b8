import { QuotientError } from '../domain/errors.ts';

/**
 * The sandbox's calendar: which income years exist "today", on an injectable clock so that tests
 * can stand before or after the taxation date. Dates are read in Europe/Paris, the DGFiP's time.
 */

/** Milliseconds since the epoch, like `Date.now`. Every time-dependent rule of the sandbox reads it. */
export type Clock = () => number;

/** Day of the year from which the income year N-1 is taxed, hence served (22 July in 2024 and 2025). */
export interface TaxationDate {
  readonly month: number;
  readonly day: number;
}

export const DEFAULT_TAXATION_DATE: TaxationDate = { month: 7, day: 22 };

export interface ParisDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const parisFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Paris',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

export function parisDateTime(ms: number): ParisDateTime {
  const parts: Record<string, number> = {};
  for (const part of parisFormat.formatToParts(new Date(ms))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? 1970,
    month: parts.month ?? 1,
    day: parts.day ?? 1,
    hour: parts.hour ?? 0,
    minute: parts.minute ?? 0,
    second: parts.second ?? 0,
  };
}

export function validateTaxationDate(date: TaxationDate): void {
  const probe = new Date(Date.UTC(2001, date.month - 1, date.day));
  if (!Number.isInteger(date.month) || !Number.isInteger(date.day) || probe.getUTCMonth() !== date.month - 1 || probe.getUTCDate() !== date.day) {
    throw new QuotientError(
      'invalid',
      'configuration_bac_a_sable',
      `Date de taxation invalide : ${date.day}/${date.month} (jour et mois d’une année non bissextile attendus).`,
    );
  }
}

/** The calendar year of the sandbox clock (the "N" of "N-1"). */
export function calendarYear(ms: number): number {
  return parisDateTime(ms).year;
}

/** The most recent income year that is taxed at `ms`: N-1 from the taxation date, N-2 before it. */
export function latestTaxedYear(ms: number, taxation: TaxationDate): number {
  const now = parisDateTime(ms);
  const reached = now.month > taxation.month || (now.month === taxation.month && now.day >= taxation.day);
  return reached ? now.year - 1 : now.year - 2;
}

export function isTaxed(annrev: number, ms: number, taxation: TaxationDate): boolean {
  return annrev <= latestTaxedYear(ms, taxation);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2022-01-20T13:03:01`: the shape of `horodatage` in the DGFiP error bodies (local time, no offset). */
export function horodatage(ms: number): string {
  const t = parisDateTime(ms);
  return `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

/** ISO calendar date `YYYY-MM-DD` of a day given by its parts (month 1–12), normalising overflow. */
export function isoDate(year: number, month: number, day: number): string {
  const d = new Date(Date.UTC(year, month - 1, day));
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
