import { STATUTS_AVEC_NUMERO_FISCAL, type StatutDemande } from '../../domain/demande.ts';
import type { Executor } from '../../infra/db/database.ts';
import type { DemandeTable } from '../../infra/db/schema.ts';

/**
 * The queue's SQL: which requests a process calls next, where a request stands, which requests a
 * process holds (and so which lost their numéros fiscaux when it died), and the processes alive.
 */

/** Waiting for their call (the statuses `appel_demarre` leaves from). */
export const A_APPELER: readonly StatutDemande[] = ['consentie', 'en_file'];

/**
 * A campaign's requests are the campaign engine's (`modules/campagnes`): it claims their items with
 * a lease, puts their état civil in memory and calls them itself; after a crash it takes them again
 * from the item, so the processing loop neither calls them nor sends them to re-entry.
 */
export const CANAL_CAMPAGNE = 'campagne';

/** Requests of this process due at `now`, oldest first: what the processing loop takes next. */
export async function prochaines(db: Executor, instanceId: string, now: string, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('demandes')
    .select('id')
    .where('statut', 'in', A_APPELER)
    .where('detenteur', '=', instanceId)
    .where('canal', '!=', CANAL_CAMPAGNE)
    .where((eb) => eb.or([eb('prochain_essai_le', 'is', null), eb('prochain_essai_le', '<=', now)]))
    .orderBy('creee_le')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Position of a queued request among those waiting before it (1 = next), whichever instance holds
 * them: the queue is one, in the order of queue time, across every instance. A family's request
 * does not count the campaign items (they go after families).
 */
export async function positionEnFile(db: Executor, demande: Pick<DemandeTable, 'creee_le' | 'id'> & Partial<Pick<DemandeTable, 'canal'>>): Promise<number> {
  let query = db
    .selectFrom('demandes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('statut', 'in', STATUTS_AVEC_NUMERO_FISCAL)
    .where((eb) => eb.or([eb('creee_le', '<', demande.creee_le), eb.and([eb('creee_le', '=', demande.creee_le), eb('id', '<', demande.id)])]));
  if (demande.canal !== CANAL_CAMPAGNE) query = query.where('canal', '<>', CANAL_CAMPAGNE);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n) + 1;
}

/**
 * Whether a family's request may be called now: no request queued before it waits, due, on
 * another live instance. The numéros fiscaux stay in the memory of the instance that received
 * them, so each instance calls only its own requests; this makes them take their turns in the
 * order of queue time across instances, which is what the position shown to families promises.
 * Requests being called (`en_cours`) no longer wait, so instances still call side by side. An
 * instance not seen since `vivantesDepuis` (stopped, or its loop stuck) holds no one back.
 */
export async function aSonTour(
  db: Executor,
  demande: Pick<DemandeTable, 'creee_le' | 'id' | 'canal'>,
  instanceId: string,
  now: string,
  vivantesDepuis: string,
): Promise<boolean> {
  if (demande.canal === CANAL_CAMPAGNE) return true;
  const avant = await db
    .selectFrom('demandes')
    .innerJoin('instances', 'instances.id', 'demandes.detenteur')
    .select('demandes.id')
    .where('demandes.statut', 'in', A_APPELER)
    .where('demandes.canal', '<>', CANAL_CAMPAGNE)
    .where('demandes.detenteur', '<>', instanceId)
    .where('instances.vue_le', '>=', vivantesDepuis)
    .where((eb) => eb.or([eb('demandes.prochain_essai_le', 'is', null), eb('demandes.prochain_essai_le', '<=', now)]))
    .where((eb) =>
      eb.or([eb('demandes.creee_le', '<', demande.creee_le), eb.and([eb('demandes.creee_le', '=', demande.creee_le), eb('demandes.id', '<', demande.id)])]),
    )
    .limit(1)
    .executeTakeFirst();
  return avant === undefined;
}

/**
 * True while an online request (portal, counter) waits for the DGFiP: due in the queue, or being
 * called, on any instance. The quota slot then gives campaigns nothing (online first).
 */
export async function enLigneEnAttente(db: Executor, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('demandes')
    .select('id')
    .where('statut', 'in', STATUTS_AVEC_NUMERO_FISCAL)
    .where('canal', '!=', CANAL_CAMPAGNE)
    .where((eb) => eb.or([eb('prochain_essai_le', 'is', null), eb('prochain_essai_le', '<=', new Date(now).toISOString())]))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Requests on the call path held by no live process: their numéros fiscaux are gone (a campaign's are taken again from its item). */
export async function orphelines(db: Executor, vivantes: readonly string[]): Promise<string[]> {
  const rows = await db
    .selectFrom('demandes')
    .select('id')
    .where('statut', 'in', STATUTS_AVEC_NUMERO_FISCAL)
    .where('canal', '!=', CANAL_CAMPAGNE)
    .where((eb) => eb.or([eb('detenteur', 'is', null), eb('detenteur', 'not in', [...vivantes])]))
    .execute();
  return rows.map((r) => r.id);
}

/** Requests on the call path whose numéros fiscaux this process holds. */
export async function detenues(db: Executor, instanceId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('demandes')
    .select('id')
    .where('statut', 'in', STATUTS_AVEC_NUMERO_FISCAL)
    .where('detenteur', '=', instanceId)
    .where('canal', '!=', CANAL_CAMPAGNE)
    .execute();
  return rows.map((r) => r.id);
}

/** A process starts: it is seen alive from now. */
export async function annoncerInstance(db: Executor, instanceId: string, at: string): Promise<void> {
  await db.insertInto('instances').values({ id: instanceId, demarree_le: at, vue_le: at }).execute();
}

/** The heartbeat. */
export async function signalerInstance(db: Executor, instanceId: string, at: string): Promise<void> {
  await db.updateTable('instances').set({ vue_le: at }).where('id', '=', instanceId).execute();
}

/** Processes seen since `since`. */
export async function instancesVivantes(db: Executor, since: string): Promise<string[]> {
  const rows = await db.selectFrom('instances').select('id').where('vue_le', '>=', since).execute();
  return rows.map((r) => r.id);
}

/** A process stops cleanly. */
export async function retirerInstance(db: Executor, instanceId: string): Promise<void> {
  await db.deleteFrom('instances').where('id', '=', instanceId).execute();
}

/** Processes not seen since `before` are forgotten (their requests were recovered long ago). */
export async function oublierInstances(db: Executor, before: string): Promise<void> {
  await db.deleteFrom('instances').where('vue_le', '<', before).execute();
}
