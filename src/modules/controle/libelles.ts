/**
 * French labels of the journal's codes, for the auditor's pages and exports. A code that is not
 * here is shown as it is: modules add codes over time and an unknown one must still be readable.
 */
const ACTIONS: Readonly<Record<string, string>> = {
  'acces.refuse': 'Accès refusé à une page',
  'agent.connexion': 'Connexion à l’espace agents',
  'agent.cree': 'Agent inscrit',
  'agent.roles_modifies': 'Rôles d’un agent modifiés',
  'agent.desactive': 'Agent désactivé',
  'agent.reactive': 'Agent réactivé',
  'cle_api.creee': 'Clé d’API créée',
  'cle_api.revoquee': 'Clé d’API révoquée',
  'coffre.rotation': 'Rotation des clés du coffre',
  'compte.connexion': 'Connexion d’une famille',
  'compte.cree': 'Compte de famille créé',
  'compte.courriel_confirme': 'Adresse électronique confirmée',
  'compte.mot_de_passe_change': 'Mot de passe changé',
  'consentement.recueilli': 'Accord recueilli',
  'consentement.retire': 'Accord retiré',
  'contestation.ouverte': 'Contestation déposée',
  'demande.creee': 'Demande créée',
  'demande.consentement_recueilli': 'Demande : accord recueilli',
  'demande.mise_en_file': 'Demande mise en file d’attente',
  'demande.appel_demarre': 'Appel à la DGFiP lancé',
  'demande.situation_recue': 'Avis reçu et contrôlé',
  'demande.situation_indisponible': 'Avis indisponible à la DGFiP',
  'demande.echec_appel': 'Échec de l’appel à la DGFiP',
  'demande.spi_perdu': 'Numéro fiscal perdu au redémarrage',
  'demande.nouvelle_saisie': 'Numéro fiscal saisi de nouveau',
  'demande.decision_instructeur': 'Décision de l’instructeur',
  'demande.annulation': 'Demande annulée',
  'demande.expiration': 'Demande expirée',
  'demande.consultee_instruction': 'Demande consultée pour instruction (avec motif)',
  'demande.apercu_instruction': 'Demande vue dans la file d’instruction',
  'demande.consultee': 'Demande consultée',
  'demande.reexamen': 'Demande réexaminée',
  'contestation.consultee_instruction': 'Contestation consultée pour instruction',
  'contestation.apercu_instruction': 'Contestation vue dans la file d’instruction',
  'contestation.traitee': 'Contestation traitée',
  'instruction.file_consultee': 'File d’instruction consultée',
  'famille.recherchee': 'Recherche de famille',
  'facturation.export': 'Export pour la facturation',
  'api.quotients.consultes': 'Quotients lus par le logiciel de facturation',
  'politique.deposee': 'Version de la politique tarifaire déposée',
  'politique.activee': 'Version de la politique tarifaire activée',
  'politique.abandonnee': 'Version de la politique tarifaire abandonnée',
  'politique.en_vigueur': 'Politique tarifaire entrée en vigueur',
  'dgfip.check': 'Test de connexion à la DGFiP',
  'dgfip.situation_recue': 'Avis reçu de la DGFiP',
  'famille.consultee': 'Dossier d’une famille consulté',
  'famille.creee': 'Famille créée',
  'famille.modifiee': 'Famille modifiée',
  'famille.exportee': 'Données d’une famille exportées',
  'famille.donnees_exportees': 'Données d’une famille exportées',
  'famille.resultat_consulte': 'Résultat consulté',
  'journal.consulte': 'Journal d’audit consulté',
  'journal.exporte': 'Journal d’audit exporté',
  'journal.verifie': 'Intégrité du journal vérifiée',
  'journal.purge': 'Journal d’audit purgé',
  'journal.reancre': 'Journal d’audit réancré',
  'controle.cree': 'Contrôle par échantillon créé',
  'controle.consulte': 'Contrôle par échantillon consulté',
  'controle.observations_enregistrees': 'Observations de contrôle enregistrées',
  'controle.clos': 'Contrôle par échantillon clos',
  'retention.demande_purgee': 'Demande supprimée (durée de conservation)',
  'retention.donnees_fiscales_purgees': 'Données fiscales supprimées (durée de conservation)',
};

/** The families of codes, for the action filter's suggestions. */
export const FAMILLES_ACTIONS: ReadonlyArray<{ readonly code: string; readonly libelle: string }> = [
  { code: 'famille.', libelle: 'Familles' },
  { code: 'demande.', libelle: 'Demandes' },
  { code: 'dgfip.', libelle: 'Appels à la DGFiP' },
  { code: 'consentement.', libelle: 'Accords' },
  { code: 'contestation.', libelle: 'Contestations' },
  { code: 'compte.', libelle: 'Comptes des familles' },
  { code: 'agent.', libelle: 'Agents' },
  { code: 'acces.', libelle: 'Accès refusés' },
  { code: 'cle_api.', libelle: 'Clés d’API' },
  { code: 'journal.', libelle: 'Journal d’audit' },
  { code: 'controle.', libelle: 'Contrôles par échantillon' },
  { code: 'retention.', libelle: 'Durées de conservation' },
  { code: 'instruction.', libelle: 'Instruction' },
  { code: 'politique.', libelle: 'Politique tarifaire' },
  { code: 'facturation.', libelle: 'Facturation' },
  { code: 'api.', libelle: 'API de facturation' },
];

export const CODES_CONNUS: readonly string[] = Object.keys(ACTIONS);

export function libelleAction(code: string): string | null {
  return ACTIONS[code] ?? null;
}

export const LIBELLES_ACTEURS: Readonly<Record<string, string>> = {
  famille: 'Famille',
  agent: 'Agent',
  robot: 'Traitement automatique',
  systeme: 'Système',
  api: 'Logiciel (API)',
  anonyme: 'Personne non connectée',
};

export const LIBELLES_RESULTATS: Readonly<Record<string, string>> = { succes: 'Réussi', echec: 'Échoué', refus: 'Refusé' };

export const LIBELLES_CIBLES: Readonly<Record<string, string>> = {
  famille: 'Famille',
  demande: 'Demande',
  compte: 'Compte',
  agent: 'Agent',
  cle_api: 'Clé d’API',
  contestation: 'Contestation',
  controle: 'Contrôle',
  journal_audit: 'Journal',
  politique_version: 'Version de la politique tarifaire',
};

/** Causes of a failed DGFiP call (RaisonEchec), in words. */
export const LIBELLES_RAISONS_DGFIP: Readonly<Record<string, string>> = {
  introuvable: 'avis introuvable',
  annee_indisponible: 'année pas encore imposée',
  situation_multiple: 'plusieurs avis',
  etat_civil_ambigu: 'état civil ambigu',
  criteres_invalides: 'critères invalides',
  numero_fiscal_invalide: 'numéro fiscal mal formé',
  acces_refuse: 'accès refusé par la DGFiP',
  identifiants_refuses: 'identifiants du téléservice refusés',
  certificat_refuse: 'certificat client refusé',
  certificat_serveur_refuse: 'certificat de la passerelle non reconnu',
  quota_depasse: 'quota d’appels atteint',
  injoignable: 'passerelle injoignable',
  indisponible: 'service indisponible',
  reponse_invalide: 'réponse inutilisable',
};
