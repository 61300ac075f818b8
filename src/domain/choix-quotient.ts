import { formatEuros } from './money.ts';
import { LIBELLES_FOURNISSEUR, libelleMoisReference, type QuotientCaf } from './quotient-caf.ts';

/**
 * Which QF prices the family, as the commune's policy says (`quotient.source`): the one computed
 * from the avis d'imposition (DGFiP), the CAF's or MSA's, the lower of the two (the more favourable:
 * every grid's price grows with the QF), or the CAF's when the family is an allocataire and the
 * fiscal one otherwise. The reason is one French sentence the family and the instructor read.
 */

export const SOURCES_QUOTIENT = ['fiscal', 'caf', 'le-plus-favorable', 'caf-sinon-fiscal'] as const;
export type SourceQuotient = (typeof SOURCES_QUOTIENT)[number];

export const LIBELLES_SOURCE_QUOTIENT: Record<SourceQuotient, string> = {
  fiscal: 'le quotient calculé à partir de l’avis d’imposition',
  caf: 'le quotient familial de la CAF ou de la MSA',
  'le-plus-favorable': 'le plus favorable des deux quotients (avis d’imposition ou CAF/MSA)',
  'caf-sinon-fiscal': 'le quotient de la CAF ou de la MSA pour les allocataires, sinon celui de l’avis d’imposition',
};

/** Whether the source needs the DGFiP, the caisses, or both. */
export function sourcesInterrogees(source: SourceQuotient): { readonly fiscal: boolean; readonly caf: boolean } {
  return { fiscal: source !== 'caf', caf: source !== 'fiscal' };
}

export interface QuotientsCandidats {
  /** The fiscal QF in cents (already computed by the policy's formula), or null when there is none. */
  readonly fiscalCents: number | null;
  readonly caf: QuotientCaf | null;
}

export interface QuotientRetenu {
  readonly origine: 'fiscal' | 'caf';
  readonly cents: number;
  /** Why this one, in French; may quote both values (the silo's explanation, for the family and the instructor). */
  readonly raison: string;
  /**
   * The same without any value: what the QF row keeps and the attestation, handed to third
   * parties, prints (which source was retained, never the other QF).
   */
  readonly motif: string;
  /** Both values, for the instructor, who sees both when both exist. */
  readonly fiscalCents: number | null;
  readonly cafCents: number | null;
}

const cafCents = (caf: QuotientCaf): number => caf.valeurEuros * 100;
const nomCaf = (caf: QuotientCaf): string => `${LIBELLES_FOURNISSEUR[caf.fournisseur]} (${libelleMoisReference(caf.moisReference)})`;

/** The QF the policy retains, or null when none of those it accepts exists (then: the highest price). */
export function choisirQuotient(source: SourceQuotient, c: QuotientsCandidats): QuotientRetenu | null {
  const both = { fiscalCents: c.fiscalCents, cafCents: c.caf ? cafCents(c.caf) : null };
  const fiscal = (raison: string, motif = raison): QuotientRetenu | null =>
    c.fiscalCents === null ? null : { origine: 'fiscal', cents: c.fiscalCents, raison, motif, ...both };
  const caf = (raison: string, motif = raison): QuotientRetenu | null =>
    c.caf === null ? null : { origine: 'caf', cents: cafCents(c.caf), raison, motif, ...both };
  switch (source) {
    case 'fiscal':
      return fiscal('La commune tarifie sur le quotient calculé à partir de l’avis d’imposition.');
    case 'caf':
      return c.caf ? caf(`La commune tarifie sur le quotient familial de ${nomCaf(c.caf)}.`) : null;
    case 'caf-sinon-fiscal':
      if (c.caf) return caf(`La famille est allocataire : la commune retient le quotient familial de ${nomCaf(c.caf)}.`);
      return fiscal('Aucun quotient de la CAF ou de la MSA n’a été trouvé : la commune retient le quotient calculé à partir de l’avis d’imposition.');
    case 'le-plus-favorable': {
      if (c.caf && c.fiscalCents !== null) {
        const k = cafCents(c.caf);
        const comparaison = `quotient de ${nomCaf(c.caf)} : ${formatEuros(k)} ; quotient de l’avis d’imposition : ${formatEuros(c.fiscalCents)}`;
        // Equal values: the fiscal one, the commune's default source.
        const favorable = (nom: string) => `Le quotient de ${nom} est le plus favorable`;
        if (k < c.fiscalCents) {
          const nom = LIBELLES_FOURNISSEUR[c.caf.fournisseur];
          return caf(`${favorable(nom)} (${comparaison}).`, `${favorable(nom)} des deux : il est retenu.`);
        }
        if (k === c.fiscalCents) {
          const retenu = 'celui de l’avis d’imposition est retenu.';
          return fiscal(`Les deux quotients sont égaux (${comparaison}) : ${retenu}`, `Les deux quotients sont égaux : ${retenu}`);
        }
        return fiscal(`${favorable('l’avis d’imposition')} (${comparaison}).`, `${favorable('l’avis d’imposition')} des deux : il est retenu.`);
      }
      if (c.caf) return caf(`Seul le quotient de ${nomCaf(c.caf)} est disponible : il est retenu.`);
      return fiscal('Seul le quotient calculé à partir de l’avis d’imposition est disponible : il est retenu.');
    }
  }
}
