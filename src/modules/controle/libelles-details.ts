import type { AuditDetailValue } from '../audit/index.ts';
import { LIBELLES_RAISONS_DGFIP } from './libelles.ts';
import { dateHeureParis, jourFrancais } from './periode.ts';

/**
 * The details of a journal entry as an auditor reads them: « Page : /agents/… ; Méthode : lecture (GET) »
 * rather than `methode = GET ; roles = anonyme`. A key or a code not listed here is shown as it is:
 * modules add details over time and an unknown one must still be readable (and never hidden).
 */
const CLES: Readonly<Record<string, string>> = {
  methode: 'Méthode',
  route: 'Page',
  roles: 'Rôles de la personne',
  motif: 'Motif',
  motif_consultation: 'Motif de la consultation',
  raison: 'Raison',
  famille: 'Famille',
  demande: 'Demande',
  compte: 'Compte',
  parent: 'Parent',
  note: 'Note',
  canal: 'Canal',
  statut: 'Statut',
  statut_precedent: 'Statut précédent',
  mode: 'Mode',
  format: 'Format',
  lignes: 'Lignes',
  entrees: 'Entrées',
  echecs: 'Échecs',
  nombre: 'Nombre',
  filtre: 'Critères',
  avant: 'Avant l’entrée n°',
  du: 'Du',
  au: 'Au',
  taille: 'Taille',
  demandee: 'Taille demandée',
  population: 'Accès dans la période',
  borne: 'Dernière entrée prise en compte',
  caracteres: 'Caractères',
  anneeRevenus: 'Année des revenus',
  versionTexte: 'Version du texte d’accord',
  consentement: 'Accord',
  foyers: 'Foyers fiscaux',
  dossiers: 'Dossiers',
  type: 'Type',
  tentative: 'Tentative',
  seuil: 'Seuil',
  regle: 'Règle',
  gravite: 'Gravité',
  code: 'Code',
  champs: 'Champs',
  origine: 'Origine',
  decision: 'Décision',
  verdict: 'Verdict',
  commentaire: 'Commentaire',
  sequence: 'Entrée n°',
  effet_le: 'Effet le',
  version: 'Version',
  date: 'Date',
  instance: 'Instance',
  interrupteur: 'Interrupteur',
  sessions: 'Sessions',
  minutes: 'Minutes',
};

const METHODES: Readonly<Record<string, string>> = {
  GET: 'lecture (GET)',
  HEAD: 'lecture (HEAD)',
  POST: 'envoi d’un formulaire (POST)',
  PUT: 'modification (PUT)',
  PATCH: 'modification (PATCH)',
  DELETE: 'suppression (DELETE)',
};

const ROLES: Readonly<Record<string, string>> = {
  anonyme: 'personne non connectée',
  famille: 'famille connectée',
  api: 'logiciel (clé d’API)',
  guichet: 'accueil (guichet)',
  instructeur: 'instruction',
  administrateur: 'administration',
  auditeur: 'contrôle et audit',
};

const CANAUX: Readonly<Record<string, string>> = { en_ligne: 'en ligne', guichet: 'au guichet', campagne: 'campagne', papier: 'papier' };
const MOTIFS: Readonly<Record<string, string>> = { origine: 'envoyé depuis un autre site' };

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const JOUR = /^\d{4}-\d{2}-\d{2}$/;

function valeur(cle: string, v: AuditDetailValue): string {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'oui' : 'non';
  if (typeof v === 'number') return String(v);
  if (cle === 'methode') return METHODES[v] ?? v;
  if (cle === 'roles')
    return v === ''
      ? 'aucun'
      : v
          .split(',')
          .map((r) => ROLES[r] ?? r)
          .join(', ');
  if (cle === 'canal') return CANAUX[v] ?? v;
  if (cle === 'motif') return MOTIFS[v] ?? v;
  if (cle === 'raison') return LIBELLES_RAISONS_DGFIP[v] ?? v;
  if (INSTANT.test(v) && !Number.isNaN(Date.parse(v))) return dateHeureParis(v);
  if (JOUR.test(v)) return jourFrancais(v);
  return v;
}

/** `Clé : valeur ; …`, in the order the module wrote them. */
export function detailsLisibles(details: Readonly<Record<string, AuditDetailValue>>): string {
  return Object.entries(details)
    .map(([k, v]) => `${CLES[k] ?? k} : ${valeur(k, v)}`)
    .join(' ; ');
}
