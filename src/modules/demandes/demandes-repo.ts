import { randomBytes, randomUUID } from 'node:crypto';
import type { DemandeTable, FamilleTable, ParentTable } from '../../infra/db/schema.ts';
import type { Executor } from './ports.ts';

/** Reference a person can read over the phone: no 0/O or 1/I to confuse. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function newReference(prefix: string): string {
  const bytes = randomBytes(8);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return `${prefix}-${out.slice(0, 4)}-${out.slice(4)}`;
}

export const newId = (): string => randomUUID();

export async function findFamille(db: Executor, id: string): Promise<FamilleTable | undefined> {
  return db.selectFrom('familles').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findParents(db: Executor, familleId: string): Promise<ParentTable[]> {
  return db.selectFrom('parents').selectAll().where('famille_id', '=', familleId).orderBy('rang').execute();
}

export async function findDemande(db: Executor, id: string): Promise<DemandeTable | undefined> {
  return db.selectFrom('demandes').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findFoyers(db: Executor, demandeId: string) {
  return db.selectFrom('demande_foyers').selectAll().where('demande_id', '=', demandeId).orderBy('parent_rang').execute();
}

/**
 * Moves a request from one of the `from` statuses to `to`, only if nobody moved it meanwhile
 * (version check). Returns false when it had changed: the caller reloads and decides again.
 */
export async function moveDemande(
  db: Executor,
  demande: Pick<DemandeTable, 'id' | 'version'>,
  from: readonly string[],
  to: string,
  now: string,
  extra: Partial<Pick<DemandeTable, 'motif' | 'tentatives' | 'prochain_essai_le' | 'detenteur' | 'annee_revenus'>> = {},
): Promise<boolean> {
  const result = await db
    .updateTable('demandes')
    .set({ statut: to, modifiee_le: now, version: demande.version + 1, ...extra })
    .where('id', '=', demande.id)
    .where('version', '=', demande.version)
    .where('statut', 'in', [...from])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Position of a queued request among those waiting before it (1 = next). */
export async function positionInQueue(db: Executor, demande: Pick<DemandeTable, 'creee_le' | 'id'>): Promise<number> {
  const row = await db
    .selectFrom('demandes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('statut', 'in', ['en_file', 'en_cours'])
    .where((eb) => eb.or([eb('creee_le', '<', demande.creee_le), eb.and([eb('creee_le', '=', demande.creee_le), eb('id', '<', demande.id)])]))
    .executeTakeFirstOrThrow();
  return Number(row.n) + 1;
}
