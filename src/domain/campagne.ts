import type { StatutDemande } from './demande.ts';
import { QuotientError } from './errors.ts';

/**
 * The campagne: a batch of requests (one item per family) that a robot processes on behalf of the
 * agent who started it, through the quota online families leave. Its statuses, the actions an
 * administrator takes on it, the outcome of each item as the report names it, and the estimate of
 * its end. Pure: the engine (`modules/campagnes`) records what these rules decide.
 */

export const STATUTS_CAMPAGNE = ['brouillon', 'en_cours', 'en_pause', 'annulee', 'terminee'] as const;
export type StatutCampagne = (typeof STATUTS_CAMPAGNE)[number];

export const LIBELLES_STATUT_CAMPAGNE: Readonly<Record<StatutCampagne, string>> = {
  brouillon: 'Prête, pas encore démarrée',
  en_cours: 'En cours',
  en_pause: 'En pause',
  annulee: 'Annulée',
  terminee: 'Terminée',
};

export const TYPES_CAMPAGNE = ['import', 'renouvellement'] as const;
export type TypeCampagne = (typeof TYPES_CAMPAGNE)[number];

export const LIBELLES_TYPE_CAMPAGNE: Readonly<Record<TypeCampagne, string>> = {
  import: 'liste importée du logiciel famille',
  renouvellement: 'renouvellement des accords permanents',
};

export const ACTIONS_CAMPAGNE = ['demarrer', 'pause', 'reprendre', 'annuler', 'terminer'] as const;
export type ActionCampagne = (typeof ACTIONS_CAMPAGNE)[number];

/** The whole machine: from which statuses each action is allowed, and where it leads. */
const TABLE: Readonly<Record<ActionCampagne, { readonly de: readonly StatutCampagne[]; readonly vers: StatutCampagne; readonly libelle: string }>> = {
  demarrer: { de: ['brouillon'], vers: 'en_cours', libelle: 'démarrer' },
  pause: { de: ['en_cours'], vers: 'en_pause', libelle: 'mettre en pause' },
  reprendre: { de: ['en_pause'], vers: 'en_cours', libelle: 'reprendre' },
  annuler: { de: ['brouillon', 'en_cours', 'en_pause'], vers: 'annulee', libelle: 'annuler' },
  // Only the engine: when every item has its result.
  terminer: { de: ['en_cours'], vers: 'terminee', libelle: 'terminer' },
};

/** The next status, or a `conflict` error in French (`campagne_transition_interdite`). */
export function transitionCampagne(de: StatutCampagne, action: ActionCampagne): StatutCampagne {
  const regle = TABLE[action];
  if (!regle) throw new QuotientError('invalid', 'action_inconnue', `Action inconnue sur une campagne : « ${String(action)} ».`);
  if (!regle.de.includes(de)) {
    throw new QuotientError(
      'conflict',
      'campagne_transition_interdite',
      `Impossible de ${regle.libelle} une campagne au statut « ${LIBELLES_STATUT_CAMPAGNE[de] ?? de} ».`,
    );
  }
  return regle.vers;
}

/** The actions an administrator is offered on a campaign in this status (the engine's `terminer` aside). */
export function actionsPermises(statut: StatutCampagne): ActionCampagne[] {
  return ACTIONS_CAMPAGNE.filter((a) => a !== 'terminer' && TABLE[a].de.includes(statut));
}

/** A campaign whose items may be claimed. */
export const estActive = (statut: StatutCampagne): boolean => statut === 'en_cours';

// ---------------------------------------------------------------------------------------------
// Outcomes

export const ISSUES = ['calcule', 'a_verifier', 'etat_civil', 'echec', 'sans_accord', 'a_redemander', 'donnees'] as const;
export type IssueElement = (typeof ISSUES)[number];

export const LIBELLES_ISSUE: Readonly<Record<IssueElement, string>> = {
  calcule: 'Quotient calculé',
  a_verifier: 'À vérifier par un instructeur',
  etat_civil: 'État civil à corriger (introuvable, homonymes ou dossier non communicable)',
  echec: 'Échec de l’appel à la DGFiP',
  sans_accord: 'Sans accord en vigueur : aucun appel',
  a_redemander: 'À redemander à la famille : accord en vigueur mais état civil non conservé, aucun appel',
  donnees: 'Données de la famille à corriger : aucun appel',
};

/** The outcomes rule 10 of the detection counts as errors (an import with a wrong file, an outage). */
export const ISSUES_EN_ECHEC: readonly IssueElement[] = ['etat_civil', 'echec', 'donnees'];

const MOTIFS_ETAT_CIVIL = ['etat_civil_ambigu', 'etat_civil_introuvable', 'dossier_non_communicable', 'etat_civil_trop_long'];

/**
 * The outcome of an item from its request once the request left the call path, or null while the
 * request is still to be called (queued, being called). A request cancelled (its consent
 * withdrawn meanwhile) is `sans_accord`; one sent back to re-entry cannot be finished by a robot
 * and goes to an instructor's eyes as `a_verifier`.
 */
export function issueDeDemande(statut: StatutDemande, motifCode: string | null): IssueElement | null {
  switch (statut) {
    case 'calculee':
      return 'calcule';
    case 'a_verifier':
    case 'refusee':
    case 'a_ressaisir':
      return 'a_verifier';
    case 'echouee':
      return motifCode !== null && MOTIFS_ETAT_CIVIL.includes(motifCode) ? 'etat_civil' : 'echec';
    case 'annulee':
    case 'expiree':
      return 'sans_accord';
    case 'brouillon':
    case 'consentie':
    case 'en_file':
    case 'en_cours':
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Progress and estimate

export type Compteurs = Readonly<Record<IssueElement, number>>;

export const compteursVides = (): Record<IssueElement, number> => ({
  calcule: 0,
  a_verifier: 0,
  etat_civil: 0,
  echec: 0,
  sans_accord: 0,
  a_redemander: 0,
  donnees: 0,
});

export interface Progression {
  readonly total: number;
  readonly traites: number;
  readonly restants: number;
  readonly parIssue: Compteurs;
  readonly echecs: number;
  /** Whole percent done, rounded down (100 only when every item is done). */
  readonly pourcentage: number;
}

export function progression(total: number, parIssue: Compteurs): Progression {
  const traites = ISSUES.reduce((n, i) => n + parIssue[i], 0);
  const restants = Math.max(total - traites, 0);
  return {
    total,
    traites,
    restants,
    parIssue,
    echecs: ISSUES_EN_ECHEC.reduce((n, i) => n + parIssue[i], 0),
    pourcentage: total === 0 ? 100 : Math.floor((Math.min(traites, total) * 100) / total),
  };
}

export interface EntreeEstimation {
  readonly restants: number;
  /** DGFIP_QUOTA_PER_MINUTE: every instance together. */
  readonly quotaParMinute: number;
  /** Calls one item costs: 1 by SFiP, 2 by R2P then Impôt particulier, times the foyers. */
  readonly appelsParElement: number;
  /** Calls online requests took in the last minute: campaigns take only what they leave. */
  readonly appelsEnLigneParMinute?: number;
  /** Epoch ms. */
  readonly maintenant: number;
}

/**
 * When the campaign will end at the current quota (epoch ms), or null when nothing is left or no
 * slot is left to it. Rounded up to the minute: an estimate that is never optimistic.
 */
export function estimerFin(e: EntreeEstimation): number | null {
  if (!(e.restants > 0)) return null;
  const libres = e.quotaParMinute - Math.max(e.appelsEnLigneParMinute ?? 0, 0);
  const parElement = Math.max(e.appelsParElement, 1);
  if (!(libres > 0) || !Number.isFinite(libres)) return null;
  const minutes = Math.ceil((e.restants * parElement) / libres);
  return e.maintenant + minutes * 60_000;
}
