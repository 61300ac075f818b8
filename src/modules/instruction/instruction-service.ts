import type { Kysely } from 'kysely';
import { LIBELLES_CANAL, STATUTS, type CanalDemande, type StatutDemande } from '../../domain/demande.ts';
import { quotientEnVigueur } from '../../domain/quotient-en-vigueur.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { createSituationFiscale, LIBELLES_AVERTISSEMENTS_AVIS, type Declarant } from '../../domain/situation-fiscale.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import { COFFRE } from '../demandes/demandes-repo.ts';
import type { CodeMotif } from '../demandes/motifs.ts';

/**
 * The instructor's reading of the requests: the review queue, the case of one request or
 * contestation. Need to know (ARCHITECTURE §3.7): the queue and the summaries
 * hold no fiscal value; the fiscal fields a case needs are read from the silo only together with
 * the journal entry that records who read them and why. Decisions, and the answers to
 * contestations, are `DecisionsService`'s.
 */

export const TYPES_DOSSIER = ['identite', 'annee', 'cas_particulier', 'contestation'] as const;
export type TypeDossier = (typeof TYPES_DOSSIER)[number];

export const LIBELLES_TYPE: Record<TypeDossier, string> = {
  identite: 'Identité à vérifier',
  annee: 'Avis non disponible',
  cas_particulier: 'Cas particulier',
  contestation: 'Contestation',
};

/** Why the machine stopped, for the instructor: the request keeps the family's sentence, this is the agent's. */
const RAISONS: Partial<Record<CodeMotif, { type: TypeDossier; raison: string }>> = {
  identite: { type: 'identite', raison: 'Les déclarants de l’avis ne correspondent pas exactement aux parents déclarés.' },
  discordant: { type: 'identite', raison: 'L’avis reçu ne concerne aucun des parents déclarés ; il n’a pas été conservé.' },
  introuvable: { type: 'annee', raison: 'La DGFiP ne trouve pas d’avis pour ce numéro fiscal et cette année.' },
  annee_indisponible: { type: 'annee', raison: 'L’avis de l’année demandée n’existe pas encore.' },
  situation_multiple: { type: 'cas_particulier', raison: 'Plusieurs avis existent pour la même année (mariage, décès, séparation).' },
  situation_incomplete: { type: 'cas_particulier', raison: 'L’avis reçu ne dit pas le nombre de personnes à charge (non communiqué par la DGFiP).' },
  combinaison: { type: 'cas_particulier', raison: 'Les avis des deux foyers ne peuvent pas être combinés automatiquement.' },
  quotient_caf_absent: {
    type: 'cas_particulier',
    raison:
      'La politique tarifaire retient le quotient de la CAF ou de la MSA, et il manque : aucun allocataire à cet état civil, ou pas d’accord de la famille pour interroger les caisses.',
  },
  caf_indisponible: {
    type: 'cas_particulier',
    raison: 'La CAF ou la MSA n’a pas répondu (panne, quota, jeton ou réponse inutilisable) : la politique tarifaire a besoin de son quotient.',
  },
  ressources_manquantes: { type: 'cas_particulier', raison: 'La politique divise les ressources mensuelles de la famille, qui n’ont pas été indiquées.' },
  avis_depose: { type: 'annee', raison: 'La famille a envoyé son avis d’imposition : fixez le quotient au vu du document, ou refusez.' },
};
const RAISON_CONTESTATION = 'La famille conteste les données ou le résultat.';

/** The kind of case and the reason in plain French, from the code of the reason the processing recorded. */
export function classer(code: string | null): { type: TypeDossier; raison: string } {
  return (
    (code !== null && Object.hasOwn(RAISONS, code) ? RAISONS[code as CodeMotif] : undefined) ?? {
      type: 'cas_particulier',
      raison: 'Cas à examiner : la demande n’a pas pu être terminée automatiquement.',
    }
  );
}

/** Reasons an instructor gives for opening a case, each written to the journal. */
export const MOTIFS_CONSULTATION = {
  verification_identite: 'Vérification d’identité',
  avis_indisponible: 'Avis introuvable ou année non disponible',
  cas_particulier: 'Examen d’un cas particulier',
  contestation: 'Examen d’une contestation',
  qf_manuel: 'Quotient à fixer au vu d’un document présenté',
  autre: 'Autre motif',
} as const;
export type CodeMotifConsultation = keyof typeof MOTIFS_CONSULTATION;

/** The reason proposed first for each kind of case. */
export const MOTIF_PAR_TYPE: Record<TypeDossier, CodeMotifConsultation> = {
  identite: 'verification_identite',
  annee: 'avis_indisponible',
  cas_particulier: 'cas_particulier',
  contestation: 'contestation',
};

export interface MotifConsultation {
  readonly code: CodeMotifConsultation;
  /** As journaled: the label, and the instructor's words when given. */
  readonly texte: string;
}

export const PRECISION_MAX = 200;

/**
 * The reason typed for a view. One line (a journal detail holds no line break), bounded, without
 * a numéro fiscal. Throws `QuotientError('invalid', 'motif_consultation_invalide')` per field.
 */
export function lireMotifConsultation(input: { motif?: unknown; precision?: unknown }): MotifConsultation {
  const errors: ErrorDetail[] = [];
  const code = typeof input.motif === 'string' && Object.hasOwn(MOTIFS_CONSULTATION, input.motif) ? (input.motif as CodeMotifConsultation) : undefined;
  if (!code) errors.push({ path: 'motif', message: 'Choisissez le motif de la consultation.' });
  // Line breaks and control characters would forge lines in a displayed journal: one line only.
  // eslint-disable-next-line no-control-regex
  const precision = typeof input.precision === 'string' ? input.precision.replace(/[\s\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim() : '';
  if (precision.length > PRECISION_MAX) errors.push({ path: 'precision', message: `La précision ne doit pas dépasser ${PRECISION_MAX} caractères.` });
  else if (ressembleANumeroFiscal(precision))
    errors.push({ path: 'precision', message: 'La précision semble contenir un numéro fiscal : retirez-le, il ne doit jamais être enregistré.' });
  else if (code === 'autre' && precision === '') errors.push({ path: 'precision', message: 'Précisez le motif de la consultation.' });
  if (errors.length > 0 || !code) {
    throw new QuotientError(
      'invalid',
      'motif_consultation_invalide',
      'Indiquez pourquoi vous consultez ce dossier : chaque consultation est enregistrée avec son motif.',
      { details: errors },
    );
  }
  return { code, texte: precision ? `${MOTIFS_CONSULTATION[code]} : ${precision}` : MOTIFS_CONSULTATION[code] };
}

export interface ElementFile {
  readonly cible: 'demande' | 'contestation';
  readonly id: string;
  /** The request's reference (a contestation's: the contested request's, or the family's). */
  readonly reference: string;
  readonly type: TypeDossier;
  readonly raison: string;
  readonly canal: string;
  /** When the case reached the queue (ISO). */
  readonly depuis: string;
  /** The family's QF in force today, recorded before this request (one after it took the request out of the queue). */
  readonly quotientEnVigueur?: { readonly cents: number; readonly periode: string; readonly valideAu: string };
}

export interface DecisionPrise {
  readonly decision: string;
  readonly justification: string;
  readonly piece: string | null;
  readonly decideeLe: string;
  readonly agent: string;
}

export interface QuotientRetenu {
  readonly cents: number;
  readonly periode: string;
  readonly valideDu: string;
  readonly valideAu: string;
  readonly origine: string;
}

/** What anybody in the review section may see of a request: no fiscal value. */
export interface ResumeDemande {
  readonly id: string;
  readonly familleId: string;
  readonly reference: string;
  readonly statut: StatutDemande;
  readonly canal: string;
  readonly creeeLe: string;
  readonly anneeDemandee: number | null;
  readonly type: TypeDossier;
  readonly raison: string;
  /** Still waiting for a decision. */
  readonly aDecider: boolean;
  readonly decisions: readonly DecisionPrise[];
  readonly quotient: QuotientRetenu | null;
  readonly contestationsOuvertes: readonly string[];
}

export interface ParentFamille {
  readonly rang: number;
  readonly nomNaissance: string;
  readonly nomUsage: string | null;
  readonly prenoms: string;
  readonly dateNaissance: string | null;
  readonly cohabite: boolean;
}

/** One avis asked for the request, with only the fields the case needs. */
export interface AvisDossier {
  readonly parent: number;
  /** `recu`, or not obtained (`a_appeler`). */
  readonly recu: boolean;
  /** False when the avis was received but not kept (it was somebody else's). */
  readonly conserve: boolean;
  readonly anneeRevenus: number | null;
  /** Identity cases only. */
  readonly declarants?: readonly Declarant[];
  /** Amount cases only (contestation, QF by hand, special case). */
  readonly rfr?: number;
  readonly nbParts?: number;
  /** What the source said about the avis itself (a later correction, a partial year), in words. */
  readonly avertissements?: readonly string[];
}

export interface DossierDemande extends ResumeDemande {
  readonly famille: {
    readonly reference: string;
    readonly resident: boolean;
    readonly parents: readonly ParentFamille[];
    readonly enfants: ReadonlyArray<{ prenoms: string; nom: string; dateNaissance: string | null; residence: string }>;
  };
  readonly avis: readonly AvisDossier[];
  /** The identity control's sentences (identity cases). */
  readonly controleIdentite: readonly string[];
  /** The sentence explaining the QF computed (quotes RFR and parts): amount cases with a result. */
  readonly explication: string | null;
  /** Confirming is possible: every avis was received and kept. */
  readonly peutConfirmer: boolean;
}

export interface ResumeContestation {
  readonly id: string;
  readonly familleId: string;
  readonly reference: string;
  readonly ouverteLe: string;
  readonly statut: string;
  readonly traiteeLe: string | null;
  readonly demande: ResumeDemande | null;
}

export interface DossierContestation extends ResumeContestation {
  /** The family's own words: shown with the case, after the reason is given. */
  readonly message: string;
  readonly reponse: string | null;
  readonly dossier: DossierDemande | null;
}

export interface InstructionDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly clock?: () => number;
}

const introuvable = () => new QuotientError('not_found', 'dossier_introuvable', 'Dossier introuvable.');
const libelleCanal = (canal: string) => LIBELLES_CANAL[canal as CanalDemande] ?? canal;

export class InstructionService {
  constructor(private readonly deps: InstructionDeps) {}

  /** The queue as an instructor reads it: one journal entry per reading, with what was listed. */
  async consulterFile(acteur: Acteur, type?: TypeDossier): Promise<ElementFile[]> {
    const elements = await this.file(type);
    await this.deps.journal.append({
      actor: acteur,
      action: 'instruction.file_consultee',
      outcome: 'succes',
      details: { type: type ?? 'tous', dossiers: elements.length },
    });
    return elements;
  }

  /** A request's summary as an instructor reads it (no fiscal value): journaled too, without a reason. */
  async apercu(demandeId: string, acteur: Acteur): Promise<ResumeDemande> {
    const resume = await this.resume(demandeId);
    await this.deps.journal.append({
      actor: acteur,
      action: 'demande.apercu_instruction',
      target: { type: 'demande', id: demandeId },
      outcome: 'succes',
      details: { famille: resume.familleId },
    });
    return resume;
  }

  /** A contestation's summary (neither the family's message nor any fiscal value), journaled. */
  async apercuContestation(contestationId: string, acteur: Acteur): Promise<ResumeContestation> {
    const resume = await this.resumeContestation(contestationId);
    await this.deps.journal.append({
      actor: acteur,
      action: 'contestation.apercu_instruction',
      target: { type: 'contestation', id: contestationId },
      outcome: 'succes',
      details: { famille: resume.familleId },
    });
    return resume;
  }

  /** Requests to check and open contestations, oldest first, optionally of one kind. No fiscal value. */
  async file(type?: TypeDossier): Promise<ElementFile[]> {
    const { db } = this.deps;
    const elements: ElementFile[] = [];
    if (type !== 'contestation') {
      const rows = await db
        .selectFrom('demandes')
        .select(['id', 'reference', 'motif_code', 'canal', 'modifiee_le', 'famille_id', 'creee_le'])
        .where('statut', '=', 'a_verifier')
        .orderBy('modifiee_le')
        .execute();
      const enVigueur = await this.quotientsEnVigueur([...new Set(rows.map((r) => r.famille_id))]);
      for (const r of rows) {
        const c = classer(r.motif_code);
        const qf = enVigueur.get(r.famille_id);
        // The family got a QF in force since (a new request went through, an agent set one): this one is superseded.
        if (qf && qf.calculeLe > r.creee_le) continue;
        if (type === undefined || c.type === type)
          elements.push({
            cible: 'demande',
            id: r.id,
            reference: r.reference,
            ...c,
            canal: libelleCanal(r.canal),
            depuis: r.modifiee_le,
            ...(qf ? { quotientEnVigueur: { cents: qf.cents, periode: qf.periode, valideAu: qf.valideAu } } : {}),
          });
      }
    }
    if (type === undefined || type === 'contestation') {
      const rows = await db
        .selectFrom('contestations')
        .innerJoin('familles', 'familles.id', 'contestations.famille_id')
        .leftJoin('demandes', 'demandes.id', 'contestations.demande_id')
        .select(['contestations.id', 'contestations.ouverte_le', 'demandes.reference as demande', 'familles.reference as famille'])
        .where('contestations.statut', '=', 'ouverte')
        .orderBy('contestations.ouverte_le')
        .execute();
      // Families contest from their space: the contestation itself always arrives online.
      for (const r of rows)
        elements.push({
          cible: 'contestation',
          id: r.id,
          reference: r.demande ?? r.famille,
          type: 'contestation',
          raison: RAISON_CONTESTATION,
          canal: LIBELLES_CANAL.en_ligne,
          depuis: r.ouverte_le,
        });
    }
    return elements.sort((a, b) => (a.depuis < b.depuis ? -1 : a.depuis > b.depuis ? 1 : 0));
  }

  /** The QF in force today of each family, by the same rule as the family's space and the attestation. */
  private async quotientsEnVigueur(familles: readonly string[]) {
    const enVigueur = new Map<string, { cents: number; periode: string; valideDu: string; valideAu: string; calculeLe: string }>();
    if (familles.length === 0) return enVigueur;
    const rows = await this.deps.db
      .selectFrom('quotients')
      .select(['famille_id', 'valeur_cents', 'periode', 'valide_du', 'valide_au', 'calcule_le'])
      .where('famille_id', 'in', familles)
      .execute();
    const aujourdhui = parisDate((this.deps.clock ?? Date.now)());
    for (const familleId of familles) {
      const qs = rows
        .filter((r) => r.famille_id === familleId)
        .map((r) => ({ cents: r.valeur_cents, periode: r.periode, valideDu: r.valide_du, valideAu: r.valide_au, calculeLe: r.calcule_le }));
      const q = quotientEnVigueur(qs, aujourdhui);
      if (q) enVigueur.set(familleId, q);
    }
    return enVigueur;
  }

  /**
   * A request as the review section may show it before any reason is given. Only requests that
   * are, or were, an instructor's business: to check, decided by one, or contested.
   */
  async resume(demandeId: string): Promise<ResumeDemande> {
    const { db } = this.deps;
    const d = await db.selectFrom('demandes').selectAll().where('id', '=', demandeId).executeTakeFirst();
    if (!d) throw introuvable();
    const [decisions, quotient, contestations] = await Promise.all([
      db
        .selectFrom('decisions')
        .leftJoin('agents', 'agents.id', 'decisions.agent_id')
        .select(['decisions.decision', 'decisions.justification', 'decisions.piece', 'decisions.decidee_le', 'agents.prenom', 'agents.nom'])
        .where('decisions.demande_id', '=', demandeId)
        .orderBy('decisions.decidee_le')
        .execute(),
      db
        .selectFrom('quotients')
        .select(['valeur_cents', 'periode', 'valide_du', 'valide_au', 'origine'])
        .where('demande_id', '=', demandeId)
        .executeTakeFirst(),
      db.selectFrom('contestations').select(['id']).where('demande_id', '=', demandeId).where('statut', '=', 'ouverte').execute(),
    ]);
    const { statut } = d;
    if (statut !== 'a_verifier' && decisions.length === 0 && contestations.length === 0) {
      const contestee = await db.selectFrom('contestations').select('id').where('demande_id', '=', demandeId).executeTakeFirst();
      if (!contestee) throw introuvable();
    }
    const c = classer(d.motif_code);
    return {
      id: d.id,
      familleId: d.famille_id,
      reference: d.reference,
      statut,
      canal: libelleCanal(d.canal),
      creeeLe: d.creee_le,
      anneeDemandee: d.annee_revenus,
      type: statut === 'a_verifier' ? c.type : contestations.length > 0 ? 'contestation' : c.type,
      raison: statut === 'a_verifier' ? c.raison : contestations.length > 0 ? RAISON_CONTESTATION : (d.motif ?? STATUTS[statut].libelle),
      aDecider: statut === 'a_verifier',
      decisions: decisions.map((x) => ({
        decision: x.decision,
        justification: x.justification,
        piece: x.piece,
        decideeLe: x.decidee_le,
        agent: x.prenom ? `${x.prenom} ${x.nom}` : 'agent',
      })),
      quotient: quotient
        ? { cents: quotient.valeur_cents, periode: quotient.periode, valideDu: quotient.valide_du, valideAu: quotient.valide_au, origine: quotient.origine }
        : null,
      contestationsOuvertes: contestations.map((x) => x.id),
    };
  }

  /**
   * The case of one request with the fiscal fields its kind needs, read from the silo. Writes one
   * journal entry with the reason, in the same call: no fiscal field leaves here untraced.
   */
  async dossier(demandeId: string, acteur: Acteur, motif: MotifConsultation, options: { contestationId?: string } = {}): Promise<DossierDemande> {
    const resume = await this.resume(demandeId);
    const dossier = await this.lireDossier(resume, options.contestationId ? 'contestation' : resume.type);
    await this.deps.journal.append({
      actor: acteur,
      action: 'demande.consultee_instruction',
      target: { type: 'demande', id: demandeId },
      outcome: 'succes',
      details: {
        motif_consultation: motif.texte,
        famille: resume.familleId,
        // Which fiscal fields were shown: an auditor checks them against the reason.
        champs: dossier.avis.some((a) => a.rfr !== undefined)
          ? 'annee_rfr_parts'
          : dossier.avis.some((a) => a.declarants) || dossier.controleIdentite.length > 0
            ? 'annee_declarants'
            : 'aucun',
        ...(options.contestationId ? { contestation: options.contestationId } : {}),
      },
    });
    return dossier;
  }

  private async lireDossier(resume: ResumeDemande, type: TypeDossier): Promise<DossierDemande> {
    const { db, coffre } = this.deps;
    const [famille, parents, enfants, foyersFiscaux] = await Promise.all([
      db.selectFrom('familles').select(['reference', 'resident']).where('id', '=', resume.familleId).executeTakeFirstOrThrow(),
      db.selectFrom('parents').selectAll().where('famille_id', '=', resume.familleId).orderBy('rang').execute(),
      db.selectFrom('enfants').selectAll().where('famille_id', '=', resume.familleId).orderBy('date_naissance').execute(),
      db
        .selectFrom('demande_foyers')
        .select(['id', 'parent_rang', 'etat', 'annee_revenus'])
        .where('demande_id', '=', resume.id)
        .orderBy('parent_rang')
        .execute(),
    ]);
    // Need to know: identity cases compare people, amount cases need the year, RFR and parts.
    const identite = type === 'identite';
    const avis: AvisDossier[] = [];
    for (const f of foyersFiscaux) {
      const kept = f.etat === 'recu' ? await coffre.get(COFFRE.situation, f.id) : undefined;
      const s = kept === undefined ? undefined : createSituationFiscale(kept);
      avis.push({
        parent: f.parent_rang,
        recu: f.etat === 'recu',
        conserve: s !== undefined,
        anneeRevenus: s?.anneeRevenus ?? f.annee_revenus,
        ...(s && identite ? { declarants: s.declarants } : {}),
        ...(s && !identite ? { rfr: s.rfr, nbParts: s.nbParts } : {}),
        ...(s && s.avertissements.length > 0 ? { avertissements: s.avertissements.map((a) => LIBELLES_AVERTISSEMENTS_AVIS[a]) } : {}),
      });
    }
    const controleIdentite = identite ? ((await coffre.get(COFFRE.controleIdentite, resume.id)) as { motifs?: unknown } | undefined) : undefined;
    const calcul = !identite && resume.quotient ? ((await coffre.get(COFFRE.calcul, resume.id)) as { explication?: unknown } | undefined) : undefined;
    return {
      ...resume,
      famille: {
        reference: famille.reference,
        resident: famille.resident === 1,
        parents: parents.map((p) => ({
          rang: p.rang,
          nomNaissance: p.nom_naissance,
          nomUsage: p.nom_usage,
          prenoms: p.prenoms,
          dateNaissance: p.date_naissance,
          cohabite: p.au_foyer === 1,
        })),
        enfants: enfants.map((e) => ({ prenoms: e.prenoms, nom: e.nom, dateNaissance: e.date_naissance, residence: e.residence })),
      },
      avis,
      controleIdentite: Array.isArray(controleIdentite?.motifs) ? controleIdentite.motifs.filter((m): m is string => typeof m === 'string') : [],
      explication: typeof calcul?.explication === 'string' ? calcul.explication : null,
      peutConfirmer: resume.aDecider && avis.length > 0 && avis.every((a) => a.conserve),
    };
  }

  async resumeContestation(contestationId: string): Promise<ResumeContestation> {
    const { db } = this.deps;
    const c = await db
      .selectFrom('contestations')
      .innerJoin('familles', 'familles.id', 'contestations.famille_id')
      .leftJoin('demandes', 'demandes.id', 'contestations.demande_id')
      .select([
        'contestations.id',
        'contestations.famille_id',
        'contestations.demande_id',
        'contestations.statut',
        'contestations.ouverte_le',
        'contestations.traitee_le',
        'demandes.reference as demande',
        'familles.reference as famille',
      ])
      .where('contestations.id', '=', contestationId)
      .executeTakeFirst();
    if (!c) throw introuvable();
    return {
      id: c.id,
      familleId: c.famille_id,
      reference: c.demande ?? c.famille,
      ouverteLe: c.ouverte_le,
      statut: c.statut,
      traiteeLe: c.traitee_le,
      demande: c.demande_id ? await this.resume(c.demande_id) : null,
    };
  }

  /** A contestation with the family's message and the contested request's amounts; one journal entry with the reason. */
  async dossierContestation(contestationId: string, acteur: Acteur, motif: MotifConsultation): Promise<DossierContestation> {
    const resume = await this.resumeContestation(contestationId);
    const row = await this.deps.db.selectFrom('contestations').select(['motif', 'reponse']).where('id', '=', contestationId).executeTakeFirstOrThrow();
    const dossier = resume.demande ? await this.lireDossier(resume.demande, 'contestation') : null;
    await this.deps.journal.append({
      actor: acteur,
      action: 'contestation.consultee_instruction',
      target: { type: 'contestation', id: contestationId },
      outcome: 'succes',
      details: {
        motif_consultation: motif.texte,
        famille: resume.familleId,
        ...(resume.demande ? { demande: resume.demande.id } : {}),
        champs: dossier?.avis.some((a) => a.rfr !== undefined) ? 'annee_rfr_parts' : 'aucun',
      },
    });
    return { ...resume, message: row.motif, reponse: row.reponse, dossier };
  }
}
