import type { Generated } from 'kysely';
import type { StatutDemande } from '../../domain/demande.ts';

/**
 * The tables, as Kysely sees them. Conventions shared by both dialects so that one migration source
 * and one repository code serve SQLite and PostgreSQL:
 * - timestamps are ISO-8601 UTC text (`2026-11-23T12:58:00.000Z`), which sorts and compares as text;
 * - booleans are integers 0/1; structured values are JSON text.
 * Each capability adds its tables here with its migration.
 */
export interface InstallationTable {
  id: string;
  created_at: string;
  commune_code_insee: string;
  software_version: string;
}

export interface QuotaStateTable {
  bucket: string;
  paused_until: string | null;
  version: Generated<number>;
}

export interface QuotaCallTable {
  id: string;
  bucket: string;
  taken_at: string;
}

/** Slots granted per minute and priority (0021), for the dashboard's last hour. */
export interface QuotaMinuteTable {
  bucket: string;
  /** `2026-12-02T14:05` (UTC). */
  minute: string;
  priorite: string;
  n: number;
}

// The journal d'audit (0003): hash-chained entries, the head every append updates first, and the
// checkpoints purges leave. See src/modules/audit/.
export interface JournalAuditTable {
  seq: number;
  recorded_at: string;
  actor_type: string;
  actor_id: string;
  on_behalf_type: string | null;
  on_behalf_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  correlation_id: string | null;
  details: string;
  hash: string;
  mac: string;
}

export interface JournalAuditHeadTable {
  id: number;
  seq: number;
  hash: string;
  journal_id: string;
  /** HMAC of the head with the journal's key (0015); null until the first append after the migration. */
  mac: string | null;
}

export interface JournalAuditCheckpointTable {
  first_kept_seq: number;
  previous_hash: string;
  purge_seq: number;
  purged_before: string;
  purged_count: number;
  created_at: string;
  mac: string;
}

// The secure silo (0004): master key ids and check values (the keys live in the key file), and
// the encrypted records. Bytes are Buffers (blob on SQLite, bytea on PostgreSQL).
export interface CoffreMasterKeyTable {
  key_id: string;
  fingerprint: string;
  created_at: string;
  active: Generated<number>;
  retired_at: string | null;
}

export interface CoffreRecordTable {
  kind: string;
  record_id: string;
  format: number;
  key_id: string;
  wrapped_key: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: string;
  updated_at: string;
  rewrapped_at: string | null;
}

export interface Schema extends DemandesSchema, ComptesSchema, BackOfficeSchema, IncidentsSchema, AlertesSchema, CampagnesSchema {
  consentements_renouvellement: ConsentementRenouvellementTable;
  installation: InstallationTable;
  numero_fiscal_essais: NumeroFiscalEssaiTable;
  attestations: AttestationTable;
  avis_deposes: AvisDeposeTable;
  limites_compteurs: LimiteCompteurTable;
  quota_state: QuotaStateTable;
  quota_calls: QuotaCallTable;
  quota_minutes: QuotaMinuteTable;
  journal_audit: JournalAuditTable;
  journal_audit_head: JournalAuditHeadTable;
  journal_audit_checkpoint: JournalAuditCheckpointTable;
  coffre_master_keys: CoffreMasterKeyTable;
  coffre_records: CoffreRecordTable;
}

// Requests (0005): families, consents, requests, their foyers, results and decisions.
export interface HabilitationTable {
  id: string;
  empreinte: string;
  contenu: string;
  enregistree_le: string;
}

export interface FamilleTable {
  id: string;
  reference: string;
  resident: number;
  courriel: string | null;
  creee_le: string;
  modifiee_le: string;
  /** The family's reference in the commune's own software, when a campaign imported it (0014). */
  reference_externe: string | null;
}

export interface ParentTable {
  id: string;
  famille_id: string;
  rang: number;
  nom_naissance: string;
  nom_usage: string | null;
  prenoms: string;
  date_naissance: string | null;
  au_foyer: number;
}

/** One normalised word of a parent's names (0020): the counter's search finds them by prefix. */
export interface ParentMotTable {
  parent_id: string;
  mot: string;
}

export interface EnfantTable {
  id: string;
  famille_id: string;
  prenoms: string;
  nom: string;
  date_naissance: string | null;
  residence: string;
}

export interface DemandeTable {
  id: string;
  reference: string;
  famille_id: string;
  canal: string;
  statut: StatutDemande;
  annee_revenus: number | null;
  /** The sentence the family and the agents read; `motif_code` (0009) says which reason it is. */
  motif: string | null;
  motif_code: string | null;
  tentatives: number;
  prochain_essai_le: string | null;
  acteur_type: string;
  acteur_id: string;
  creee_le: string;
  modifiee_le: string;
  version: number;
  detenteur: string | null;
}

export interface InstanceTable {
  id: string;
  demarree_le: string;
  vue_le: string;
}

export interface ConsentementTable {
  id: string;
  demande_id: string;
  parent_rang: number;
  donne_par_type: string;
  donne_par_id: string;
  mode: string;
  version_texte: string;
  donnees: string;
  finalite: string;
  habilitation_id: string;
  piece: string | null;
  recueilli_le: string;
  retire_le: string | null;
}

export interface DemandeFoyerFiscalTable {
  id: string;
  demande_id: string;
  parent_rang: number;
  voie: string;
  etat: string;
  annee_revenus: number | null;
  source: string | null;
  recu_le: string | null;
}

export interface QuotientTable {
  id: string;
  demande_id: string;
  famille_id: string;
  valeur_cents: number;
  periode: string;
  formule: string;
  politique: string;
  prix: string;
  /** JSON list of the per-child lines (0025); null for QFs recorded before. */
  prix_enfants: string | null;
  valide_du: string;
  valide_au: string;
  origine: string;
  calcule_le: string;
  /** `fiscal` or `caf` (0024); null before, or when an agent set the QF. */
  source_retenue: string | null;
  /** Why that QF, in French (0024). */
  raison_source: string | null;
}

export interface DecisionTable {
  id: string;
  demande_id: string;
  agent_id: string;
  decision: string;
  justification: string;
  piece: string | null;
  decidee_le: string;
}

export interface ContestationTable {
  id: string;
  famille_id: string;
  demande_id: string | null;
  motif: string;
  statut: string;
  reponse: string | null;
  ouverte_le: string;
  traitee_le: string | null;
}

export interface DemandesSchema {
  instances: InstanceTable;
  habilitations: HabilitationTable;
  familles: FamilleTable;
  parents: ParentTable;
  parents_mots: ParentMotTable;
  enfants: EnfantTable;
  demandes: DemandeTable;
  consentements: ConsentementTable;
  demande_foyers: DemandeFoyerFiscalTable;
  quotients: QuotientTable;
  decisions: DecisionTable;
  contestations: ContestationTable;
}

// Sign-in (0006): family accounts, server-side sessions, single-use account tokens.
export interface CompteTable {
  id: string;
  kind: 'franceconnect' | 'local';
  issuer: string | null;
  sub: string | null;
  email: string | null;
  password_hash: string | null;
  email_verified_at: string | null;
  display_name: string;
  famille_id: string;
  failed_attempts: Generated<number>;
  locked_until: string | null;
  created_at: string;
  last_sign_in_at: string | null;
}

export interface SessionTable {
  id_hash: string;
  data: string;
  compte_id: string | null;
  agent_id: string | null;
  created_at: string;
  last_seen_at: string;
  idle_expires_at: string;
  absolute_expires_at: string;
}

export interface CompteJetonTable {
  token_hash: string;
  compte_id: string;
  purpose: 'verification' | 'reinitialisation';
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ComptesSchema {
  comptes: CompteTable;
  sessions: SessionTable;
  compte_jetons: CompteJetonTable;
}

// The back-office (0007): agents, API keys, tariff policy versions, auditors' controls.
export interface AgentTable {
  id: string;
  email: string;
  prenom: string;
  nom: string;
  /** JSON array of roles. */
  roles: string;
  actif: Generated<number>;
  issuer: string | null;
  sub: string | null;
  cree_le: string;
  cree_par: string;
  modifie_le: string;
  desactive_le: string | null;
  derniere_connexion_le: string | null;
}

export interface CleApiTable {
  id: string;
  libelle: string;
  prefixe: string;
  empreinte: string;
  creee_le: string;
  creee_par: string;
  revoquee_le: string | null;
  revoquee_par: string | null;
  derniere_utilisation_le: string | null;
}

export interface PolitiqueVersionTable {
  id: string;
  libelle: string;
  contenu: string;
  empreinte: string;
  statut: 'brouillon' | 'programmee' | 'active' | 'remplacee' | 'abandonnee';
  effet_le: string | null;
  deposee_le: string;
  deposee_par: string;
  activee_le: string | null;
  activee_par: string | null;
}

export interface ControleTable {
  id: string;
  periode_du: string;
  periode_au: string;
  echantillon: string;
  graine: string;
  cree_le: string;
  cree_par: string;
  observations: string | null;
  clos_le: string | null;
}

/** The auditor's verdict on one sampled access of a control (0022). */
export interface ControleVerdictTable {
  controle_id: string;
  sequence: number;
  verdict: 'conforme' | 'non_conforme';
  commentaire: string | null;
  le: string;
  par: string;
}

export interface BackOfficeSchema {
  agents: AgentTable;
  cles_api: CleApiTable;
  politique_versions: PolitiqueVersionTable;
  controles: ControleTable;
  controle_verdicts: ControleVerdictTable;
}

// Incident response (0010): the switches every instance reads, the acknowledgements of a broken journal.
export interface IncidentInterrupteurTable {
  code: string;
  actif: number;
  motif: string | null;
  par: string | null;
  par_libelle: string | null;
  le: string | null;
}

export interface JournalAuditReconnaissanceTable {
  id: string;
  premiere_sequence: number | null;
  raison: string;
  tete_sequence: number;
  tete_empreinte: string;
  empreinte: string;
  lignes: number;
  entree_sequence: number;
  motif: string;
  par_type: string;
  par_id: string;
  le: string;
  mac: string;
}

export interface IncidentsSchema {
  incident_interrupteurs: IncidentInterrupteurTable;
  journal_audit_reconnaissances: JournalAuditReconnaissanceTable;
}

// Security alerts (0011): raised by the detection rules, moved by auditors; their evidence; counted events.
export type StatutAlerte = 'ouverte' | 'acquittee' | 'cloturee';

export interface AlerteTable {
  id: string;
  regle: string;
  cle: string;
  cle_ouverte: string | null;
  gravite: string;
  titre: string;
  message: string;
  details: string;
  statut: StatutAlerte;
  occurrences: number;
  notifications: number;
  premiere_le: string;
  derniere_le: string;
  notifiee_le: string;
  acquittee_par: string | null;
  acquittee_le: string | null;
  acquittement_motif: string | null;
  cloturee_par: string | null;
  cloturee_le: string | null;
  cloture_motif: string | null;
}

export interface AlertePreuveTable {
  alerte_id: string;
  regle: string;
  cle: string;
  preuve: string;
  journal_seq: number | null;
}

export interface DetectionEvenementTable {
  id: string;
  type: string;
  cle: string;
  le: string;
}

export interface AlertesSchema {
  alertes: AlerteTable;
  alerte_preuves: AlertePreuveTable;
  detection_evenements: DetectionEvenementTable;
}

/** The throttles' counters shared by every instance (migration 0015). */
export interface LimiteCompteurTable {
  cle: string;
  n: number;
  fin: string;
}

/** Numéros fiscaux submitted per key (account, family, address, agent) and window (migration 0012). */
export interface NumeroFiscalEssaiTable {
  cle: string;
  fenetre: string;
  debut: string;
  n: number;
}

/** Avis uploaded by families (migration 0018): what the file is, never what it says; the file is in the silo. */
export interface AvisDeposeTable {
  id: string;
  famille_id: string | null;
  demande_id: string | null;
  contestation_id: string | null;
  format: string;
  taille: number;
  depose_le: string;
  depose_par_type: string;
  depose_par_id: string;
  expire_le: string;
  detruit_le: string | null;
  destruction: string | null;
}

/** Attestations of quotient familial and their verification codes (migration 0016). */
export interface AttestationTable {
  id: string;
  code: string;
  /** Null once the retention purge deleted the request: the code then reads « expirée ». */
  demande_id: string | null;
  famille_id: string | null;
  valide_du: string;
  valide_au: string;
  emise_le: string;
  emise_par_type: string;
  emise_par_id: string;
}

/** Standing consents for renewal (migration 0013); the état civil kept for each is in the silo. */
export interface ConsentementRenouvellementTable {
  id: string;
  famille_id: string;
  parent_rang: number;
  demande_id: string | null;
  donne_par_type: string;
  donne_par_id: string;
  mode: string;
  piece: string | null;
  version_texte: string;
  ressources: string;
  donnees: string;
  finalite: string;
  voie: string;
  duree_ans: number;
  recueilli_le: string;
  expire_le: string;
  retire_le: string | null;
  fin_motif: string | null;
  etat_civil_le: string | null;
}

// Campaigns (0014): a batch of requests, its items claimed with a lease, one result per item; the
// singleton jobs' leases.
export type TypeCampagne = 'import' | 'renouvellement';
export type StatutCampagneTable = 'brouillon' | 'en_cours' | 'en_pause' | 'annulee' | 'terminee';

export interface CampagneTable {
  id: string;
  reference: string;
  libelle: string;
  type: TypeCampagne;
  statut: StatutCampagneTable;
  annee_revenus: number | null;
  total: number;
  fichier_nom: string | null;
  fichier_empreinte: string | null;
  creee_le: string;
  creee_par: string;
  demarree_le: string | null;
  demarree_par: string | null;
  terminee_le: string | null;
  motif: string | null;
  modifiee_le: string;
  version: Generated<number>;
}

export interface CampagneElementTable {
  id: string;
  campagne_id: string;
  rang: number;
  reference: string;
  famille_id: string | null;
  demande_id: string | null;
  /** `formulaire_signe` (an imported line's signed form) or `renouvellement` (a standing consent). */
  accord_mode: string;
  accord_piece: string | null;
  accord_le: string | null;
  accord_renouvellement_id: string | null;
  reclame_par: string | null;
  bail_jusqua: string | null;
  jeton: string | null;
  essais: Generated<number>;
  disponible_le: string | null;
  traite_le: string | null;
}

export interface CampagneResultatTable {
  element_id: string;
  campagne_id: string;
  issue: string;
  demande_id: string | null;
  tranche: string | null;
  motif_code: string | null;
  enregistre_le: string;
  par: string;
}

export interface BailTable {
  nom: string;
  detenteur: string;
  expire_le: string;
  pris_le: string;
}

export interface CampagnesSchema {
  campagnes: CampagneTable;
  campagne_elements: CampagneElementTable;
  campagne_resultats: CampagneResultatTable;
  baux: BailTable;
}
