import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { parseConsentement } from '../../domain/consentement.ts';
import { donneesConsentementCaf, LIBELLES_CHAMPS_CAF } from '../../domain/consentement-caf.ts';
import { roleParent } from '../../domain/controle-identite.ts';
import { STATUTS_AVEC_NUMERO_FISCAL, type StatutDemande } from '../../domain/demande.ts';
import { QuotientError } from '../../domain/errors.ts';
import { LIBELLES_CHAMPS_DGFIP, type Habilitation } from '../../domain/habilitation.ts';
import type { PrixActivite } from '../../domain/tarification.ts';
import type { Executor } from '../../infra/db/database.ts';
import type { DemandeTable, Schema } from '../../infra/db/schema.ts';
import type { Acteur } from '../audit/index.ts';
import { findDemande, findFamille, findFoyersFiscaux, findParents, insertDemande, newId, newReference } from './demandes-repo.ts';
import type { SuspensionAppels } from '../incident/interrupteurs.ts';
import { voieDe, type Identifiant, type IdentifiantAttendu, type SpiVault } from './spi-vault.ts';
import type { Transitions } from './transitions.ts';
import type { LimitesNumeroFiscal } from './limites-numero-fiscal.ts';
import type { RenouvellementService } from '../renouvellement/renouvellement-service.ts';

/** Where a request stands in the queue (1 = next): the processing's queue answers it. */
export type PositionEnFile = (executor: Executor, demande: Pick<DemandeTable, 'id' | 'creee_le'>) => Promise<number>;

export interface DemandesDeps {
  readonly db: Kysely<Schema>;
  readonly transitions: Transitions;
  readonly habilitation: Habilitation;
  readonly vault: SpiVault;
  /** This process, as recorded in `instances`: it holds the numéros fiscaux of its requests. */
  readonly instanceId: string;
  readonly quotaPerMinute: number;
  readonly positionEnFile: PositionEnFile;
  readonly clock?: () => number;
  /**
   * Why DGFiP calls are held now, or null. Queued requests wait either way; during the integrity
   * halt no new request (no new consent) is taken.
   */
  readonly suspension?: () => Promise<SuspensionAppels | null>;
  /** Anti-fishing: each numéro fiscal submitted on the portal or at the counter counts (issue 12, hole 3). */
  readonly limites?: Pick<LimitesNumeroFiscal, 'compter'>;
  /** The standing consents for renewal, recorded with the request's consents (issue 14). */
  readonly renouvellement?: Pick<RenouvellementService, 'preparer' | 'enregistrer'>;
}

export type ModeConsentement = 'en_ligne' | 'formulaire_signe' | 'courriel';

/**
 * What a submission gives for one foyer fiscal: how to ask the DGFiP; or `franceConnectAttendu`
 * when its declarant has yet to sign in with FranceConnect (the second parent, after the first's
 * avis is received: a minute-long token cannot wait for the other's sign-in); or `aRessaisir` when
 * what was typed for it stayed on another instance of the service (the FranceConnect return came
 * back to this one): the other foyer is called, this one typed again.
 */
export type IdentifiantSoumis = Identifiant | IdentifiantAttendu;

/** Put in the vault once the consents are committed; a foyer with nothing to ask with says why. */
function garder(vault: SpiVault, foyerFiscalId: string, identifiant: IdentifiantSoumis): void {
  if ('franceConnectAttendu' in identifiant) return;
  if ('aRessaisir' in identifiant) vault.marquerARessaisir(foyerFiscalId);
  else vault.put(foyerFiscalId, identifiant);
}

const parFranceConnect = (i: IdentifiantSoumis) => 'franceConnectToken' in i || 'franceConnectAttendu' in i;

export interface FoyerFiscalSoumis {
  readonly parentRang: 1 | 2;
  readonly identifiant: IdentifiantSoumis;
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
    /**
     * The declarant also agreed that the CAF or the MSA be asked for the family's quotient (its own
     * text, version and data: `consentement-caf.ts`), used when the policy's source needs it.
     */
    readonly caf?: boolean;
  };
}

export interface Soumission {
  readonly familleId: string;
  readonly canal: 'en_ligne' | 'guichet' | 'campagne';
  readonly acteur: Acteur;
  readonly foyersFiscaux: readonly FoyerFiscalSoumis[];
  readonly anneeRevenus?: number;
  readonly correlationId?: string;
  /** Who else a numéro fiscal typed counts against: the family's account and the client's address (the agent is the actor). */
  readonly essai?: ContexteEssai;
  /**
   * The declarants who also gave a standing consent for renewal (opt-in, ticked apart): recorded
   * with their consent, by the same author, mode and piece (docs/renouvellement.md).
   */
  readonly renouvellement?: ReadonlyArray<1 | 2>;
  /** A campaign's item: what records, in the request's own transaction, that the item became this request. */
  readonly lier?: (trx: Transaction<Schema>, demandeId: string) => Promise<void>;
}

export interface ContexteEssai {
  readonly compte?: string;
  readonly adresse?: string;
}

export interface EtatDemande {
  readonly id: string;
  readonly reference: string;
  readonly familleId: string;
  readonly statut: StatutDemande;
  readonly motif: string | null;
  /** The reason's code (`MOTIFS`): a page words it for its reader (`motifPourLaFamille`) or answers it with a form (a FranceConnect sign-in to redo). */
  readonly motifCode: string | null;
  /** While it waits for the quota: its place and an honest estimate (none while calls are held: `suspension`). */
  readonly file?: { readonly position: number; readonly attenteMinutes: number; readonly suspension?: SuspensionAppels };
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

/**
 * Submission and re-entry of a request: the consents, the foyers fiscaux, the numéros fiscaux in memory,
 * the queue; and the request's state as a family or an agent reads it. The processing is
 * `modules/traitement`'s, the instructors' decisions `modules/instruction`'s.
 */
/** The wait's poll, for moves another process commits (this process's own wake it at once). */
const ATTENTE_POLL_MS = 1_000;

export class DemandesService {
  private readonly clock: () => number;
  private habilitationCache: string | undefined;

  constructor(private readonly deps: DemandesDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  /** The anti-fishing count of the numéros fiscaux typed (FranceConnect and campaigns type none): the agent at the counter is the actor. */
  private async compterEssai(
    famille: string,
    canal: string,
    acteur: Acteur,
    foyers: ReadonlyArray<{ identifiant: IdentifiantSoumis }>,
    essai: ContexteEssai | undefined,
    correlationId?: string,
  ): Promise<void> {
    // An état civil typed is a try like a number: someone else's would fetch their avis just as well.
    const n = foyers.filter((f) => 'spi' in f.identifiant || 'etatCivil' in f.identifiant).length;
    if (!this.deps.limites || n === 0 || (canal !== 'en_ligne' && canal !== 'guichet')) return;
    await this.deps.limites.compter({
      famille,
      canal,
      n,
      acteur,
      ...(essai?.compte ? { compte: essai.compte } : {}),
      ...(essai?.adresse ? { adresse: essai.adresse } : {}),
      ...(acteur.type === 'agent' ? { agent: acteur.id } : {}),
      ...(correlationId ? { correlationId } : {}),
    });
  }

  /**
   * Records the request, its consents and its foyers fiscaux, keeps the numéros fiscaux in memory only, and
   * queues it. Invariant 2: no foyer fiscal without the consent of its declarant, covering the data of the
   * habilitation, recorded before any call. Refused during the integrity halt (DICP I3).
   */
  async soumettre(s: Soumission): Promise<{ id: string; reference: string }> {
    const { db, habilitation } = this.deps;
    if ((await this.deps.suspension?.())?.cause === 'integrite') {
      throw new QuotientError(
        'unavailable',
        'arret_integrite',
        'Aucune nouvelle demande ne peut être faite pour l’instant : les demandes à la DGFiP sont suspendues le temps d’une vérification technique. Aucun accord n’a été enregistré ; réessayez plus tard.',
      );
    }
    if (s.foyersFiscaux.length === 0 || s.foyersFiscaux.length > 2)
      throw new QuotientError('invalid', 'foyers_invalides', 'Une demande concerne un ou deux foyers fiscaux.');
    if (new Set(s.foyersFiscaux.map((f) => f.parentRang)).size !== s.foyersFiscaux.length) {
      throw new QuotientError('invalid', 'foyers_invalides', 'Chaque parent ne peut figurer qu’une fois dans la demande.');
    }
    for (const f of s.foyersFiscaux) {
      if (parFranceConnect(f.identifiant) && !habilitation.modalites.includes('franceconnect')) {
        throw new QuotientError('forbidden', 'modalite_non_habilitee', 'L’habilitation de la commune ne permet pas l’interrogation par FranceConnect.');
      }
      if (voieDe(f.identifiant) === 'etat_civil' && !habilitation.modalites.includes('etat-civil')) {
        throw new QuotientError('forbidden', 'modalite_non_habilitee', 'L’habilitation de la commune ne permet pas l’interrogation par état civil.');
      }
      if (s.canal === 'guichet' && f.consentement.mode === 'en_ligne') {
        throw new QuotientError('invalid', 'consentement_invalide', 'Au guichet, indiquez comment l’accord a été donné : formulaire signé ou courriel.');
      }
      const le = f.consentement.recueilliLe;
      // A campaign's consent was given before it (a signed form, a standing consent given online): its date is required.
      if (s.canal === 'campagne' && le === undefined) {
        throw new QuotientError('invalid', 'consentement_invalide', 'Une campagne s’appuie sur un accord déjà donné : indiquez sa date.');
      }
      if (le !== undefined && ((f.consentement.mode === 'en_ligne' && s.canal !== 'campagne') || !(Date.parse(le) <= this.clock()))) {
        throw new QuotientError(
          'invalid',
          'consentement_invalide',
          'La date de l’accord doit être passée, et n’est indiquée que pour un formulaire signé ou un courriel.',
        );
      }
    }
    const famille = await findFamille(db, s.familleId);
    if (!famille) throw new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
    const parents = await findParents(db, s.familleId);
    for (const f of s.foyersFiscaux) {
      if (!parents.some((p) => p.rang === f.parentRang)) {
        throw new QuotientError('invalid', 'parent_inconnu', `Le parent ${f.parentRang} n’est pas déclaré dans la famille : complétez le foyer d’abord.`);
      }
    }
    const now = this.now();
    // Validated by the domain before anything is written: mode, author, piece, data listed.
    const consentements = s.foyersFiscaux.map((f) => ({
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
    // The CAF consents, beside the DGFiP ones: same person, same moment, their own text and data.
    const consentementsCaf = s.foyersFiscaux
      .filter((f) => f.consentement.caf === true)
      .map((f) => ({
        rang: f.parentRang,
        consentement: parseConsentement(
          {
            declarant: roleParent(f.parentRang),
            donnePar: f.consentement.donnePar,
            mode: f.consentement.mode,
            piece: f.consentement.piece ?? null,
            recueilliLe: f.consentement.recueilliLe ?? now,
            ...donneesConsentementCaf(),
            retireLe: null,
          },
          { libelles: LIBELLES_CHAMPS_CAF },
        ),
      }));
    // The standing consents, checked before anything is written: only with the consent for this request.
    const renouvellements = [...new Set(s.renouvellement ?? [])].map((rang) => {
      const consentement = consentements.find((c) => c.rang === rang)?.consentement;
      if (!consentement) {
        throw new QuotientError(
          'invalid',
          'renouvellement_invalide',
          `L’accord de renouvellement du parent ${rang} ne vaut qu’avec son accord pour cette demande.`,
        );
      }
      if (!this.deps.renouvellement) {
        throw new QuotientError('invalid', 'renouvellement_non_propose', 'La commune ne propose pas l’accord de renouvellement.');
      }
      return { rang, renouvellement: this.deps.renouvellement.preparer(consentement), donnePar: consentement.donnePar };
    });
    // Each numéro fiscal typed counts, checked last so that only a submission otherwise accepted does (a campaign has none).
    await this.compterEssai(s.familleId, s.canal, s.acteur, s.foyersFiscaux, s.essai, s.correlationId);

    const id = newId();
    const reference = newReference('D');
    const foyerFiscalIds = s.foyersFiscaux.map(() => newId());
    const habilitationId = await this.habilitationId();
    await this.deps.transitions.executer(async (uow) => {
      const { trx } = uow;
      await insertDemande(trx, {
        id,
        reference,
        familleId: s.familleId,
        canal: s.canal,
        acteur: s.acteur,
        anneeRevenus: s.anneeRevenus ?? null,
        detenteur: this.deps.instanceId,
        le: now,
      });
      await uow.journaliser({
        actor: s.acteur,
        action: 'demande.creee',
        target: { type: 'demande', id },
        outcome: 'succes',
        ...(s.correlationId ? { correlationId: s.correlationId } : {}),
        details: { canal: s.canal, foyers: s.foyersFiscaux.length, famille: s.familleId },
      });
      // One row per consent given: to the DGFiP for each declarant, to the caisses when asked.
      const enregistrerConsentement = (rang: number, c: (typeof consentements)[number]['consentement']) =>
        trx
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
      for (const [index, { rang, consentement: c }] of consentements.entries()) {
        await enregistrerConsentement(rang, c);
        await trx
          .insertInto('demande_foyers')
          .values({
            id: foyerFiscalIds[index] as string,
            demande_id: id,
            parent_rang: rang,
            voie: voieDe((s.foyersFiscaux[index] as FoyerFiscalSoumis).identifiant),
            etat: 'a_appeler',
            annee_revenus: null,
            source: null,
            recu_le: null,
          })
          .execute();
        await uow.journaliser({
          actor: { type: c.donnePar.type, id: c.donnePar.id },
          action: 'consentement.recueilli',
          target: { type: 'demande', id },
          outcome: 'succes',
          // The route is part of what was agreed (the état civil text names R2P or SFiP); never what was typed.
          details: { mode: c.mode, parent: rang, versionTexte: c.versionTexte, voie: voieDe((s.foyersFiscaux[index] as FoyerFiscalSoumis).identifiant) },
        });
      }
      for (const { rang, consentement: c } of consentementsCaf) {
        await enregistrerConsentement(rang, c);
        await uow.journaliser({
          actor: { type: c.donnePar.type, id: c.donnePar.id },
          action: 'consentement.recueilli',
          target: { type: 'demande', id },
          outcome: 'succes',
          details: { mode: c.mode, parent: rang, versionTexte: c.versionTexte, origine: 'caf' },
        });
      }
      for (const r of renouvellements) {
        await this.deps.renouvellement?.enregistrer(uow.trx, {
          familleId: s.familleId,
          demandeId: id,
          rang: r.rang,
          renouvellement: r.renouvellement,
          acteur: { type: r.donnePar.type, id: r.donnePar.id },
        });
      }
      await s.lier?.(uow.trx, id);
      const consentie = await uow.avancer({ id, version: 0, statut: 'brouillon' }, { type: 'consentement_recueilli' }, s.acteur);
      await uow.avancer({ id, ...consentie }, { type: 'mise_en_file' }, s.acteur);
    });
    // Only once the consents are committed does a numéro fiscal enter the vault.
    s.foyersFiscaux.forEach((f, index) => garder(this.deps.vault, foyerFiscalIds[index] as string, f.identifiant));
    return { id, reference };
  }

  /** The state of a request as a family or an agent sees it (no fiscal detail). */
  async etat(demandeId: string, executor: Executor = this.deps.db): Promise<EtatDemande> {
    const demande = await findDemande(executor, demandeId);
    if (!demande) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
    const base = {
      id: demande.id,
      reference: demande.reference,
      familleId: demande.famille_id,
      statut: demande.statut,
      motif: demande.motif,
      motifCode: demande.motif_code ?? null,
    };
    // Holding its numéros fiscaux means being on the call path: queued, or being called.
    if (STATUTS_AVEC_NUMERO_FISCAL.includes(demande.statut)) {
      const position = await this.deps.positionEnFile(executor, demande);
      // A request costs one or two calls, plus rare token calls: a quota of Q a minute serves about
      // Q/1.5 requests a minute. Rounded up, so that the estimate is never optimistic.
      const attenteMinutes = Math.max(1, Math.ceil((position * 1.5) / this.deps.quotaPerMinute));
      const suspension = await this.deps.suspension?.();
      return { ...base, file: { position, attenteMinutes, ...(suspension ? { suspension } : {}) } };
    }
    const qf = await executor.selectFrom('quotients').selectAll().where('demande_id', '=', demandeId).executeTakeFirst();
    if (!qf) return base;
    return {
      ...base,
      quotient: {
        cents: qf.valeur_cents,
        periode: qf.periode,
        valideDu: qf.valide_du,
        valideAu: qf.valide_au,
        prix: JSON.parse(qf.prix) as PrixActivite[],
        origine: qf.origine,
      },
    };
  }

  /**
   * Waits until the request leaves the queue, at most `timeoutMs`: the answer « at once » when the
   * quota allows. Woken by the commit of the request's next move in this process (where online
   * requests are called); a slow poll beside it sees a move made by another process.
   */
  async attendre(demandeId: string, timeoutMs: number): Promise<EtatDemande> {
    const until = this.clock() + timeoutMs;
    for (;;) {
      // Watched before the state is read: a move committed in between still wakes this wait.
      const surveillance = this.deps.transitions.surveiller(demandeId);
      let timer: NodeJS.Timeout | undefined;
      try {
        const etat = await this.etat(demandeId);
        if (!etat.file || this.clock() >= until) return etat;
        const poll = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(1, Math.min(ATTENTE_POLL_MS, until - this.clock())))));
        await Promise.race([surveillance.bouge, poll]);
      } finally {
        clearTimeout(timer);
        surveillance.arreter();
      }
    }
  }

  /** The declarants whose avis was not obtained: whose numéro fiscal a new entry must give. */
  async rangsARessaisir(demandeId: string): Promise<Array<1 | 2>> {
    const foyersFiscaux = await findFoyersFiscaux(this.deps.db, demandeId);
    return foyersFiscaux.filter((f) => f.etat !== 'recu').map((f) => (f.parent_rang === 2 ? 2 : 1));
  }

  /** The declarants whose avis was not obtained, and how each was asked (FranceConnect, numéro fiscal or état civil). */
  async foyersARessaisir(
    demandeId: string,
    options: { readonly recusAussi?: boolean } = {},
  ): Promise<Array<{ rang: 1 | 2; voie: 'franceconnect' | 'numero_fiscal' | 'etat_civil' }>> {
    const foyersFiscaux = await findFoyersFiscaux(this.deps.db, demandeId);
    return foyersFiscaux
      .filter((f) => options.recusAussi === true || f.etat !== 'recu')
      .map((f) => ({ rang: f.parent_rang === 2 ? 2 : 1, voie: f.voie === 'franceconnect' || f.voie === 'etat_civil' ? f.voie : 'numero_fiscal' }));
  }

  /**
   * The family (or an agent) gives again how to ask for each avis not obtained (a numéro fiscal, a
   * new FranceConnect sign-in, or one still to come); the consents already recorded stand.
   */
  async ressaisir(
    demandeId: string,
    acteur: Acteur,
    identifiants: ReadonlyArray<{ parentRang: 1 | 2; identifiant: IdentifiantSoumis }>,
    essai?: ContexteEssai,
  ): Promise<void> {
    const { db } = this.deps;
    const foyersFiscaux = await findFoyersFiscaux(db, demandeId);
    if (foyersFiscaux.some((f) => f.etat !== 'recu' && !identifiants.some((i) => i.parentRang === f.parent_rang))) {
      throw new QuotientError('invalid', 'numero_fiscal_manquant', 'Saisissez le numéro fiscal de chaque déclarant dont l’avis n’a pas encore été obtenu.');
    }
    // The same consent serves the retry only while it stands: withdrawn, a new request asks for a new one.
    const retire = await db.selectFrom('consentements').select('id').where('demande_id', '=', demandeId).where('retire_le', 'is not', null).executeTakeFirst();
    if (retire)
      throw new QuotientError(
        'conflict',
        'consentement_retire',
        'Votre accord pour cette demande a été retiré : faites une nouvelle demande pour donner un nouvel accord.',
      );
    const demande = await db.selectFrom('demandes').select(['famille_id', 'canal']).where('id', '=', demandeId).executeTakeFirst();
    if (demande) await this.compterEssai(demande.famille_id, demande.canal, acteur, identifiants, essai);
    await this.deps.transitions.executer(async (uow) => {
      const demande = await findDemande(uow.trx, demandeId);
      if (!demande) throw new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');
      // The way may change: a FranceConnect sign-in that expired replaced by the numéro fiscal typed, and the reverse.
      for (const i of identifiants) {
        const voie = voieDe(i.identifiant);
        await uow.trx
          .updateTable('demande_foyers')
          .set({ voie })
          .where('demande_id', '=', demandeId)
          .where('parent_rang', '=', i.parentRang)
          .where('etat', '!=', 'recu')
          .execute();
      }
      const consentie = await uow.avancer(demande, { type: 'nouvelle_saisie' }, acteur, {
        motif: null,
        detenteur: this.deps.instanceId,
        prochain_essai_le: null,
        tentatives: 0,
      });
      await uow.avancer({ id: demandeId, ...consentie }, { type: 'mise_en_file' }, acteur);
    });
    for (const i of identifiants) {
      const foyerFiscal = foyersFiscaux.find((f) => f.parent_rang === i.parentRang && f.etat !== 'recu');
      if (foyerFiscal) garder(this.deps.vault, foyerFiscal.id, i.identifiant);
    }
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
