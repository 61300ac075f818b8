import { motsParent } from '../../domain/mots-du-nom.ts';
import type { Kysely, Transaction } from 'kysely';
import type { Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { JournalAudit } from '../audit/index.ts';
import { newId } from '../demandes/demandes-repo.ts';
import type { CompositionFamille, FamilleSaisieLue } from './familles-modele.ts';

/** What every part of the familles service is built with (`composeServices`). */
export interface FamillesDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly clock?: () => number;
}

/** The instant, as stored, from the injected clock (tests drive it). */
export function maintenant(deps: FamillesDeps): string {
  return new Date((deps.clock ?? Date.now)()).toISOString();
}

/** Keeps a parent's searchable words (parents_mots) in step with their names, in the caller's transaction. */
export async function ecrireMotsParent(
  trx: Transaction<Schema>,
  parentId: string,
  noms: { readonly nom_naissance: string; readonly nom_usage: string | null; readonly prenoms: string },
): Promise<void> {
  await trx.deleteFrom('parents_mots').where('parent_id', '=', parentId).execute();
  const mots = motsParent(noms);
  if (mots.length > 0)
    await trx
      .insertInto('parents_mots')
      .values(mots.map((mot) => ({ parent_id: parentId, mot })))
      .execute();
}

/** Writes the household's parents (ranked in the order given) and children, inside the caller's transaction. */
export async function insererMembres(trx: Transaction<Schema>, familleId: string, f: Pick<FamilleSaisieLue, 'parents' | 'enfants'>): Promise<void> {
  for (const [i, p] of f.parents.entries()) {
    const id = newId();
    await trx
      .insertInto('parents')
      .values({
        id,
        famille_id: familleId,
        rang: i + 1,
        nom_naissance: p.nomNaissance,
        nom_usage: p.nomUsage,
        prenoms: p.prenoms,
        date_naissance: p.dateNaissance,
        au_foyer: p.cohabite ? 1 : 0,
      })
      .execute();
    await ecrireMotsParent(trx, id, { nom_naissance: p.nomNaissance, nom_usage: p.nomUsage, prenoms: p.prenoms });
  }
  for (const e of f.enfants) {
    await trx
      .insertInto('enfants')
      .values({ id: newId(), famille_id: familleId, prenoms: e.prenoms, nom: e.nom, date_naissance: e.dateNaissance, residence: e.residence })
      .execute();
  }
}

/** A `parents` row as the family and the agents read it. */
export function parentLu(p: {
  rang: number;
  nom_naissance: string;
  nom_usage: string | null;
  prenoms: string;
  date_naissance: string | null;
  au_foyer: number;
}): CompositionFamille['parents'][number] {
  return {
    rang: p.rang === 2 ? 2 : 1,
    nomNaissance: p.nom_naissance,
    nomUsage: p.nom_usage,
    prenoms: p.prenoms,
    dateNaissance: p.date_naissance,
    cohabite: p.au_foyer === 1,
  };
}
