import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';
import type { Acteur } from '../audit/index.ts';

/**
 * What the renewal campaign needs from the standing consents for renewal (issue 14, first part):
 * the families whose consent is in force and whose QF expires, each foyer fiscal to ask for by état
 * civil (the declarant's kept état civil, decrypted in memory only), and the consent that covers
 * the call. The composition root adapts the consents' own module to it (`src/app/renouvellements-campagnes.ts`);
 * `AUCUN_RENOUVELLEMENT` answers that no family has one (a renewal campaign is then empty, and an
 * imported line without its signed form is an error).
 */

/** The consent a call leans on, as the request records it (a copy: the standing consent stays the reference). */
export interface AccordPermanent {
  readonly id: string;
  readonly mode: 'en_ligne' | 'formulaire_signe';
  readonly donnePar: { readonly type: 'famille' | 'agent'; readonly id: string };
  /** For a signed form: what was received. Null online. */
  readonly piece: string | null;
  /** ISO instant. */
  readonly recueilliLe: string;
  readonly versionTexte: string;
}

export interface FoyerARenouveler {
  /** The declarant (parent 1 or 2 of the family). */
  readonly rang: 1 | 2;
  readonly etatCivil: EtatCivil;
  readonly accord: AccordPermanent;
}

export interface RenouvellementDu {
  readonly familleId: string;
  /** Quotient's reference of the family (`F-…`), which the report names. */
  readonly reference: string;
  /** One entry per foyer fiscal to call: a couple filing jointly is one. */
  readonly foyers: readonly FoyerARenouveler[];
  /**
   * Declarants whose standing consent is in force but whose état civil is not kept (none of their
   * requests was matched since): nobody is called for the family, which must be asked again; the
   * item's outcome says so (`a_redemander`).
   */
  readonly aRedemander?: readonly (1 | 2)[];
}

export interface SourceRenouvellements {
  /**
   * Families with a standing consent in force whose QF expires before `date` (AAAA-MM-JJ) or who
   * have none; reading their kept état civil is journaled in `acteur`'s name.
   */
  renouvellementsDus(date: string, acteur?: Acteur): Promise<readonly RenouvellementDu[]>;
  /** The standing consents in force for a family on `le` (ISO instant), by declarant; empty without. */
  accordsEnVigueur(familleId: string, le: string): Promise<ReadonlyArray<{ readonly rang: 1 | 2; readonly accord: AccordPermanent }>>;
  /** True while this standing consent is in force at `le` (not withdrawn, not expired): checked before each call. */
  enVigueur(accordId: string, le: string): Promise<boolean>;
}

export const AUCUN_RENOUVELLEMENT: SourceRenouvellements = {
  renouvellementsDus: () => Promise.resolve([]),
  accordsEnVigueur: () => Promise.resolve([]),
  enVigueur: () => Promise.resolve(false),
};
