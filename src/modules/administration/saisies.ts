import { eurosToCents } from '../../domain/money.ts';

/**
 * What administrators type in the preview form of the administration: a list of quotients to try.
 * Pure parsing, no I/O; it answers with errors rather than throw.
 */

/** A preview tries at most this many quotients: the table stays readable. */
export const MAX_QUOTIENTS = 20;

export interface QuotientsSaisis {
  /** In cents, in the order typed, without duplicates. */
  readonly cents: readonly number[];
  readonly erreurs: readonly string[];
}

/**
 * Quotients in euros, separated by `;` or line breaks: `500 ; 1 333,33 ; 2000 €`. Spaces inside
 * a number (thousands) and the euro sign are ignored; the decimal mark is `,` or `.`.
 */
export function parseQuotients(text: string): QuotientsSaisis {
  const cents: number[] = [];
  const erreurs: string[] = [];
  const morceaux = text
    .split(/[;\n\r]+/)
    .map((m) => m.trim())
    .filter((m) => m !== '');
  for (const morceau of morceaux) {
    if (cents.length >= MAX_QUOTIENTS) {
      erreurs.push(`Au plus ${MAX_QUOTIENTS} quotients à la fois : les suivants sont ignorés.`);
      break;
    }
    const nombre = morceau
      .replace(/[\s\u00a0\u202f]/g, '')
      .replace(/€$/, '')
      .replace(',', '.');
    const euros = /^[0-9]{1,7}(?:\.[0-9]{1,2})?$/.test(nombre) ? Number(nombre) : Number.NaN;
    const c = Number.isFinite(euros) ? eurosToCents(euros) : null;
    if (c === null) {
      erreurs.push(`« ${morceau.length > 30 ? `${morceau.slice(0, 30)}…` : morceau} » n’est pas un montant en euros (par exemple 1 250,50).`);
      continue;
    }
    if (!cents.includes(c)) cents.push(c);
  }
  return { cents, erreurs };
}
