import { QuotientError } from '../../domain/errors.ts';
import { motsDuNom } from '../../domain/mots-du-nom.ts';

export { motsDuNom };
import type { Acteur } from '../audit/index.ts';
import type { CompositionFamille } from './familles-modele.ts';
import { parentLu, type FamillesDeps } from './familles-repo.ts';

/** The agents' search for a family at the counter. */
export class RechercheFamilles {
  constructor(private readonly deps: FamillesDeps) {}

  /**
   * Finds families for an agent at the counter: by reference, or by a parent's name (birth name,
   * usage name or first names; case, accents and hyphens ignored) and/or date of birth, the same
   * parent matching both. At most `RECHERCHE_MAX` families. The search is a read of families' data:
   * one journal entry, with the kinds of criteria and the count, never the names searched.
   */
  async rechercher(criteres: CriteresRecherche, acteur: Acteur): Promise<ResultatRecherche> {
    const { db } = this.deps;
    const reference = criteres.reference?.trim().toUpperCase() || undefined;
    const mots = motsDuNom(criteres.nom ?? '');
    const dateNaissance = criteres.dateNaissance || undefined;
    if (!reference && mots.length === 0 && !dateNaissance) {
      throw new QuotientError('invalid', 'recherche_vide', 'Indiquez une référence de famille, un nom ou une date de naissance.');
    }
    let query = db
      .selectFrom('familles')
      .innerJoin('parents', 'parents.famille_id', 'familles.id')
      .select(['familles.id', 'parents.nom_naissance', 'parents.nom_usage', 'parents.prenoms']);
    if (reference) query = query.where('familles.reference', '=', reference);
    if (dateNaissance) query = query.where('parents.date_naissance', '=', dateNaissance);
    for (const mot of mots) {
      // Through the words' index (parents_mots): a prefix of a normalised word. Words hold letters
      // only, so no LIKE wildcard can come from what the agent typed.
      query = query.where('parents.id', 'in', (eb) => eb.selectFrom('parents_mots').select('parent_id').where('mot', 'like', `${mot}%`));
    }
    // A stable order, so that the same search lists the same families; when the coarse filter
    // hits its cap, a family matching exactly may lie beyond it: the list is then said truncated.
    const lignes = await query.orderBy('familles.reference').orderBy('parents.rang').limit(RECHERCHE_GROSSIERE_MAX).execute();
    const ids: string[] = [];
    for (const l of lignes) {
      const noms = motsDuNom(`${l.nom_naissance} ${l.nom_usage ?? ''} ${l.prenoms}`);
      if (mots.every((m) => noms.some((n) => n.startsWith(m))) && !ids.includes(l.id)) ids.push(l.id);
    }
    const retenus = ids.slice(0, RECHERCHE_MAX);
    const [familles, parents, enfants] =
      retenus.length === 0
        ? [[], [], []]
        : await Promise.all([
            db.selectFrom('familles').select(['id', 'reference', 'resident']).where('id', 'in', retenus).execute(),
            db.selectFrom('parents').selectAll().where('famille_id', 'in', retenus).orderBy('rang').execute(),
            db.selectFrom('enfants').select(['famille_id']).where('famille_id', 'in', retenus).execute(),
          ]);
    const trouvees: FamilleTrouvee[] = retenus.flatMap((id) => {
      const f = familles.find((x) => x.id === id);
      if (!f) return [];
      return [
        {
          id,
          reference: f.reference,
          resident: f.resident === 1,
          parents: parents.filter((p) => p.famille_id === id).map(parentLu),
          enfants: enfants.filter((e) => e.famille_id === id).length,
        },
      ];
    });
    const sortes = [reference ? 'reference' : null, mots.length > 0 ? 'nom' : null, dateNaissance ? 'date_naissance' : null]
      .filter((x) => x !== null)
      .join('+');
    await this.deps.journal.append({
      actor: acteur,
      action: 'famille.recherchee',
      outcome: 'succes',
      details: { criteres: sortes, resultats: trouvees.length },
    });
    return { familles: trouvees, tronque: ids.length > RECHERCHE_MAX || lignes.length >= RECHERCHE_GROSSIERE_MAX };
  }
}

export const RECHERCHE_MAX = 50;
/** Rows the coarse SQL filter of `rechercher` reads at most before the exact comparison. */
export const RECHERCHE_GROSSIERE_MAX = 1000;

export interface CriteresRecherche {
  /** A family's reference (« F-ABCD-EFGH »). */
  readonly reference?: string;
  /** Words of a parent's names. */
  readonly nom?: string;
  /** A parent's date of birth, `AAAA-MM-JJ`. */
  readonly dateNaissance?: string;
}

export interface FamilleTrouvee {
  readonly id: string;
  readonly reference: string;
  readonly resident: boolean;
  readonly parents: CompositionFamille['parents'];
  readonly enfants: number;
}

export interface ResultatRecherche {
  readonly familles: readonly FamilleTrouvee[];
  /** More families matched than are listed, or may have: the agent should narrow the search. */
  readonly tronque: boolean;
}
