/**
 * Why a request stopped where it is, kept in clear on the request as a code (`motif_code`) and the
 * French sentence the family and the agents read (`motif`). Both are written together by the
 * transition that sets them, so that a program reads the code and a person reads the sentence.
 * The sentence is stored rather than rebuilt from the code: a refusal carries the instructor's own
 * words, and a request keeps the wording it was given even if a later version rephrases it.
 * None of them names a fiscal value or a person.
 */
export const MOTIFS = {
  // The processing: the DGFiP's answer, the identity control, the policy, the loss of the number.
  introuvable: 'La DGFiP ne trouve pas d’avis pour ce numéro fiscal et cette année : un agent va vérifier.',
  annee_indisponible: 'L’avis de l’année demandée n’existe pas encore : un agent va vérifier.',
  situation_multiple: 'Plusieurs avis existent pour cette année (par exemple après un décès) : un agent va vérifier.',
  situation_incomplete: 'L’avis reçu ne dit pas le nombre de personnes à charge : un agent va vérifier.',
  identite: 'Les déclarants de l’avis ne correspondent pas exactement aux parents déclarés : un agent va vérifier.',
  discordant: 'L’avis reçu ne concerne aucun des parents déclarés : il n’a pas été conservé, un agent va vérifier.',
  combinaison: 'Les avis des deux foyers ne peuvent pas être combinés automatiquement : un agent va vérifier.',
  // The policy's QF could not be computed from what was received (issue 17, the CAF/MSA source).
  quotient_caf_absent:
    'La commune tarifie sur le quotient familial de la CAF ou de la MSA, et il n’a pas pu être obtenu pour cette famille (aucun allocataire à cet état civil, ou pas d’accord pour interroger les caisses) : un agent va vérifier.',
  caf_indisponible:
    'La CAF ou la MSA n’a pas pu donner son quotient familial pour le moment, et la commune en a besoin pour votre tarif : un agent va vérifier.',
  ressources_manquantes:
    'La commune calcule le quotient à partir des ressources mensuelles de la famille, et elles n’ont pas été indiquées : un agent va vérifier.',
  spi_perdu: 'Le service a redémarré avant l’appel à la DGFiP : le numéro fiscal doit être saisi à nouveau.',
  franceconnect_expire:
    'La connexion FranceConnect ne vaut qu’une minute et elle a expiré avant l’appel à la DGFiP : reconnectez-vous avec FranceConnect pour relancer la demande.',
  franceconnect_refuse:
    'La DGFiP a refusé la connexion FranceConnect (retirée, ou sans l’accord pour toutes les données demandées) : reconnectez-vous avec FranceConnect, ou donnez le numéro fiscal ou l’état civil.',
  franceconnect_attendu: 'Un avis sera demandé à la DGFiP dès que son déclarant se sera connecté avec FranceConnect.',
  saisie_a_refaire:
    'Ce qui avait été saisi pour l’autre déclarant (numéro fiscal ou état civil) n’a pas pu être gardé pendant la connexion FranceConnect : saisissez-le de nouveau pour terminer la demande. L’avis obtenu avec FranceConnect est déjà reçu.',
  dgfip_identifiants_refuses:
    'La DGFiP refuse pour le moment l’accès du service de la commune (problème technique de notre côté, le service technique est prévenu) : la demande reste dans la file et partira d’elle-même.',
  echec: 'La DGFiP n’a pas pu répondre ; la demande pourra être refaite. Le service technique est prévenu.',
  // By état civil: what the DGFiP answered, and what the family can do next.
  etat_civil_ambigu:
    'Plusieurs personnes portent cet état civil à la DGFiP : refaites la demande en précisant la date et le lieu de naissance, ou avec le numéro fiscal.',
  etat_civil_introuvable:
    'La DGFiP ne trouve personne avec cet état civil : vérifiez le nom de naissance, les prénoms et la date de naissance, ou donnez le numéro fiscal.',
  dossier_non_communicable:
    'La DGFiP ne communique pas ce dossier à partir de l’état civil : donnez le numéro fiscal (en haut de l’avis d’imposition), ou présentez l’avis au guichet.',
  etat_civil_trop_long: 'Le nom ou un prénom dépasse les limites de la DGFiP (100 caractères pour le nom, 20 par prénom) : rien n’a été envoyé.',
  consentement_retire: 'L’accord pour interroger la DGFiP a été retiré : la demande est annulée.',
  // An instructor: a review opened on a contestation, then what the decision tells the family
  // (a refusal adds the instructor's reason).
  reexamen: 'Réexamen à la suite d’une contestation.',
  avis_depose: 'Votre avis d’imposition est bien reçu : un agent de la mairie va l’examiner et fixer votre quotient familial.',
  confirme: 'Demande vérifiée par un agent de la mairie.',
  qf_manuel: 'Quotient fixé par un agent de la mairie au vu d’un document présenté.',
  refuse: 'Demande refusée après examen par un agent de la mairie',
} as const;

export type CodeMotif = keyof typeof MOTIFS;

export interface Motif {
  readonly code: CodeMotif;
  readonly texte: string;
}

/** The reason of that code, with the words that complete it when there are some (a refusal's justification). */
export function motif(code: CodeMotif, precision?: string): Motif {
  return { code, texte: precision === undefined ? MOTIFS[code] : `${MOTIFS[code]} : ${precision}` };
}

/**
 * What the family reads of the reasons the identity check or the DGFiP's answer gave (issue 12,
 * hole 3): one sentence for « no avis for this number », « the avis is not one of your parents' »,
 * « close but not exact », « not yet taxed » and « several avis », so that typing numbers cannot
 * tell an unknown number from someone else's. The agents keep the precise reason.
 */
export const MOTIFS_CONFIDENTIELS: ReadonlySet<string> = new Set(['introuvable', 'identite', 'discordant', 'annee_indisponible', 'situation_multiple']);
export const MOTIF_FAMILLE_A_VERIFIER =
  'L’avis d’imposition n’a pas pu être rattaché automatiquement aux parents déclarés : un agent de la mairie va vérifier la demande, et vous serez prévenu.';

export function motifPourLaFamille(code: string | null, texte: string | null): string | null {
  return code !== null && MOTIFS_CONFIDENTIELS.has(code) ? MOTIF_FAMILLE_A_VERIFIER : texte;
}
