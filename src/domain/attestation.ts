import type { PrixActivite } from './tarification.ts';

/*
 * The attestation of quotient familial, pure: its verification code (drawn from random bytes the
 * caller gives), what it says, and whether the QF it attests still holds on a day. The family and
 * the counter print the same one; anyone checks its code on the public page /verifier.
 */

/**
 * Letters and digits that cannot be misread: no 0/O, 1/I/L, nor U (read as V). 30 signs, 12 of
 * them in a code: about 2⁵⁹ codes, far beyond guessing at a throttled page.
 */
export const ALPHABET_CODE = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
export const LONGUEUR_CODE = 12;
/** How a code is shown: three groups of four, `7KQ4-M2XH-9TRC`. */
export const EXEMPLE_CODE = '7KQ4-M2XH-9TRC';

/**
 * A code from random bytes, each used only below 240 (a multiple of 30) so that every sign is
 * equally likely; null when the bytes ran out first (the caller draws more).
 */
export function codeDepuisOctets(octets: Uint8Array): string | null {
  let code = '';
  for (const octet of octets) {
    if (octet >= 240) continue;
    code += ALPHABET_CODE[octet % ALPHABET_CODE.length];
    if (code.length === LONGUEUR_CODE) return formaterCode(code);
  }
  return null;
}

/** `7KQ4M2XH9TRC` → `7KQ4-M2XH-9TRC`. */
export function formaterCode(brut: string): string {
  return brut.match(/.{1,4}/g)?.join('-') ?? brut;
}

const SEPARATEURS = /[\s\-‐‑‒–—_.·/]+/g;

/**
 * The code as a person may type or read it (lower case, spaces or dashes anywhere, the dash of a
 * word processor), in its canonical form; null when it cannot be a code (wrong length, a sign
 * outside the alphabet). Long or odd input is refused without being looked at further.
 */
export function normaliserCode(saisie: unknown): string | null {
  if (typeof saisie !== 'string' || saisie.length > 64) return null;
  const brut = saisie.normalize('NFKC').replace(SEPARATEURS, '').toUpperCase();
  if (brut.length !== LONGUEUR_CODE) return null;
  for (const c of brut) if (!ALPHABET_CODE.includes(c)) return null;
  return formaterCode(brut);
}

/** A recorded QF as the attestation needs to date it: when it was recorded, and its period. */
export interface QuotientDate {
  /** ISO 8601 instant. */
  readonly calculeLe: string;
  /** `AAAA-MM-JJ`, inclusive. */
  readonly valideDu: string;
  readonly valideAu: string;
}

export type StatutAttestation = 'valable' | 'expiree' | 'remplacee';

/**
 * The QF recorded after this one that applies on the day (`AAAA-MM-JJ`; for a QF not started yet,
 * on its first day): a new request, a contestation decided, a QF set by an agent. The newest wins,
 * as in the billing export. A later QF that starts next month replaces nothing before then (the
 * current one is still billed until it starts), nor does one for a later, separate period.
 */
export function remplacant<T extends QuotientDate>(q: QuotientDate, autres: readonly T[], aujourdhui: string): T | undefined {
  const jour = q.valideDu > aujourdhui ? q.valideDu : aujourdhui;
  return autres
    .filter((a) => a.calculeLe > q.calculeLe && a.valideDu <= jour && a.valideAu >= jour)
    .reduce<T | undefined>((plusRecent, a) => (plusRecent === undefined || a.calculeLe > plusRecent.calculeLe ? a : plusRecent), undefined);
}

/**
 * Whether an attestation holds on a day (`AAAA-MM-JJ`): its QF gone (purged) or its period over
 * is `expiree`, else a later QF over the same period makes it `remplacee`.
 */
export function statutAttestation(q: QuotientDate | null, remplacee: boolean, aujourdhui: string): StatutAttestation {
  if (q === null || q.valideAu < aujourdhui) return 'expiree';
  return remplacee ? 'remplacee' : 'valable';
}

/**
 * Where the QF comes from, in the attestation's words: the DGFiP's avis (the year of the avis, the
 * income year in brackets), or an agent who saw a document.
 */
export function sourceAttestation(
  origine: string,
  anneesRevenus: ReadonlyArray<number | null>,
  choix: { readonly sourceRetenue: string | null; readonly raisonSource: string | null } = { sourceRetenue: null, raisonSource: null },
): string {
  if (origine === 'manuel') return 'fixé par un agent de la commune au vu d’un document';
  // The policy chose between two QFs (issue 17): which one was retained, never the other's value.
  // A reason with an amount (a row recorded before the reason was kept value-free) is left out.
  const pourquoi = choix.raisonSource && !choix.raisonSource.includes('€') ? ` — ${choix.raisonSource}` : '';
  if (choix.sourceRetenue === 'caf') return `CAF ou MSA, quotient familial transmis par l’API Particulier${pourquoi}`;
  const annees = [...new Set(anneesRevenus.filter((a): a is number => a !== null))].sort((a, b) => b - a);
  const nombre = anneesRevenus.length > 1 && annees.length === 1 ? `${anneesRevenus.length} avis` : 'avis';
  const avis = annees.length === 0 ? 'DGFiP, avis d’imposition' : `DGFiP, ${nombre} d’imposition ${annees.map((a) => `${a + 1} (revenus ${a})`).join(' et ')}`;
  const base = origine === 'instructeur' ? `${avis}, vérifié par un agent de la commune` : avis;
  return choix.sourceRetenue === 'fiscal' && choix.raisonSource && !choix.raisonSource.startsWith('La commune tarifie sur le quotient calculé')
    ? `${base}${pourquoi}`
    : base;
}

/** One activity's line: its tranche in words and its price. */
export interface LigneAttestation {
  readonly prix: PrixActivite;
  readonly tranche: string;
}

/** What an attestation says, for its page and its PDF alike. No RFR, no numéro fiscal. */
export interface Attestation {
  readonly statut: 'valable';
  readonly id: string;
  /** `7KQ4-M2XH-9TRC`. */
  readonly code: string;
  /** The public page that checks it, with the code: what the QR code holds. */
  readonly urlVerification: string;
  /** The public page's address without the code, to type it there. */
  readonly urlVerifier: string;
  readonly commune: string;
  readonly familleReference: string;
  readonly demandeReference: string;
  readonly demandeId: string;
  /** The parents' names, as the household declares them. */
  readonly titulaires: readonly string[];
  readonly quotient: { readonly cents: number; readonly periode: string };
  readonly validite: { readonly du: string; readonly au: string };
  readonly lignes: readonly LigneAttestation[];
  readonly source: string;
  /** The day this copy was made, `AAAA-MM-JJ` (Paris). */
  readonly etablieLe: string;
  readonly contact: { readonly service: string; readonly email: string; readonly telephone: string | null };
}

/** A QF whose attestation can no longer be made: why, and the request whose QF replaced it. */
export interface AttestationHorsVigueur {
  readonly statut: 'expiree' | 'remplacee';
  readonly demandeId: string;
  readonly demandeReference: string;
  readonly validite: { readonly du: string; readonly au: string };
  readonly remplacePar?: { readonly demandeId: string; readonly reference: string };
}

/** What the public page may say of a code: only whether it holds, the tranche and the period. */
export type Verification =
  | { readonly statut: 'inconnue' }
  | {
      readonly statut: StatutAttestation;
      readonly commune: string;
      readonly validite: { readonly du: string; readonly au: string };
      /** Valid only: each activity's tranche in words. */
      readonly tranches?: ReadonlyArray<{ readonly activite: string; readonly tranche: string }>;
      /**
       * Valid only, and only when a price is proportional to the QF (taux d'effort): no tranche
       * then says the price, the QF does.
       */
      readonly quotient?: { readonly cents: number; readonly periode: string };
    };

/** The tranche of a price, or in words why it has none (non-resident or unknown QF price, taux d'effort). */
export const libelleTranche = (p: Pick<PrixActivite, 'origine' | 'tranche'>) =>
  p.tranche ?? (p.origine === 'non-resident' ? 'prix hors commune' : p.origine === 'sans-quotient' ? 'prix sans quotient' : 'taux d’effort');

/** The same for the public page, which names the tranche as such: « tranche 3 », « tarif au taux d’effort ». */
export const trancheEnMots = (p: Pick<PrixActivite, 'origine' | 'tranche'>) =>
  p.tranche !== null ? `tranche ${p.tranche}` : prixAuTauxEffort(p) ? 'tarif au taux d’effort' : libelleTranche(p);

/** Does a price follow the QF itself, with no tranche to name (taux d'effort)? */
export function prixAuTauxEffort(p: Pick<PrixActivite, 'origine' | 'tranche'>): boolean {
  return p.origine === 'grille' && p.tranche === null;
}
