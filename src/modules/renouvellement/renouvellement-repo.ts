import type { Transaction } from 'kysely';
import { parseConsentementRenouvellement, type ConsentementRenouvellement } from '../../domain/consentement-renouvellement.ts';
import { roleParent } from '../../domain/controle-identite.ts';
import { parseEtatCivilConserve, type EtatCivilConserve } from '../../domain/etat-civil-conserve.ts';
import { LIBELLES_CHAMPS_DGFIP } from '../../domain/habilitation.ts';
import type { Executor } from '../../infra/db/database.ts';
import type { ConsentementRenouvellementTable, Schema } from '../../infra/db/schema.ts';
import { asJson, type Coffre } from '../../infra/silo/coffre.ts';

/** The silo kind of the état civil kept for a standing consent; its id is the consent's row id. */
export const COFFRE_ETAT_CIVIL = 'etat_civil_renouvellement';

/** A stored row as the domain reads it (no maximum: the commune's may have changed since). */
export function lireConsentement(row: ConsentementRenouvellementTable): ConsentementRenouvellement {
  return parseConsentementRenouvellement(
    {
      declarant: roleParent(row.parent_rang === 2 ? 2 : 1),
      donnePar: { type: row.donne_par_type, id: row.donne_par_id },
      mode: row.mode,
      piece: row.piece,
      recueilliLe: row.recueilli_le,
      versionTexte: row.version_texte,
      ressources: JSON.parse(row.ressources) as unknown,
      donnees: JSON.parse(row.donnees) as unknown,
      finalite: row.finalite,
      voie: row.voie,
      dureeAns: row.duree_ans,
      retireLe: row.retire_le,
    },
    { libelles: LIBELLES_CHAMPS_DGFIP },
  );
}

/** The row of a standing consent just given. */
export function ligneConsentement(
  id: string,
  familleId: string,
  rang: 1 | 2,
  demandeId: string | null,
  c: ConsentementRenouvellement,
): ConsentementRenouvellementTable {
  return {
    id,
    famille_id: familleId,
    parent_rang: rang,
    demande_id: demandeId,
    donne_par_type: c.donnePar.type,
    donne_par_id: c.donnePar.id,
    mode: c.mode,
    piece: c.piece,
    version_texte: c.versionTexte,
    ressources: JSON.stringify(c.ressources),
    donnees: JSON.stringify(c.donnees),
    finalite: c.finalite,
    voie: c.voie,
    duree_ans: c.dureeAns,
    recueilli_le: c.recueilliLe,
    expire_le: c.expireLe,
    retire_le: null,
    fin_motif: null,
    etat_civil_le: null,
  };
}

/** The standing consents of a family in force at `le`: given, not ended by a withdrawal, not expired. */
export function enVigueurQuery(db: Executor, le: string) {
  return db.selectFrom('consentements_renouvellement').selectAll().where('retire_le', 'is', null).where('recueilli_le', '<=', le).where('expire_le', '>', le);
}

/** The état civil kept for a standing consent, read from the silo (undefined when none is kept). */
export async function lireEtatCivil(coffre: Coffre, id: string, executor?: Executor): Promise<EtatCivilConserve | undefined> {
  const value = await coffre.get(COFFRE_ETAT_CIVIL, id, executor);
  return value === undefined ? undefined : parseEtatCivilConserve(value);
}

export async function ecrireEtatCivil(coffre: Coffre, trx: Transaction<Schema>, id: string, etatCivil: EtatCivilConserve, le: string): Promise<void> {
  await coffre.put(COFFRE_ETAT_CIVIL, id, asJson(etatCivil), trx);
  await trx.updateTable('consentements_renouvellement').set({ etat_civil_le: le }).where('id', '=', id).execute();
}

/** Deletes the état civil kept for a standing consent; true when there was one. */
export async function effacerEtatCivil(coffre: Coffre, trx: Transaction<Schema>, id: string): Promise<boolean> {
  const removed = await coffre.delete(COFFRE_ETAT_CIVIL, id, trx);
  await trx.updateTable('consentements_renouvellement').set({ etat_civil_le: null }).where('id', '=', id).where('etat_civil_le', 'is not', null).execute();
  return removed;
}

/**
 * Ends every standing consent of a family still in force (the family withdrew all its consents),
 * deleting the état civil kept for each, inside the caller's transaction. How many were ended.
 */
export async function retirerRenouvellements(trx: Transaction<Schema>, coffre: Coffre, familleId: string, le: string): Promise<number> {
  const ouverts = await trx
    .selectFrom('consentements_renouvellement')
    .select('id')
    .where('famille_id', '=', familleId)
    .where('retire_le', 'is', null)
    // One already expired is over, and its état civil is the purge's (RetentionService).
    .where('expire_le', '>', le)
    .execute();
  for (const { id } of ouverts) {
    await effacerEtatCivil(coffre, trx, id);
    await trx.updateTable('consentements_renouvellement').set({ retire_le: le, fin_motif: 'retrait' }).where('id', '=', id).execute();
  }
  return ouverts.length;
}
