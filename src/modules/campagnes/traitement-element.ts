import type { Kysely } from 'kysely';
import { ISSUES_EN_ECHEC, issueDeDemande, type IssueElement } from '../../domain/campagne.ts';
import { isQuotientError } from '../../domain/errors.ts';
import type { DemandeTable, Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import { findDemande, findFoyersFiscaux } from '../demandes/demandes-repo.ts';
import type { DemandesService } from '../demandes/demandes-service.ts';
import type { SpiVault } from '../demandes/spi-vault.ts';
import type { Transitions } from '../demandes/transitions.ts';
import type { FamillesService } from '../familles/familles-service.ts';
import type { TraitementService } from '../traitement/traitement-service.ts';
import {
  COFFRE_ELEMENT,
  compteurs,
  enregistrerResultat,
  famillesParReference,
  findCampagne,
  lierDemande,
  relacher,
  restants,
  type ElementReclame,
} from './campagnes-repo.ts';
import { lireDonneesElement, type DonneesElement } from './donnees-element.ts';
import type { SourceRenouvellements } from './renouvellements.ts';

export interface TraitementElementDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly transitions: Transitions;
  readonly demandes: Pick<DemandesService, 'soumettre'>;
  readonly familles: Pick<FamillesService, 'creer'>;
  readonly traitement: Pick<TraitementService, 'traiter'>;
  readonly vault: SpiVault;
  readonly renouvellements: SourceRenouvellements;
  /** This process: the holder of the requests it calls. */
  readonly instanceId: string;
  readonly logger: Logger;
  /** Rule 10 of the detection, told as items complete. */
  readonly bilan?: (b: { campagneId: string; traites: number; echecs: number }) => Promise<unknown>;
  /** How long an item waits after a technical fault (the database gone a moment) before it is claimed again (default 30 s). */
  readonly reessaiMs?: number;
  readonly clock?: () => number;
}

/** After this many claims of one item without a result (a fault no retry mends), it is recorded as failed. */
const MAX_ESSAIS = 6;
const RETRY_TECHNIQUE_MS = 30_000;

/** What became of a claimed item: its result recorded, or given back to be claimed again. */
export type Devenir = { readonly type: 'resultat'; readonly issue: IssueElement } | { readonly type: 'relache'; readonly disponibleLe: string | null };

/**
 * The processing of one claimed item, through the same path as an online request: the family
 * found or created, the request (its consents copied from the item's evidence), the call by état
 * civil from this process's memory, the identity control, the QF and prices or review, the
 * family's e-mail; every step journaled under the campaign's robot on behalf of the agent who
 * started it. An item taken again after a crash resumes from what its request recorded: a request
 * already concluded is only recorded, one left on the call path is taken over by this process.
 */
export class TraitementElement {
  private readonly clock: () => number;
  private readonly derniersBilans = new Map<string, number>();

  constructor(private readonly deps: TraitementElementDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  async traiter(el: ElementReclame): Promise<Devenir> {
    const { db } = this.deps;
    const campagne = await findCampagne(db, el.campagne_id);
    if (!campagne || campagne.statut !== 'en_cours') {
      await relacher(db, el, null);
      return { type: 'relache', disponibleLe: null };
    }
    const robot: Acteur = {
      type: 'robot',
      id: `campagne:${campagne.reference}`,
      onBehalfOf: { type: 'agent', id: campagne.demarree_par ?? campagne.creee_par },
    };
    try {
      let demande = el.demande_id ? await findDemande(db, el.demande_id) : undefined;
      const deja = demande ? issueDeDemande(demande.statut, demande.motif_code ?? null) : null;
      if (demande && deja) return await this.conclure(el, demande, deja, robot);
      const donnees = lireDonneesElement(await this.deps.coffre.get(COFFRE_ELEMENT, el.id));
      // Invariant 2 for a standing consent: still in force just before the calls.
      if (el.accord_mode === 'renouvellement' && !(await this.accordsEnVigueur(donnees))) {
        if (demande) demande = await this.annulerDemande(demande, robot);
        return await this.conclure(el, demande ?? null, 'sans_accord', robot);
      }
      // No état civil kept for a declarant: nobody is called by guess, the family is asked again.
      if (donnees.aRedemander && donnees.aRedemander.length > 0) return await this.conclure(el, null, 'a_redemander', robot, 'etat_civil_non_conserve');
      if (!demande) {
        const familleId = await this.famille(el, donnees, robot);
        demande = await this.creerDemande(el, familleId, donnees, robot);
      } else await this.reprendre(demande, donnees, robot);
      const statut = await this.deps.traitement.traiter(demande.id, { acteur: robot, priorite: 'campagne' });
      const apres = await findDemande(db, demande.id);
      const issue = apres ? issueDeDemande(apres.statut, apres.motif_code ?? null) : statut === 'inconnue' ? 'echec' : null;
      if (issue) return await this.conclure(el, apres ?? null, issue, robot);
      // Back in the queue (a DGFiP outage, the quota's pacing, calls held): claimed again when due.
      await this.oublier(demande.id);
      const disponibleLe = apres?.prochain_essai_le ?? new Date(this.clock() + 5_000).toISOString();
      await relacher(db, el, disponibleLe);
      return { type: 'relache', disponibleLe };
    } catch (error) {
      if (isQuotientError(error) && ['invalid', 'forbidden', 'not_found', 'conflict'].includes(error.kind) && error.code !== 'demande_modifiee') {
        // The item's data cannot make a request (a parent unknown to the family, a consent refused): nothing was called.
        this.deps.logger.warn({ campagne: campagne.reference, element: el.id, code: error.code }, 'élément de campagne sans demande possible');
        return await this.conclure(el, null, 'donnees', robot, error.code);
      }
      this.deps.logger.error({ err: error, campagne: campagne.reference, element: el.id }, 'échec du traitement d’un élément de campagne');
      if (el.essais >= MAX_ESSAIS) return await this.conclure(el, null, 'echec', robot, 'erreur_technique');
      const disponibleLe = new Date(this.clock() + (this.deps.reessaiMs ?? RETRY_TECHNIQUE_MS)).toISOString();
      await relacher(db, el, disponibleLe);
      return { type: 'relache', disponibleLe };
    }
  }

  private async accordsEnVigueur(donnees: DonneesElement): Promise<boolean> {
    for (const f of donnees.foyers) if (!(await this.deps.renouvellements.enVigueur(f.accord.id, this.now()))) return false;
    return true;
  }

  /** The family the item names: known by its reference, else created from the item's household (once: the external reference is unique). */
  private async famille(el: ElementReclame, donnees: DonneesElement, robot: Acteur): Promise<string> {
    if (el.famille_id) return el.famille_id;
    const connue = (await famillesParReference(this.deps.db, [el.reference])).get(el.reference);
    if (connue) return connue;
    if (!donnees.famille) throw new Error(`élément ${el.id} sans famille`);
    try {
      return (
        await this.deps.familles.creer({ parents: donnees.famille.parents, courriel: donnees.famille.courriel }, robot, { referenceExterne: el.reference })
      ).id;
    } catch (error) {
      // Created meanwhile by a worker whose lease lapsed: the unique reference says so.
      const entreTemps = (await famillesParReference(this.deps.db, [el.reference])).get(el.reference);
      if (entreTemps) return entreTemps;
      throw error;
    }
  }

  private async creerDemande(el: ElementReclame, familleId: string, donnees: DonneesElement, robot: Acteur): Promise<DemandeTable> {
    const maintenant = this.clock();
    const { id } = await this.deps.demandes.soumettre({
      familleId,
      canal: 'campagne',
      acteur: robot,
      foyersFiscaux: donnees.foyers.map((f) => ({
        parentRang: f.rang,
        identifiant: { etatCivil: f.etatCivil },
        consentement: {
          mode: f.accord.mode,
          donnePar: f.accord.donnePar,
          ...(f.accord.piece ? { piece: f.accord.piece } : {}),
          // The day of a signed form starts at midnight UTC, which may still be ahead in Paris' early hours.
          recueilliLe: new Date(Math.min(Date.parse(f.accord.recueilliLe), maintenant)).toISOString(),
        },
      })),
      lier: async (trx, demandeId) => {
        await lierDemande(trx, el.id, demandeId, familleId);
        await this.deps.journal.append(
          {
            actor: robot,
            action: 'campagne.element_lie',
            target: { type: 'campagne', id: el.campagne_id },
            outcome: 'succes',
            details: { element: el.id, demande: demandeId, accord: el.accord_mode },
          },
          trx,
        );
      },
    });
    return (await findDemande(this.deps.db, id)) as DemandeTable;
  }

  /**
   * A request left on the call path by a process gone (killed mid-call, or whose lease lapsed):
   * this process becomes its holder, its état civil goes back in this memory, and it is called
   * again. Interrupted mid-call, the move says so (one more try).
   */
  private async reprendre(demande: DemandeTable, donnees: DonneesElement, robot: Acteur): Promise<void> {
    const { instanceId } = this.deps;
    await this.deps.transitions.executer(async (uow) => {
      const d = await findDemande(uow.trx, demande.id);
      if (!d) return;
      if (d.statut === 'en_cours') {
        await uow.avancer(
          d,
          { type: 'echec_appel', reessayable: true },
          robot,
          { detenteur: instanceId, prochain_essai_le: null },
          { raison: 'processus_interrompu' },
        );
      } else if (d.statut === 'a_ressaisir') {
        await uow.avancer(d, { type: 'nouvelle_saisie' }, robot, { detenteur: instanceId, motif: null, prochain_essai_le: null, tentatives: 0 });
      } else if (d.detenteur !== instanceId) {
        const r = await uow.trx
          .updateTable('demandes')
          .set({ detenteur: instanceId, version: d.version + 1, modifiee_le: this.now() })
          .where('id', '=', d.id)
          .where('version', '=', d.version)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return;
        await uow.journaliser({
          actor: robot,
          action: 'campagne.element_repris',
          target: { type: 'demande', id: d.id },
          outcome: 'succes',
          details: { statut: d.statut },
        });
      }
    });
    for (const f of await findFoyersFiscaux(this.deps.db, demande.id)) {
      const donnee = donnees.foyers.find((x) => x.rang === f.parent_rang);
      if (f.etat === 'a_appeler' && donnee) this.deps.vault.put(f.id, { etatCivil: donnee.etatCivil });
    }
  }

  /** A standing consent withdrawn while its request waited: the request is cancelled before any call. */
  private async annulerDemande(demande: DemandeTable, robot: Acteur): Promise<DemandeTable> {
    if (!['consentie', 'en_file', 'a_ressaisir', 'echouee', 'a_verifier'].includes(demande.statut)) return demande;
    await this.deps.transitions.executer((uow) =>
      uow.avancer(demande, { type: 'annulation', par: 'famille' }, robot, { detenteur: null }, { cause: 'consentement_retire' }),
    );
    return (await findDemande(this.deps.db, demande.id)) ?? demande;
  }

  private async oublier(demandeId: string): Promise<void> {
    for (const f of await findFoyersFiscaux(this.deps.db, demandeId)) this.deps.vault.forget(f.id);
  }

  /** The item's one result, its personal data deleted from the silo, and the campaign ended when it was the last. */
  private async conclure(el: ElementReclame, demande: DemandeTable | null, issue: IssueElement, robot: Acteur, motifCode?: string): Promise<Devenir> {
    const { db, journal, coffre } = this.deps;
    const tranche = demande && issue === 'calcule' ? await trancheDe(db, demande.id) : null;
    if (demande) await this.oublier(demande.id);
    const le = this.now();
    let fin = false;
    await journal.inTransaction(async (trx) => {
      const ecrit = await enregistrerResultat(trx, {
        elementId: el.id,
        campagneId: el.campagne_id,
        issue,
        demandeId: demande?.id ?? null,
        tranche,
        motifCode: motifCode ?? demande?.motif_code ?? null,
        le,
        par: this.deps.instanceId,
      });
      await coffre.delete(COFFRE_ELEMENT, el.id, trx);
      if (!ecrit) return;
      await journal.append(
        {
          actor: robot,
          action: 'campagne.element_traite',
          target: { type: 'campagne', id: el.campagne_id },
          outcome: 'succes',
          details: { element: el.id, issue },
        },
        trx,
      );
      if ((await restants(trx, el.campagne_id)) > 0) return;
      const termine = await trx
        .updateTable('campagnes')
        .set((eb) => ({ statut: 'terminee', terminee_le: le, modifiee_le: le, version: eb('version', '+', 1) }))
        .where('id', '=', el.campagne_id)
        .where('statut', '=', 'en_cours')
        .executeTakeFirst();
      if (Number(termine.numUpdatedRows) !== 1) return;
      fin = true;
      await journal.append({ actor: robot, action: 'campagne.terminee', target: { type: 'campagne', id: el.campagne_id }, outcome: 'succes' }, trx);
    });
    await this.signalerBilan(el.campagne_id, fin);
    return { type: 'resultat', issue };
  }

  /** Rule 10 as the campaign progresses: at most every 20 results of this process, and at its end. */
  private async signalerBilan(campagneId: string, fin: boolean): Promise<void> {
    if (!this.deps.bilan) return;
    const n = (this.derniersBilans.get(campagneId) ?? 0) + 1;
    this.derniersBilans.set(campagneId, n);
    if (!fin && n % 20 !== 0) return;
    try {
      const c = await compteurs(this.deps.db, campagneId);
      const traites = Object.values(c).reduce((a, b) => a + b, 0);
      const campagne = await findCampagne(this.deps.db, campagneId);
      await this.deps.bilan({ campagneId: campagne?.reference ?? campagneId, traites, echecs: ISSUES_EN_ECHEC.reduce((a, i) => a + c[i], 0) });
    } catch (error) {
      this.deps.logger.error({ err: error }, 'bilan de campagne non transmis à la détection');
    }
  }
}

/** The bracket(s) of the new QF: one code when every activity has the same, else each activity's. */
async function trancheDe(db: Kysely<Schema>, demandeId: string): Promise<string | null> {
  const qf = await db.selectFrom('quotients').select('prix').where('demande_id', '=', demandeId).executeTakeFirst();
  if (!qf) return null;
  const prix = JSON.parse(qf.prix) as Array<{ id: string; tranche: string | null }>;
  const codes = [...new Set(prix.map((p) => p.tranche).filter((t): t is string => t !== null))];
  if (codes.length <= 1) return codes[0] ?? null;
  return prix
    .filter((p) => p.tranche !== null)
    .map((p) => `${p.id} : ${p.tranche}`)
    .join(' ; ');
}
