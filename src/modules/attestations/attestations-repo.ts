import type { Kysely } from 'kysely';
import type { QuotientDate } from '../../domain/attestation.ts';
import type { PrixActivite } from '../../domain/tarification.ts';
import type { Executor } from '../../infra/db/database.ts';
import type { AttestationTable, Schema } from '../../infra/db/schema.ts';

/** The QF of a request as an attestation reads it: never the RFR nor the parts (those are in the silo). */
export interface QuotientAtteste extends QuotientDate {
  readonly demandeId: string;
  readonly demandeReference: string;
  readonly familleId: string;
  readonly cents: number;
  readonly periode: string;
  readonly prix: readonly PrixActivite[];
  readonly origine: string;
  /** `fiscal` or `caf` and why (issue 17); null for older rows and QFs set by an agent. */
  readonly sourceRetenue: string | null;
  readonly raisonSource: string | null;
}

export interface QuotientDeFamille extends QuotientDate {
  readonly demandeId: string;
  readonly reference: string;
}

export async function quotientDeDemande(db: Executor, demandeId: string): Promise<QuotientAtteste | undefined> {
  const row = await db
    .selectFrom('quotients')
    .innerJoin('demandes', 'demandes.id', 'quotients.demande_id')
    .select([
      'quotients.demande_id',
      'demandes.reference',
      'quotients.famille_id',
      'quotients.valeur_cents',
      'quotients.periode',
      'quotients.prix',
      'quotients.valide_du',
      'quotients.valide_au',
      'quotients.calcule_le',
      'quotients.origine',
      'quotients.source_retenue',
      'quotients.raison_source',
    ])
    .where('quotients.demande_id', '=', demandeId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    demandeId: row.demande_id,
    demandeReference: row.reference,
    familleId: row.famille_id,
    cents: row.valeur_cents,
    periode: row.periode,
    prix: JSON.parse(row.prix) as PrixActivite[],
    valideDu: row.valide_du,
    valideAu: row.valide_au,
    calculeLe: row.calcule_le,
    origine: row.origine,
    sourceRetenue: row.source_retenue,
    raisonSource: row.raison_source,
  };
}

/** Every QF of a family but one: those that may have replaced it. */
export async function autresQuotients(db: Executor, familleId: string, saufDemande: string): Promise<QuotientDeFamille[]> {
  const rows = await db
    .selectFrom('quotients')
    .innerJoin('demandes', 'demandes.id', 'quotients.demande_id')
    .select(['quotients.demande_id', 'demandes.reference', 'quotients.valide_du', 'quotients.valide_au', 'quotients.calcule_le'])
    .where('quotients.famille_id', '=', familleId)
    .where('quotients.demande_id', '<>', saufDemande)
    .execute();
  return rows.map((r) => ({ demandeId: r.demande_id, reference: r.reference, valideDu: r.valide_du, valideAu: r.valide_au, calculeLe: r.calcule_le }));
}

/** The income years of the avis a request used (one per foyer fiscal received). */
export async function anneesRevenus(db: Executor, demandeId: string): Promise<Array<number | null>> {
  const rows = await db.selectFrom('demande_foyers').select('annee_revenus').where('demande_id', '=', demandeId).where('etat', '=', 'recu').execute();
  return rows.map((r) => r.annee_revenus);
}

export async function attestationDeDemande(db: Executor, demandeId: string): Promise<AttestationTable | undefined> {
  return db.selectFrom('attestations').selectAll().where('demande_id', '=', demandeId).executeTakeFirst();
}

export async function attestationParCode(db: Kysely<Schema>, code: string): Promise<AttestationTable | undefined> {
  return db.selectFrom('attestations').selectAll().where('code', '=', code).executeTakeFirst();
}

/**
 * Records a request's attestation unless it has one already (two first prints at once: one wins,
 * both then read it). True when this call wrote it.
 */
export async function insererAttestation(db: Executor, row: AttestationTable): Promise<boolean> {
  const result = await db
    .insertInto('attestations')
    .values(row)
    .onConflict((oc) => oc.column('demande_id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}
