import type { Kysely } from 'kysely';
import { ISSUES, LIBELLES_ISSUE, type IssueElement } from '../../domain/campagne.ts';
import type { CsvValue } from '../../infra/csv/csv.ts';
import type { Schema } from '../../infra/db/schema.ts';

/**
 * The campaign's report, for the commune's family software: per item its reference there, what
 * became of it, the bracket of the new QF and the request to look at in Quotient. No fiscal value
 * (neither the revenue nor the QF's amount), nothing about the état civil.
 */
export const ENTETE_RAPPORT: readonly CsvValue[] = ['reference', 'resultat', 'libelle_resultat', 'tranche', 'demande', 'traite_le'];

const LOT = 500;

export async function* lignesRapport(db: Kysely<Schema>, campagneId: string): AsyncGenerator<readonly CsvValue[]> {
  let apres = 0;
  for (;;) {
    const rows = await db
      .selectFrom('campagne_elements as e')
      .leftJoin('campagne_resultats as r', 'r.element_id', 'e.id')
      .leftJoin('demandes as d', 'd.id', 'r.demande_id')
      .select(['e.rang', 'e.reference', 'r.issue', 'r.tranche', 'r.enregistre_le', 'd.reference as demande'])
      .where('e.campagne_id', '=', campagneId)
      .where('e.rang', '>', apres)
      .orderBy('e.rang')
      .limit(LOT)
      .execute();
    for (const r of rows) {
      const issue = r.issue !== null && (ISSUES as readonly string[]).includes(r.issue) ? (r.issue as IssueElement) : null;
      yield [r.reference, issue ?? 'non_traite', issue ? LIBELLES_ISSUE[issue] : 'Non traité', r.tranche, r.demande, r.enregistre_le];
    }
    if (rows.length < LOT) return;
    apres = (rows[rows.length - 1] as { rang: number }).rang;
  }
}
