import type { Kysely } from 'kysely';
import { exigerConsentement } from '../../domain/consentement.ts';
import {
  controlerIdentite,
  motifsControleIdentite,
  roleParent,
  type ParentDeclare,
  type ResultatControleIdentite,
  type RoleParent,
} from '../../domain/controle-identite.ts';
import {
  RAISONS_SITUATION_INDISPONIBLE,
  STATUTS_AVEC_NUMERO_FISCAL,
  type EvenementDemande,
  type RaisonSituationIndisponible,
  type StatutDemande,
} from '../../domain/demande.ts';
import { QuotientError } from '../../domain/errors.ts';
import { LIBELLES_CHAMPS_DGFIP, type Habilitation } from '../../domain/habilitation.ts';
import { createSituationFiscale, type SituationFiscale } from '../../domain/situation-fiscale.ts';
import type { DemandeTable, Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import { asJson, type Coffre } from '../../infra/silo/coffre.ts';
import { isSourceFiscaleError, type FiscalSource, type OptionsAppel, type RaisonEchec } from '../../sources/fiscal-source.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import type { SuspensionAppels } from '../incident/interrupteurs.ts';
import { COFFRE, findConsentements, findDemande, findFoyersFiscaux, findParents, type ChangementDemande } from '../demandes/demandes-repo.ts';
import { motif, type CodeMotif, type Motif } from '../demandes/motifs.ts';
import type { QuotientARetenir, Quotients } from '../demandes/quotients.ts';
import type { SpiVault } from '../demandes/spi-vault.ts';
import type { Transitions } from '../demandes/transitions.ts';
import type { RenouvellementService } from '../renouvellement/renouvellement-service.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';
import { A_APPELER, aSonTour, detenues, orphelines, prochaines } from './file-repo.ts';
import { sourcesInterrogees } from '../../domain/choix-quotient.ts';
import { consentementCafEnVigueur } from '../../domain/consentement-caf.ts';
import type { QuotientCaf } from '../../domain/quotient-caf.ts';
import { isSourceCafError, type CafSource } from '../../sources/caf/caf-source.ts';

export interface TraitementDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly transitions: Transitions;
  readonly quotients: Quotients;
  readonly coffre: Coffre;
  readonly source: FiscalSource;
  readonly habilitation: Habilitation;
  readonly vault: SpiVault;
  /** This process, as recorded in `instances`: it holds the numéros fiscaux of its requests. */
  readonly instanceId: string;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Why DGFiP calls are held now (an incident switch, the integrity halt), or null. */
  readonly suspension?: () => Promise<SuspensionAppels | null>;
  /** Keeps the état civil of declarants with a standing consent for renewal, once their avis is matched (issue 14). */
  readonly renouvellement?: Pick<RenouvellementService, 'conserverEtatCivil'>;
  /** The CAF/MSA quotient (issue 17), asked when the policy's source needs it and the declarant agreed to it. */
  readonly caf?: Pick<CafSource, 'parEtatCivil' | 'parFranceConnect'>;
}

// `appels_suspendus`: the transport refused the call because calls were held meanwhile.
const RETRYABLE: readonly RaisonEchec[] = ['quota_depasse', 'indisponible', 'injoignable', 'appels_suspendus'];
/** The DGFiP answered, but with no avis to use: an instructor looks at it. */
const indisponible = (raison: RaisonEchec): raison is RaisonEchec & RaisonSituationIndisponible =>
  (RAISONS_SITUATION_INDISPONIBLE as readonly string[]).includes(raison);
const MAX_TENTATIVES = 5;
/** A request whose call met our credentials refused waits this long before its next try (the token is fetched anew then). */
export const PAUSE_IDENTIFIANTS_REFUSES_MS = 2 * 60_000;
/** The état civil's failures, each with the reason that tells the family what to do next. */
const MOTIF_ETAT_CIVIL = {
  etat_civil_ambigu: 'etat_civil_ambigu',
  etat_civil_introuvable: 'etat_civil_introuvable',
  dossier_non_communicable: 'dossier_non_communicable',
  etat_civil_trop_long: 'etat_civil_trop_long',
} as const satisfies Partial<Record<RaisonEchec, CodeMotif>>;

/** Why the policy's QF could not be computed, by the calculation's error code; any other is the avis' combination. */
const MOTIF_CALCUL_IMPOSSIBLE: Partial<Record<string, CodeMotif>> = {
  quotient_source_absente: 'quotient_caf_absent',
  ressources_manquantes: 'ressources_manquantes',
};

const systeme: Acteur = { type: 'systeme', id: 'quotient' };

/** How one request is processed: by whom it is journaled, and at which priority its calls take the quota. */
export interface OptionsTraitement {
  /** A campaign's robot, on behalf of the agent who started it (default: the system). */
  readonly acteur?: Acteur;
  /** `campagne`: the calls take only the quota slots online requests leave. */
  readonly priorite?: 'en_ligne' | 'campagne';
}

interface Recue {
  readonly foyerFiscalId: string;
  readonly rang: 1 | 2;
  readonly situation: SituationFiscale;
  /** The état civil typed for the call, when it went that way: memory only, gone with the request's processing. */
  readonly saisi?: EtatCivil;
}

/**
 * The processing of the requests a process holds, and their recovery when a process is gone:
 * what the processing loop (`BoucleTraitement`) calls.
 */
export class TraitementService {
  private readonly clock: () => number;

  constructor(private readonly deps: TraitementDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  /** Requests of this process due now, oldest first: what the processing loop takes next. */
  prochaines(limit = 10): Promise<string[]> {
    return prochaines(this.deps.db, this.deps.instanceId, this.now(), limit);
  }

  /**
   * Whether the request may be called now, or must let one queued before it on another instance go
   * first (see `aSonTour`): instances seen within `vivanteMs` count.
   */
  async aSonTour(demandeId: string, vivanteMs: number): Promise<boolean> {
    const demande = await findDemande(this.deps.db, demandeId);
    if (!demande) return true;
    return aSonTour(this.deps.db, demande, this.deps.instanceId, this.now(), new Date(this.clock() - vivanteMs).toISOString());
  }

  /**
   * Processes one queued request held by this process: checks the consents, calls the DGFiP for
   * each foyer fiscal (the quota slot is taken by the HTTP layer), runs the identity control, computes and
   * stores the QF. Every outcome is a recorded state: calculee, a_verifier, echouee, back in the
   * queue, or a_ressaisir. While calls are held, nothing happens: the request stays queued.
   */
  async traiter(demandeId: string, options: OptionsTraitement = {}): Promise<StatutDemande | 'inconnue'> {
    const { db, vault, journal, transitions } = this.deps;
    const acteur = options.acteur ?? systeme;
    const demande = await findDemande(db, demandeId);
    if (!demande) return 'inconnue';
    if (!A_APPELER.includes(demande.statut) || demande.detenteur !== this.deps.instanceId) return demande.statut;
    const foyersFiscaux = await findFoyersFiscaux(db, demandeId);
    const aAppeler = foyersFiscaux.filter((f) => f.etat === 'a_appeler');
    const sansIdentifiant = aAppeler.filter((f) => !vault.has(f.id));
    // A numéro fiscal lost (a restart): every number is typed again, no call is made. One typed on
    // another instance (`estARessaisir`) is not lost that way: the FranceConnect token beside it is used first.
    if (sansIdentifiant.some((f) => f.voie !== 'franceconnect' && !vault.estARessaisir(f.id))) return this.aRessaisir(demandeId, 'spi_perdu', acteur);
    // Nothing left to call with (a token expired in the queue, a declarant to sign in, an entry to type again).
    if (aAppeler.length > 0 && sansIdentifiant.length === aAppeler.length)
      return this.aRessaisir(demandeId, this.motifSansIdentifiant(sansIdentifiant), acteur);
    if (await this.deps.suspension?.()) return demande.statut;

    const consentements = await findConsentements(db, demandeId);
    // Invariant 2, checked again just before the calls: a consent withdrawn since the request was
    // queued cancels it (and the cancellation drops the numbers held for it).
    const maintenant = this.now();
    for (const foyerFiscal of foyersFiscaux.filter((f) => f.etat === 'a_appeler')) {
      try {
        exigerConsentement(
          consentements,
          { declarant: roleParent(foyerFiscal.parent_rang === 2 ? 2 : 1), champs: this.deps.habilitation.champs, le: maintenant },
          { libelles: LIBELLES_CHAMPS_DGFIP },
        );
      } catch (error) {
        if (!(error instanceof QuotientError) || error.kind !== 'forbidden') throw error;
        const annulee = await transitions.executer((uow) =>
          uow.avancer(demande, { type: 'annulation', par: 'famille' }, acteur, { motif: motif('consentement_retire'), detenteur: null }, { cause: error.code }),
        );
        return annulee.statut;
      }
    }
    let courante: DemandeTable = await transitions.executer(async (uow) => {
      const moved = await uow.avancer(
        demande,
        { type: 'appel_demarre' },
        acteur,
        { tentatives: demande.tentatives + 1 },
        { tentative: demande.tentatives + 1 },
      );
      return { ...demande, ...moved, tentatives: demande.tentatives + 1 };
    });

    const recues: Recue[] = [];
    // The caisses are asked once per request, with the first identifier they accept (état civil or FranceConnect).
    const avecCaf = this.deps.caf !== undefined && sourcesInterrogees(await this.deps.quotients.sourceDe(demande)).caf;
    let caf: QuotientCaf | null | undefined = avecCaf ? undefined : null;
    // The caisses failed (anything but « no allocataire »): the policy's QF cannot be known, an instructor decides.
    let cafEnEchec = false;
    // FranceConnect foyers without a live token, entries to type again: the others are called now (a token cannot wait), these after.
    const enAttente: Array<{ id: string; voie: string }> = [];
    for (const foyerFiscal of foyersFiscaux) {
      const rang = foyerFiscal.parent_rang === 2 ? 2 : 1;
      if (foyerFiscal.etat === 'recu') {
        recues.push({ foyerFiscalId: foyerFiscal.id, rang, situation: createSituationFiscale(await this.deps.coffre.get(COFFRE.situation, foyerFiscal.id)) });
        continue;
      }
      const identifiant = vault.get(foyerFiscal.id);
      if (!identifiant && (foyerFiscal.voie === 'franceconnect' || vault.estARessaisir(foyerFiscal.id))) {
        enAttente.push(foyerFiscal);
        continue;
      }
      if (!identifiant) return this.aRessaisir(demandeId, 'spi_perdu', acteur);
      const appel: OptionsAppel = {
        ...(courante.annee_revenus === null ? {} : { anneeRevenus: courante.annee_revenus }),
        ...(options.priorite ? { priorite: options.priorite } : {}),
      };
      let situation: SituationFiscale;
      try {
        situation =
          'spi' in identifiant
            ? await this.deps.source.parNumeroFiscal(identifiant.spi, appel)
            : 'etatCivil' in identifiant
              ? await this.deps.source.parEtatCivil(identifiant.etatCivil, appel)
              : await this.deps.source.parFranceConnect(identifiant.franceConnectToken, appel);
      } catch (error) {
        // FranceConnect's token refused by the DGFiP (withdrawn, without a scope, expired on the way): the declarant
        // signs in again, or the family gives the number or the état civil instead; expired by our clock says so.
        if (isSourceFiscaleError(error) && error.raison === 'jeton_franceconnect_refuse') {
          vault.forget(foyerFiscal.id);
          const expire = 'valableJusque' in identifiant && identifiant.valableJusque <= this.clock();
          return this.aRessaisir(demandeId, expire ? 'franceconnect_expire' : 'franceconnect_refuse', acteur);
        }
        // A typed failure is a transition, whose effects say whether the number is kept for a retry.
        if (isSourceFiscaleError(error)) return this.echecAppel(courante, error.raison, error.retryAt, error.correlationId, acteur);
        // Anything else is a fault no retry would mend: the number has served as far as it can.
        vault.forget(foyerFiscal.id);
        throw error;
      }
      if (caf === undefined && !('spi' in identifiant) && consentementCafEnVigueur(consentements, roleParent(rang), maintenant)) {
        const reponse = await this.quotientCaf(identifiant, demandeId, rang, acteur, options.priorite);
        cafEnEchec = reponse === 'echec';
        caf = reponse === 'echec' ? null : reponse;
      }
      // The number has served: it goes before anything else is done with the answer.
      vault.forget(foyerFiscal.id);
      await journal.inTransaction(async (trx) => {
        await this.deps.coffre.put(COFFRE.situation, foyerFiscal.id, asJson(situation), trx);
        await trx
          .updateTable('demande_foyers')
          .set({ etat: 'recu', annee_revenus: situation.anneeRevenus, source: situation.source, recu_le: this.now() })
          .where('id', '=', foyerFiscal.id)
          .execute();
        await journal.append(
          {
            actor: acteur,
            action: 'dgfip.situation_recue',
            target: { type: 'demande', id: demandeId },
            outcome: 'succes',
            details: { parent: rang, anneeRevenus: situation.anneeRevenus },
          },
          trx,
        );
      });
      recues.push({ foyerFiscalId: foyerFiscal.id, rang, situation, ...('etatCivil' in identifiant ? { saisi: identifiant.etatCivil } : {}) });
      courante = (await findDemande(db, demandeId)) ?? courante;
    }
    if (enAttente.length > 0) return this.aRessaisir(demandeId, this.motifSansIdentifiant(enAttente), acteur);
    return this.conclure(courante, recues, acteur, caf ?? null, cafEnEchec);
  }

  /**
   * The CAF's or MSA's quotient, journaled (value never written: the silo keeps it with the
   * calculation); null when the caisses know no allocataire (the policy then decides on what
   * remains); `echec` for any other failure (quota, outage, token, answer), which must not price
   * the family silently on the other QF. The journal says why the CAF's is missing.
   */
  private async quotientCaf(
    identifiant: { etatCivil: EtatCivil } | { franceConnectToken: string },
    demandeId: string,
    rang: 1 | 2,
    acteur: Acteur,
    priorite: OptionsTraitement['priorite'],
  ): Promise<QuotientCaf | null | 'echec'> {
    const caf = this.deps.caf;
    if (!caf) return null;
    const appel = priorite ? { priorite } : {};
    try {
      const q =
        'etatCivil' in identifiant ? await caf.parEtatCivil(identifiant.etatCivil, appel) : await caf.parFranceConnect(identifiant.franceConnectToken, appel);
      await this.deps.journal.append({
        actor: acteur,
        action: 'caf.quotient_recu',
        target: { type: 'demande', id: demandeId },
        outcome: 'succes',
        details: { parent: rang, fournisseur: q.fournisseur, mois: q.moisReference },
      });
      return q;
    } catch (error) {
      if (!isSourceCafError(error)) throw error;
      await this.deps.journal.append({
        actor: acteur,
        action: 'caf.quotient_absent',
        target: { type: 'demande', id: demandeId },
        outcome: error.raison === 'introuvable' ? 'succes' : 'echec',
        details: { parent: rang, raison: error.raison },
      });
      if (error.raison === 'introuvable') return null;
      this.deps.logger.warn({ demandeId, raison: error.raison, correlationId: error.correlationId }, 'la CAF ou la MSA n’a pas répondu : demande à vérifier');
      return 'echec';
    }
  }

  /** Identity control, then the QF and prices, or review by an instructor; one transaction. */
  private async conclure(
    demande: DemandeTable,
    recues: readonly Recue[],
    acteur: Acteur,
    caf: QuotientCaf | null = null,
    cafEnEchec = false,
  ): Promise<StatutDemande> {
    const { db, coffre, quotients } = this.deps;
    const parents = await findParents(db, demande.famille_id);
    const declares: ParentDeclare[] = parents.map((p) => ({
      role: roleParent(p.rang === 2 ? 2 : 1),
      nomNaissance: p.nom_naissance,
      nomUsage: p.nom_usage,
      prenoms: p.prenoms,
      dateNaissance: p.date_naissance,
    }));
    const controleIdentite = controlerIdentite({
      parents: declares,
      foyers: recues.map((r) => ({ declarants: r.situation.declarants, parentsAttendus: attendusDansLeFoyerFiscal(r.rang, recues.length, parents) })),
    });
    let calcul: QuotientARetenir | undefined;
    let raison: Motif | null = null;
    if (controleIdentite.verdict === 'concordant' && cafEnEchec) {
      raison = motif('caf_indisponible');
    } else if (controleIdentite.verdict === 'concordant') {
      try {
        calcul = await quotients.calculer(
          demande,
          recues.map((r) => r.situation),
          caf,
        );
      } catch (error) {
        if (!(error instanceof QuotientError) || error.kind !== 'invalid') throw error;
        raison = motif(MOTIF_CALCUL_IMPOSSIBLE[error.code] ?? 'combinaison');
      }
    } else {
      raison = motif(controleIdentite.verdict === 'discordant' ? 'discordant' : 'identite');
    }
    const result = await this.deps.transitions.executer(async (uow) => {
      await coffre.put(
        COFFRE.controleIdentite,
        demande.id,
        asJson({
          verdict: controleIdentite.verdict,
          motifs: motifsControleIdentite(controleIdentite),
          detail: controleIdentite as unknown as ResultatControleIdentite,
        }),
        uow.trx,
      );
      if (controleIdentite.verdict === 'discordant') {
        // Possibly somebody else's avis: not kept (the domain's `ecarter_situation`).
        for (const r of recues) await coffre.delete(COFFRE.situation, r.foyerFiscalId, uow.trx);
      }
      if (calcul) await quotients.enregistrer(uow.trx, demande, calcul, 'calcul');
      // Only a standing consent in force keeps anything more, and only from an avis matched without doubt.
      if (controleIdentite.verdict === 'concordant') {
        await this.deps.renouvellement?.conserverEtatCivil(uow.trx, {
          familleId: demande.famille_id,
          demandeId: demande.id,
          controle: controleIdentite,
          foyers: recues.map((r) => ({ rang: r.rang, declarants: r.situation.declarants, ...(r.saisi ? { saisi: r.saisi } : {}) })),
          parents: parents.map((p) => ({ rang: p.rang, dateNaissance: p.date_naissance })),
        });
      }
      return uow.avancer(
        demande,
        { type: 'situation_recue', controle: controleIdentite.verdict, quotientCalcule: calcul !== undefined },
        acteur,
        { motif: raison, detenteur: null },
        { controle: controleIdentite.verdict },
      );
    });
    return result.statut;
  }

  private async echecAppel(
    demande: DemandeTable,
    raison: RaisonEchec,
    retryAt: number | undefined,
    correlationId: string | undefined,
    acteur: Acteur,
  ): Promise<StatutDemande> {
    let evenement: EvenementDemande;
    let changement: ChangementDemande;
    // No slot before the call's deadline, nothing sent (no correlation id): the queue's pacing, not a failed try.
    const cadence = raison === 'quota_depasse' && correlationId === undefined;
    if (cadence) {
      evenement = { type: 'echec_appel', reessayable: true };
      const delay = Math.max((retryAt ?? this.clock() + 1_000) - this.clock(), 250);
      changement = { prochain_essai_le: new Date(this.clock() + delay).toISOString(), motif: null, tentatives: Math.max(demande.tentatives - 1, 0) };
    } else if (raison === 'identifiants_refuses') {
      // The gateway refused our credentials, even the new token fetched after a first 401: nothing the
      // family can mend, nothing a quick retry mends. The request stays in the queue, its number in
      // memory, without using up its tries; the transition's journal entry (raison identifiants_refuses)
      // raises the « dgfip.acces_refuse » alert, and the operators fix the credentials meanwhile.
      evenement = { type: 'echec_appel', reessayable: true };
      changement = {
        prochain_essai_le: new Date(this.clock() + PAUSE_IDENTIFIANTS_REFUSES_MS).toISOString(),
        motif: motif('dgfip_identifiants_refuses'),
        tentatives: Math.max(0, demande.tentatives - 1),
      };
      this.deps.logger.error({ demandeId: demande.id, raison, correlationId }, 'la DGFiP refuse les identifiants du téléservice : demande gardée en file');
    } else if (RETRYABLE.includes(raison) && demande.tentatives < MAX_TENTATIVES) {
      // Back in the queue, the number still in memory; the next try waits for the slot or a backoff.
      evenement = { type: 'echec_appel', reessayable: true };
      const delay = retryAt !== undefined ? Math.max(retryAt - this.clock(), 1_000) : 30_000 * 2 ** (demande.tentatives - 1);
      changement = { prochain_essai_le: new Date(this.clock() + delay).toISOString(), motif: null };
    } else if (raison in MOTIF_ETAT_CIVIL) {
      // The family's to mend (say more, or give the numéro fiscal): the request says how, and waits for a new entry.
      evenement = { type: 'echec_appel', reessayable: false };
      changement = { motif: motif(MOTIF_ETAT_CIVIL[raison as keyof typeof MOTIF_ETAT_CIVIL]), detenteur: null };
    } else if (indisponible(raison)) {
      evenement = { type: 'situation_indisponible', raison };
      changement = { motif: motif(raison), detenteur: null };
    } else {
      evenement = { type: 'echec_appel', reessayable: false };
      changement = { motif: motif('echec'), detenteur: null };
      this.deps.logger.error({ demandeId: demande.id, raison, correlationId }, 'échec définitif de l’appel DGFiP');
    }
    const result = await this.deps.transitions.executer((uow) =>
      uow.avancer(demande, evenement, acteur, changement, { raison, ...(correlationId ? { correlationId } : {}) }),
    );
    return result.statut;
  }

  /**
   * Why nothing could be called for these foyers: a FranceConnect sign-in whose token ran out, an
   * entry typed on another instance to type again (once the FranceConnect avis beside it is received),
   * or a sign-in that has yet to happen (the second declarant).
   */
  private motifSansIdentifiant(foyers: ReadonlyArray<{ id: string; voie: string }>): CodeMotif {
    const { vault } = this.deps;
    if (foyers.some((f) => vault.aExpire(f.id))) return 'franceconnect_expire';
    if (foyers.some((f) => f.voie === 'franceconnect')) return 'franceconnect_attendu';
    return foyers.some((f) => vault.estARessaisir(f.id)) ? 'saisie_a_refaire' : 'spi_perdu';
  }

  /**
   * Its numéro fiscal is gone (a restart, a process stopped, an entry expired), or its FranceConnect
   * token (`code` says which): the family gives it again, and what was received stays.
   */
  private async aRessaisir(demandeId: string, code: CodeMotif = 'spi_perdu', acteur: Acteur = systeme): Promise<StatutDemande | 'inconnue'> {
    return this.deps.transitions.executer(async (uow) => {
      const demande = await findDemande(uow.trx, demandeId);
      if (!demande) return 'inconnue';
      if (!STATUTS_AVEC_NUMERO_FISCAL.includes(demande.statut)) return demande.statut;
      const details = code === 'spi_perdu' ? undefined : { cause: code };
      return (await uow.avancer(demande, { type: 'spi_perdu' }, acteur, { motif: motif(code), detenteur: null }, details)).statut;
    });
  }

  /**
   * At start, and with every heartbeat: requests held by a process that no longer beats (crashed,
   * killed) lost their numéros fiscaux; they become `a_ressaisir`. None stays half-done.
   */
  async recupererOrphelines(instancesVivantes: readonly string[]): Promise<number> {
    const ids = await orphelines(this.deps.db, [...new Set([...instancesVivantes, this.deps.instanceId])]);
    for (const id of ids) await this.aRessaisir(id);
    return ids.length;
  }

  /** This process stops: what it held in memory is lost, and its queued requests say so now. */
  async relacher(): Promise<number> {
    const ids = await detenues(this.deps.db, this.deps.instanceId);
    for (const id of ids) await this.aRessaisir(id);
    return ids.length;
  }
}

/**
 * Whom the family said files in this foyer fiscal: the parent whose number was used, and the other parent
 * too when a couple living together sent one avis (married or pacsed: one foyer fiscal).
 */
function attendusDansLeFoyerFiscal(rang: 1 | 2, nbFoyersFiscaux: number, parents: ReadonlyArray<{ rang: number; au_foyer: number }>): RoleParent[] {
  const autre = parents.find((p) => p.rang !== rang);
  if (nbFoyersFiscaux === 1 && autre && autre.au_foyer === 1) return [roleParent(1), roleParent(2)];
  return [roleParent(rang)];
}
