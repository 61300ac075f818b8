import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { exigerConsentement, parseConsentement, type Consentement } from '../../domain/consentement.ts';
import { controlerIdentite, motifsControle, roleParent, type ParentDeclare, type ResultatControleIdentite, type RoleParent } from '../../domain/controle-identite.ts';
import { formatDateCourte } from '../../domain/dates.ts';
import { parseDecisionInstructeur, parseDecisionQfManuel, type DecisionQfManuel, type DecisionValidee } from '../../domain/decision-instructeur.ts';
import { STATUTS, transition, type EvenementDemande, type StatutDemande } from '../../domain/demande.ts';
import { QuotientError } from '../../domain/errors.ts';
import { LIBELLES_CHAMPS_DGFIP, type Habilitation } from '../../domain/habilitation.ts';
import { formatEuros } from '../../domain/money.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { quotientFromSituations, type QuotientFamilial } from '../../domain/quotient-familial.ts';
import { createSituationFiscale, type SituationFiscale } from '../../domain/situation-fiscale.ts';
import { priceActivites, type PrixActivite } from '../../domain/tarification.ts';
import { periodeApplication } from '../../domain/validite-quotient.ts';
import type { DemandeTable, Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import { isSourceFiscaleError, type FiscalSource, type OptionsAppel, type RaisonEchec } from '../../sources/fiscal-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { findDemande, findFamille, findFoyers, findParents, moveDemande, newId, newReference, positionInQueue } from './demandes-repo.ts';
import type { JournalAudit } from '../audit/index.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import { asJson, type Acteur, type Executor } from './ports.ts';
import type { Identifiant, SpiVault } from './spi-vault.ts';

export interface DemandesDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly source: FiscalSource;
  /** The tariff policy in force on the day of the request (AAAA-MM-JJ, Paris). */
  readonly politique: (dateDemande: string) => PolitiqueTarifaire;
  readonly habilitation: Habilitation;
  readonly vault: SpiVault;
  /** This process, as recorded in `instances`: it holds the numéros fiscaux of its requests. */
  readonly instanceId: string;
  readonly quotaPerMinute: number;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** Told when a request reaches a state the family must hear about (e-mails come later). */
  readonly onChange?: (demandeId: string, statut: StatutDemande) => void;
}

export type ModeConsentement = 'en_ligne' | 'formulaire_signe' | 'courriel';

export interface FoyerSoumis {
  readonly parentRang: 1 | 2;
  readonly identifiant: Identifiant;
  readonly consentement: {
    readonly mode: ModeConsentement;
    /** Who gave it: the family online, or the agent who received the signed form or e-mail. */
    readonly donnePar: { readonly type: 'famille' | 'agent'; readonly id: string };
    /** For paper or e-mail: what was received and when (« formulaire signé du 12/09 »). */
    readonly piece?: string;
    /**
     * For paper or e-mail: when the family gave it (ISO instant), which may be days before the
     * agent records it; never in the future. Online, it is the moment of submission.
     */
    readonly recueilliLe?: string;
  };
}

export interface Soumission {
  readonly familleId: string;
  readonly canal: 'en_ligne' | 'guichet' | 'campagne';
  readonly acteur: Acteur;
  readonly foyers: readonly FoyerSoumis[];
  readonly anneeRevenus?: number;
  readonly correlationId?: string;
}

export interface EtatDemande {
  readonly id: string;
  readonly reference: string;
  readonly familleId: string;
  readonly statut: StatutDemande;
  readonly motif: string | null;
  /** While it waits for the quota: its place and an honest estimate. */
  readonly file?: { readonly position: number; readonly attenteMinutes: number };
  readonly quotient?: {
    readonly cents: number;
    readonly periode: string;
    readonly valideDu: string;
    readonly valideAu: string;
    readonly prix: readonly PrixActivite[];
    /** `calcul` from the avis, `instructeur` confirmed by an agent, `manuel` set by an agent from a document seen. */
    readonly origine: string;
  };
}

/** Silo kinds: what is kept encrypted about a request. */
export const COFFRE = {
  situation: 'situation_fiscale',
  controle: 'controle_identite',
  calcul: 'calcul_quotient',
} as const;

const RETRYABLE: readonly RaisonEchec[] = ['quota_depasse', 'indisponible', 'injoignable'];
const INDISPONIBLE = ['introuvable', 'annee_indisponible', 'situation_multiple'] as const;
const MAX_TENTATIVES = 5;

/** Generic French reasons kept in clear on the request: they name no fiscal value and no name. */
export const MOTIFS = {
  introuvable: 'La DGFiP ne trouve pas d’avis pour ce numéro fiscal et cette année : un agent va vérifier.',
  annee_indisponible: 'L’avis de l’année demandée n’existe pas encore : un agent va vérifier.',
  situation_multiple: 'Plusieurs avis existent pour cette année (par exemple après un décès) : un agent va vérifier.',
  identite: 'Les déclarants de l’avis ne correspondent pas exactement aux parents déclarés : un agent va vérifier.',
  discordant: 'L’avis reçu ne concerne aucun des parents déclarés : il n’a pas été conservé, un agent va vérifier.',
  combinaison: 'Les avis des deux foyers ne peuvent pas être combinés automatiquement : un agent va vérifier.',
  spi_perdu: 'Le service a redémarré avant l’appel à la DGFiP : le numéro fiscal doit être saisi à nouveau.',
  echec: 'La DGFiP n’a pas pu répondre ; la demande pourra être refaite. Le service technique est prévenu.',
} as const;

const systeme: Acteur = { type: 'systeme', id: 'quotient' };

/** What the family reads on its request once an instructor has decided (the refusal adds the instructor's reason). */
const MOTIFS_DECISION = {
  confirme: 'Demande vérifiée par un agent de la mairie.',
  qf_manuel: 'Quotient fixé par un agent de la mairie au vu d’un document présenté.',
  refuse: 'Demande refusée après examen par un agent de la mairie',
} as const;

/** An instructor's decision as typed: validated by `parseDecisionInstructeur` before anything is written. */
export interface SaisieDecision {
  readonly decision: unknown;
  readonly justification?: unknown;
  readonly piece?: unknown;
  readonly qfCents?: unknown;
}

export interface OptionsDecision {
  /** More to record in the decision's transaction (the answer to a contestation): all or nothing. */
  readonly aussi?: (trx: Transaction<Schema>) => Promise<void>;
}

type QuotientARegistrer = (trx: Executor, demande: Pick<DemandeTable, 'id' | 'famille_id'>) => Promise<void>;

interface Recue {
  readonly foyerId: string;
  readonly rang: 1 | 2;
  readonly situation: SituationFiscale;
}

export class DemandesService {
  private readonly clock: () => number;
  private habilitationCache: string | undefined;

  constructor(private readonly deps: DemandesDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  /**
   * Applies one event of the request's state machine: the domain decides the next status (or
   * refuses), the row moves only if nobody moved it meanwhile, and the move is one journal entry.
   */
  private async avancer(
    trx: Executor,
    demande: Pick<DemandeTable, 'id' | 'version' | 'statut'>,
    evenement: EvenementDemande,
    acteur: Acteur,
    extra: Parameters<typeof moveDemande>[5] = {},
    details: Record<string, string | number | boolean | null> = {},
  ): Promise<{ statut: StatutDemande; version: number }> {
    const t = transition(demande.statut as StatutDemande, evenement);
    if (!(await moveDemande(trx, demande, [t.de], t.vers, this.now(), extra))) {
      throw new QuotientError('conflict', 'demande_modifiee', 'La demande a été modifiée entre-temps : rechargez la page.');
    }
    await this.deps.journal.append({ actor: acteur, action: t.action, target: { type: 'demande', id: demande.id }, outcome: 'succes', details: { de: t.de, vers: t.vers, ...details } }, trx);
    return { statut: t.vers, version: demande.version + 1 };
  }

  /**
   * Records the request, its consents and its foyers, keeps the numéros fiscaux in memory only, and
   * queues it. Invariant 2: no foyer without the consent of its declarant, covering the data of the
   * habilitation, recorded before any call.
   */
  async soumettre(s: Soumission): Promise<{ id: string; reference: string }> {
    const { db, journal, habilitation } = this.deps;
    if (s.foyers.length === 0 || s.foyers.length > 2) throw new QuotientError('invalid', 'foyers_invalides', 'Une demande concerne un ou deux foyers fiscaux.');
    if (new Set(s.foyers.map((f) => f.parentRang)).size !== s.foyers.length) {
      throw new QuotientError('invalid', 'foyers_invalides', 'Chaque parent ne peut figurer qu’une fois dans la demande.');
    }
    for (const f of s.foyers) {
      if ('franceConnectToken' in f.identifiant && !habilitation.modalites.includes('franceconnect')) {
        throw new QuotientError('forbidden', 'modalite_non_habilitee', 'L’habilitation de la commune ne permet pas l’interrogation par FranceConnect.');
      }
      if (s.canal !== 'en_ligne' && f.consentement.mode === 'en_ligne') {
        throw new QuotientError('invalid', 'consentement_invalide', 'Au guichet, indiquez comment l’accord a été donné : formulaire signé ou courriel.');
      }
      const le = f.consentement.recueilliLe;
      if (le !== undefined && (f.consentement.mode === 'en_ligne' || !(Date.parse(le) <= this.clock()))) {
        throw new QuotientError('invalid', 'consentement_invalide', 'La date de l’accord doit être passée, et n’est indiquée que pour un formulaire signé ou un courriel.');
      }
    }
    const famille = await findFamille(db, s.familleId);
    if (!famille) throw new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
    const parents = await findParents(db, s.familleId);
    for (const f of s.foyers) {
      if (!parents.some((p) => p.rang === f.parentRang)) {
        throw new QuotientError('invalid', 'parent_inconnu', `Le parent ${f.parentRang} n’est pas déclaré dans la famille : complétez le foyer d’abord.`);
      }
    }
    const now = this.now();
    // Validated by the domain before anything is written: mode, author, piece, data listed.
    const consentements = s.foyers.map((f) => ({
      rang: f.parentRang,
      consentement: parseConsentement(
        {
          declarant: roleParent(f.parentRang),
          donnePar: f.consentement.donnePar,
          mode: f.consentement.mode,
          piece: f.consentement.piece ?? null,
          recueilliLe: f.consentement.recueilliLe ?? now,
          versionTexte: habilitation.versionTexteConsentement,
          donnees: habilitation.champs.map((champ) => ({ champ })),
          finalite: habilitation.finalite,
          retireLe: null,
        },
        { libelles: LIBELLES_CHAMPS_DGFIP },
      ),
    }));

    const id = newId();
    const reference = newReference('D');
    const foyerIds = s.foyers.map(() => newId());
    const habilitationId = await this.habilitationId();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('demandes')
        .values({
          id,
          reference,
          famille_id: s.familleId,
          canal: s.canal,
          statut: 'brouillon',
          annee_revenus: s.anneeRevenus ?? null,
          motif: null,
          tentatives: 0,
          prochain_essai_le: null,
          acteur_type: s.acteur.type,
          acteur_id: s.acteur.id,
          creee_le: now,
          modifiee_le: now,
          version: 0,
          detenteur: this.deps.instanceId,
        })
        .execute();
      await journal.append(
        { actor: s.acteur, action: 'demande.creee', target: { type: 'demande', id }, outcome: 'succes', ...(s.correlationId ? { correlationId: s.correlationId } : {}), details: { canal: s.canal, foyers: s.foyers.length, famille: s.familleId } },
        trx,
      );
      for (const [index, { rang, consentement: c }] of consentements.entries()) {
        await trx
          .insertInto('consentements')
          .values({
            id: newId(),
            demande_id: id,
            parent_rang: rang,
            donne_par_type: c.donnePar.type,
            donne_par_id: c.donnePar.id,
            mode: c.mode,
            version_texte: c.versionTexte,
            donnees: JSON.stringify(c.donnees),
            finalite: c.finalite,
            habilitation_id: habilitationId,
            piece: c.piece,
            recueilli_le: c.recueilliLe,
            retire_le: null,
          })
          .execute();
        await trx
          .insertInto('demande_foyers')
          .values({
            id: foyerIds[index] as string,
            demande_id: id,
            parent_rang: rang,
            voie: 'franceConnectToken' in (s.foyers[index] as FoyerSoumis).identifiant ? 'franceconnect' : 'numero_fiscal',
            etat: 'a_appeler',
            annee_revenus: null,
            source: null,
            recu_le: null,
          })
          .execute();
        await journal.append(
          { actor: { type: c.donnePar.type, id: c.donnePar.id }, action: 'consentement.recueilli', target: { type: 'demande', id }, outcome: 'succes', details: { mode: c.mode, parent: rang, versionTexte: c.versionTexte } },
          trx,
        );
      }
      const consentie = await this.avancer(trx, { id, version: 0, statut: 'brouillon' }, { type: 'consentement_recueilli' }, s.acteur);
      await this.avancer(trx, { id, ...consentie }, { type: 'mise_en_file' }, s.acteur);
    });
    // Only once the consents are committed does a numéro fiscal enter the vault.
    s.foyers.forEach((f, index) => this.deps.vault.put(foyerIds[index] as string, f.identifiant));
    return { id, reference };
  }

  /** The state of a request as a family or an agent sees it (no fiscal detail). */
  async etat(demandeId: string, executor: Executor = this.deps.db): Promise<EtatDemande> {
    const demande = await findDemande(executor, demandeId);
    if (!demande) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
    const base = { id: demande.id, reference: demande.reference, familleId: demande.famille_id, statut: demande.statut as StatutDemande, motif: demande.motif };
    if (demande.statut === 'en_file' || demande.statut === 'en_cours' || demande.statut === 'consentie') {
      const position = await positionInQueue(executor, demande);
      // A request costs one or two calls, plus rare token calls: a quota of Q a minute serves about
      // Q/1.5 requests a minute. Rounded up, so that the estimate is never optimistic.
      const attenteMinutes = Math.max(1, Math.ceil((position * 1.5) / this.deps.quotaPerMinute));
      return { ...base, file: { position, attenteMinutes } };
    }
    const qf = await executor.selectFrom('quotients').selectAll().where('demande_id', '=', demandeId).executeTakeFirst();
    if (!qf) return base;
    return { ...base, quotient: { cents: qf.valeur_cents, periode: qf.periode, valideDu: qf.valide_du, valideAu: qf.valide_au, prix: JSON.parse(qf.prix) as PrixActivite[], origine: qf.origine } };
  }

  /** Polls until the request leaves the queue, at most `timeoutMs`: the answer « at once » when the quota allows. */
  async attendre(demandeId: string, timeoutMs: number): Promise<EtatDemande> {
    const until = this.clock() + timeoutMs;
    for (;;) {
      const etat = await this.etat(demandeId);
      if (!etat.file || this.clock() >= until) return etat;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }

  /**
   * Processes one queued request held by this process: checks the consents, calls the DGFiP for
   * each foyer (the quota slot is taken by the HTTP layer), runs the identity control, computes and
   * stores the QF. Every outcome is a recorded state: calculee, a_verifier, echouee, back in the
   * queue, or a_ressaisir.
   */
  async traiter(demandeId: string): Promise<StatutDemande | 'inconnue'> {
    const { db, vault, journal } = this.deps;
    const demande = await findDemande(db, demandeId);
    if (!demande) return 'inconnue';
    if (!['consentie', 'en_file'].includes(demande.statut) || demande.detenteur !== this.deps.instanceId) return demande.statut as StatutDemande;
    const foyers = await findFoyers(db, demandeId);
    if (foyers.some((f) => f.etat === 'a_appeler' && !vault.has(f.id))) return this.aRessaisir(demandeId);

    const consentements = await this.consentements(demandeId);
    // Invariant 2, checked again just before the calls: a consent withdrawn since the request was
    // queued cancels it, and the numbers held for it are dropped.
    const maintenant = this.now();
    for (const foyer of foyers.filter((f) => f.etat === 'a_appeler')) {
      try {
        exigerConsentement(consentements, { declarant: roleParent(foyer.parent_rang === 2 ? 2 : 1), champs: this.deps.habilitation.champs, le: maintenant }, { libelles: LIBELLES_CHAMPS_DGFIP });
      } catch (error) {
        if (!(error instanceof QuotientError) || error.kind !== 'forbidden') throw error;
        for (const f of foyers) vault.forget(f.id);
        const annulee = await this.deps.journal.inTransaction((trx) =>
          this.avancer(trx, demande, { type: 'annulation', par: 'famille' }, systeme, { motif: 'L’accord pour interroger la DGFiP a été retiré : la demande est annulée.', detenteur: null }, { cause: error.code }),
        );
        this.deps.onChange?.(demandeId, annulee.statut);
        return annulee.statut;
      }
    }
    let courante: DemandeTable = await this.deps.journal.inTransaction(async (trx) => {
      const moved = await this.avancer(trx, demande, { type: 'appel_demarre' }, systeme, { tentatives: demande.tentatives + 1 }, { tentative: demande.tentatives + 1 });
      return { ...demande, ...moved, tentatives: demande.tentatives + 1 };
    });

    const recues: Recue[] = [];
    for (const foyer of foyers) {
      const rang = foyer.parent_rang === 2 ? 2 : 1;
      if (foyer.etat === 'recu') {
        recues.push({ foyerId: foyer.id, rang, situation: createSituationFiscale(await this.deps.coffre.get(COFFRE.situation, foyer.id)) });
        continue;
      }
      const identifiant = vault.get(foyer.id);
      if (!identifiant) return this.aRessaisir(demandeId);
      const options: OptionsAppel = courante.annee_revenus === null ? {} : { anneeRevenus: courante.annee_revenus };
      let situation: SituationFiscale;
      try {
        situation = 'spi' in identifiant ? await this.deps.source.parNumeroFiscal(identifiant.spi, options) : await this.deps.source.parFranceConnect(identifiant.franceConnectToken, options);
      } catch (error) {
        if (!isSourceFiscaleError(error)) {
          vault.forget(foyer.id);
          throw error;
        }
        return this.echecAppel(courante, foyer.id, error.raison, error.retryAt, error.correlationId);
      }
      // The number has served: it goes before anything else is done with the answer.
      vault.forget(foyer.id);
      await this.deps.journal.inTransaction(async (trx) => {
        await this.deps.coffre.put(COFFRE.situation, foyer.id, asJson(situation), trx);
        await trx.updateTable('demande_foyers').set({ etat: 'recu', annee_revenus: situation.anneeRevenus, source: situation.source, recu_le: this.now() }).where('id', '=', foyer.id).execute();
        await journal.append({ actor: systeme, action: 'dgfip.situation_recue', target: { type: 'demande', id: demandeId }, outcome: 'succes', details: { parent: rang, anneeRevenus: situation.anneeRevenus } }, trx);
      });
      recues.push({ foyerId: foyer.id, rang, situation });
      courante = (await findDemande(db, demandeId)) ?? courante;
    }
    return this.conclure(courante, recues);
  }

  /** Identity control, then the QF and prices, or review by an instructor; one transaction. */
  private async conclure(demande: DemandeTable, recues: readonly Recue[]): Promise<StatutDemande> {
    const { db } = this.deps;
    const parents = await findParents(db, demande.famille_id);
    const declares: ParentDeclare[] = parents.map((p) => ({
      role: roleParent(p.rang === 2 ? 2 : 1),
      nomNaissance: p.nom_naissance,
      nomUsage: p.nom_usage,
      prenoms: p.prenoms,
      dateNaissance: p.date_naissance,
    }));
    const controle = controlerIdentite({ parents: declares, foyers: recues.map((r) => ({ declarants: r.situation.declarants, parentsAttendus: attendusDansLeFoyer(r.rang, recues.length, parents) })) });
    let calcul: Awaited<ReturnType<DemandesService['calculer']>> | undefined;
    let motif: string | null = null;
    if (controle.verdict === 'concordant') {
      try {
        calcul = await this.calculer(demande, recues.map((r) => r.situation));
      } catch (error) {
        if (!(error instanceof QuotientError) || error.kind !== 'invalid') throw error;
        motif = MOTIFS.combinaison;
      }
    } else {
      motif = controle.verdict === 'discordant' ? MOTIFS.discordant : MOTIFS.identite;
    }
    const result = await this.deps.journal.inTransaction(async (trx) => {
      await this.deps.coffre.put(COFFRE.controle, demande.id, asJson({ verdict: controle.verdict, motifs: motifsControle(controle), detail: controle as unknown as ResultatControleIdentite }), trx);
      if (controle.verdict === 'discordant') {
        // Possibly somebody else's avis: not kept (the domain's `ecarter_situation`).
        for (const r of recues) await this.deps.coffre.delete(COFFRE.situation, r.foyerId, trx);
      }
      if (calcul) await this.enregistrerQuotient(trx, demande, calcul, 'calcul');
      return this.avancer(trx, demande, { type: 'situation_recue', controle: controle.verdict, quotientCalcule: calcul !== undefined }, systeme, { motif, detenteur: null }, { controle: controle.verdict });
    });
    this.deps.onChange?.(demande.id, result.statut);
    return result.statut;
  }

  private async calculer(demande: Pick<DemandeTable, 'famille_id' | 'creee_le'>, situations: readonly SituationFiscale[]) {
    const dateDemande = parisDate(Date.parse(demande.creee_le));
    const politique = this.deps.politique(dateDemande);
    const famille = await findFamille(this.deps.db, demande.famille_id);
    const qf = quotientFromSituations(politique, situations);
    const prix = priceActivites(politique, { quotient: qf, resident: famille?.resident === 1 });
    const periode = periodeApplication(politique.quotient, { dateDemande });
    return { qf, prix, periode, politique };
  }

  private async enregistrerQuotient(
    trx: Executor,
    demande: Pick<DemandeTable, 'id' | 'famille_id'>,
    calcul: { qf: QuotientFamilial; prix: PrixActivite[]; periode: { du: string; au: string }; politique: PolitiqueTarifaire },
    origine: 'calcul' | 'instructeur' | 'manuel',
  ): Promise<void> {
    // The explanation quotes the RFR and the parts: silo only, for the family and the instructor.
    await this.deps.coffre.put(COFFRE.calcul, demande.id, asJson({ explication: calcul.qf.explication, revenuEuros: calcul.qf.revenuEuros, diviseur: calcul.qf.diviseur, natureDiviseur: calcul.qf.natureDiviseur }), trx);
    await trx
      .insertInto('quotients')
      .values({
        id: newId(),
        demande_id: demande.id,
        famille_id: demande.famille_id,
        valeur_cents: calcul.qf.cents,
        periode: calcul.qf.periode,
        formule: calcul.qf.formule,
        politique: politiqueLabel(calcul.politique),
        prix: JSON.stringify(calcul.prix),
        valide_du: calcul.periode.du,
        valide_au: calcul.periode.au,
        origine,
        calcule_le: this.now(),
      })
      .execute();
  }

  private async echecAppel(demande: DemandeTable, foyerId: string, raison: RaisonEchec, retryAt: number | undefined, correlationId: string | undefined): Promise<StatutDemande> {
    const { vault } = this.deps;
    let evenement: EvenementDemande;
    let extra: Parameters<typeof moveDemande>[5];
    if (RETRYABLE.includes(raison) && demande.tentatives < MAX_TENTATIVES) {
      // Back in the queue, the number still in memory; the next try waits for the slot or a backoff.
      evenement = { type: 'echec_appel', reessayable: true };
      const delay = retryAt !== undefined ? Math.max(retryAt - this.clock(), 1_000) : 30_000 * 2 ** (demande.tentatives - 1);
      extra = { prochain_essai_le: new Date(this.clock() + delay).toISOString(), motif: null };
    } else if ((INDISPONIBLE as readonly string[]).includes(raison)) {
      vault.forget(foyerId);
      evenement = { type: 'situation_indisponible', raison: raison as (typeof INDISPONIBLE)[number] };
      extra = { motif: MOTIFS[raison as (typeof INDISPONIBLE)[number]], detenteur: null };
    } else {
      vault.forget(foyerId);
      evenement = { type: 'echec_appel', reessayable: false };
      extra = { motif: MOTIFS.echec, detenteur: null };
      this.deps.logger.error({ demandeId: demande.id, raison, correlationId }, 'échec définitif de l’appel DGFiP');
    }
    const result = await this.deps.journal.inTransaction((trx) =>
      this.avancer(trx, demande, evenement, systeme, extra, { raison, ...(correlationId ? { correlationId } : {}) }),
    );
    if (result.statut !== 'en_file') this.deps.onChange?.(demande.id, result.statut);
    return result.statut;
  }

  private async aRessaisir(demandeId: string): Promise<StatutDemande> {
    const statut = await this.deps.journal.inTransaction(async (trx) => {
      const demande = await findDemande(trx, demandeId);
      if (!demande || !['consentie', 'en_file', 'en_cours'].includes(demande.statut)) return demande?.statut as StatutDemande;
      return (await this.avancer(trx, demande, { type: 'spi_perdu' }, systeme, { motif: MOTIFS.spi_perdu, detenteur: null })).statut;
    });
    for (const f of await findFoyers(this.deps.db, demandeId)) this.deps.vault.forget(f.id);
    if (statut === 'a_ressaisir') this.deps.onChange?.(demandeId, statut);
    return statut;
  }

  /**
   * At start, and with every heartbeat: requests held by a process that no longer beats (crashed,
   * killed) lost their numéros fiscaux; they become `a_ressaisir`. None stays half-done.
   */
  async recupererOrphelines(instancesVivantes: readonly string[]): Promise<number> {
    const vivantes = [...new Set([...instancesVivantes, this.deps.instanceId])];
    const orphelines = await this.deps.db
      .selectFrom('demandes')
      .select('id')
      .where('statut', 'in', ['consentie', 'en_file', 'en_cours'])
      .where((eb) => eb.or([eb('detenteur', 'is', null), eb('detenteur', 'not in', vivantes)]))
      .execute();
    for (const { id } of orphelines) await this.aRessaisir(id);
    return orphelines.length;
  }

  /** This process stops: what it held in memory is lost, and its queued requests say so now. */
  async relacher(): Promise<number> {
    const held = await this.deps.db.selectFrom('demandes').select('id').where('statut', 'in', ['consentie', 'en_file', 'en_cours']).where('detenteur', '=', this.deps.instanceId).execute();
    for (const { id } of held) await this.aRessaisir(id);
    return held.length;
  }

  /** The declarants whose avis was not obtained: whose numéro fiscal a new entry must give. */
  async rangsARessaisir(demandeId: string): Promise<Array<1 | 2>> {
    const foyers = await findFoyers(this.deps.db, demandeId);
    return foyers.filter((f) => f.etat !== 'recu').map((f) => (f.parent_rang === 2 ? 2 : 1));
  }

  /** The family (or an agent) types the numéro fiscal again; the consents already recorded stand. */
  async ressaisir(demandeId: string, acteur: Acteur, identifiants: ReadonlyArray<{ parentRang: 1 | 2; identifiant: Identifiant }>): Promise<void> {
    const { db } = this.deps;
    const foyers = await findFoyers(db, demandeId);
    if (foyers.some((f) => f.etat !== 'recu' && !identifiants.some((i) => i.parentRang === f.parent_rang))) {
      throw new QuotientError('invalid', 'numero_fiscal_manquant', 'Saisissez le numéro fiscal de chaque déclarant dont l’avis n’a pas encore été obtenu.');
    }
    await this.deps.journal.inTransaction(async (trx) => {
      const demande = await findDemande(trx, demandeId);
      if (!demande) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
      const consentie = await this.avancer(trx, demande, { type: 'nouvelle_saisie' }, acteur, { motif: null, detenteur: this.deps.instanceId, prochain_essai_le: null, tentatives: 0 });
      await this.avancer(trx, { id: demandeId, ...consentie }, { type: 'mise_en_file' }, acteur);
    });
    for (const i of identifiants) {
      const foyer = foyers.find((f) => f.parent_rang === i.parentRang && f.etat !== 'recu');
      if (foyer) this.deps.vault.put(foyer.id, i.identifiant);
    }
  }

  /** Requests of this process due now, oldest first: what the processing loop takes next. */
  async prochaines(limit = 10): Promise<string[]> {
    const rows = await this.deps.db
      .selectFrom('demandes')
      .select('id')
      .where('statut', 'in', ['consentie', 'en_file'])
      .where('detenteur', '=', this.deps.instanceId)
      .where((eb) => eb.or([eb('prochain_essai_le', 'is', null), eb('prochain_essai_le', '<=', this.now())]))
      .orderBy('creee_le')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  private async consentements(demandeId: string): Promise<Consentement[]> {
    const rows = await this.deps.db.selectFrom('consentements').selectAll().where('demande_id', '=', demandeId).execute();
    return rows.map((c) =>
      parseConsentement(
        {
          declarant: roleParent(c.parent_rang === 2 ? 2 : 1),
          donnePar: { type: c.donne_par_type, id: c.donne_par_id },
          mode: c.mode,
          piece: c.piece,
          recueilliLe: c.recueilli_le,
          versionTexte: c.version_texte,
          donnees: JSON.parse(c.donnees) as unknown,
          finalite: c.finalite,
          retireLe: c.retire_le,
        },
        { libelles: LIBELLES_CHAMPS_DGFIP },
      ),
    );
  }

  /**
   * An instructor decides a request to be checked: confirm (the identity is accepted, the QF is
   * computed from the avis kept, as the machine would), refuse, or set the QF by hand. One
   * transaction: the decision row, the QF and prices, the status through the state machine and its
   * journal entry (and `options.aussi`); then the family is told.
   */
  async decider(demandeId: string, acteur: Acteur, saisie: SaisieDecision, options: OptionsDecision = {}): Promise<{ statut: StatutDemande; decisionId: string }> {
    const demande = await findDemande(this.deps.db, demandeId);
    if (!demande) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
    exigerAgent(acteur);
    if (demande.statut !== 'a_verifier') {
      throw new QuotientError('conflict', 'demande_deja_decidee', `Cette demande n’attend plus de décision (statut « ${STATUTS[demande.statut as StatutDemande]?.libelle ?? demande.statut} »).`);
    }
    const d = parseDecisionInstructeur(saisie);
    let quotient: QuotientARegistrer | undefined;
    if (d.decision === 'confirme') {
      const calcul = await this.calculConfirme(demande);
      quotient = (trx, cible) => this.enregistrerQuotient(trx, cible, calcul, 'instructeur');
    } else if (d.decision === 'qf_manuel') {
      quotient = await this.quotientManuel(demande, d);
    }
    const decisionId = newId();
    const result = await this.deps.journal.inTransaction(async (trx) => {
      try {
        const moved = await this.enregistrerDecision(trx, demande, acteur, d, decisionId, quotient);
        await options.aussi?.(trx);
        return moved;
      } catch (error) {
        // Two instructors deciding at once: the second finds the status already changed.
        if (error instanceof QuotientError && error.code === 'demande_modifiee') {
          throw new QuotientError('conflict', 'demande_deja_decidee', 'Cette demande vient d’être décidée par un autre agent : rechargez la page pour voir la décision.');
        }
        throw error;
      }
    });
    this.deps.onChange?.(demandeId, result.statut);
    return { statut: result.statut, decisionId };
  }

  /**
   * A result already calculated is closed: when a contestation shows the QF must change (the family
   * presented another avis), the instructor opens a new request for the family, reviewed at once
   * and decided with the QF set by hand. No DGFiP call, so no consent or numéro fiscal is involved.
   */
  async reexaminer(demandeContesteeId: string, acteur: Acteur, saisie: Omit<SaisieDecision, 'decision'>, options: OptionsDecision = {}): Promise<{ id: string; reference: string; statut: StatutDemande; decisionId: string }> {
    const contestee = await findDemande(this.deps.db, demandeContesteeId);
    if (!contestee) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
    exigerAgent(acteur);
    const d = parseDecisionQfManuel(saisie);
    const now = this.now();
    const id = newId();
    const reference = newReference('D');
    const quotient = await this.quotientManuel({ famille_id: contestee.famille_id, creee_le: now }, d);
    const decisionId = newId();
    const result = await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('demandes')
        .values({
          id,
          reference,
          famille_id: contestee.famille_id,
          canal: contestee.canal,
          statut: 'brouillon',
          annee_revenus: null,
          motif: null,
          tentatives: 0,
          prochain_essai_le: null,
          acteur_type: acteur.type,
          acteur_id: acteur.id,
          creee_le: now,
          modifiee_le: now,
          version: 0,
          detenteur: null,
        })
        .execute();
      await this.deps.journal.append(
        { actor: acteur, action: 'demande.creee', target: { type: 'demande', id }, outcome: 'succes', details: { canal: contestee.canal, foyers: 0, famille: contestee.famille_id, reexamenDe: contestee.id } },
        trx,
      );
      const revue = await this.avancer(trx, { id, version: 0, statut: 'brouillon' }, { type: 'reexamen' }, acteur, { motif: 'Réexamen à la suite d’une contestation.' });
      const moved = await this.enregistrerDecision(trx, { id, famille_id: contestee.famille_id, ...revue }, acteur, d, decisionId, quotient);
      await options.aussi?.(trx);
      return moved;
    });
    this.deps.onChange?.(id, result.statut);
    return { id, reference, statut: result.statut, decisionId };
  }

  /** The decision row, the QF when there is one, and the move through the state machine (its journal entry). */
  private async enregistrerDecision(
    trx: Executor,
    demande: Pick<DemandeTable, 'id' | 'version' | 'statut' | 'famille_id'>,
    acteur: Acteur,
    d: DecisionValidee,
    decisionId: string,
    quotient: QuotientARegistrer | undefined,
  ): Promise<{ statut: StatutDemande; version: number }> {
    const motif = d.decision === 'refuse' ? `${MOTIFS_DECISION.refuse} : ${d.justification}` : MOTIFS_DECISION[d.decision];
    // The status moves first, guarded by status and version: a concurrent decision gets a conflict
    // here, before writing a second decision or QF. The journal says what was decided, by whom, and
    // which decision row: never the amounts nor the texts.
    const moved = await this.avancer(trx, demande, { type: 'decision_instructeur', decision: d.decision, motif: d.justification }, acteur, { motif, detenteur: null }, { decision: d.decision, decisionId });
    await trx.insertInto('decisions').values({ id: decisionId, demande_id: demande.id, agent_id: acteur.id, decision: d.decision, justification: d.justification, piece: d.piece, decidee_le: this.now() }).execute();
    if (quotient) await quotient(trx, demande);
    return moved;
  }

  /** The QF from the avis kept in the silo, as `conclure` would have computed it had the identity matched. */
  private async calculConfirme(demande: DemandeTable) {
    const foyers = await findFoyers(this.deps.db, demande.id);
    const situations: SituationFiscale[] = [];
    for (const foyer of foyers) {
      const kept = foyer.etat === 'recu' ? await this.deps.coffre.get(COFFRE.situation, foyer.id) : undefined;
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
    if (situations.length === 0) throw new QuotientError('invalid', 'avis_absent', 'Cette demande n’a aucun avis : fixez le quotient à la main ou refusez la demande.', { details: [{ path: 'decision', message: 'Aucun avis.' }] });
    try {
      return await this.calculer(demande, situations);
    } catch (error) {
      if (!(error instanceof QuotientError) || error.kind !== 'invalid') throw error;
      throw new QuotientError('invalid', 'calcul_impossible', `Le quotient ne peut pas être calculé automatiquement à partir des avis reçus : ${error.message} Fixez-le à la main ou refusez la demande.`, {
        details: [{ path: 'decision', message: error.message }],
      });
    }
  }

  /** A QF set by hand: the prices of the policy in force for it, the period as for any request of that date. */
  private async quotientManuel(demande: Pick<DemandeTable, 'famille_id' | 'creee_le'>, d: DecisionQfManuel): Promise<QuotientARegistrer> {
    const dateDemande = parisDate(Date.parse(demande.creee_le));
    const politique = this.deps.politique(dateDemande);
    const famille = await findFamille(this.deps.db, demande.famille_id);
    const prix = priceActivites(politique, { quotient: { cents: d.qfCents }, resident: famille?.resident === 1 });
    const periode = periodeApplication(politique.quotient, { dateDemande });
    const unite = politique.quotient.periode === 'mensuelle' ? 'par mois' : 'par an';
    const explication = `Quotient familial fixé à ${formatEuros(d.qfCents)} ${unite} par un agent de la mairie, au vu de : ${d.piece}.`;
    return async (trx, cible) => {
      // The document seen may name the avis: silo only, like the explanation of a calculation.
      await this.deps.coffre.put(COFFRE.calcul, cible.id, asJson({ explication, piece: d.piece }), trx);
      await trx
        .insertInto('quotients')
        .values({
          id: newId(),
          demande_id: cible.id,
          famille_id: cible.famille_id,
          valeur_cents: d.qfCents,
          periode: politique.quotient.periode,
          formule: 'manuel',
          politique: politiqueLabel(politique),
          prix: JSON.stringify(prix),
          valide_du: periode.du,
          valide_au: periode.au,
          origine: 'manuel',
          calcule_le: this.now(),
        })
        .execute();
    };
  }

  /** The habilitation in force, recorded once per content so that each consent points at what it covered. */
  private async habilitationId(): Promise<string> {
    if (this.habilitationCache) return this.habilitationCache;
    const { db } = this.deps;
    const contenu = JSON.stringify(this.deps.habilitation);
    const empreinte = createHash('sha256').update(contenu).digest('hex');
    await db
      .insertInto('habilitations')
      .values({ id: newId(), empreinte, contenu, enregistree_le: this.now() })
      .onConflict((oc) => oc.column('empreinte').doNothing())
      .execute();
    const row = await db.selectFrom('habilitations').select('id').where('empreinte', '=', empreinte).executeTakeFirstOrThrow();
    return (this.habilitationCache = row.id);
  }
}

/**
 * Whom the family said files in this foyer: the parent whose number was used, and the other parent
 * too when a couple living together sent one avis (married or pacsed: one foyer fiscal).
 */
function attendusDansLeFoyer(rang: 1 | 2, nbFoyers: number, parents: ReadonlyArray<{ rang: number; au_foyer: number }>): RoleParent[] {
  const autre = parents.find((p) => p.rang !== rang);
  if (nbFoyers === 1 && autre && autre.au_foyer === 1) return [roleParent(1), roleParent(2)];
  return [roleParent(rang)];
}

/** Decisions are an agent's: their id goes in the decision row and the journal. */
function exigerAgent(acteur: Acteur): void {
  if (acteur.type !== 'agent') throw new QuotientError('forbidden', 'decision_reservee', 'Seul un agent instructeur peut décider d’une demande.');
}

function politiqueLabel(p: PolitiqueTarifaire): string {
  const d = p.deliberation;
  const deliberation = ['délibération', d.numero ? `n° ${d.numero}` : null, d.date ? `du ${formatDateCourte(d.date)}` : null].filter(Boolean).join(' ');
  return `${deliberation}, tarifs en vigueur depuis le ${formatDateCourte(p.validite.du)}`;
}
