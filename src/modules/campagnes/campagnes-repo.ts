import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { compteursVides, ISSUES, type IssueElement } from '../../domain/campagne.ts';
import type { DialectName, Executor } from '../../infra/db/database.ts';
import type { CampagneElementTable, CampagneTable } from '../../infra/db/schema.ts';

/**
 * The campaigns' SQL: a campaign and its items, the claim of an item with a lease (one worker at
 * a time: `FOR UPDATE SKIP LOCKED` on PostgreSQL, the single writer on SQLite), its renewal and
 * release, and the one result per item (its primary key: whoever records it first).
 */

/** The silo's kind of an item's personal data (état civil, household): deleted with its result. */
export const COFFRE_ELEMENT = 'campagne_element';

export type NouvelElement = Omit<CampagneElementTable, 'reclame_par' | 'bail_jusqua' | 'jeton' | 'essais' | 'disponible_le' | 'traite_le' | 'demande_id'>;

export type Campagne = Selectable<CampagneTable>;
export type Element = Selectable<CampagneElementTable>;

export async function findCampagne(db: Executor, id: string): Promise<Campagne | undefined> {
  return db.selectFrom('campagnes').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findCampagneParReference(db: Executor, reference: string): Promise<Campagne | undefined> {
  return db.selectFrom('campagnes').selectAll().where('reference', '=', reference).executeTakeFirst();
}

/** Items go in by chunks: a campaign of thousands stays within either dialect's bound on parameters. */
export async function insererElements(trx: Executor, elements: readonly NouvelElement[]): Promise<void> {
  for (let i = 0; i < elements.length; i += 400)
    await trx
      .insertInto('campagne_elements')
      .values(elements.slice(i, i + 400))
      .execute();
}

/** The item claimed: its row as it now stands, with the token that proves the claim. */
export type ElementReclame = Element & { readonly jeton: string };

/**
 * Claims the next item to process of a running campaign (oldest campaign first, then the file's
 * order): free, or whose lease has lapsed, and due. Null when there is none. Atomic on both
 * dialects: two workers never hold the same item at once.
 */
export async function reclamer(db: Executor, dialect: DialectName, instanceId: string, now: string, bailJusqua: string): Promise<ElementReclame | null> {
  let candidat = db
    .selectFrom('campagne_elements as e')
    .innerJoin('campagnes as c', 'c.id', 'e.campagne_id')
    .select('e.id')
    .where('c.statut', '=', 'en_cours')
    .where('e.traite_le', 'is', null)
    .where((eb) => eb.or([eb('e.bail_jusqua', 'is', null), eb('e.bail_jusqua', '<', now)]))
    .where((eb) => eb.or([eb('e.disponible_le', 'is', null), eb('e.disponible_le', '<=', now)]))
    .orderBy('c.demarree_le')
    .orderBy('e.rang')
    .limit(1);
  if (dialect === 'postgres') candidat = candidat.forUpdate('e').skipLocked();
  const jeton = randomBytes(12).toString('base64url');
  const row = await db
    .updateTable('campagne_elements')
    .set((eb) => ({ reclame_par: instanceId, bail_jusqua: bailJusqua, jeton, essais: eb('essais', '+', 1) }))
    .where('id', '=', candidat)
    // Checked again on the row itself: the lease may have been taken between the choice and the update.
    .where('traite_le', 'is', null)
    .where((eb) => eb.or([eb('bail_jusqua', 'is', null), eb('bail_jusqua', '<', now)]))
    .returningAll()
    .executeTakeFirst();
  return row ? { ...row, jeton } : null;
}

/** Extends the lease while the item is being worked on; false when it is no longer this claim's. */
export async function prolonger(db: Executor, element: Pick<ElementReclame, 'id' | 'jeton'>, bailJusqua: string): Promise<boolean> {
  const r = await db
    .updateTable('campagne_elements')
    .set({ bail_jusqua: bailJusqua })
    .where('id', '=', element.id)
    .where('jeton', '=', element.jeton)
    .where('traite_le', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Gives the item back, to be claimed again from `disponibleLe` (a retry's time) or at once. */
export async function relacher(db: Executor, element: Pick<ElementReclame, 'id' | 'jeton'>, disponibleLe: string | null): Promise<void> {
  await db
    .updateTable('campagne_elements')
    .set({ reclame_par: null, bail_jusqua: null, jeton: null, disponible_le: disponibleLe })
    .where('id', '=', element.id)
    .where('jeton', '=', element.jeton)
    .execute();
}

/** The request an item became, written with the request itself. */
export async function lierDemande(trx: Executor, elementId: string, demandeId: string, familleId: string): Promise<void> {
  await trx.updateTable('campagne_elements').set({ demande_id: demandeId, famille_id: familleId }).where('id', '=', elementId).execute();
}

export interface Resultat {
  readonly elementId: string;
  readonly campagneId: string;
  readonly issue: IssueElement;
  readonly demandeId: string | null;
  readonly tranche: string | null;
  readonly motifCode: string | null;
  readonly le: string;
  readonly par: string;
}

/** Records the item's result unless one is there already (true when this call wrote it). */
export async function enregistrerResultat(trx: Executor, r: Resultat): Promise<boolean> {
  const inserted = await trx
    .insertInto('campagne_resultats')
    .values({
      element_id: r.elementId,
      campagne_id: r.campagneId,
      issue: r.issue,
      demande_id: r.demandeId,
      tranche: r.tranche,
      motif_code: r.motifCode,
      enregistre_le: r.le,
      par: r.par,
    })
    .onConflict((oc) => oc.column('element_id').doNothing())
    .executeTakeFirst();
  await trx
    .updateTable('campagne_elements')
    .set({ traite_le: r.le, reclame_par: null, bail_jusqua: null, jeton: null })
    .where('id', '=', r.elementId)
    .where('traite_le', 'is', null)
    .execute();
  return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Results by outcome: the campaign's progress. */
export async function compteurs(db: Executor, campagneId: string): Promise<Record<IssueElement, number>> {
  const rows = await db
    .selectFrom('campagne_resultats')
    .select(['issue', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campagne_id', '=', campagneId)
    .groupBy('issue')
    .execute();
  const c = compteursVides();
  for (const row of rows) if ((ISSUES as readonly string[]).includes(row.issue)) c[row.issue as IssueElement] = Number(row.n);
  return c;
}

/** Results recorded since `depuis` (the current pace, for the estimate). */
export async function resultatsDepuis(db: Executor, campagneId: string, depuis: string): Promise<number> {
  const row = await db
    .selectFrom('campagne_resultats')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campagne_id', '=', campagneId)
    .where('enregistre_le', '>=', depuis)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Items still without a result. */
export async function restants(db: Executor, campagneId: string): Promise<number> {
  const row = await db
    .selectFrom('campagne_elements')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campagne_id', '=', campagneId)
    .where('traite_le', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** References already in a campaign not ended (brouillon, en cours, en pause), with that campaign's reference. */
export async function referencesEnCours(db: Executor, references: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < references.length; i += 500) {
    const rows = await db
      .selectFrom('campagne_elements as e')
      .innerJoin('campagnes as c', 'c.id', 'e.campagne_id')
      .select(['e.reference', 'c.reference as campagne'])
      .where('c.statut', 'in', ['brouillon', 'en_cours', 'en_pause'])
      .where('e.traite_le', 'is', null)
      .where('e.reference', 'in', references.slice(i, i + 500))
      .execute();
    for (const r of rows) found.set(r.reference, r.campagne);
  }
  return found;
}

/** The families Quotient knows by these references: its own (`F-…`) or the commune software's. */
export async function famillesParReference(db: Executor, references: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < references.length; i += 500) {
    const lot = references.slice(i, i + 500);
    const rows = await db
      .selectFrom('familles')
      .select(['id', 'reference', 'reference_externe'])
      .where((eb) => eb.or([eb('reference', 'in', lot), eb('reference_externe', 'in', lot)]))
      .execute();
    for (const r of rows) {
      if (r.reference_externe !== null && lot.includes(r.reference_externe)) found.set(r.reference_externe, r.id);
      if (lot.includes(r.reference)) found.set(r.reference, r.id);
    }
  }
  return found;
}
