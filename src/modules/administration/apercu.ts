import { isQuotientError } from '../../domain/errors.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { baseFromSimulation, computeQuotientFamilial } from '../../domain/quotient-familial.ts';
import { priceActivite, type PrixActivite } from '../../domain/tarification.ts';

/**
 * The preview of a candidate version on test cases, beside the version in force: for each
 * activity and each case, the quotient, the bracket and the price under both. Cases are
 * fictitious (quotients typed by the administrator, or households of the examples below): no
 * family's data is ever used here. Pure.
 */

export type CasTest =
  | { readonly type: 'quotient'; readonly libelle: string; readonly cents: number }
  | {
      readonly type: 'foyer';
      readonly libelle: string;
      readonly rfr: number;
      readonly nbParts: number;
      readonly adultes: number;
      readonly enfants: number;
      readonly resident: boolean;
    };

/** Quotients tried when the administrator types none, in cents. */
export const QUOTIENTS_PAR_DEFAUT = [0, 250_00, 500_00, 750_00, 1000_00, 1250_00, 1500_00, 2000_00, 3000_00];

/** Fictitious households, so that a change of formula (parts, persons, coefficients) shows too. */
export const FOYERS_FISCAUX_FICTIFS: readonly CasTest[] = [
  {
    type: 'foyer',
    libelle: 'Personne seule avec un enfant, revenu fiscal de référence 18 000 €, 2 parts',
    rfr: 18_000,
    nbParts: 2,
    adultes: 1,
    enfants: 1,
    resident: true,
  },
  {
    type: 'foyer',
    libelle: 'Couple avec deux enfants, revenu fiscal de référence 48 000 €, 3 parts',
    rfr: 48_000,
    nbParts: 3,
    adultes: 2,
    enfants: 2,
    resident: true,
  },
  {
    type: 'foyer',
    libelle: 'Couple avec trois enfants, revenu fiscal de référence 75 000 €, 4 parts',
    rfr: 75_000,
    nbParts: 4,
    adultes: 2,
    enfants: 3,
    resident: true,
  },
  {
    type: 'foyer',
    libelle: 'Couple avec deux enfants habitant hors de la commune, revenu fiscal de référence 48 000 €, 3 parts',
    rfr: 48_000,
    nbParts: 3,
    adultes: 2,
    enfants: 2,
    resident: false,
  },
];

export interface Resultat {
  /** The quotient in cents under this version, or null when it cannot be computed. */
  readonly quotient: number | null;
  readonly prix: PrixActivite | null;
  /** Why there is no price: activity absent from this version, or the formula's message. */
  readonly manque: string | null;
}

export interface LigneApercu {
  readonly cas: CasTest;
  readonly enVigueur: Resultat;
  readonly candidate: Resultat;
}

export interface ApercuActivite {
  readonly id: string;
  readonly libelle: string;
  readonly lignes: readonly LigneApercu[];
}

function quotientDe(politique: PolitiqueTarifaire, cas: CasTest): { cents: number } | { erreur: string } {
  if (cas.type === 'quotient') return { cents: cas.cents };
  try {
    const base = baseFromSimulation({ rfr: cas.rfr, nbParts: cas.nbParts, adultes: cas.adultes, enfants: cas.enfants });
    return { cents: computeQuotientFamilial(politique.quotient, base).cents };
  } catch (error) {
    if (isQuotientError(error)) return { erreur: error.message };
    throw error;
  }
}

function resultat(politique: PolitiqueTarifaire, id: string, cas: CasTest): Resultat {
  const qf = quotientDe(politique, cas);
  if ('erreur' in qf) return { quotient: null, prix: null, manque: qf.erreur };
  const activite = politique.activites.find((a) => a.id === id);
  if (!activite) return { quotient: qf.cents, prix: null, manque: 'Activité absente de cette version.' };
  const resident = cas.type === 'foyer' ? cas.resident : true;
  return { quotient: qf.cents, prix: priceActivite(politique, activite, { quotient: { cents: qf.cents }, resident }), manque: null };
}

/** Every activity of either version (the candidate's order first), each case under both versions. */
export function calculerApercu(enVigueur: PolitiqueTarifaire, candidate: PolitiqueTarifaire, cas: readonly CasTest[]): ApercuActivite[] {
  const activites = [...candidate.activites, ...enVigueur.activites.filter((a) => !candidate.activites.some((c) => c.id === a.id))];
  return activites.map((a) => ({
    id: a.id,
    libelle: a.libelle,
    lignes: cas.map((c) => ({ cas: c, enVigueur: resultat(enVigueur, a.id, c), candidate: resultat(candidate, a.id, c) })),
  }));
}
