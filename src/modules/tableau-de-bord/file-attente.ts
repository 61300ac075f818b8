import type { Kysely } from 'kysely';
import type { Schema } from '../../infra/db/schema.ts';
import { A_APPELER, CANAL_CAMPAGNE } from '../traitement/file-repo.ts';

/**
 * The queue as the database holds it, so every instance's share is counted, not only this
 * process's: the families' requests waiting for their call or being called, by the instance that
 * holds their numéros fiscaux in memory; the campaigns' items left, and those a worker holds with
 * a live lease. Counts only: no request, no family.
 */
export interface FileAttente {
  readonly enLigne: {
    /** Waiting for their call (consentie, en_file), every instance together. */
    readonly enAttente: number;
    /** Being called now. */
    readonly enCours: number;
    /** When the oldest waiting one was queued (ISO), null when none waits. */
    readonly plusAncienne: string | null;
  };
  readonly campagnes: {
    /** Items of running campaigns without a result yet. */
    readonly aTraiter: number;
    /** Of those, claimed by a worker whose lease runs. */
    readonly enCours: number;
  };
  readonly instances: readonly InstanceFile[];
}

export interface InstanceFile {
  readonly id: string;
  /** Its last heartbeat (ISO). */
  readonly vueLe: string | null;
  /** Seen within `VIVANTE_MS`; a silent one's requests go to re-entry, its items to another worker. */
  readonly vivante: boolean;
  readonly enAttente: number;
  readonly enCours: number;
  readonly elements: number;
}

/** An instance silent for longer is gone (the processing loop's own threshold: four heartbeats). */
export const VIVANTE_MS = 60_000;

export async function fileAttente(db: Kysely<Schema>, now: number): Promise<FileAttente> {
  const iso = new Date(now).toISOString();
  const elementsEnCours = () =>
    db
      .selectFrom('campagne_elements as e')
      .innerJoin('campagnes as c', 'c.id', 'e.campagne_id')
      .where('c.statut', '=', 'en_cours')
      .where('e.traite_le', 'is', null);
  const [demandes, restants, tenus, instances] = await Promise.all([
    db
      .selectFrom('demandes')
      .select((eb) => ['detenteur', 'statut', eb.fn.countAll<number | string>().as('n'), eb.fn.min('creee_le').as('plus_ancienne')])
      .where('statut', 'in', [...A_APPELER, 'en_cours'])
      .where('canal', '!=', CANAL_CAMPAGNE)
      .groupBy(['detenteur', 'statut'])
      .execute(),
    elementsEnCours()
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow(),
    // Claimed with a live lease, by worker; a lapsed lease is free again.
    elementsEnCours()
      .select((eb) => ['e.reclame_par', eb.fn.countAll<number | string>().as('n')])
      .where('e.bail_jusqua', '>=', iso)
      .groupBy('e.reclame_par')
      .execute(),
    db.selectFrom('instances').select(['id', 'vue_le']).orderBy('id').execute(),
  ]);

  const parInstance = new Map<string, { vueLe: string | null; enAttente: number; enCours: number; elements: number }>();
  const instance = (id: string) => {
    let i = parInstance.get(id);
    if (!i) parInstance.set(id, (i = { vueLe: null, enAttente: 0, enCours: 0, elements: 0 }));
    return i;
  };
  for (const r of instances) instance(r.id).vueLe = r.vue_le;
  let enAttente = 0;
  let enCours = 0;
  let plusAncienne: string | null = null;
  for (const r of demandes) {
    const n = Number(r.n);
    const waiting = r.statut !== 'en_cours';
    if (waiting) {
      enAttente += n;
      const le = r.plus_ancienne === null ? null : String(r.plus_ancienne);
      if (le !== null && (plusAncienne === null || le < plusAncienne)) plusAncienne = le;
    } else enCours += n;
    // A request held by no instance (its holder gone) is still in the totals above.
    if (r.detenteur !== null) {
      const i = instance(r.detenteur);
      if (waiting) i.enAttente += n;
      else i.enCours += n;
    }
  }
  let elements = 0;
  for (const r of tenus) {
    const n = Number(r.n);
    elements += n;
    if (r.reclame_par !== null) instance(r.reclame_par).elements += n;
  }
  const vivantesDepuis = new Date(now - VIVANTE_MS).toISOString();
  return {
    enLigne: { enAttente, enCours, plusAncienne },
    campagnes: { aTraiter: Number(restants.n), enCours: elements },
    instances: [...parInstance.entries()]
      .map(([id, i]) => ({ id, ...i, vivante: i.vueLe !== null && i.vueLe >= vivantesDepuis }))
      // Gone instances holding nothing are history, not the queue.
      .filter((i) => i.vivante || i.enAttente + i.enCours + i.elements > 0),
  };
}
