import type { Kysely } from 'kysely';
import { z } from 'zod';
import { QuotientError } from '../../domain/errors.ts';
import { isIsoDate } from '../../domain/dates.ts';
import type { StatutDemande } from '../../domain/demande.ts';
import { invalidInput, parseOptions } from '../../domain/zod-francais.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { newId, newReference } from '../demandes/demandes-repo.ts';
import { motifPourLaFamille } from '../demandes/motifs.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';

const nom = z.string().trim().min(1, 'obligatoire').max(100);
const dateNaissance = z.string().refine(isIsoDate, { message: 'date au format AAAA-MM-JJ' });

const parentSchema = z.strictObject({
  nomNaissance: nom,
  nomUsage: z
    .string()
    .trim()
    .max(100)
    .nullish()
    .transform((v) => (v ? v : null)),
  prenoms: nom,
  dateNaissance: dateNaissance.nullish().transform((v) => v ?? null),
  /** False for the other parent of a separated family, who lives elsewhere. */
  cohabite: z.boolean().default(true),
});

export const familleSchema = z.strictObject({
  parents: z.array(parentSchema).min(1, 'au moins un parent').max(2, 'au plus deux parents'),
  enfants: z
    .array(
      z.strictObject({
        prenoms: nom,
        nom,
        dateNaissance: dateNaissance.nullish().transform((v) => v ?? null),
        residence: z.enum(['exclusive', 'alternee']).default('exclusive'),
      }),
    )
    .max(20)
    .default([]),
  resident: z.boolean().default(true),
  courriel: z
    .email('adresse électronique invalide')
    .nullish()
    .transform((v) => v ?? null),
});

export type FamilleSaisie = z.input<typeof familleSchema>;
type FamilleSaisieLue = z.output<typeof familleSchema>;

/** Parent 1's identity as FranceConnect gives it (its claims given_name, family_name, birthdate). */
export interface IdentiteFranceConnect {
  readonly prenoms: string;
  readonly nomNaissance: string;
  /** `AAAA-MM-JJ`, or null when FranceConnect gave none in that form. */
  readonly dateNaissance: string | null;
}

/** The fields of parent 1 FranceConnect vouches for: the form's field, the column, the refusal's message. */
const IDENTITE_FRANCECONNECT = [
  ['prenoms', 'prenoms', 'Les prénoms du premier parent viennent de FranceConnect et ne peuvent pas être modifiés ici.'],
  ['nomNaissance', 'nom_naissance', 'Le nom de naissance du premier parent vient de FranceConnect et ne peut pas être modifié ici.'],
  ['dateNaissance', 'date_naissance', 'La date de naissance du premier parent vient de FranceConnect et ne peut pas être modifiée ici.'],
] as const;

export class FamillesService {
  constructor(private readonly deps: { db: Kysely<Schema>; journal: JournalAudit; coffre: Coffre; clock?: () => number }) {}

  private now(): string {
    return new Date((this.deps.clock ?? Date.now)()).toISOString();
  }

  async creer(input: unknown, acteur: Acteur): Promise<{ id: string; reference: string }> {
    const parsed = familleSchema.safeParse(input, parseOptions);
    if (!parsed.success) throw invalidInput('famille_invalide', 'Les informations du foyer sont incomplètes.', parsed.error.issues);
    const f = parsed.data;
    const id = newId();
    const reference = newReference('F');
    const now = this.now();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('familles')
        .values({ id, reference, resident: f.resident ? 1 : 0, courriel: f.courriel, creee_le: now, modifiee_le: now })
        .execute();
      for (const [i, p] of f.parents.entries()) {
        await trx
          .insertInto('parents')
          .values({
            id: newId(),
            famille_id: id,
            rang: i + 1,
            nom_naissance: p.nomNaissance,
            nom_usage: p.nomUsage,
            prenoms: p.prenoms,
            date_naissance: p.dateNaissance,
            au_foyer: p.cohabite ? 1 : 0,
          })
          .execute();
      }
      for (const e of f.enfants) {
        await trx
          .insertInto('enfants')
          .values({ id: newId(), famille_id: id, prenoms: e.prenoms, nom: e.nom, date_naissance: e.dateNaissance, residence: e.residence })
          .execute();
      }
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

  /**
   * Everything Quotient holds about a family, for its right of access (RGPD art. 15): identity,
   * requests, consents, results, decisions, contestations, and the fiscal data kept in the silo.
   * The reading is journaled.
   */
  async exporter(familleId: string, acteur: Acteur): Promise<ExportFamille> {
    const { db, coffre, journal } = this.deps;
    const famille = await db.selectFrom('familles').selectAll().where('id', '=', familleId).executeTakeFirst();
    if (!famille) throw new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
    const [parents, enfants, demandes, quotients, contestations] = await Promise.all([
      db.selectFrom('parents').selectAll().where('famille_id', '=', familleId).orderBy('rang').execute(),
      db.selectFrom('enfants').selectAll().where('famille_id', '=', familleId).execute(),
      db.selectFrom('demandes').selectAll().where('famille_id', '=', familleId).orderBy('creee_le').execute(),
      db.selectFrom('quotients').selectAll().where('famille_id', '=', familleId).orderBy('calcule_le').execute(),
      db.selectFrom('contestations').selectAll().where('famille_id', '=', familleId).orderBy('ouverte_le').execute(),
    ]);
    const ids = demandes.map((d) => d.id);
    const [consentements, foyersFiscaux, decisions] =
      ids.length === 0
        ? [[], [], []]
        : await Promise.all([
            db.selectFrom('consentements').selectAll().where('demande_id', 'in', ids).execute(),
            db.selectFrom('demande_foyers').selectAll().where('demande_id', 'in', ids).execute(),
            db.selectFrom('decisions').selectAll().where('demande_id', 'in', ids).execute(),
          ]);
    const situations = [];
    for (const foyerFiscal of foyersFiscaux) {
      const situation = foyerFiscal.etat === 'recu' ? await coffre.get('situation_fiscale', foyerFiscal.id) : undefined;
      if (situation !== undefined) situations.push({ demandeId: foyerFiscal.demande_id, parent: foyerFiscal.parent_rang, situation });
    }
    await journal.append({ actor: acteur, action: 'famille.exportee', target: { type: 'famille', id: familleId }, outcome: 'succes' });
    return {
      exporteLe: this.now(),
      famille: { reference: famille.reference, resident: famille.resident === 1, courriel: famille.courriel, creeeLe: famille.creee_le },
      // The keys are the file the family downloads (and `export-texte.ts` reads): `auFoyer` keeps its name.
      parents: parents.map((p) => ({
        rang: p.rang,
        nomNaissance: p.nom_naissance,
        nomUsage: p.nom_usage,
        prenoms: p.prenoms,
        dateNaissance: p.date_naissance,
        auFoyer: p.au_foyer === 1,
      })),
      enfants: enfants.map((e) => ({ prenoms: e.prenoms, nom: e.nom, dateNaissance: e.date_naissance, residence: e.residence })),
      demandes: demandes.map((d) => ({
        reference: d.reference,
        canal: d.canal,
        statut: d.statut,
        motif: motifPourLaFamille(d.motif_code, d.motif),
        creeeLe: d.creee_le,
        consentements: consentements
          .filter((c) => c.demande_id === d.id)
          .map((c) => ({
            parent: c.parent_rang,
            mode: c.mode,
            versionTexte: c.version_texte,
            donnees: JSON.parse(c.donnees) as string[],
            finalite: c.finalite,
            recueilliLe: c.recueilli_le,
            retireLe: c.retire_le,
          })),
        decisions: decisions
          .filter((x) => x.demande_id === d.id)
          .map((x) => ({ decision: x.decision, justification: x.justification, decideeLe: x.decidee_le })),
      })),
      quotients: quotients.map((q) => ({
        demande: demandes.find((d) => d.id === q.demande_id)?.reference ?? null,
        valeurEuros: q.valeur_cents / 100,
        periode: q.periode,
        validiteDu: q.valide_du,
        validiteAu: q.valide_au,
        politique: q.politique,
        calculeLe: q.calcule_le,
      })),
      situationsFiscales: situations.map((s) => ({
        demande: demandes.find((d) => d.id === s.demandeId)?.reference ?? null,
        parent: s.parent,
        ...(s.situation as object),
      })),
      contestations: contestations.map((c) => ({ motif: c.motif, statut: c.statut, reponse: c.reponse, ouverteLe: c.ouverte_le, traiteeLe: c.traitee_le })),
    };
  }

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
      // A coarse filter both dialects run alike (letters that may carry an accent match anything);
      // the exact comparison is made below, on the normalised names.
      const motif = `%${[...mot].map((c) => (LETTRES_ACCENTUABLES.includes(c) ? '_' : c)).join('')}%`;
      query = query.where((eb) =>
        eb.or([
          eb(eb.fn('lower', ['parents.nom_naissance']), 'like', motif),
          eb(eb.fn('lower', ['parents.nom_usage']), 'like', motif),
          eb(eb.fn('lower', ['parents.prenoms']), 'like', motif),
        ]),
      );
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
          parents: parents
            .filter((p) => p.famille_id === id)
            .map((p) => ({
              rang: p.rang === 2 ? 2 : 1,
              nomNaissance: p.nom_naissance,
              nomUsage: p.nom_usage,
              prenoms: p.prenoms,
              dateNaissance: p.date_naissance,
              cohabite: p.au_foyer === 1,
            })),
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
      parents: parents.map((p) => ({
        rang: p.rang === 2 ? 2 : 1,
        nomNaissance: p.nom_naissance,
        nomUsage: p.nom_usage,
        prenoms: p.prenoms,
        dateNaissance: p.date_naissance,
        cohabite: p.au_foyer === 1,
      })),
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
    const now = this.now();
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
      for (const [i, p] of f.parents.entries()) {
        await trx
          .insertInto('parents')
          .values({
            id: newId(),
            famille_id: familleId,
            rang: i + 1,
            nom_naissance: p.nomNaissance,
            nom_usage: p.nomUsage,
            prenoms: p.prenoms,
            date_naissance: p.dateNaissance,
            au_foyer: p.cohabite ? 1 : 0,
          })
          .execute();
      }
      for (const e of f.enfants) {
        await trx
          .insertInto('enfants')
          .values({ id: newId(), famille_id: familleId, prenoms: e.prenoms, nom: e.nom, date_naissance: e.dateNaissance, residence: e.residence })
          .execute();
      }
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
   * Journaled when something changed (field names only).
   */
  async reprendreIdentiteFranceConnect(familleId: string, identite: IdentiteFranceConnect, acteur: Acteur): Promise<void> {
    const { db, journal } = this.deps;
    const enregistre = await db
      .selectFrom('parents')
      .select(['id', 'prenoms', 'nom_naissance', 'date_naissance'])
      .where('famille_id', '=', familleId)
      .where('rang', '=', 1)
      .executeTakeFirst();
    if (!enregistre) return;
    const voulu = {
      prenoms: identite.prenoms,
      nom_naissance: identite.nomNaissance,
      // A birth date FranceConnect did not give in a usable form leaves the one recorded.
      date_naissance: identite.dateNaissance ?? enregistre.date_naissance,
    };
    const changes = (['prenoms', 'nom_naissance', 'date_naissance'] as const).filter((c) => voulu[c] !== enregistre[c]);
    if (changes.length === 0) return;
    await journal.inTransaction(async (trx) => {
      await trx.updateTable('parents').set(voulu).where('id', '=', enregistre.id).execute();
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

  /** Past requests, newest first, with their QF when there is one (no fiscal detail). */
  async historique(familleId: string): Promise<HistoriqueDemande[]> {
    const { db } = this.deps;
    const rows = await db
      .selectFrom('demandes')
      .leftJoin('quotients', 'quotients.demande_id', 'demandes.id')
      .select([
        'demandes.id',
        'demandes.reference',
        'demandes.statut',
        'demandes.canal',
        'demandes.creee_le',
        'demandes.motif',
        'quotients.valeur_cents',
        'quotients.periode',
        'quotients.valide_du',
        'quotients.valide_au',
      ])
      .where('demandes.famille_id', '=', familleId)
      .orderBy('demandes.creee_le', 'desc')
      .execute();
    const consents =
      rows.length === 0
        ? []
        : await db
            .selectFrom('consentements')
            .select(['demande_id', 'retire_le'])
            .where(
              'demande_id',
              'in',
              rows.map((r) => r.id),
            )
            .execute();
    return rows.map((r) => ({
      id: r.id,
      reference: r.reference,
      statut: r.statut,
      canal: r.canal,
      creeeLe: r.creee_le,
      motif: r.motif,
      quotient:
        r.valeur_cents === null ? null : { cents: r.valeur_cents, periode: r.periode ?? 'mensuelle', valideDu: r.valide_du ?? '', valideAu: r.valide_au ?? '' },
      consentementRetire: consents.some((c) => c.demande_id === r.id && c.retire_le !== null),
    }));
  }

  /** The consents in force (not withdrawn), newest first: what « Retirer mon accord » would withdraw. */
  async accordsEnCours(familleId: string): Promise<AccordEnCours[]> {
    const { db } = this.deps;
    const rows = await db
      .selectFrom('consentements')
      .innerJoin('demandes', 'demandes.id', 'consentements.demande_id')
      .select(['demandes.reference', 'consentements.parent_rang', 'consentements.recueilli_le'])
      .where('demandes.famille_id', '=', familleId)
      .where('consentements.retire_le', 'is', null)
      .orderBy('consentements.recueilli_le', 'desc')
      .execute();
    return rows.map((r) => ({ reference: r.reference, parent: r.parent_rang === 2 ? 2 : 1, recueilliLe: r.recueilli_le }));
  }

  /** The contestations the family sent, newest first, with the agent's answer once handled. */
  async contestations(familleId: string): Promise<ContestationFamille[]> {
    const { db } = this.deps;
    const rows = await db
      .selectFrom('contestations')
      .leftJoin('demandes', 'demandes.id', 'contestations.demande_id')
      .select([
        'contestations.id',
        'demandes.reference',
        'contestations.motif',
        'contestations.statut',
        'contestations.reponse',
        'contestations.ouverte_le',
        'contestations.traitee_le',
      ])
      .where('contestations.famille_id', '=', familleId)
      .orderBy('contestations.ouverte_le', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      demande: r.reference,
      motif: r.motif,
      statut: r.statut,
      reponse: r.reponse,
      ouverteLe: r.ouverte_le,
      traiteeLe: r.traitee_le,
    }));
  }

  /**
   * The data a result was computed from, for the family: year, source and date of each avis, and
   * the explanation of the calculation (which quotes the RFR and the parts) from the silo. The
   * numéro fiscal is not there: it was never kept. The reading is journaled.
   */
  async donneesUtilisees(familleId: string, demandeId: string, acteur: Acteur): Promise<DonneesUtilisees> {
    const { db, coffre, journal } = this.deps;
    const owned = await db.selectFrom('demandes').select('id').where('id', '=', demandeId).where('famille_id', '=', familleId).executeTakeFirst();
    if (!owned) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
    const foyersFiscaux = await db
      .selectFrom('demande_foyers')
      .select(['parent_rang', 'annee_revenus', 'source', 'recu_le', 'voie'])
      .where('demande_id', '=', demandeId)
      .orderBy('parent_rang')
      .execute();
    const calcul = (await coffre.get('calcul_quotient', demandeId).catch(() => undefined)) as { explication?: string } | undefined;
    await journal.append({ actor: acteur, action: 'famille.resultat_consulte', target: { type: 'demande', id: demandeId }, outcome: 'succes' });
    return {
      foyersFiscaux: foyersFiscaux.map((f) => ({ parent: f.parent_rang, anneeRevenus: f.annee_revenus, source: f.source, recuLe: f.recu_le, voie: f.voie })),
      explication: typeof calcul?.explication === 'string' ? calcul.explication : null,
    };
  }

  /**
   * Withdrawal of consent (RGPD art. 7.3): no new call to the DGFiP on the strength of the consents
   * already given — future updates and campaigns will ask again. Results already computed stay
   * until their retention period ends. Returns how many consents were withdrawn.
   */
  async retirerConsentements(familleId: string, acteur: Acteur): Promise<number> {
    const now = this.now();
    return this.deps.journal.inTransaction(async (trx) => {
      const ids = (await trx.selectFrom('demandes').select('id').where('famille_id', '=', familleId).execute()).map((d) => d.id);
      if (ids.length === 0) return 0;
      const result = await trx
        .updateTable('consentements')
        .set({ retire_le: now })
        .where('demande_id', 'in', ids)
        .where('retire_le', 'is', null)
        .executeTakeFirst();
      const n = Number(result.numUpdatedRows);
      if (n > 0)
        await this.deps.journal.append(
          { actor: acteur, action: 'consentement.retire', target: { type: 'famille', id: familleId }, outcome: 'succes', details: { consentements: n } },
          trx,
        );
      return n;
    });
  }

  /**
   * « Ces données sont-elles exactes ? » — recorded for an instructor to handle. One open at a time
   * per request, and CONTESTATIONS_PAR_JOUR per family in 24 hours: enough for a family, and
   * instructors' queue is not flooded by one account.
   */
  async contester(familleId: string, demandeId: string | null, motif: string, acteur: Acteur): Promise<string> {
    const texte = motif.trim();
    if (texte.length < 5)
      throw new QuotientError('invalid', 'contestation_invalide', 'Expliquez en quelques mots ce qui vous paraît inexact.', {
        details: [{ path: 'motif', message: 'au moins 5 caractères' }],
      });
    if (texte.length > 2000)
      throw new QuotientError('invalid', 'contestation_invalide', 'Le message est trop long (2 000 caractères au plus).', {
        details: [{ path: 'motif', message: 'au plus 2 000 caractères' }],
      });
    const id = newId();
    const now = this.now();
    await this.deps.journal.inTransaction(async (trx) => {
      if (demandeId !== null) {
        const owned = await trx.selectFrom('demandes').select('id').where('id', '=', demandeId).where('famille_id', '=', familleId).executeTakeFirst();
        if (!owned) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
        const ouverte = await trx
          .selectFrom('contestations')
          .select('id')
          .where('demande_id', '=', demandeId)
          .where('statut', '=', 'ouverte')
          .executeTakeFirst();
        if (ouverte)
          throw new QuotientError(
            'conflict',
            'contestation_deja_ouverte',
            'Vous avez déjà signalé une erreur sur cette demande : un agent l’examine et vous répondra. Vous pourrez en signaler une autre une fois sa réponse reçue.',
          );
      }
      const depuis = new Date(Date.parse(now) - 24 * 3600_000).toISOString();
      const recentes = await trx
        .selectFrom('contestations')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('famille_id', '=', familleId)
        .where('ouverte_le', '>', depuis)
        .executeTakeFirstOrThrow();
      if (Number(recentes.n) >= CONTESTATIONS_PAR_JOUR) {
        throw new QuotientError(
          'conflict',
          'contestations_trop_nombreuses',
          `Vous avez déjà envoyé ${CONTESTATIONS_PAR_JOUR} signalements ces dernières 24 heures : un agent va les examiner. Vous pourrez en envoyer un autre demain, ou contacter le service par courriel.`,
        );
      }
      await trx
        .insertInto('contestations')
        .values({ id, famille_id: familleId, demande_id: demandeId, motif: texte, statut: 'ouverte', reponse: null, ouverte_le: now, traitee_le: null })
        .execute();
      await this.deps.journal.append({ actor: acteur, action: 'contestation.ouverte', target: { type: 'famille', id: familleId }, outcome: 'succes' }, trx);
    });
    return id;
  }
}

/** Contestations a family may send in 24 hours (README, « Accès et sessions »). */
export const CONTESTATIONS_PAR_JOUR = 3;

export interface CompositionFamille {
  readonly reference: string;
  readonly resident: boolean;
  readonly courriel: string | null;
  /** True while the family has not yet completed the household its account started with. */
  readonly aCompleter: boolean;
  readonly parents: ReadonlyArray<{
    rang: 1 | 2;
    nomNaissance: string;
    nomUsage: string | null;
    prenoms: string;
    dateNaissance: string | null;
    cohabite: boolean;
  }>;
  readonly enfants: ReadonlyArray<{ prenoms: string; nom: string; dateNaissance: string | null; residence: 'exclusive' | 'alternee' }>;
}

export interface HistoriqueDemande {
  readonly id: string;
  readonly reference: string;
  readonly statut: StatutDemande;
  readonly canal: string;
  readonly creeeLe: string;
  readonly motif: string | null;
  readonly quotient: { cents: number; periode: string; valideDu: string; valideAu: string } | null;
  readonly consentementRetire: boolean;
}

export interface AccordEnCours {
  /** Reference of the request the consent was given for. */
  readonly reference: string;
  readonly parent: 1 | 2;
  readonly recueilliLe: string;
}

export interface ContestationFamille {
  readonly id: string;
  /** Reference of the contested request, if any. */
  readonly demande: string | null;
  readonly motif: string;
  /** `ouverte` until an agent handles it. */
  readonly statut: string;
  readonly reponse: string | null;
  readonly ouverteLe: string;
  readonly traiteeLe: string | null;
}

export interface DonneesUtilisees {
  readonly foyersFiscaux: ReadonlyArray<{ parent: number; anneeRevenus: number | null; source: string | null; recuLe: string | null; voie: string }>;
  readonly explication: string | null;
}

export interface ExportFamille {
  readonly exporteLe: string;
  readonly famille: Record<string, unknown>;
  readonly parents: ReadonlyArray<Record<string, unknown>>;
  readonly enfants: ReadonlyArray<Record<string, unknown>>;
  readonly demandes: ReadonlyArray<Record<string, unknown>>;
  readonly quotients: ReadonlyArray<Record<string, unknown>>;
  readonly situationsFiscales: ReadonlyArray<Record<string, unknown>>;
  readonly contestations: ReadonlyArray<Record<string, unknown>>;
}

/** Letters a name may carry with an accent (é, ç, ñ...): the database's filter lets them match anything. */
const LETTRES_ACCENTUABLES = 'aeiouycn';
export const RECHERCHE_MAX = 50;
/** Rows the coarse SQL filter of `rechercher` reads at most before the exact comparison. */
export const RECHERCHE_GROSSIERE_MAX = 1000;

/** « Ndiaye-Fall », « NDIAYE fall » → [ndiaye, fall]: lower case, no accents, letters only. */
export function motsDuNom(nom: string): string[] {
  return nom
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .filter((m) => m !== '');
}

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
