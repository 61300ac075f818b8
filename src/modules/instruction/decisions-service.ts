import type { Kysely } from 'kysely';
import { lireTexte, parseDecisionInstructeur, parseDecisionQfManuel, type DecisionValidee } from '../../domain/decision-instructeur.ts';
import { STATUTS, STATUTS_TERMINAUX, type StatutDemande } from '../../domain/demande.ts';
import { QuotientError, isQuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { createSituationFiscale, type SituationFiscale } from '../../domain/situation-fiscale.ts';
import type { DemandeTable, Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { Acteur } from '../audit/index.ts';
import type { AvisService } from '../avis/avis-service.ts';
import { COFFRE, findDemande, findFoyersFiscaux, insertDemande, newId, newReference } from '../demandes/demandes-repo.ts';
import { motif } from '../demandes/motifs.ts';
import type { OrigineQuotient, QuotientARetenir, Quotients } from '../demandes/quotients.ts';
import type { Transitions, UniteDeTravail } from '../demandes/transitions.ts';

/** An instructor's decision as typed: validated by `parseDecisionInstructeur` before anything is written. */
export interface SaisieDecision {
  readonly decision: unknown;
  readonly justification?: unknown;
  readonly piece?: unknown;
  readonly qfCents?: unknown;
}

export interface ReponseContestation {
  readonly reponse?: unknown;
  /** `maintien`: the result stands; `qf_manuel`: a new QF set by hand. */
  readonly suite?: unknown;
  readonly justification?: unknown;
  readonly piece?: unknown;
  readonly qfCents?: unknown;
}

export interface DecisionsDeps {
  readonly db: Kysely<Schema>;
  readonly coffre: Coffre;
  readonly transitions: Transitions;
  readonly quotients: Quotients;
  /** The avis the family uploaded: destroyed in the decision's transaction (issue 15). */
  readonly avis?: Pick<AvisService, 'detruire'>;
  readonly clock?: () => number;
}

/** A decision checked and computed before any write, recorded by `enregistrer` in the caller's unit of work. */
interface DecisionPreparee {
  readonly demande: { readonly id: string; readonly reference: string };
  readonly decisionId: string;
  enregistrer(uow: UniteDeTravail): Promise<StatutDemande>;
}

const introuvable = () => new QuotientError('not_found', 'dossier_introuvable', 'Dossier introuvable.');

/**
 * The instructors' decisions: on a request to check (confirm, refuse, set the QF by hand), on a
 * contestation (the answer, and a new QF when it calls for one). Each is one transaction: the
 * decision row, the QF and prices, the status through the state machine and its journal entry
 * (and the contestation's answer); the family is told once it committed.
 */
export class DecisionsService {
  constructor(private readonly deps: DecisionsDeps) {}

  private now(): string {
    return new Date((this.deps.clock ?? Date.now)()).toISOString();
  }

  /** Confirm (the identity is accepted, the QF is computed from the avis kept, as the machine would), refuse, or set the QF by hand. */
  async decider(demandeId: string, acteur: Acteur, saisie: SaisieDecision): Promise<{ statut: StatutDemande; decisionId: string }> {
    const decision = await this.preparerDecision(demandeId, acteur, saisie);
    const statut = await this.deps.transitions.executer((uow) => decision.enregistrer(uow));
    return { statut, decisionId: decision.decisionId };
  }

  /**
   * A result already calculated is closed: when a contestation shows the QF must change (the family
   * presented another avis), the instructor opens a new request for the family, reviewed at once
   * and decided with the QF set by hand. No DGFiP call, so no consent or numéro fiscal is involved.
   */
  async reexaminer(
    demandeContesteeId: string,
    acteur: Acteur,
    saisie: Omit<SaisieDecision, 'decision'>,
  ): Promise<{ id: string; reference: string; statut: StatutDemande; decisionId: string }> {
    const reexamen = await this.preparerReexamen(demandeContesteeId, acteur, saisie);
    const statut = await this.deps.transitions.executer((uow) => reexamen.enregistrer(uow));
    return { ...reexamen.demande, statut, decisionId: reexamen.decisionId };
  }

  /**
   * Answers a contestation (the family reads the answer in its space), optionally with a new QF set
   * by hand: on the contested request if it still waits for a decision, otherwise on a new request
   * reviewed at once (a calculated result is closed). All in one transaction, journaled.
   */
  async repondre(
    contestationId: string,
    acteur: Acteur,
    input: ReponseContestation,
  ): Promise<{ suite: 'maintien' | 'qf_manuel'; demande?: { id: string; reference: string } }> {
    const { db } = this.deps;
    const c = await db.selectFrom('contestations').selectAll().where('id', '=', contestationId).executeTakeFirst();
    if (!c) throw introuvable();
    if (c.statut !== 'ouverte') throw new QuotientError('conflict', 'contestation_traitee', 'Cette contestation a déjà reçu une réponse.');
    const errors: ErrorDetail[] = [];
    const reponse = lireTexte(input.reponse, { path: 'reponse', vide: 'Écrivez la réponse à la famille.', max: 2000, nom: 'La réponse' }, errors);
    const suite = input.suite === 'qf_manuel' || input.suite === 'maintien' ? input.suite : undefined;
    if (!suite) errors.push({ path: 'suite', message: 'Choisissez la suite donnée : quotient maintenu ou nouveau quotient fixé à la main.' });
    const contestee = c.demande_id ? await db.selectFrom('demandes').select(['id', 'statut']).where('id', '=', c.demande_id).executeTakeFirst() : undefined;
    if (suite === 'qf_manuel') {
      if (!contestee)
        errors.push({ path: 'suite', message: 'Cette contestation ne porte sur aucune demande : répondez à la famille et invitez-la à faire une demande.' });
      else if (contestee.statut !== 'a_verifier' && !STATUTS_TERMINAUX.includes(contestee.statut)) {
        errors.push({ path: 'suite', message: 'La demande contestée est en cours de traitement : attendez son résultat avant de fixer un nouveau quotient.' });
      }
      try {
        parseDecisionQfManuel(input);
      } catch (error) {
        if (!isQuotientError(error) || error.kind !== 'invalid') throw error;
        errors.push(...error.details);
      }
    }
    if (errors.length > 0)
      throw new QuotientError('invalid', 'reponse_invalide', 'La réponse est incomplète : corrigez les champs indiqués.', { details: errors });

    let decision: DecisionPreparee | undefined;
    if (suite === 'qf_manuel' && contestee) {
      const saisie = { justification: input.justification, piece: input.piece, qfCents: input.qfCents };
      decision =
        contestee.statut === 'a_verifier'
          ? await this.preparerDecision(contestee.id, acteur, { decision: 'qf_manuel', ...saisie })
          : await this.preparerReexamen(contestee.id, acteur, saisie);
    }
    await this.deps.transitions.executer(async (uow) => {
      await decision?.enregistrer(uow);
      await this.deps.avis?.detruire(uow.trx, { contestationId }, acteur, 'decision');
      const done = await uow.trx
        .updateTable('contestations')
        .set({ statut: 'traitee', reponse, traitee_le: this.now() })
        .where('id', '=', contestationId)
        .where('statut', '=', 'ouverte')
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1) throw new QuotientError('conflict', 'contestation_traitee', 'Cette contestation a déjà reçu une réponse.');
      await uow.journaliser({
        actor: acteur,
        action: 'contestation.traitee',
        target: { type: 'contestation', id: contestationId },
        outcome: 'succes',
        details: { famille: c.famille_id, suite: suite as string, ...(c.demande_id ? { demande: c.demande_id } : {}) },
      });
    });
    return { suite: suite as 'maintien' | 'qf_manuel', ...(decision ? { demande: decision.demande } : {}) };
  }

  /** A decision on a request to check: everything read and computed before the transaction. */
  private async preparerDecision(demandeId: string, acteur: Acteur, saisie: SaisieDecision): Promise<DecisionPreparee> {
    const demande = await findDemande(this.deps.db, demandeId);
    if (!demande) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
    exigerAgent(acteur);
    if (demande.statut !== 'a_verifier') {
      throw new QuotientError(
        'conflict',
        'demande_deja_decidee',
        `Cette demande n’attend plus de décision (statut « ${STATUTS[demande.statut]?.libelle ?? demande.statut} »).`,
      );
    }
    const d = parseDecisionInstructeur(saisie);
    let quotient: { q: QuotientARetenir; origine: OrigineQuotient } | undefined;
    if (d.decision === 'confirme') quotient = { q: await this.calculConfirme(demande), origine: 'instructeur' };
    else if (d.decision === 'qf_manuel') quotient = { q: await this.deps.quotients.fixer(demande, d.qfCents, d.piece), origine: 'manuel' };
    const decisionId = newId();
    return {
      demande: { id: demande.id, reference: demande.reference },
      decisionId,
      enregistrer: async (uow) => {
        try {
          return await this.enregistrerDecision(uow, demande, acteur, d, decisionId, quotient);
        } catch (error) {
          // Two instructors deciding at once: the second finds the status already changed.
          if (error instanceof QuotientError && error.code === 'demande_modifiee') {
            throw new QuotientError(
              'conflict',
              'demande_deja_decidee',
              'Cette demande vient d’être décidée par un autre agent : rechargez la page pour voir la décision.',
            );
          }
          throw error;
        }
      },
    };
  }

  /** A new request for the contested one's family, opened for review and decided with the QF set by hand. */
  private async preparerReexamen(demandeContesteeId: string, acteur: Acteur, saisie: Omit<SaisieDecision, 'decision'>): Promise<DecisionPreparee> {
    const contestee = await findDemande(this.deps.db, demandeContesteeId);
    if (!contestee) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
    exigerAgent(acteur);
    const d = parseDecisionQfManuel(saisie);
    const now = this.now();
    const id = newId();
    const reference = newReference('D');
    const q = await this.deps.quotients.fixer({ famille_id: contestee.famille_id, creee_le: now }, d.qfCents, d.piece);
    const decisionId = newId();
    return {
      demande: { id, reference },
      decisionId,
      enregistrer: async (uow) => {
        await insertDemande(uow.trx, {
          id,
          reference,
          familleId: contestee.famille_id,
          canal: contestee.canal,
          acteur,
          anneeRevenus: null,
          detenteur: null,
          le: now,
        });
        await uow.journaliser({
          actor: acteur,
          action: 'demande.creee',
          target: { type: 'demande', id },
          outcome: 'succes',
          details: { canal: contestee.canal, foyers: 0, famille: contestee.famille_id, reexamenDe: contestee.id },
        });
        const revue = await uow.avancer({ id, version: 0, statut: 'brouillon' }, { type: 'reexamen' }, acteur, { motif: motif('reexamen') });
        return this.enregistrerDecision(uow, { id, famille_id: contestee.famille_id, ...revue }, acteur, d, decisionId, { q, origine: 'manuel' });
      },
    };
  }

  /** The decision row, the QF when there is one, and the move through the state machine (its journal entry). */
  private async enregistrerDecision(
    uow: UniteDeTravail,
    demande: Pick<DemandeTable, 'id' | 'version' | 'statut' | 'famille_id'>,
    acteur: Acteur,
    d: DecisionValidee,
    decisionId: string,
    quotient: { q: QuotientARetenir; origine: OrigineQuotient } | undefined,
  ): Promise<StatutDemande> {
    const raison = d.decision === 'refuse' ? motif('refuse', d.justification) : motif(d.decision);
    // The status moves first, guarded by status and version: a concurrent decision gets a conflict
    // here, before writing a second decision or QF. The journal says what was decided, by whom, and
    // which decision row: never the amounts nor the texts.
    const moved = await uow.avancer(
      demande,
      { type: 'decision_instructeur', decision: d.decision, motif: d.justification },
      acteur,
      { motif: raison, detenteur: null },
      { decision: d.decision, decisionId },
    );
    await uow.trx
      .insertInto('decisions')
      .values({
        id: decisionId,
        demande_id: demande.id,
        agent_id: acteur.id,
        decision: d.decision,
        justification: d.justification,
        piece: d.piece,
        decidee_le: this.now(),
      })
      .execute();
    if (quotient) await this.deps.quotients.enregistrer(uow.trx, demande, quotient.q, quotient.origine);
    // Decided: the avis the family uploaded has served, and shows a numéro fiscal.
    await this.deps.avis?.detruire(uow.trx, { demandeId: demande.id }, acteur, 'decision');
    return moved.statut;
  }

  /** The QF from the avis kept in the silo, as the processing would have computed it had the identity matched. */
  private async calculConfirme(demande: DemandeTable): Promise<QuotientARetenir> {
    const foyersFiscaux = await findFoyersFiscaux(this.deps.db, demande.id);
    const situations: SituationFiscale[] = [];
    for (const foyerFiscal of foyersFiscaux) {
      const kept = foyerFiscal.etat === 'recu' ? await this.deps.coffre.get(COFFRE.situation, foyerFiscal.id) : undefined;
      if (kept === undefined) {
        throw new QuotientError(
          'invalid',
          'avis_absent',
          'Aucun avis conservé ne permet de calculer le quotient (avis introuvable, pas encore disponible, ou écarté car il ne concernait pas la famille) : fixez le quotient à la main au vu d’un document, ou refusez la demande.',
          { details: [{ path: 'decision', message: 'Le quotient ne peut pas être calculé sans avis : fixez-le à la main ou refusez la demande.' }] },
        );
      }
      situations.push(createSituationFiscale(kept));
    }
    if (situations.length === 0)
      throw new QuotientError('invalid', 'avis_absent', 'Cette demande n’a aucun avis : fixez le quotient à la main ou refusez la demande.', {
        details: [{ path: 'decision', message: 'Aucun avis.' }],
      });
    try {
      return await this.deps.quotients.calculer(demande, situations);
    } catch (error) {
      if (!(error instanceof QuotientError) || error.kind !== 'invalid') throw error;
      throw new QuotientError(
        'invalid',
        'calcul_impossible',
        `Le quotient ne peut pas être calculé automatiquement à partir des avis reçus : ${error.message} Fixez-le à la main ou refusez la demande.`,
        {
          details: [{ path: 'decision', message: error.message }],
        },
      );
    }
  }
}

/** Decisions are an agent's: their id goes in the decision row and the journal. */
function exigerAgent(acteur: Acteur): void {
  if (acteur.type !== 'agent') throw new QuotientError('forbidden', 'decision_reservee', 'Seul un agent instructeur peut décider d’une demande.');
}
