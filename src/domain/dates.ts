/**
 * Calendar dates as ISO strings (`AAAA-MM-JJ`), with no time and no time zone: a QF takes effect
 * on a day, not at an instant, and a string compares and serialises without surprise. The current
 * date is never read here; callers pass it in.
 */
const ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

export interface DateParts {
  readonly year: number;
  readonly month: number; // 1–12
  readonly day: number;
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `null` unless the text is a real calendar date (2023-02-29 is not). */
export function parseIsoDate(text: string): DateParts | null {
  const match = ISO_DATE.exec(text);
  if (!match) return null;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  return { year, month, day };
}

export function isIsoDate(text: unknown): text is string {
  return typeof text === 'string' && parseIsoDate(text) !== null;
}

export function formatIsoDate(parts: DateParts): string {
  return `${String(parts.year).padStart(4, '0')}-${String(parts.month).padStart(2, '0')}-${String(parts.day).padStart(2, '0')}`;
}

const DATE_FRANCAISE = /^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})$/;

/**
 * A date as a person types it: `JJ/MM/AAAA` (also `J/M/AAAA`, or with `.` or `-`), or `AAAA-MM-JJ`
 * as `<input type="date">` sends it. The ISO date, or `null` unless it is a real calendar date.
 */
export function parseDateSaisie(text: string): string | null {
  const value = text.trim();
  const fr = DATE_FRANCAISE.exec(value);
  const iso = fr ? `${fr[3]}-${(fr[2] as string).padStart(2, '0')}-${(fr[1] as string).padStart(2, '0')}` : value;
  return isIsoDate(iso) ? iso : null;
}

function partsOf(date: string): DateParts {
  const parts = parseIsoDate(date);
  if (!parts) throw new RangeError(`Not an ISO date: ${date}`);
  return parts;
}

export function addDays(date: string, days: number): string {
  const { year, month, day } = partsOf(date);
  const d = new Date(Date.UTC(year, month - 1, day + days));
  return formatIsoDate({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

export function firstDayOfNextMonth(date: string): string {
  const { year, month } = partsOf(date);
  return month === 12 ? formatIsoDate({ year: year + 1, month: 1, day: 1 }) : formatIsoDate({ year, month: month + 1, day: 1 });
}

export function yearOf(date: string): number {
  return partsOf(date).year;
}

export function monthOf(date: string): number {
  return partsOf(date).month;
}

/** ISO dates compare as strings; these names make the intent readable. */
export function maxDate(a: string, b: string): string {
  return a >= b ? a : b;
}

const MOIS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];

/** `01/12/2022`: the short French form, as a date is typed in a form and printed on a list. */
export function formatDateCourte(date: string): string {
  const { year, month, day } = partsOf(date);
  return `${String(day).padStart(2, '0')}/${String(month).padStart(2, '0')}/${String(year).padStart(4, '0')}`;
}

/** `1er décembre 2022`, as a French reader expects it. */
export function formatDateFrancaise(date: string): string {
  const { year, month, day } = partsOf(date);
  return `${day === 1 ? '1er' : String(day)} ${MOIS[month - 1]} ${year}`;
}
