import type { Kysely } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { NouvelleAlerte } from '../../infra/alertes/index.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import type { Acteur, AuditAlert, JournalAudit, Reconnaissance, VerificationReport } from '../audit/index.ts';
import { lireMotif } from './incident-service.ts';
import { ecrireSignalIntegrite, type SignalIntegrite, type SuspensionAppels } from './interrupteurs.ts';

/**
 * Where the integrity of the journal stands for this instance:
 * - `intact`: the last check passed;
 * - `arret`: the last check failed and no acknowledgement covers the break: fiscal operations stop;
 * - `reconnu`: the journal is broken, but an auditor acknowledged this very break after
 *   investigation and nothing changed since: operations go on;
 * - `a_verifier`: another instance reported a break; halted until this instance's own check ends;
 * - `inconnu`: not checked yet (only before the check at start).
 */
export type EtatIntegrite =
  | { readonly etat: 'inconnu' }
  | { readonly etat: 'intact'; readonly verifieLe: string }
  | { readonly etat: 'reconnu'; readonly verifieLe: string; readonly reconnaissance: Reconnaissance; readonly rapport: VerificationReport }
  | { readonly etat: 'arret'; readonly verifieLe: string; readonly depuis: string; readonly rapport: VerificationReport }
  | { readonly etat: 'a_verifier'; readonly depuis: string };

export type OrigineVerification = 'demarrage' | 'planifiee' | 'demande' | 'signal' | 'anomalie' | 'reconnaissance';

export interface VerificationIntegrite {
  /** The full check of the chain and the anchor, as `quotient audit verify` does it. */
  readonly rapport: VerificationReport;
  readonly etat: EtatIntegrite;
}

export interface GardeIntegriteDeps {
  readonly db: Kysely<Schema>;
  readonly journal: Pick<JournalAudit, 'verify' | 'derniereReconnaissance' | 'verifyFrom' | 'reconnaitre' | 'append'>;
  /** Raises a security alert (fire and forget: it never throws). */
  readonly alerter: (alerte: NouvelleAlerte) => void;
  readonly logger: Logger;
  readonly clock?: () => number;
}

const SYSTEME: Acteur = { type: 'systeme', id: 'quotient' };
/** Anchor refusals come with every append once the journal is broken: one check for them a minute at most. */
const ANOMALIE_MIN_MS = 60_000;
const ARRETES = new Set(['arret', 'a_verifier']);

/** What tells one break from another in the notice: the reason and the sequence the check names. */
const cleDe = (r: VerificationReport) => `${r.reason ?? 'inconnue'}:${r.firstBrokenSeq ?? '-'}`;

/**
 * The integrity halt (DICP I3): when the journal's chain or anchor check fails — at start, on a
 * schedule, on an auditor's demand, at an anchor refusal, or when another instance says so — no
 * DGFiP call and no new consent, until an auditor acknowledges the break after investigation.
 *
 * The halt is never a stored flag that whoever broke the journal could clear: each instance
 * derives it from its own check of the journal, and an acknowledgement lifts it only if it is
 * sealed with the journal's key and the journal still matches what it was given for (a new break,
 * anywhere, halts again). What instances share through the database is a notice that makes the
 * others check at once (`incident_interrupteurs.integrite`), and which also makes one instance
 * only journal the halt and raise its alert.
 */
export class GardeIntegrite {
  private courant: EtatIntegrite = { etat: 'inconnu' };
  private enCours: Promise<VerificationIntegrite> | null = null;
  private suivante: Promise<VerificationIntegrite> | null = null;
  /** The last notice read or written here (`valeur|le`): a different one comes from another instance. */
  private signalVu: string | null;
  private derniereAnomalie = Number.NEGATIVE_INFINITY;
  private readonly clock: () => number;

  constructor(
    private readonly deps: GardeIntegriteDeps,
    signalInitial: SignalIntegrite,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.signalVu = `${signalInitial.valeur}|${signalInitial.le}`;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  etat(): EtatIntegrite {
    return this.courant;
  }

  /** Non-null while fiscal operations are halted. */
  arret(): SuspensionAppels | null {
    const e = this.courant;
    return e.etat === 'arret' || e.etat === 'a_verifier' ? { cause: 'integrite', depuis: e.depuis } : null;
  }

  /** Checks the journal now; a check asked while one runs waits for it, then runs once more for all who asked. */
  verifier(origine: OrigineVerification): Promise<VerificationIntegrite> {
    if (this.suivante !== null) return this.suivante;
    if (this.enCours === null) {
      this.enCours = this.evaluer(origine).finally(() => (this.enCours = null));
      return this.enCours;
    }
    this.suivante = this.enCours
      .catch(() => undefined)
      .then(() => {
        this.suivante = null;
        this.enCours = this.evaluer(origine).finally(() => (this.enCours = null));
        return this.enCours;
      });
    return this.suivante;
  }

  private async evaluer(origine: OrigineVerification): Promise<VerificationIntegrite> {
    const { journal } = this.deps;
    const rapport = await journal.verify();
    const verifieLe = this.now();
    let suivant: EtatIntegrite;
    if (rapport.intact) {
      suivant = { etat: 'intact', verifieLe };
    } else {
      const reconnaissance = rapport.reason === 'cle_absente' ? null : await journal.derniereReconnaissance();
      const depuis = reconnaissance ? await journal.verifyFrom(reconnaissance) : null;
      if (reconnaissance && depuis?.intact) suivant = { etat: 'reconnu', verifieLe, reconnaissance, rapport: depuis };
      else {
        const precedent = this.courant;
        suivant = {
          etat: 'arret',
          verifieLe,
          depuis: precedent.etat === 'arret' || precedent.etat === 'a_verifier' ? precedent.depuis : verifieLe,
          rapport: depuis ?? rapport,
        };
      }
    }
    await this.passerA(suivant, origine);
    return { rapport, etat: suivant };
  }

  private async passerA(suivant: EtatIntegrite, origine: OrigineVerification): Promise<void> {
    const avant = this.courant;
    this.courant = suivant;
    if (suivant.etat === 'arret' && (avant.etat !== 'arret' || cleDe(avant.rapport) !== cleDe(suivant.rapport))) {
      await this.annoncerArret(suivant, origine);
    } else if (ARRETES.has(avant.etat) && suivant.etat === 'intact') {
      this.deps.logger.warn({ origine }, 'journal d’audit de nouveau intact : fin de l’arrêt d’intégrité');
      // Only the instance that writes the notice journals the end of the halt.
      if (await this.signaler(false, 'intact')) {
        await this.deps.journal.append({
          actor: SYSTEME,
          action: 'integrite.reprise',
          target: { type: 'journal_audit', id: 'journal' },
          outcome: 'succes',
          details: { origine },
        });
      }
    }
  }

  private async annoncerArret(etat: Extract<EtatIntegrite, { etat: 'arret' }>, origine: OrigineVerification): Promise<void> {
    const { rapport } = etat;
    this.deps.logger.error(
      { raison: rapport.reason, sequence: rapport.firstBrokenSeq, origine },
      `arrêt d’intégrité : ${rapport.message} Aucun appel à la DGFiP ni aucune nouvelle demande jusqu’à la reconnaissance par un auditeur.`,
    );
    if (!(await this.signaler(true, cleDe(rapport)))) return;
    const details = { raison: rapport.reason, sequenceRompue: rapport.firstBrokenSeq, origine };
    await this.deps.journal.append({ actor: SYSTEME, action: 'integrite.arret', target: { type: 'journal_audit', id: 'journal' }, outcome: 'echec', details });
    this.deps.alerter({
      code: 'journal.integrite_rompue',
      gravite: 'critique',
      titre: 'Arrêt d’intégrité : journal d’audit altéré',
      message:
        `${rapport.message} Les appels à la DGFiP et les nouvelles demandes sont arrêtés jusqu’à ce qu’un auditeur reconnaisse l’altération après enquête. Ne modifiez rien : conservez la base, la clé et l’ancre.`.slice(
          0,
          500,
        ),
      details,
    });
  }

  /** Leaves the notice for the other instances; true when this instance is the one that wrote it. */
  private async signaler(actif: boolean, valeur: string): Promise<boolean> {
    const le = this.now();
    const ecrit = await ecrireSignalIntegrite(this.deps.db, { actif, valeur, le, par: 'systeme:quotient' });
    if (ecrit) this.signalVu = `${valeur}|${le}`;
    return ecrit;
  }

  /**
   * The notice as the switches' cache read it: a new one comes from another instance, which found
   * the journal broken (halt now, check at once) or saw a break acknowledged (check at once).
   */
  surSignal(signal: SignalIntegrite): void {
    const vu = `${signal.valeur}|${signal.le}`;
    if (vu === this.signalVu) return;
    this.signalVu = vu;
    if (signal.actif && !ARRETES.has(this.courant.etat)) this.courant = { etat: 'a_verifier', depuis: signal.le ?? this.now() };
    this.verifier('signal').catch((error: unknown) =>
      this.deps.logger.error({ err: error }, 'échec de la vérification du journal d’audit demandée par une autre instance'),
    );
  }

  /** The journal could not move its anchor (see `JournalAudit`'s alerts): check now, unless already halted. */
  anomalie(alert: AuditAlert): void {
    if (this.courant.etat !== 'intact' || this.clock() - this.derniereAnomalie < ANOMALIE_MIN_MS) return;
    this.derniereAnomalie = this.clock();
    this.verifier('anomalie').catch((error: unknown) =>
      this.deps.logger.error({ err: error, code: alert.code }, 'échec de la vérification du journal d’audit après un refus de l’ancre'),
    );
  }

  /** Checks on a schedule; returns what stops it. */
  surveiller(intervalleMs: number): () => void {
    const timer = setInterval(() => {
      this.verifier('planifiee').catch((error: unknown) => this.deps.logger.error({ err: error }, 'échec de la vérification planifiée du journal d’audit'));
    }, intervalleMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * An auditor acknowledges the break after investigation, with a reason: journaled, sealed, bound
   * to the journal as it stands now. Operations resume here at once, elsewhere at the notice.
   */
  async reconnaitre(par: Acteur, motifSaisi: unknown): Promise<EtatIntegrite> {
    const motif = lireMotif(motifSaisi);
    const { etat } = await this.verifier('demande');
    if (etat.etat === 'reconnu')
      throw new QuotientError(
        'conflict',
        'deja_reconnue',
        'Cette altération est déjà reconnue et aucune autre n’est apparue depuis : les opérations ont repris.',
      );
    if (etat.etat !== 'arret')
      throw new QuotientError('conflict', 'journal_intact', 'Le journal d’audit est intact : il n’y a aucune altération à reconnaître.');
    const reconnaissance = await this.deps.journal.reconnaitre(par, motif, etat.rapport);
    const apres = await this.verifier('reconnaissance');
    await this.signaler(false, `reconnu:${reconnaissance.id}`);
    return apres.etat;
  }
}
