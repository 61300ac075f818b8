import { remplacant, statutAttestation, type QuotientDate } from './attestation.ts';

/**
 * One QF in force per family and day: among the family's QFs whose period covers the day, the one
 * recorded last (a new request, a contestation decided, a QF set by an agent), as the billing
 * export reads it. The same rule as the attestation's, so that « Mon espace », « Mes demandes »
 * and the attestation never disagree. The others are history: replaced, expired, or to come.
 */
export type EtatQuotient = 'en_vigueur' | 'remplace' | 'expire' | 'a_venir';

export const LIBELLES_ETAT_QUOTIENT: Record<EtatQuotient, string> = {
  en_vigueur: 'en vigueur',
  remplace: 'remplacé',
  expire: 'expiré',
  a_venir: 'à venir',
};

/** Where a QF comes from, in the family's words: an agent's QF is not said « calculé ». */
export const LIBELLES_ORIGINE_QUOTIENT: Record<string, string> = {
  calcul: 'calculé à partir de l’avis d’imposition transmis par la DGFiP',
  instructeur: 'calculé à partir de l’avis d’imposition transmis par la DGFiP, vérifié par un agent de la commune',
  manuel: 'fixé par un agent de la commune au vu d’un document',
};

/** A QF the policy retained from the CAF or the MSA (issue 17). */
export const ORIGINE_QUOTIENT_CAF = 'transmis par la CAF ou la MSA (API Particulier), retenu par la politique tarifaire de la commune';

/** An instructor's decision, in words. */
export const LIBELLES_DECISION: Record<string, string> = {
  confirme: 'Confirmée : quotient calculé à partir de l’avis',
  qf_manuel: 'Quotient fixé à la main',
  refuse: 'Refusée',
  resaisie: 'Numéro fiscal à saisir de nouveau',
};

export function etatQuotient<T extends QuotientDate>(q: T, tous: readonly T[], aujourdhui: string): EtatQuotient {
  const statut = statutAttestation(q, remplacant(q, tous, aujourdhui) !== undefined, aujourdhui);
  if (statut === 'expiree') return 'expire';
  if (statut === 'remplacee') return 'remplace';
  return q.valideDu > aujourdhui ? 'a_venir' : 'en_vigueur';
}

/** The QF in force on the day (`AAAA-MM-JJ`), if any. */
export function quotientEnVigueur<T extends QuotientDate>(tous: readonly T[], aujourdhui: string): T | undefined {
  return tous.find((q) => etatQuotient(q, tous, aujourdhui) === 'en_vigueur');
}
