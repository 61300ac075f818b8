import { QuotientError } from '../../domain/errors.ts';
import { invalidInput, parseOptions } from '../../domain/zod-francais.ts';
import { newId, newReference } from '../demandes/demandes-repo.ts';
import type { Acteur } from '../audit/index.ts';
import { familleSchema, type CompositionFamille, type FamilleSaisieLue, type IdentiteFranceConnect } from './familles-modele.ts';
import { ecrireMotsParent, insererMembres, maintenant, parentLu, type FamillesDeps } from './familles-repo.ts';

/** The fields of parent 1 FranceConnect vouches for: the form's field, the column, the refusal's message. */
const IDENTITE_FRANCECONNECT = [
  ['prenoms', 'prenoms', 'Les prénoms du premier parent viennent de FranceConnect et ne peuvent pas être modifiés ici.'],
  ['nomNaissance', 'nom_naissance', 'Le nom de naissance du premier parent vient de FranceConnect et ne peut pas être modifié ici.'],
  ['dateNaissance', 'date_naissance', 'La date de naissance du premier parent vient de FranceConnect et ne peut pas être modifiée ici.'],
] as const;

/** The household itself: its creation, « Mon foyer » read and corrected, parent 1 locked to FranceConnect. */
export class CompositionsFamilles {
  constructor(private readonly deps: FamillesDeps) {}

  /** `referenceExterne`: the family's reference in the commune's software (a campaign's import), unique. */
  async creer(input: unknown, acteur: Acteur, options: { referenceExterne?: string } = {}): Promise<{ id: string; reference: string }> {
    const parsed = familleSchema.safeParse(input, parseOptions);
    if (!parsed.success) throw invalidInput('famille_invalide', 'Les informations du foyer sont incomplètes.', parsed.error.issues);
    const f = parsed.data;
    const id = newId();
    const reference = newReference('F');
    const now = maintenant(this.deps);
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('familles')
        .values({
          id,
          reference,
          resident: f.resident ? 1 : 0,
          courriel: f.courriel,
          creee_le: now,
          modifiee_le: now,
          reference_externe: options.referenceExterne ?? null,
        })
        .execute();
      await insererMembres(trx, id, f);
      await this.deps.journal.append(
        {
          actor: acteur,
          action: 'famille.creee',
          target: { type: 'famille', id },
          outcome: 'succes',
          details: { parents: f.parents.length, enfants: f.enfants.length },
        },
        trx,
      );
    });
    return { id, reference };
  }

  /** The household as the family sees it on « Mon foyer »: parents by rank, children. */
  async composition(familleId: string): Promise<CompositionFamille> {
    const { db } = this.deps;
    const famille = await db.selectFrom('familles').selectAll().where('id', '=', familleId).executeTakeFirst();
    if (!famille) throw new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
    const [parents, enfants] = await Promise.all([
      db.selectFrom('parents').selectAll().where('famille_id', '=', familleId).orderBy('rang').execute(),
      db.selectFrom('enfants').selectAll().where('famille_id', '=', familleId).orderBy('date_naissance').execute(),
    ]);
    return {
      reference: famille.reference,
      resident: famille.resident === 1,
      courriel: famille.courriel,
      // Never touched since the account created it with the signed-in parent alone.
      aCompleter: famille.modifiee_le === famille.creee_le && enfants.length === 0,
      parents: parents.map(parentLu),
      enfants: enfants.map((e) => ({
        prenoms: e.prenoms,
        nom: e.nom,
        dateNaissance: e.date_naissance,
        residence: e.residence === 'alternee' ? 'alternee' : 'exclusive',
      })),
    };
  }

  /**
   * « Mon foyer », completed or corrected by the family: parents and children as declared replace
   * the previous ones (consents name parents by rank, not by row). Validated like `creer`.
   */
  async mettreAJour(familleId: string, input: unknown, acteur: Acteur, options: { parent1FranceConnect?: boolean } = {}): Promise<void> {
    const parsed = familleSchema.safeParse(input, parseOptions);
    if (!parsed.success) throw invalidInput('famille_invalide', 'Les informations du foyer sont incomplètes.', parsed.error.issues);
    const f = parsed.data;
    const now = maintenant(this.deps);
    if (options.parent1FranceConnect) await this.refuserSiIdentiteChangee(familleId, f.parents[0], acteur);
    await this.deps.journal.inTransaction(async (trx) => {
      const updated = await trx
        .updateTable('familles')
        .set({ resident: f.resident ? 1 : 0, ...(f.courriel ? { courriel: f.courriel } : {}), modifiee_le: now })
        .where('id', '=', familleId)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) throw new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
      await trx.deleteFrom('parents').where('famille_id', '=', familleId).execute();
      await trx.deleteFrom('enfants').where('famille_id', '=', familleId).execute();
      await insererMembres(trx, familleId, f);
      // Counts only, no names: what changed in the household's shape is visible in the journal.
      const details = {
        parents: f.parents.length,
        parentsAilleurs: f.parents.filter((p) => !p.cohabite).length,
        enfants: f.enfants.length,
        enfantsResidenceAlternee: f.enfants.filter((e) => e.residence === 'alternee').length,
      };
      await this.deps.journal.append(
        { actor: acteur, action: 'famille.modifiee', target: { type: 'famille', id: familleId }, outcome: 'succes', details },
        trx,
      );
    });
  }

  /**
   * For a FranceConnect account, parent 1 is the person FranceConnect signed in: their first names,
   * birth name and birth date are FranceConnect's, not the family's to change (else anyone could
   * name a third party there and fish for their avis). A change is refused, journaled, and named
   * field by field; the usage name stays the family's.
   */
  private async refuserSiIdentiteChangee(familleId: string, saisi: FamilleSaisieLue['parents'][number] | undefined, acteur: Acteur): Promise<void> {
    const enregistre = await this.deps.db
      .selectFrom('parents')
      .select(['prenoms', 'nom_naissance', 'date_naissance'])
      .where('famille_id', '=', familleId)
      .where('rang', '=', 1)
      .executeTakeFirst();
    if (!enregistre) return;
    const champs = IDENTITE_FRANCECONNECT.filter(([champ, colonne]) => (saisi?.[champ] ?? null) !== enregistre[colonne]).map(([champ, , message]) => ({
      path: `parents[0].${champ}`,
      message,
    }));
    if (champs.length === 0) return;
    await this.deps.journal.append({
      actor: acteur,
      action: 'famille.modifiee',
      target: { type: 'famille', id: familleId },
      outcome: 'refus',
      details: { motif: 'identite_franceconnect', champs: champs.map((c) => c.path.slice('parents[0].'.length)).join(',') },
    });
    throw new QuotientError('forbidden', 'identite_franceconnect', 'L’identité du premier parent vient de FranceConnect et ne peut pas être modifiée ici.', {
      details: champs,
    });
  }

  /**
   * At each FranceConnect sign-in, parent 1's identity is FranceConnect's again: a correction of the
   * civil status reaches the household, and an identity changed before it was locked is undone.
   * FranceConnect's e-mail only fills an empty address (a family created before it was asked): the
   * family may change its address, and its choice stands. Journaled when something changed (field names only).
   */
  async reprendreIdentiteFranceConnect(familleId: string, identite: IdentiteFranceConnect, acteur: Acteur): Promise<void> {
    const { db, journal } = this.deps;
    const enregistre = await db
      .selectFrom('parents')
      .innerJoin('familles', 'familles.id', 'parents.famille_id')
      .select(['parents.id', 'parents.prenoms', 'parents.nom_naissance', 'parents.nom_usage', 'parents.date_naissance', 'familles.courriel'])
      .where('parents.famille_id', '=', familleId)
      .where('parents.rang', '=', 1)
      .executeTakeFirst();
    if (!enregistre) return;
    const voulu = {
      prenoms: identite.prenoms,
      nom_naissance: identite.nomNaissance,
      // A birth date FranceConnect did not give in a usable form leaves the one recorded.
      date_naissance: identite.dateNaissance ?? enregistre.date_naissance,
    };
    const identiteChangee = (['prenoms', 'nom_naissance', 'date_naissance'] as const).filter((c) => voulu[c] !== enregistre[c]);
    const courriel = enregistre.courriel === null && identite.courriel ? identite.courriel : undefined;
    const changes = courriel ? [...identiteChangee, 'courriel'] : identiteChangee;
    if (changes.length === 0) return;
    await journal.inTransaction(async (trx) => {
      if (identiteChangee.length > 0) {
        await trx.updateTable('parents').set(voulu).where('id', '=', enregistre.id).execute();
        await ecrireMotsParent(trx, enregistre.id, { ...enregistre, ...voulu });
      }
      if (courriel)
        await trx
          .updateTable('familles')
          .set({ courriel, modifiee_le: maintenant(this.deps) })
          .where('id', '=', familleId)
          .where('courriel', 'is', null)
          .execute();
      await journal.append(
        {
          actor: acteur,
          action: 'famille.identite_franceconnect',
          target: { type: 'famille', id: familleId },
          outcome: 'succes',
          details: { champs: changes.join(',') },
        },
        trx,
      );
    });
  }
}
