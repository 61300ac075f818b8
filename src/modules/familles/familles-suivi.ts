import type { Transaction } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { StatutDemande } from '../../domain/demande.ts';
import { newId } from '../demandes/demandes-repo.ts';
import type { Acteur } from '../audit/index.ts';
import { retirerRenouvellements } from '../renouvellement/renouvellement-repo.ts';
import { maintenant, type FamillesDeps } from './familles-repo.ts';
import { quotientsDeLaFamille, type QuotientFamille } from './familles-quotients.ts';

/** What the family follows of its requests: history, consents in force, contestations, the data used. */
export class SuiviFamilles {
  constructor(private readonly deps: FamillesDeps) {}

  /** Past requests, newest first, with their QF when there is one, marked in force or not (no fiscal detail). */
  async historique(familleId: string): Promise<HistoriqueDemande[]> {
    const { db } = this.deps;
    const rows = await db
      .selectFrom('demandes')
      .select(['id', 'reference', 'statut', 'canal', 'creee_le', 'motif'])
      .where('famille_id', '=', familleId)
      .orderBy('creee_le', 'desc')
      .execute();
    const [quotients, consents] = await Promise.all([
      this.quotients(familleId),
      rows.length === 0
        ? []
        : db
            .selectFrom('consentements')
            .select(['demande_id', 'retire_le'])
            .where(
              'demande_id',
              'in',
              rows.map((r) => r.id),
            )
            .execute(),
    ]);
    return rows.map((r) => ({
      id: r.id,
      reference: r.reference,
      statut: r.statut,
      canal: r.canal,
      creeeLe: r.creee_le,
      motif: r.motif,
      quotient: quotients.find((q) => q.demandeId === r.id) ?? null,
      consentementRetire: consents.some((c) => c.demande_id === r.id && c.retire_le !== null),
    }));
  }

  /** The family's QFs, newest first, the one in force marked. */
  quotients(familleId: string): Promise<QuotientFamille[]> {
    return quotientsDeLaFamille(this.deps, familleId);
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
   * already given — future updates and campaigns will ask again, the standing consents for renewal
   * end and the état civil kept for them is deleted. Results already computed stay until their
   * retention period ends. Returns how many consents (of both kinds) were withdrawn.
   */
  async retirerConsentements(familleId: string, acteur: Acteur): Promise<number> {
    const now = maintenant(this.deps);
    return this.deps.journal.inTransaction(async (trx) => {
      const ids = (await trx.selectFrom('demandes').select('id').where('famille_id', '=', familleId).execute()).map((d) => d.id);
      const result =
        ids.length === 0
          ? { numUpdatedRows: 0n }
          : await trx.updateTable('consentements').set({ retire_le: now }).where('demande_id', 'in', ids).where('retire_le', 'is', null).executeTakeFirst();
      const n = Number(result.numUpdatedRows);
      // The standing consents for renewal go with them, and the état civil kept for each.
      const renouvellements = await retirerRenouvellements(trx, this.deps.coffre, familleId, now);
      if (n + renouvellements > 0)
        await this.deps.journal.append(
          {
            actor: acteur,
            action: 'consentement.retire',
            target: { type: 'famille', id: familleId },
            outcome: 'succes',
            details: { consentements: n, ...(renouvellements > 0 ? { renouvellements } : {}) },
          },
          trx,
        );
      return n + renouvellements;
    });
  }

  /**
   * « Ces données sont-elles exactes ? » — recorded for an instructor to handle. One open at a time
   * per request, and CONTESTATIONS_PAR_JOUR per family in 24 hours: enough for a family, and
   * instructors' queue is not flooded by one account.
   */
  /**
   * `joindre`, when given, runs in the same transaction once the contestation is written (a document
   * the family attached, kept in the silo): both are recorded, or neither.
   */
  async contester(familleId: string, demandeId: string | null, motif: string, acteur: Acteur, joindre?: JointAContestation): Promise<string> {
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
    const now = maintenant(this.deps);
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
      if (joindre) await joindre(trx, id);
    });
    return id;
  }
}

/** What is written with a new contestation, in its transaction (see `contester`). */
export type JointAContestation = (trx: Transaction<Schema>, contestationId: string) => Promise<unknown>;

/** Contestations a family may send in 24 hours (README, « Accès et sessions »). */
export const CONTESTATIONS_PAR_JOUR = 3;

export interface HistoriqueDemande {
  readonly id: string;
  readonly reference: string;
  readonly statut: StatutDemande;
  readonly canal: string;
  readonly creeeLe: string;
  readonly motif: string | null;
  readonly quotient: QuotientFamille | null;
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
