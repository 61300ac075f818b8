import type { ExpressionBuilder, Kysely } from 'kysely';
import { LIBELLES_UNITES } from '../../domain/politique-tarifaire.ts';
import type { PrixActivite, PrixEnfant } from '../../domain/tarification.ts';
import { toCsv, type CsvValue } from '../../infra/csv/csv.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Acteur, AuditEntryInput } from '../audit/audit-entry.ts';

/**
 * What the billing software needs of a family's QF, and nothing more: the family's reference, the
 * QF, the bracket and price of each activity, the days it applies to, how it was obtained. Never a
 * fiscal detail (income, parts, declarants' names): those stay in the silo.
 */
export interface QuotientFacture {
  /** The QF record's id: stable, so that a billing software may recognise a QF it already has. */
  readonly id: string;
  readonly famille: string;
  readonly quotientCents: number;
  readonly periode: 'mensuelle' | 'annuelle';
  readonly valideDu: string;
  readonly valideAu: string;
  /** `calcule` from the DGFiP's data, `manuel` when an instructor set it. */
  readonly origine: 'calcule' | 'manuel';
  readonly calculeLe: string;
  /** The tariff policy version it was priced with. */
  readonly politique: string;
  readonly tranches: readonly TrancheActivite[];
  /**
   * One line per child and activity where the child's price differs from the family's (child rank)
   * or the child lives in alternating residence (billed on this QF for this household's periods only).
   * Empty when the family's prices hold for every child, and for QFs recorded before these lines existed.
   */
  readonly enfants: readonly TrancheEnfant[];
}

export interface TrancheEnfant extends TrancheActivite {
  /** The child's first names, as the family gave them. */
  readonly prenoms: string;
  /** Rank among the household's children, the eldest first. */
  readonly rang: number;
  readonly residenceAlternee: boolean;
}

export interface TrancheActivite {
  readonly activite: string;
  readonly libelle: string;
  readonly unite: string;
  /** The bracket's code; null for a taux d'effort grid or a flat price. */
  readonly tranche: string | null;
  /** Price per unit for this family, in cents. */
  readonly prixCents: number;
  /** `grille`, `non-resident` (flat price) or `sans-quotient`. */
  readonly tarif: string;
}

/** Where a page of the API stopped: the last QF sent, in the order of their recording. */
export interface Position {
  readonly calculeLe: string;
  readonly id: string;
}

export interface Selection {
  /** QFs in force that day, the latest per family. */
  readonly date?: string;
  /** QFs recorded at or after this instant (ISO-8601 UTC). */
  readonly modifiedSince?: string;
}

export interface FacturationDeps {
  readonly db: Kysely<Schema>;
  readonly journal: { append(entry: AuditEntryInput): Promise<unknown> };
}

type Q = ExpressionBuilder<Schema & { q: Schema['quotients'] }, 'q'>;

/** One way to read a QF everywhere: the CSV, the API and the page say the same thing. */
const versTranche = (p: PrixActivite): TrancheActivite => ({
  activite: p.id,
  libelle: p.libelle,
  unite: p.unite,
  tranche: p.tranche,
  prixCents: p.cents,
  tarif: p.origine,
});

function versFacture(row: Schema['quotients'] & { reference: string }): QuotientFacture {
  const prix = JSON.parse(row.prix) as PrixActivite[];
  const enfants = row.prix_enfants === null ? [] : (JSON.parse(row.prix_enfants) as PrixEnfant[]);
  return {
    id: row.id,
    famille: row.reference,
    quotientCents: row.valeur_cents,
    periode: row.periode === 'annuelle' ? 'annuelle' : 'mensuelle',
    valideDu: row.valide_du,
    valideAu: row.valide_au,
    // Only a QF an instructor typed is manual; one computed from the avis (even after an instructor accepted the identity) is computed.
    origine: row.origine === 'manuel' ? 'manuel' : 'calcule',
    calculeLe: row.calcule_le,
    politique: row.politique,
    tranches: prix.map(versTranche),
    enfants: enfants.map((p) => ({ ...versTranche(p), prenoms: p.enfant.prenoms, rang: p.enfant.rang, residenceAlternee: p.enfant.residenceAlternee })),
  };
}

/** Valid on `date` (both bounds included) and no later QF of the same family valid that day. */
function enVigueurLe(eb: Q, date: string) {
  return eb.and([
    eb('q.valide_du', '<=', date),
    eb('q.valide_au', '>=', date),
    eb.not(
      eb.exists(
        eb
          .selectFrom('quotients as r')
          .select('r.id')
          .whereRef('r.famille_id', '=', 'q.famille_id')
          .where('r.valide_du', '<=', date)
          .where('r.valide_au', '>=', date)
          .where((e) =>
            e.or([e('r.calcule_le', '>', e.ref('q.calcule_le')), e.and([e('r.calcule_le', '=', e.ref('q.calcule_le')), e('r.id', '>', e.ref('q.id'))])]),
          ),
      ),
    ),
  ]);
}

/**
 * The billing software's view of the QFs: the CSV export agents download (in force at a date) and
 * the REST API (in force, or recorded since an instant, by pages). Every read is one journal entry
 * with the number of rows, never their content.
 */
export class FacturationService {
  constructor(private readonly deps: FacturationDeps) {}

  private base() {
    return this.deps.db.selectFrom('quotients as q').innerJoin('familles as f', 'f.id', 'q.famille_id').selectAll('q').select('f.reference');
  }

  /** The QF in force for each family on `date` (AAAA-MM-JJ), by family reference. */
  async enVigueur(date: string): Promise<QuotientFacture[]> {
    const rows = await this.base()
      .where((eb) => enVigueurLe(eb, date))
      .orderBy('f.reference')
      .execute();
    return rows.map(versFacture);
  }

  /** One page of QFs in the order they were recorded, after `apres`; `suite` is where the next page starts. */
  async page(selection: Selection, limit: number, apres?: Position): Promise<{ quotients: QuotientFacture[]; suite: Position | null }> {
    let query = this.base();
    if (selection.date !== undefined) {
      const date = selection.date;
      query = query.where((eb) => enVigueurLe(eb, date));
    }
    if (selection.modifiedSince !== undefined) query = query.where('q.calcule_le', '>=', selection.modifiedSince);
    if (apres) {
      query = query.where((eb) =>
        eb.or([eb('q.calcule_le', '>', apres.calculeLe), eb.and([eb('q.calcule_le', '=', apres.calculeLe), eb('q.id', '>', apres.id)])]),
      );
    }
    const rows = await query
      .orderBy('q.calcule_le')
      .orderBy('q.id')
      .limit(limit + 1)
      .execute();
    const quotients = rows.slice(0, limit).map(versFacture);
    const last = quotients[quotients.length - 1];
    return { quotients, suite: rows.length > limit && last ? { calculeLe: last.calculeLe, id: last.id } : null };
  }

  /** The CSV file of the QFs in force on `date`, and its journal entry. */
  async exporterCsv(date: string, acteur: Acteur, correlationId?: string): Promise<{ csv: string; lignes: number }> {
    const quotients = await this.enVigueur(date);
    const csv = toCsv(lignesCsv(quotients));
    await this.deps.journal.append({
      actor: acteur,
      action: 'facturation.export',
      outcome: 'succes',
      ...(correlationId ? { correlationId } : {}),
      details: { date, lignes: quotients.length, format: 'csv' },
    });
    return { csv, lignes: quotients.length };
  }

  /** The journal entry of one call of the API: who, what was asked, how many rows went out. */
  async tracerApi(
    cle: { id: string },
    correlationId: string,
    details: Readonly<Record<string, string | number | boolean | null>>,
    outcome: 'succes' | 'echec' | 'refus' = 'succes',
  ): Promise<void> {
    await this.deps.journal.append({ actor: { type: 'api', id: cle.id }, action: 'api.quotients.consultes', outcome, correlationId, details });
  }
}

/** The unit of a price as stored with the QF (a string from the database): its French name, else its code. */
const UNITES: Readonly<Record<string, string | undefined>> = LIBELLES_UNITES;

/**
 * The rows of the CSV: a header that says each column's unit and format in French, then one row
 * per family. The QF is in cents (an integer: no decimal separator to misread between software);
 * dates are ISO (AAAA-MM-JJ), which spreadsheets and billing software read alike. Each activity of
 * the policy gives two columns, its bracket and its unit price in cents; activities are those of
 * the QFs exported, in the order met. A child whose price differs from the family's (child rank)
 * or who lives in alternating residence gets a row of its own after the family's, naming it.
 */
export function lignesCsv(quotients: readonly QuotientFacture[]): CsvValue[][] {
  const activites = new Map<string, { libelle: string; unite: string }>();
  for (const q of quotients) for (const t of q.tranches) if (!activites.has(t.activite)) activites.set(t.activite, { libelle: t.libelle, unite: t.unite });
  const header: CsvValue[] = [
    'Référence famille',
    'Quotient familial (en centimes d’euro)',
    'Période du quotient (mensuelle ou annuelle)',
    'Valide du (AAAA-MM-JJ)',
    'Valide au (AAAA-MM-JJ, inclus)',
    'Origine (calcule ou manuel)',
    'Calculé le (date et heure UTC, ISO 8601)',
  ];
  for (const [id, a] of activites) {
    header.push(`Tranche – ${a.libelle} (${id})`, `Prix en centimes par ${UNITES[a.unite] ?? a.unite} – ${a.libelle} (${id})`);
  }
  // Last, so that the columns programs already read keep their place.
  header.push('Enfant (prénoms, vide pour le prix de la famille)', 'Rang de l’enfant (1 : l’aîné)', 'Résidence alternée (oui ou non)');
  const rows: CsvValue[][] = [header];
  for (const q of quotients) {
    const debut: CsvValue[] = [q.famille, q.quotientCents, q.periode, q.valideDu, q.valideAu, q.origine, q.calculeLe];
    const row: CsvValue[] = [...debut];
    for (const id of activites.keys()) {
      const t = q.tranches.find((x) => x.activite === id);
      row.push(t?.tranche ?? null, t ? t.prixCents : null);
    }
    rows.push([...row, null, null, null]);
    // Then one row per child whose price differs somewhere (or who alternates): only its own lines are filled.
    const parEnfant = new Map<number, TrancheEnfant[]>();
    for (const e of q.enfants) parEnfant.set(e.rang, [...(parEnfant.get(e.rang) ?? []), e]);
    for (const lignes of parEnfant.values()) {
      const first = lignes[0] as TrancheEnfant;
      const enfant: CsvValue[] = [...debut];
      for (const id of activites.keys()) {
        const t = lignes.find((x) => x.activite === id);
        enfant.push(t?.tranche ?? null, t ? t.prixCents : null);
      }
      rows.push([...enfant, first.prenoms, first.rang, first.residenceAlternee ? 'oui' : 'non']);
    }
  }
  return rows;
}
