import type { Kysely, Transaction } from 'kysely';
import { transition, type Effet, type EvenementDemande, type StatutDemande, type Transition } from '../../domain/demande.ts';
import { QuotientError } from '../../domain/errors.ts';
import type { DemandeTable, Schema } from '../../infra/db/schema.ts';
import type { Acteur, AuditEntryInput, JournalAudit } from '../audit/index.ts';
import { moveDemande, type ChangementDemande } from './demandes-repo.ts';
import type { SpiVault } from './spi-vault.ts';

/**
 * The one way a request changes status (invariants 1 and 2 have their home here). A use case runs
 * its work in `Transitions.executer`: one database transaction, in which each `avancer` asks the
 * domain's `transition()` for the next status (or its refusal), moves the row only if nobody moved
 * it meanwhile, and writes the move's journal entry. The effects the domain computed for each move
 * are carried out once the transaction committed, and not at all if it rolled back.
 */

export interface TransitionsDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly vault: SpiVault;
  readonly clock?: () => number;
  /** Told when a request reaches a state the family must hear about (the e-mail; tests watch it). */
  readonly onChange?: (demandeId: string, statut: StatutDemande) => void;
}

export type DetailsJournal = Record<string, string | number | boolean | null>;

/** A move made in the transaction, with what its effects will need once it committed. */
interface Mouvement {
  readonly demandeId: string;
  readonly transition: Transition;
  /** The request's foyers fiscaux (the vault's keys), read when the move lets go of the numéros fiscaux. */
  readonly foyersFiscaux: readonly string[];
}

/** The effects that let go of whatever numéro fiscal the process still holds for the request. */
const LACHENT_LE_NUMERO: readonly Effet[] = ['oublier_numero_fiscal', 'demander_nouvelle_saisie'];

/** One database transaction of a use case: its moves, and the records they go with (`trx`). */
export class UniteDeTravail {
  constructor(
    readonly trx: Transaction<Schema>,
    private readonly deps: TransitionsDeps,
    private readonly mouvements: Mouvement[],
  ) {}

  /** A journal entry of the same transaction that is not a move (the request created, a consent, an answer). */
  async journaliser(entry: AuditEntryInput): Promise<void> {
    await this.deps.journal.append(entry, this.trx);
  }

  /**
   * Applies one event of the request's state machine. Throws `TransitionInterdite` when the domain
   * refuses it, and a `conflict` (`demande_modifiee`) when the row moved meanwhile.
   */
  async avancer(
    demande: Pick<DemandeTable, 'id' | 'version' | 'statut'>,
    evenement: EvenementDemande,
    acteur: Acteur,
    changement: ChangementDemande = {},
    details: DetailsJournal = {},
  ): Promise<{ statut: StatutDemande; version: number }> {
    const t = transition(demande.statut, evenement);
    const now = new Date((this.deps.clock ?? Date.now)()).toISOString();
    if (!(await moveDemande(this.trx, demande, t.de, t.vers, now, changement))) {
      throw new QuotientError('conflict', 'demande_modifiee', 'La demande a été modifiée entre-temps : rechargez la page.');
    }
    await this.deps.journal.append(
      { actor: acteur, action: t.action, target: { type: 'demande', id: demande.id }, outcome: 'succes', details: { de: t.de, vers: t.vers, ...details } },
      this.trx,
    );
    const lache = t.effets.some((e) => LACHENT_LE_NUMERO.includes(e));
    const foyersFiscaux = lache
      ? (await this.trx.selectFrom('demande_foyers').select('id').where('demande_id', '=', demande.id).execute()).map((f) => f.id)
      : [];
    this.mouvements.push({ demandeId: demande.id, transition: t, foyersFiscaux });
    return { statut: t.vers, version: demande.version + 1 };
  }
}

/** A watch on one request's next committed move (`Transitions.surveiller`). */
export interface Surveillance {
  /** Resolves at the next move of the request committed by this process. */
  readonly bouge: Promise<void>;
  /** Stops watching (the promise then never resolves). */
  arreter(): void;
}

export class Transitions {
  /** Who waits for a request's next move in this process: the form's wait, woken at the commit instead of polling. */
  private readonly guetteurs = new Map<string, Set<() => void>>();

  constructor(private readonly deps: TransitionsDeps) {}

  /**
   * Watches for the next move of `demandeId` that this process commits. Moves committed by another
   * process are not seen: whoever waits keeps a slower poll beside it.
   */
  surveiller(demandeId: string): Surveillance {
    let reveil: () => void = () => undefined;
    const bouge = new Promise<void>((resolve) => (reveil = resolve));
    let set = this.guetteurs.get(demandeId);
    if (!set) this.guetteurs.set(demandeId, (set = new Set()));
    const guetteurs = set;
    guetteurs.add(reveil);
    return {
      bouge,
      arreter: () => {
        guetteurs.delete(reveil);
        if (guetteurs.size === 0 && this.guetteurs.get(demandeId) === guetteurs) this.guetteurs.delete(demandeId);
      },
    };
  }

  /** Runs `travail` in one transaction, then carries out the effects of the moves it made. */
  async executer<T>(travail: (uow: UniteDeTravail) => Promise<T>): Promise<T> {
    let mouvements: Mouvement[] = [];
    const result = await this.deps.db.transaction().execute((trx) => {
      mouvements = [];
      return travail(new UniteDeTravail(trx, this.deps, mouvements));
    });
    this.apresCommit(mouvements);
    // As `journal.inTransaction` does: the anchor moves only after the commit.
    await this.deps.journal.committed();
    return result;
  }

  private apresCommit(mouvements: readonly Mouvement[]): void {
    const { vault, onChange } = this.deps;
    for (const m of mouvements) {
      for (const effet of m.transition.effets) {
        switch (effet) {
          case 'oublier_numero_fiscal':
          case 'demander_nouvelle_saisie':
            // A new entry gives every number the request still needs: none held for the old one stays.
            // After the commit rather than at once. Invariant 1 is about never writing the number
            // anywhere, which neither order does: the vault is memory, and a crash empties it. What
            // the order decides is the vault agreeing with the status: had the move rolled back, the
            // request would still be in a status that holds its number (queued, called), and
            // forgetting it then would turn a failed write into a number to type again.
            for (const foyerFiscal of m.foyersFiscaux) vault.forget(foyerFiscal);
            break;
          case 'notifier_famille':
            // Below, once per request.
            break;
          case 'planifier_nouvel_essai':
            // Written with the move itself (`prochain_essai_le`): the loop takes the request when it is due.
            break;
          case 'signaler_instructeur':
            // The instructors' queue is the status itself: instruction lists the requests `a_verifier`.
            break;
          case 'enregistrer_consentement':
          case 'conserver_situation':
          case 'ecarter_situation':
          case 'enregistrer_controle':
          case 'enregistrer_quotient':
          case 'enregistrer_decision':
            // Records that need the use case's data: it writes them in the same transaction as the move.
            break;
          default: {
            const inconnu: never = effet;
            throw new Error(`effet sans traitement : ${String(inconnu)}`);
          }
        }
      }
    }
    // The family hears of the status its request has at the commit, once: a status it passed
    // through inside the transaction (a review opened and decided at once) was never its state.
    const derniers = new Map<string, Transition>();
    for (const m of mouvements) derniers.set(m.demandeId, m.transition);
    for (const [demandeId, t] of derniers) {
      if (t.effets.includes('notifier_famille')) onChange?.(demandeId, t.vers);
      const guetteurs = this.guetteurs.get(demandeId);
      if (guetteurs) {
        this.guetteurs.delete(demandeId);
        for (const reveil of guetteurs) reveil();
      }
    }
  }
}
