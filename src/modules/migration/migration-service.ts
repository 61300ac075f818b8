import type { Kysely } from 'kysely';
import { createSituationFiscale, LIBELLES_AVERTISSEMENTS_AVIS, type SituationFiscale } from '../../domain/situation-fiscale.ts';
import { toCsv, type CsvValue } from '../../infra/csv/csv.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import { comparerSituations, type Difference } from '../../sources/comparaison.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import { COFFRE } from '../demandes/demandes-repo.ts';

/** The legacy route the commune leaves, and the sources that replace it. */
const ANCIENNE = 'api-particulier';
const NOUVELLES = ['impot-particulier', 'sfip'];

/**
 * Fields whose values the report may show: what an instructor sees of an avis (year, RFR, parts)
 * and what the QF counts. A difference elsewhere (names, birth dates, address, date of the avis)
 * is named, its values left out: the DSI checks the mapping, not the family's identity.
 */
const VALEURS_MONTREES = new Set(['anneeRevenus', 'rfr', 'nbParts', 'situationFamille', 'nbPac', 'nbPersonnes']);

export const ENTETE_RAPPORT = [
  'famille',
  'parent',
  'source_ancienne',
  'annee_ancienne',
  'recu_ancienne',
  'source_nouvelle',
  'annee_nouvelle',
  'recu_nouvelle',
  'nombre_ecarts',
  'ecarts',
  'avertissements_ancienne',
] as const;

interface Recu {
  readonly id: string;
  readonly familleId: string;
  readonly rang: number;
  readonly source: string;
  readonly recuLe: string;
}

/**
 * The migration report: for each family and parent whose avis Quotient received through both the
 * legacy API Particulier and API Impôt particulier (or SFiP), the latest of each side by side and
 * what differs. It compares what was fetched, with the family's consent, and kept in the silo:
 * it calls nobody, and holds no numéro fiscal (none is ever stored).
 */
export class MigrationService {
  constructor(private readonly deps: { db: Kysely<Schema>; coffre: Pick<Coffre, 'get'>; journal: Pick<JournalAudit, 'append'> }) {}

  async rapport(acteur: Acteur): Promise<{ csv: string; familles: number; lignes: number }> {
    const rows = await this.deps.db
      .selectFrom('demande_foyers')
      .innerJoin('demandes', 'demandes.id', 'demande_foyers.demande_id')
      .select([
        'demande_foyers.id as id',
        'demandes.famille_id as familleId',
        'demande_foyers.parent_rang as rang',
        'demande_foyers.source as source',
        'demande_foyers.recu_le as recuLe',
      ])
      .where('demande_foyers.etat', '=', 'recu')
      .where('demande_foyers.source', 'in', [ANCIENNE, ...NOUVELLES])
      .orderBy('demande_foyers.recu_le', 'desc')
      .execute();
    // The latest of each side, per family and parent (rows come newest first).
    const paires = new Map<string, { ancienne?: Recu; nouvelle?: Recu }>();
    for (const row of rows) {
      if (row.source === null || row.recuLe === null) continue;
      const recu: Recu = { id: row.id, familleId: row.familleId, rang: row.rang, source: row.source, recuLe: row.recuLe };
      const key = `${recu.familleId}:${recu.rang}`;
      const paire = paires.get(key) ?? {};
      if (recu.source === ANCIENNE) paire.ancienne ??= recu;
      else paire.nouvelle ??= recu;
      paires.set(key, paire);
    }
    const lignes: CsvValue[][] = [];
    const familles = new Set<string>();
    for (const { ancienne, nouvelle } of [...paires.values()].sort(ordre)) {
      if (!ancienne || !nouvelle) continue;
      const avant = await this.situation(ancienne.id);
      const apres = await this.situation(nouvelle.id);
      // Not kept (somebody else's avis, or purged since): nothing to compare.
      if (!avant || !apres) continue;
      const ecarts = comparerSituations(avant, apres);
      familles.add(ancienne.familleId);
      lignes.push([
        ancienne.familleId,
        ancienne.rang,
        ANCIENNE,
        avant.anneeRevenus,
        ancienne.recuLe.slice(0, 10),
        nouvelle.source,
        apres.anneeRevenus,
        nouvelle.recuLe.slice(0, 10),
        ecarts.length,
        ecarts.map(nommer).join(' | '),
        avant.avertissements.map((a) => LIBELLES_AVERTISSEMENTS_AVIS[a]).join(' | '),
      ]);
    }
    await this.deps.journal.append({
      actor: acteur,
      action: 'migration.rapport',
      outcome: 'succes',
      details: { familles: familles.size, lignes: lignes.length },
    });
    return { csv: toCsv([[...ENTETE_RAPPORT], ...lignes]), familles: familles.size, lignes: lignes.length };
  }

  private async situation(foyerFiscalId: string): Promise<SituationFiscale | undefined> {
    const stored = await this.deps.coffre.get(COFFRE.situation, foyerFiscalId);
    return stored === undefined ? undefined : createSituationFiscale(stored);
  }
}

function ordre(a: { ancienne?: Recu; nouvelle?: Recu }, b: { ancienne?: Recu; nouvelle?: Recu }): number {
  const x = a.ancienne ?? a.nouvelle;
  const y = b.ancienne ?? b.nouvelle;
  return (x?.familleId ?? '').localeCompare(y?.familleId ?? '') || (x?.rang ?? 0) - (y?.rang ?? 0);
}

/** `rfr : 24000 → 24100`, or only the field's name when its values are not for this report. */
export function nommer(d: Difference): string {
  if (!VALEURS_MONTREES.has(d.champ)) return `${d.champ} : différent`;
  const v = (x: Difference['avant']) => (x === null ? 'absent' : String(x));
  return `${d.champ} : ${v(d.avant)} → ${v(d.apres)}`;
}
