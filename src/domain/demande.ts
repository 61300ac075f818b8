import type { VerdictIdentite } from './controle-identite.ts';
import { QuotientError } from './errors.ts';

/**
 * The demande (request to compute or update a QF) as a finite state machine. The table below is
 * the whole machine: `transition` only looks it up, so what the tests prove of the table holds of
 * the code. Each transition names the audit action and the effects the caller must carry out in
 * the same database transaction (consent, silo, QF, decision) or right after (forget the numéro
 * fiscal, notify the family).
 */

export const STATUTS_DEMANDE = [
  'brouillon',
  'consentie',
  'en_file',
  'en_cours',
  'calculee',
  'a_verifier',
  'refusee',
  'echouee',
  'a_ressaisir',
  // Consent is revocable and agents close duplicates: neither is a refusal nor a failure.
  'annulee',
  // Requests waiting on the family (draft, re-entry, retry) cannot wait forever; retention closes them.
  'expiree',
] as const;
export type StatutDemande = (typeof STATUTS_DEMANDE)[number];

export const STATUTS_TERMINAUX: readonly StatutDemande[] = ['calculee', 'refusee', 'annulee', 'expiree'];

/**
 * Where the numéro fiscal is held in memory: from the consent to the DGFiP's answer. Leaving them
 * means forgetting it (invariant 1); entering them means it was just typed.
 */
export const STATUTS_AVEC_NUMERO_FISCAL: readonly StatutDemande[] = ['consentie', 'en_file', 'en_cours'];

export const CANAUX_DEMANDE = ['en_ligne', 'guichet', 'campagne'] as const;
export type CanalDemande = (typeof CANAUX_DEMANDE)[number];

export const LIBELLES_CANAL: Record<CanalDemande, string> = {
  en_ligne: 'en ligne',
  guichet: 'au guichet',
  campagne: 'campagne de mise à jour',
};

export interface DescriptionStatut {
  /** Short label for lists and badges. */
  readonly libelle: string;
  /** One sentence for the family. */
  readonly explication: string;
  readonly terminal: boolean;
}

export const STATUTS: Record<StatutDemande, DescriptionStatut> = {
  brouillon: {
    libelle: 'Brouillon',
    explication: 'Votre demande n’est pas encore envoyée : il reste à donner votre accord pour que la mairie interroge la DGFiP.',
    terminal: false,
  },
  consentie: {
    libelle: 'Accord enregistré',
    explication: 'Votre accord est enregistré : votre demande va être transmise à la DGFiP dans quelques instants.',
    terminal: false,
  },
  en_file: {
    libelle: 'En attente',
    explication: 'Votre demande attend un créneau d’appel à la DGFiP ; vous serez prévenu(e) dès que le résultat sera prêt.',
    terminal: false,
  },
  en_cours: {
    libelle: 'En cours',
    explication: 'La mairie interroge en ce moment la DGFiP pour obtenir les informations de votre avis d’imposition.',
    terminal: false,
  },
  calculee: {
    libelle: 'Quotient calculé',
    explication: 'Votre quotient familial est calculé : vous pouvez consulter vos tarifs.',
    terminal: true,
  },
  a_verifier: {
    libelle: 'À vérifier',
    explication: 'Un agent de la mairie doit examiner votre demande avant de calculer votre quotient familial ; vous serez prévenu(e) de sa décision.',
    terminal: false,
  },
  refusee: {
    libelle: 'Refusée',
    explication:
      'Après examen, la mairie n’a pas pu calculer votre quotient familial à partir de cette demande ; le motif vous est indiqué et vous pouvez la contacter.',
    terminal: true,
  },
  echouee: {
    libelle: 'Échouée',
    explication: 'La DGFiP n’a pas pu répondre à votre demande ; vous pouvez saisir de nouveau votre numéro fiscal pour réessayer.',
    terminal: false,
  },
  a_ressaisir: {
    libelle: 'Numéro fiscal à ressaisir',
    explication: 'Par sécurité, votre numéro fiscal n’est jamais conservé : saisissez-le de nouveau pour que votre demande reprenne.',
    terminal: false,
  },
  annulee: {
    libelle: 'Annulée',
    explication: 'Votre demande a été annulée : elle ne sera pas traitée.',
    terminal: true,
  },
  expiree: {
    libelle: 'Expirée',
    explication: 'Votre demande n’a pas été complétée à temps et a été close ; vous pouvez en faire une nouvelle.',
    terminal: true,
  },
};

/** The request as the state machine sees it; the service's records carry more. */
export interface Demande {
  readonly id: string;
  readonly canal: CanalDemande;
  readonly statut: StatutDemande;
  /** The income year asked for; null for the latest the habilitation allows. */
  readonly anneeRevenus: number | null;
}

// ---------------------------------------------------------------------------------------------
// Events

export const DECISIONS_INSTRUCTEUR = ['confirme', 'qf_manuel', 'refuse', 'resaisie'] as const;
/**
 * `confirme`: the situation received is the family's, compute; `qf_manuel`: the instructor enters
 * the QF (paper avis, special case); `refuse`; `resaisie`: the numéro fiscal must be typed again.
 */
export type DecisionInstructeur = (typeof DECISIONS_INSTRUCTEUR)[number];

export const RAISONS_SITUATION_INDISPONIBLE = ['introuvable', 'annee_indisponible', 'situation_multiple', 'situation_incomplete'] as const;
export type RaisonSituationIndisponible = (typeof RAISONS_SITUATION_INDISPONIBLE)[number];

export type EvenementDemande =
  | { readonly type: 'consentement_recueilli' }
  | { readonly type: 'mise_en_file' }
  | { readonly type: 'appel_demarre' }
  /** Every foyer answered; `quotientCalcule` is false when the policy could not combine them. */
  | { readonly type: 'situation_recue'; readonly controle: VerdictIdentite; readonly quotientCalcule: boolean }
  | { readonly type: 'situation_indisponible'; readonly raison: RaisonSituationIndisponible }
  | { readonly type: 'echec_appel'; readonly reessayable: boolean }
  /** The process restarted: the numéro fiscal held in memory is gone. */
  | { readonly type: 'spi_perdu' }
  | { readonly type: 'nouvelle_saisie' }
  | { readonly type: 'decision_instructeur'; readonly decision: DecisionInstructeur; readonly motif: string }
  /**
   * An instructor reopens a family's case without a DGFiP call (a contestation of a result already
   * calculated, answered with a document the family presented): a new request, straight to review.
   */
  | { readonly type: 'reexamen' }
  /** The family uploaded its avis after the call failed or the number must be typed again: an instructor reads it. */
  | { readonly type: 'avis_depose' }
  | { readonly type: 'annulation'; readonly par: 'famille' | 'agent' }
  | { readonly type: 'expiration' };

export type TypeEvenement = EvenementDemande['type'];

export const TYPES_EVENEMENT: readonly TypeEvenement[] = [
  'consentement_recueilli',
  'mise_en_file',
  'appel_demarre',
  'situation_recue',
  'situation_indisponible',
  'echec_appel',
  'spi_perdu',
  'nouvelle_saisie',
  'decision_instructeur',
  'reexamen',
  'avis_depose',
  'annulation',
  'expiration',
];

const LIBELLES_EVENEMENT: Record<TypeEvenement, string> = {
  consentement_recueilli: 'accord recueilli',
  mise_en_file: 'mise en file d’attente',
  appel_demarre: 'appel à la DGFiP',
  situation_recue: 'avis reçu et contrôlé',
  situation_indisponible: 'avis indisponible',
  echec_appel: 'échec de l’appel à la DGFiP',
  spi_perdu: 'numéro fiscal perdu au redémarrage du service',
  nouvelle_saisie: 'nouvelle saisie du numéro fiscal',
  decision_instructeur: 'décision de l’instructeur',
  reexamen: 'réexamen par un instructeur',
  avis_depose: 'avis d’imposition envoyé par la famille',
  annulation: 'annulation',
  expiration: 'expiration',
};

/**
 * What the caller must do with a transition. Records go in the same database transaction as the
 * new status; `oublier_numero_fiscal` and `notifier_famille` happen once it is committed.
 */
export type Effet =
  | 'enregistrer_consentement'
  /** Drop the numéro fiscal held in memory: the DGFiP answered, or the request left the call path. */
  | 'oublier_numero_fiscal'
  /** Keep the minimised situation in the silo, for the QF and the instructor. */
  | 'conserver_situation'
  /** Do not keep the situation: it may be someone else's (discordant identity). */
  | 'ecarter_situation'
  | 'enregistrer_controle'
  | 'enregistrer_quotient'
  | 'enregistrer_decision'
  | 'signaler_instructeur'
  | 'planifier_nouvel_essai'
  | 'demander_nouvelle_saisie'
  | 'notifier_famille';

export interface RegleTransition {
  readonly evenement: TypeEvenement;
  /** The case of the event's content this row covers, or null when there is only one. */
  readonly variante: string | null;
  readonly de: readonly StatutDemande[];
  readonly vers: StatutDemande;
  /** Records specific to this row; the generic effects are added by `transition`. */
  readonly effets: readonly Effet[];
}

/** The whole machine. Targets depend only on the event; sources say when it is allowed. */
export const TABLE_TRANSITIONS: readonly RegleTransition[] = [
  { evenement: 'consentement_recueilli', variante: null, de: ['brouillon'], vers: 'consentie', effets: ['enregistrer_consentement'] },
  { evenement: 'mise_en_file', variante: null, de: ['consentie'], vers: 'en_file', effets: [] },
  // A slot free at once needs no queue: the call may start from `consentie`.
  { evenement: 'appel_demarre', variante: null, de: ['consentie', 'en_file'], vers: 'en_cours', effets: [] },
  {
    evenement: 'situation_recue',
    variante: 'calcule',
    de: ['en_cours'],
    vers: 'calculee',
    effets: ['conserver_situation', 'enregistrer_controle', 'enregistrer_quotient'],
  },
  { evenement: 'situation_recue', variante: 'a_verifier', de: ['en_cours'], vers: 'a_verifier', effets: ['conserver_situation', 'enregistrer_controle'] },
  { evenement: 'situation_recue', variante: 'discordant', de: ['en_cours'], vers: 'a_verifier', effets: ['ecarter_situation', 'enregistrer_controle'] },
  { evenement: 'situation_indisponible', variante: null, de: ['en_cours'], vers: 'a_verifier', effets: [] },
  { evenement: 'echec_appel', variante: 'reessayable', de: ['en_cours'], vers: 'en_file', effets: ['planifier_nouvel_essai'] },
  { evenement: 'echec_appel', variante: 'definitif', de: ['en_cours'], vers: 'echouee', effets: [] },
  { evenement: 'spi_perdu', variante: null, de: ['consentie', 'en_file', 'en_cours'], vers: 'a_ressaisir', effets: ['demander_nouvelle_saisie'] },
  // The consent recorded stands: typing the number again resumes the request. Also from review when no avis
  // matched the number typed (a mistyped digit): the family corrects it instead of waiting for an instructor.
  { evenement: 'nouvelle_saisie', variante: null, de: ['a_ressaisir', 'echouee', 'a_verifier'], vers: 'consentie', effets: [] },
  { evenement: 'decision_instructeur', variante: 'confirme', de: ['a_verifier'], vers: 'calculee', effets: ['enregistrer_decision', 'enregistrer_quotient'] },
  { evenement: 'decision_instructeur', variante: 'qf_manuel', de: ['a_verifier'], vers: 'calculee', effets: ['enregistrer_decision', 'enregistrer_quotient'] },
  { evenement: 'decision_instructeur', variante: 'refuse', de: ['a_verifier'], vers: 'refusee', effets: ['enregistrer_decision'] },
  {
    evenement: 'decision_instructeur',
    variante: 'resaisie',
    de: ['a_verifier'],
    vers: 'a_ressaisir',
    effets: ['enregistrer_decision', 'demander_nouvelle_saisie'],
  },
  // A calculated request is closed: a contestation that changes the QF opens a new one, with no call.
  { evenement: 'reexamen', variante: null, de: ['brouillon'], vers: 'a_verifier', effets: [] },
  // The fallback when the DGFiP could not answer: the avis the family uploads goes to an instructor.
  { evenement: 'avis_depose', variante: null, de: ['echouee', 'a_ressaisir'], vers: 'a_verifier', effets: [] },
  // Not while the call is in flight: the answer is awaited, then the request can be cancelled.
  { evenement: 'annulation', variante: null, de: ['brouillon', 'consentie', 'en_file', 'a_verifier', 'a_ressaisir', 'echouee'], vers: 'annulee', effets: [] },
  { evenement: 'expiration', variante: null, de: ['brouillon', 'a_ressaisir', 'echouee'], vers: 'expiree', effets: [] },
];

// ---------------------------------------------------------------------------------------------
// Transition

export interface Transition {
  readonly de: StatutDemande;
  readonly vers: StatutDemande;
  readonly evenement: TypeEvenement;
  /** The audit journal's action code. */
  readonly action: `demande.${TypeEvenement}`;
  readonly effets: readonly Effet[];
  readonly terminal: boolean;
  /** French, for the request's history; names no fiscal value. */
  readonly resume: string;
}

/** A transition the machine does not allow from the current status. */
export class TransitionInterdite extends QuotientError {
  readonly de: StatutDemande;
  readonly vers: StatutDemande;
  readonly evenement: TypeEvenement;

  constructor(de: StatutDemande, vers: StatutDemande, evenement: TypeEvenement) {
    const pourquoi = STATUTS[de].terminal ? ' : la demande est close' : '';
    super(
      'conflict',
      'transition_interdite',
      `Une demande au statut « ${STATUTS[de].libelle} » ne peut pas passer au statut « ${STATUTS[vers].libelle} » (${LIBELLES_EVENEMENT[evenement]})${pourquoi}.`,
    );
    this.de = de;
    this.vers = vers;
    this.evenement = evenement;
  }
}

function invalide(message: string, path = 'evenement'): QuotientError {
  return new QuotientError('invalid', 'evenement_invalide', message, { details: [{ path, message }] });
}

const VERDICTS: readonly string[] = ['concordant', 'a_verifier', 'discordant'];

/** The row's variant from the event's content, checking that content as it goes (it may come from storage). */
function variante(e: EvenementDemande): string | null {
  const champs = e as unknown as Record<string, unknown>;
  switch (e.type) {
    case 'situation_recue': {
      if (!VERDICTS.includes(champs.controle as string)) throw invalide('résultat du contrôle d’identité inconnu', 'evenement.controle');
      if (typeof champs.quotientCalcule !== 'boolean') throw invalide('indiquez si le quotient a pu être calculé', 'evenement.quotientCalcule');
      if (e.quotientCalcule && e.controle !== 'concordant') {
        throw invalide('un quotient ne peut pas avoir été calculé quand l’identité n’est pas concordante', 'evenement.quotientCalcule');
      }
      if (e.controle === 'discordant') return 'discordant';
      return e.controle === 'concordant' && e.quotientCalcule ? 'calcule' : 'a_verifier';
    }
    case 'situation_indisponible':
      if (!(RAISONS_SITUATION_INDISPONIBLE as readonly string[]).includes(champs.raison as string)) throw invalide('raison inconnue', 'evenement.raison');
      return null;
    case 'echec_appel':
      if (typeof champs.reessayable !== 'boolean') throw invalide('indiquez si l’appel peut être réessayé', 'evenement.reessayable');
      return e.reessayable ? 'reessayable' : 'definitif';
    case 'decision_instructeur':
      if (!(DECISIONS_INSTRUCTEUR as readonly string[]).includes(champs.decision as string)) throw invalide('décision inconnue', 'evenement.decision');
      if (typeof champs.motif !== 'string' || e.motif.trim() === '') throw invalide('le motif de la décision est obligatoire', 'evenement.motif');
      if (e.motif.length > 2000) throw invalide('le motif ne doit pas dépasser 2000 caractères', 'evenement.motif');
      return e.decision;
    case 'annulation':
      if (champs.par !== 'famille' && champs.par !== 'agent') throw invalide('indiquez qui annule : la famille ou un agent', 'evenement.par');
      return null;
    default:
      return null;
  }
}

function estStatut(value: unknown): value is StatutDemande {
  return typeof value === 'string' && (STATUTS_DEMANDE as readonly string[]).includes(value);
}

function regle(e: EvenementDemande): RegleTransition {
  if (!e || typeof e !== 'object' || !TYPES_EVENEMENT.includes(e.type)) {
    throw invalide(`événement inconnu : « ${String((e as { type?: unknown } | null)?.type)} »`, 'evenement.type');
  }
  const v = variante(e);
  return TABLE_TRANSITIONS.find((r) => r.evenement === e.type && r.variante === v) as RegleTransition;
}

const NOTIFIES: readonly StatutDemande[] = ['calculee', 'a_verifier', 'refusee', 'echouee', 'a_ressaisir', 'expiree'];

/**
 * The next status of a request and what must be recorded. Throws `TransitionInterdite`
 * (`conflict`, `transition_interdite`) when the event is not allowed from the current status, and
 * a `QuotientError` (`invalid`) for an unknown status or a malformed event. Pure: the same
 * arguments always give the same answer.
 */
export function transition(demande: Pick<Demande, 'statut'> | StatutDemande, evenement: EvenementDemande): Transition {
  const de: unknown = typeof demande === 'string' ? demande : demande?.statut;
  if (!estStatut(de)) {
    throw new QuotientError('invalid', 'statut_inconnu', `Statut de demande inconnu : « ${String(de)} ».`, {
      details: [{ path: 'statut', message: 'statut inconnu' }],
    });
  }
  const r = regle(evenement);
  if (!r.de.includes(de)) throw new TransitionInterdite(de, r.vers, r.evenement);
  const vers = r.vers;
  const effets: Effet[] = [...r.effets];
  const gardait = STATUTS_AVEC_NUMERO_FISCAL.includes(de);
  // After a restart the number is already gone; otherwise leaving the call path forgets it.
  if (gardait && !STATUTS_AVEC_NUMERO_FISCAL.includes(vers) && r.evenement !== 'spi_perdu') effets.unshift('oublier_numero_fiscal');
  if (vers === 'a_verifier') effets.push('signaler_instructeur');
  if (NOTIFIES.includes(vers) || (vers === 'annulee' && evenement.type === 'annulation' && evenement.par === 'agent')) effets.push('notifier_famille');
  return Object.freeze({
    de,
    vers,
    evenement: r.evenement,
    action: `demande.${r.evenement}` as const,
    effets: Object.freeze(effets),
    terminal: STATUTS[vers].terminal,
    resume: `« ${STATUTS[de].libelle} » → « ${STATUTS[vers].libelle} » : ${LIBELLES_EVENEMENT[r.evenement]}.`,
  });
}

export function estTerminal(statut: StatutDemande): boolean {
  return STATUTS[statut].terminal;
}

/** The events a request in this status accepts (for the buttons an agent is offered). */
export function evenementsPermis(statut: StatutDemande): TypeEvenement[] {
  return TYPES_EVENEMENT.filter((t) => TABLE_TRANSITIONS.some((r) => r.evenement === t && r.de.includes(statut)));
}

/** Statuses reachable from `depuis` (itself included) by any sequence of allowed events. */
export function statutsAtteignables(depuis: StatutDemande): StatutDemande[] {
  const vus = new Set<StatutDemande>([depuis]);
  const aVisiter = [depuis];
  while (aVisiter.length > 0) {
    const s = aVisiter.pop() as StatutDemande;
    for (const r of TABLE_TRANSITIONS) {
      if (r.de.includes(s) && !vus.has(r.vers)) {
        vus.add(r.vers);
        aVisiter.push(r.vers);
      }
    }
  }
  return STATUTS_DEMANDE.filter((s) => vus.has(s));
}
