import { LIBELLES_ORIGINE_QUOTIENT, ORIGINE_QUOTIENT_CAF, etatQuotient, type EtatQuotient } from '../../domain/quotient-en-vigueur.ts';
import type { PrixActivite } from '../../domain/tarification.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { FamillesDeps } from './familles-repo.ts';

/** One QF of the family as the family reads it: value, period, prices, where it comes from, whether it is the one in force. Never the RFR. */
export interface QuotientFamille {
  readonly demandeId: string;
  readonly reference: string;
  readonly cents: number;
  readonly periode: string;
  readonly valideDu: string;
  readonly valideAu: string;
  readonly calculeLe: string;
  readonly prix: readonly PrixActivite[];
  /** `calcul`, `instructeur` or `manuel`, and its words. */
  readonly origine: string;
  readonly source: string;
  readonly etat: EtatQuotient;
}

/** Every QF of a family, newest first, each with its state on the day (Paris). */
export async function quotientsDeLaFamille(deps: FamillesDeps, familleId: string): Promise<QuotientFamille[]> {
  const rows = await deps.db
    .selectFrom('quotients')
    .innerJoin('demandes', 'demandes.id', 'quotients.demande_id')
    .select([
      'quotients.demande_id',
      'demandes.reference',
      'quotients.valeur_cents',
      'quotients.periode',
      'quotients.valide_du',
      'quotients.valide_au',
      'quotients.calcule_le',
      'quotients.prix',
      'quotients.origine',
      'quotients.source_retenue',
    ])
    .where('quotients.famille_id', '=', familleId)
    .orderBy('quotients.calcule_le', 'desc')
    .execute();
  const dates = rows.map((r) => ({ id: r.demande_id, calculeLe: r.calcule_le, valideDu: r.valide_du, valideAu: r.valide_au }));
  const aujourdhui = parisDate((deps.clock ?? Date.now)());
  return rows.map((r, i) => ({
    demandeId: r.demande_id,
    reference: r.reference,
    cents: r.valeur_cents,
    periode: r.periode,
    valideDu: r.valide_du,
    valideAu: r.valide_au,
    calculeLe: r.calcule_le,
    prix: JSON.parse(r.prix) as PrixActivite[],
    origine: r.origine,
    // A QF the policy took from the CAF or the MSA (issue 17) is not said to come from the avis.
    source: r.source_retenue === 'caf' ? ORIGINE_QUOTIENT_CAF : (LIBELLES_ORIGINE_QUOTIENT[r.origine] ?? r.origine),
    etat: etatQuotient(dates[i] as (typeof dates)[number], dates, aujourdhui),
  }));
}
