/**
 * Dates typed by an auditor (« 03/02/2026 » or « 2026-02-03 », or an ISO instant) and the instants
 * they stand for. A day is a day in France: « du 03/02 au 04/02 » covers 03/02 00:00 to 05/02 00:00,
 * Paris time, whatever the season; the journal itself is kept in UTC.
 */
import { formatIsoDate, isIsoDate, parseIsoDate } from '../../domain/dates.ts';

export type DateSaisie = { readonly jour: string } | { readonly instant: string };

const FRANCAISE = /^([0-9]{1,2})\/([0-9]{1,2})\/([0-9]{4})$/;
const INSTANT = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,3})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})$/;

/** A calendar day (`AAAA-MM-JJ`) or an exact instant; null when the text is neither. */
export function lireDate(text: string): DateSaisie | null {
  const t = text.trim();
  const fr = FRANCAISE.exec(t);
  if (fr) {
    const jour = formatIsoDate({ year: Number(fr[3]), month: Number(fr[2]), day: Number(fr[1]) });
    return isIsoDate(jour) ? { jour } : null;
  }
  if (parseIsoDate(t) !== null) return { jour: t };
  if (INSTANT.test(t)) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) || parseIsoDate(t.slice(0, 10)) === null ? null : { instant: new Date(ms).toISOString() };
  }
  return null;
}

/** The years an auditor's period may name: beyond them the day after (« au 31/12/9999 ») has no date. */
export const ANNEE_MIN = 1900;
export const ANNEE_MAX = 2999;

export function dansLesBornes(d: DateSaisie): boolean {
  const annee = Number(('jour' in d ? d.jour : d.instant).slice(0, 4));
  return annee >= ANNEE_MIN && annee <= ANNEE_MAX;
}

const parisParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Europe/Paris',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Paris's offset from UTC at an instant, in milliseconds (+1 h in winter, +2 h in summer). */
function parisOffsetMs(ms: number): number {
  const parts = Object.fromEntries(parisParts.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant a day starts in France, as ISO-8601 UTC. */
export function debutJourParis(jour: string): string {
  const p = parseIsoDate(jour);
  if (!p) throw new RangeError(`Not an ISO date: ${jour}`);
  const utcMidnight = Date.UTC(p.year, p.month - 1, p.day);
  let at = utcMidnight - parisOffsetMs(utcMidnight);
  const again = parisOffsetMs(at);
  if (again !== parisOffsetMs(utcMidnight)) at = utcMidnight - again;
  // Clocks change at 2 h or 3 h today, but in 1976 summer time ended at 1 h: midnight came twice, and the day starts at the first.
  const uneHeureAvant = at - 3600_000;
  if (jourParis(new Date(uneHeureAvant).toISOString()) === jour) at = uneHeureAvant;
  return new Date(at).toISOString();
}

function lendemain(jour: string): string {
  const p = parseIsoDate(jour) as NonNullable<ReturnType<typeof parseIsoDate>>;
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  return formatIsoDate({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

/** The first instant of a period starting with this date (included). */
export function instantDebut(d: DateSaisie): string {
  return 'jour' in d ? debutJourParis(d.jour) : d.instant;
}

/** The instant a period ending with this date stops (excluded): the whole day when a day is given. */
export function instantFin(d: DateSaisie): string {
  return 'jour' in d ? debutJourParis(lendemain(d.jour)) : d.instant;
}

/** The day in France of an instant (`AAAA-MM-JJ`). */
export function jourParis(iso: string): string {
  const parts = Object.fromEntries(parisParts.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

const affichage = new Intl.DateTimeFormat('fr-FR', {
  timeZone: 'Europe/Paris',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** « 03/02/2026 14:05:09 », Paris time, for pages and exports. */
export function dateHeureParis(iso: string): string {
  return affichage.format(new Date(iso));
}

/** « 03/02/2026 » for a day `AAAA-MM-JJ`. */
export function jourFrancais(jour: string): string {
  return `${jour.slice(8, 10)}/${jour.slice(5, 7)}/${jour.slice(0, 4)}`;
}

/** What a date typed by a person is, for a summary: « 03/02/2026 » or the instant. */
export function dateLisible(d: DateSaisie): string {
  return 'jour' in d ? jourFrancais(d.jour) : d.instant;
}
