import type { Kysely } from 'kysely';
import type { Gravite } from '../../infra/alertes/index.ts';
import type { DetectionConfig } from '../../infra/config/securite-config.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { AuditDetailValue } from '../audit/index.ts';
import { MAX_PREUVES, type Constat } from './alertes-store.ts';

/**
 * The detection rules over the journal d'audit: each reads the entries of its actions within its
 * window, groups them by a key (an account, an agent, a family), and finds a burst when a group
 * reaches the threshold. The action lists are constants so that new journal actions (per-try
 * entries, campaigns) join a rule by being added here.
 */

/** One entry as the rules read it; `famille` is the family the entry concerns, when known. */
export interface LigneJournal {
  readonly seq: number;
  readonly le: string;
  readonly acteur: string;
  readonly acteurType: string;
  readonly action: string;
  readonly outcome: string;
  readonly cible: string | null;
  readonly details: Readonly<Record<string, AuditDetailValue>>;
  readonly famille: string | null;
}

export interface Reglage {
  readonly seuil: number;
  readonly fenetreMinutes: number;
}

export interface RegleJournal {
  readonly code: string;
  readonly gravite: Gravite;
  readonly actions: readonly string[];
  readonly reglage: (c: DetectionConfig) => Reglage;
  /** Entries that count; all by default. */
  readonly retenir?: (l: LigneJournal) => boolean;
  /** What the burst is counted by; null: not counted. */
  readonly cle: (l: LigneJournal) => string | null;
  /** Count distinct values (families read) rather than entries. */
  readonly distinct?: (l: LigneJournal) => string | null;
  readonly decrire: (cle: string, n: number, r: Reglage) => { titre: string; message: string };
}

/** Sign-in attempts that failed: a family's local account, an agent known to Quotient. */
export const ACTIONS_CONNEXION = ['compte.connexion', 'agent.connexion'] as const;
/** A refused access: the access policy, a family trying another family's request. */
export const ACTIONS_REFUS = ['acces.refuse'] as const;
/**
 * Numéros fiscaux typed in: a new request, a request typed again. Per-try entries (issue 12, hole 3)
 * are to be added here when they land.
 */
export const ACTIONS_SOUMISSION_NUMERO_FISCAL: string[] = ['demande.creee', 'demande.nouvelle_saisie'];
/** A try refused by the submission limits (`LimitesNumeroFiscal`), before any DGFiP call. */
export const ACTION_LIMITE_NUMERO_FISCAL = 'demande.numero_fiscal.limite';
/**
 * Answers that tell « this number is unknown » or « this avis is not one of yours »: the DGFiP found
 * no avis, or the identity check found the avis's declarants are not the family's parents.
 */
export const REPONSES_NEGATIVES: Array<{ action: string; retenir: (d: Readonly<Record<string, AuditDetailValue>>) => boolean }> = [
  { action: 'demande.situation_indisponible', retenir: (d) => d.raison === 'introuvable' },
  { action: 'demande.situation_recue', retenir: (d) => d.controle === 'discordant' },
];
/** An agent reading one family's data (results, requests, the instructor's views). */
export const ACTIONS_LECTURE_FAMILLE = [
  'famille.consultee',
  'famille.resultat_consulte',
  'famille.exportee',
  'demande.consultee',
  'demande.consultee_instruction',
  'demande.apercu_instruction',
] as const;
/** Exports of many records at once: billing CSV, billing API, journal exports, a family's data. */
export const ACTIONS_EXPORT = ['facturation.export', 'api.quotients.consultes', 'journal.exporte', 'famille.donnees_exportees'] as const;
/**
 * What counts as one export: data went out (a call refused or failed, an empty page sent
 * nothing), and a read of the billing API walked page by page is one export, its first page:
 * the billing software's nightly pass over every QF is not twenty exports.
 */
export const estUnExport = (l: Pick<LigneJournal, 'outcome' | 'details'>): boolean =>
  l.outcome === 'succes' && l.details.suite !== true && l.details.lignes !== 0;
/** DGFiP failures that mean our credentials, certificate or habilitation are refused, not a passing outage. */
export const ACTIONS_APPEL_DGFIP = ['demande.echec_appel', 'demande.situation_indisponible', 'dgfip.check'] as const;
export const RAISONS_REFUS_DGFIP = ['acces_refuse', 'identifiants_refuses', 'certificat_refuse', 'certificat_serveur_refuse'] as const;

const minutes = (r: Reglage) => `${r.fenetreMinutes} minute${r.fenetreMinutes > 1 ? 's' : ''}`;
const acteurCle = (l: LigneJournal) => `${l.acteurType}:${l.acteur}`;

export const REGLES_JOURNAL: readonly RegleJournal[] = [
  {
    code: 'connexion.echecs_rafale',
    gravite: 'avertissement',
    actions: ACTIONS_CONNEXION,
    reglage: (c) => c.connexionEchecsCompte,
    retenir: (l) => l.outcome !== 'succes',
    // A family's account is the entry's target; an agent refused is the actor (unknown ones have no account).
    cle: (l) => (l.action === 'compte.connexion' ? (l.cible ? `compte:${l.cible}` : null) : l.acteurType === 'agent' ? `agent:${l.acteur}` : null),
    decrire: (cle, n, r) => ({
      titre: 'Rafale d’échecs de connexion sur un compte',
      message: `${n} échecs de connexion en ${minutes(r)} sur le compte ${cle} (seuil : ${r.seuil}). Possible essai de mots de passe : vérifiez l’origine et prévenez le titulaire.`,
    }),
  },
  {
    code: 'acces.refus_repetes',
    gravite: 'avertissement',
    actions: ACTIONS_REFUS,
    reglage: (c) => c.refusSession,
    // Signed in: one account or key is one session's holder; an anonymous refusal has only its request id.
    cle: (l) => (l.acteurType === 'anonyme' ? null : acteurCle(l)),
    decrire: (cle, n, r) => ({
      titre: 'Nombreux refus d’accès pour une même session',
      message: `${n} refus d’accès en ${minutes(r)} pour ${cle} (seuil : ${r.seuil}). Possible exploration des pages ou des identifiants d’autrui.`,
    }),
  },
  {
    // The anti-fishing limits already refused a try (`demande.numero_fiscal.limite`): one is enough to tell someone.
    code: 'numero_fiscal.limite_atteinte',
    gravite: 'critique',
    actions: [ACTION_LIMITE_NUMERO_FISCAL],
    reglage: (c) => ({ seuil: 1, fenetreMinutes: c.soumissionsNumeroFiscal.fenetreMinutes }),
    cle: (l) => (l.famille ? `famille:${l.famille}` : null),
    decrire: (cle, n, r) => ({
      titre: 'Limite de saisie des numéros fiscaux atteinte',
      message: `${n} envoi(s) de numéros fiscaux refusé(s) par les limites en ${minutes(r)} pour ${cle}. Possible recherche de l’avis d’un tiers : examinez les demandes de la famille.`,
    }),
  },
  {
    code: 'numero_fiscal.peche',
    gravite: 'critique',
    actions: ACTIONS_SOUMISSION_NUMERO_FISCAL,
    reglage: (c) => c.soumissionsNumeroFiscal,
    cle: (l) => (l.acteurType === 'famille' ? `compte:${l.acteur}` : null),
    decrire: (cle, n, r) => ({
      titre: 'Numéros fiscaux saisis en nombre par un compte',
      message: `${n} saisies de numéros fiscaux en ${minutes(r)} par ${cle} (seuil : ${r.seuil}). Possible recherche de l’avis d’un tiers : examinez les demandes et suspendez le compte si besoin.`,
    }),
  },
  {
    code: 'numero_fiscal.peche',
    gravite: 'critique',
    actions: ACTIONS_SOUMISSION_NUMERO_FISCAL,
    reglage: (c) => c.soumissionsNumeroFiscal,
    cle: (l) => (l.famille ? `famille:${l.famille}` : null),
    decrire: (cle, n, r) => ({
      titre: 'Numéros fiscaux saisis en nombre pour une famille',
      message: `${n} saisies de numéros fiscaux en ${minutes(r)} pour ${cle} (seuil : ${r.seuil}). Possible recherche de l’avis d’un tiers.`,
    }),
  },
  {
    code: 'numero_fiscal.peche',
    gravite: 'avertissement',
    actions: ACTIONS_SOUMISSION_NUMERO_FISCAL,
    reglage: (c) => c.soumissionsGuichet,
    cle: (l) => (l.acteurType === 'agent' ? `agent:${l.acteur}` : null),
    decrire: (cle, n, r) => ({
      titre: 'Numéros fiscaux saisis en nombre au guichet',
      message: `${n} saisies de numéros fiscaux en ${minutes(r)} par ${cle} au guichet (seuil : ${r.seuil}). Vérifiez que ces demandes correspondent à des dossiers reçus.`,
    }),
  },
  {
    code: 'numero_fiscal.reponses_negatives',
    gravite: 'critique',
    actions: REPONSES_NEGATIVES.map((r) => r.action),
    reglage: (c) => c.reponsesNegatives,
    retenir: (l) => REPONSES_NEGATIVES.some((r) => r.action === l.action && r.retenir(l.details)),
    cle: (l) => (l.famille ? `famille:${l.famille}` : null),
    decrire: (cle, n, r) => ({
      titre: 'Numéros fiscaux inconnus ou d’autrui en série',
      message: `${n} numéros fiscaux inconnus de la DGFiP ou d’un avis d’une autre personne en ${minutes(r)} pour ${cle} (seuil : ${r.seuil}). Possible pêche aux avis : examinez les demandes.`,
    }),
  },
  {
    code: 'agent.lectures_inhabituelles',
    gravite: 'avertissement',
    actions: ACTIONS_LECTURE_FAMILLE,
    reglage: (c) => c.lecturesAgent,
    cle: (l) => (l.acteurType === 'agent' ? `agent:${l.acteur}` : null),
    distinct: (l) => l.famille,
    decrire: (cle, n, r) => ({
      titre: 'Un agent consulte un nombre inhabituel de familles',
      message: `${n} familles différentes consultées en ${minutes(r)} par ${cle} (seuil : ${r.seuil}). Vérifiez que ces consultations relèvent de son travail.`,
    }),
  },
  {
    code: 'export.massif',
    gravite: 'avertissement',
    actions: ACTIONS_EXPORT,
    reglage: (c) => c.exports,
    retenir: estUnExport,
    cle: acteurCle,
    decrire: (cle, n, r) => ({
      titre: 'Exports en nombre',
      message: `${n} exports en ${minutes(r)} par ${cle} (seuil : ${r.seuil}). Vérifiez qu’ils sont attendus (logiciel de facturation, contrôle en cours).`,
    }),
  },
  {
    code: 'dgfip.acces_refuse',
    gravite: 'critique',
    actions: ACTIONS_APPEL_DGFIP,
    reglage: (c) => c.refusDgfip,
    retenir: (l) => (RAISONS_REFUS_DGFIP as readonly unknown[]).includes(l.details.raison),
    cle: () => 'dgfip',
    decrire: (_cle, n, r) => ({
      titre: 'La DGFiP refuse nos identifiants, notre certificat ou notre habilitation',
      message: `${n} appels refusés par la DGFiP (401, 403, certificat ou TLS) en ${minutes(r)}. Vérifiez les identifiants, le certificat client et sa date d’expiration, l’autorité de la passerelle et l’habilitation.`,
    }),
  },
];

/** The longest window of the journal rules: what the in-process events are kept for. */
export const fenetreMaxMinutes = (c: DetectionConfig) =>
  Math.max(c.connexionEchecsAdresse.fenetreMinutes, ...REGLES_JOURNAL.map((r) => r.reglage(c).fenetreMinutes));

const LIGNES_MAX = 20_000;

/** The entries of these actions since `depuis`, newest first, with the family each concerns. */
export async function lireJournal(db: Kysely<Schema>, actions: readonly string[], depuis: string): Promise<LigneJournal[]> {
  const rows = await db
    .selectFrom('journal_audit as j')
    .leftJoin('demandes as d', (join) => join.onRef('d.id', '=', 'j.target_id').on('j.target_type', '=', 'demande'))
    .select(['j.seq', 'j.recorded_at', 'j.actor_type', 'j.actor_id', 'j.action', 'j.outcome', 'j.target_type', 'j.target_id', 'j.details', 'd.famille_id'])
    .where('j.action', 'in', [...actions])
    .where('j.recorded_at', '>=', depuis)
    .orderBy('j.seq', 'desc')
    .limit(LIGNES_MAX)
    .execute();
  return rows.map((r) => {
    let details: Record<string, AuditDetailValue> = {};
    try {
      const parsed = JSON.parse(r.details) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, AuditDetailValue>;
    } catch {
      // Tampering shows in `quotient audit verify`; the rules read on.
    }
    const familleDetail = typeof details.famille === 'string' ? details.famille : null;
    return {
      seq: Number(r.seq),
      le: r.recorded_at,
      acteur: r.actor_id,
      acteurType: r.actor_type,
      action: r.action,
      outcome: r.outcome,
      cible: r.target_id,
      details,
      famille: r.target_type === 'famille' ? r.target_id : (r.famille_id ?? familleDetail),
    };
  });
}

/** A rule over the lines already read: one finding per key at or above the threshold. */
export function appliquer(regle: RegleJournal, lignes: readonly LigneJournal[], config: DetectionConfig, maintenant: number): Constat[] {
  const r = regle.reglage(config);
  const depuis = new Date(maintenant - r.fenetreMinutes * 60_000).toISOString();
  const groupes = new Map<string, { seqs: number[]; valeurs: Set<string> }>();
  for (const l of lignes) {
    if (l.le < depuis || !regle.actions.includes(l.action) || (regle.retenir && !regle.retenir(l))) continue;
    const cle = regle.cle(l);
    if (cle === null) continue;
    const valeur = regle.distinct ? regle.distinct(l) : String(l.seq);
    if (valeur === null) continue;
    const g = groupes.get(cle) ?? { seqs: [], valeurs: new Set<string>() };
    g.seqs.push(l.seq);
    g.valeurs.add(valeur);
    groupes.set(cle, g);
  }
  const constats: Constat[] = [];
  for (const [cle, g] of groupes) {
    const n = g.valeurs.size;
    if (n < r.seuil) continue;
    constats.push({
      regle: regle.code,
      cle,
      gravite: regle.gravite,
      ...regle.decrire(cle, n, r),
      details: { nombre: n, seuil: r.seuil, fenetreMinutes: r.fenetreMinutes },
      preuves: g.seqs.slice(0, MAX_PREUVES).map((journalSeq) => ({ journalSeq })),
    });
  }
  return constats;
}
