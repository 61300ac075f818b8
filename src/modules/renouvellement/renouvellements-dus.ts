import type { Kysely } from 'kysely';
import type { ConsentementRenouvellement } from '../../domain/consentement-renouvellement.ts';
import { isIsoDate } from '../../domain/dates.ts';
import { QuotientError } from '../../domain/errors.ts';
import type { EtatCivilConserve } from '../../domain/etat-civil-conserve.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import { lireConsentement, lireEtatCivil } from './renouvellement-repo.ts';

/**
 * Which families are due for renewal. At least one of the two criteria: a family is due when its
 * latest QF ends before `quotientAvant` (or it has none), or when it has no QF computed from the
 * avis of income year `sansAvisDe`.
 */
export interface CriteresRenouvellement {
  /** `AAAA-MM-JJ`: the QF in force must last at least until this day. */
  readonly quotientAvant?: string;
  /** The income year the campaign renews (the avis of the year after it). */
  readonly sansAvisDe?: number;
}

/** One declarant of a family due: their standing consent (to check with `exigerRenouvellement`) and kept état civil. */
export interface DeclarantARenouveler {
  readonly rang: 1 | 2;
  readonly consentementId: string;
  readonly consentement: ConsentementRenouvellement;
  /**
   * The état civil to ask the DGFiP with (the `EtatCivil` shape of the sources), decrypted in memory
   * only; null when none is kept yet (no request of theirs was matched since the consent): the
   * family must then be asked again, not searched by guess.
   */
  readonly etatCivil: EtatCivilConserve | null;
}

/** One family due for renewal: one campaign item. */
export interface RenouvellementDu {
  readonly familleId: string;
  readonly reference: string;
  /** The end of the family's latest QF (`AAAA-MM-JJ`), or null without one. */
  readonly quotientValideAu: string | null;
  readonly declarants: readonly DeclarantARenouveler[];
}

const LOT = 500;

function lots<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += LOT) out.push(items.slice(i, i + LOT));
  return out;
}

/**
 * The families with a standing consent in force at `le` that are due (criteria above), oldest QF
 * first. A declarant whose parent was removed from the household since is left out. Each family's
 * reading of the kept état civil is one journal entry in `acteur`'s name.
 */
export async function renouvellementsDus(
  deps: { readonly db: Kysely<Schema>; readonly coffre: Coffre; readonly journal: JournalAudit },
  criteres: CriteresRenouvellement & { readonly le: string },
  acteur: Acteur,
): Promise<RenouvellementDu[]> {
  const { db, coffre, journal } = deps;
  const { le, quotientAvant, sansAvisDe } = criteres;
  if (quotientAvant === undefined && sansAvisDe === undefined) {
    throw new QuotientError(
      'invalid',
      'criteres_renouvellement',
      'Indiquez la date jusqu’à laquelle le quotient doit valoir, ou l’année de revenus à renouveler.',
    );
  }
  if (quotientAvant !== undefined && !isIsoDate(quotientAvant)) {
    throw new QuotientError('invalid', 'criteres_renouvellement', 'La date s’écrit AAAA-MM-JJ, par exemple 2026-09-01.');
  }
  if (sansAvisDe !== undefined && (!Number.isInteger(sansAvisDe) || sansAvisDe < 1990 || sansAvisDe > 2100)) {
    throw new QuotientError('invalid', 'criteres_renouvellement', 'L’année de revenus est une année sur quatre chiffres, par exemple 2025.');
  }
  const rows = await db
    .selectFrom('consentements_renouvellement as c')
    .innerJoin('familles as f', 'f.id', 'c.famille_id')
    .innerJoin('parents as p', (join) => join.onRef('p.famille_id', '=', 'c.famille_id').onRef('p.rang', '=', 'c.parent_rang'))
    .selectAll('c')
    .select('f.reference')
    .where('c.retire_le', 'is', null)
    .where('c.recueilli_le', '<=', le)
    .where('c.expire_le', '>', le)
    .orderBy('c.famille_id')
    .orderBy('c.parent_rang')
    .execute();
  const familles = [...new Set(rows.map((r) => r.famille_id))];
  const fins = new Map<string, string>();
  const avecAvis = new Set<string>();
  for (const lot of lots(familles)) {
    const qf = await db
      .selectFrom('quotients')
      .select((eb) => ['famille_id', eb.fn.max('valide_au').as('fin')])
      .where('famille_id', 'in', lot)
      .groupBy('famille_id')
      .execute();
    for (const q of qf) if (q.fin !== null) fins.set(q.famille_id, String(q.fin));
    if (sansAvisDe !== undefined) {
      const annee = await db
        .selectFrom('quotients as q')
        .innerJoin('demande_foyers as df', 'df.demande_id', 'q.demande_id')
        .select('q.famille_id')
        .distinct()
        .where('df.annee_revenus', '=', sansAvisDe)
        .where('q.famille_id', 'in', lot)
        .execute();
      for (const a of annee) avecAvis.add(a.famille_id);
    }
  }
  const du = (familleId: string) => {
    const fin = fins.get(familleId) ?? null;
    return (quotientAvant !== undefined && (fin === null || fin < quotientAvant)) || (sansAvisDe !== undefined && !avecAvis.has(familleId));
  };
  const resultat: RenouvellementDu[] = [];
  for (const familleId of familles.filter(du)) {
    const siens = rows.filter((r) => r.famille_id === familleId);
    const declarants: DeclarantARenouveler[] = [];
    for (const row of siens) {
      // Unreadable (altered) data is not a guess to search with: that declarant has none.
      const etatCivil = (await lireEtatCivil(coffre, row.id).catch(() => undefined)) ?? null;
      declarants.push({ rang: row.parent_rang === 2 ? 2 : 1, consentementId: row.id, consentement: lireConsentement(row), etatCivil });
    }
    const lus = declarants.filter((d) => d.etatCivil !== null).length;
    if (lus > 0) {
      await journal.append({
        actor: acteur,
        action: 'renouvellement.etat_civil_lu',
        target: { type: 'famille', id: familleId },
        outcome: 'succes',
        details: { declarants: lus },
      });
    }
    resultat.push({ familleId, reference: (siens[0] as (typeof siens)[number]).reference, quotientValideAu: fins.get(familleId) ?? null, declarants });
  }
  // Whose QF ends first goes first; those without any QF before all.
  return resultat.sort((a, b) => (a.quotientValideAu ?? '').localeCompare(b.quotientValideAu ?? '') || a.reference.localeCompare(b.reference));
}
