import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { CSV_BOM, csvRow } from '../../infra/csv/csv.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { TYPES_ACTEUR, OUTCOMES } from '../audit/audit-entry.ts';
import {
  BREAK_MESSAGES,
  type Acteur,
  type AuditDetailValue,
  type AuditEntry,
  type AuditFilter,
  type AuditRef,
  type BreakReason,
  type JournalAudit,
} from '../audit/index.ts';
import type { Agent } from '../agents/agents-service.ts';
import type { EtatIntegrite, GardeIntegrite } from '../incident/garde-integrite.ts';
import { estUnAcces, nouvelleGraine, tirerEchantillon } from './echantillon.ts';
import { LIBELLES_ACTEURS, LIBELLES_CIBLES, LIBELLES_RESULTATS, libelleAction } from './libelles.ts';
import { ANNEE_MAX, ANNEE_MIN, dansLesBornes, dateHeureParis, dateLisible, instantDebut, instantFin, jourParis, lireDate, type DateSaisie } from './periode.ts';

/**
 * The auditor's use cases: the journal read through filters, exports about one person, periodic
 * controls on a random sample of accesses, and the integrity of the journal. The journal holds no
 * fiscal value, and neither does anything here: auditors see who did what, when, to which record.
 * Every read of the journal is itself one journal entry.
 */
export interface ControleDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly agents: { lister(): Promise<Agent[]> };
  /** The integrity halt: the check run here decides it, and only an auditor's acknowledgement lifts it. */
  readonly integrite: Pick<GardeIntegrite, 'verifier' | 'etat' | 'reconnaitre'>;
  readonly clock?: () => number;
}

/** The filter form as typed (query string): every field optional. */
export interface FiltreSaisi {
  readonly agent?: string;
  readonly acteurType?: string;
  readonly acteurId?: string;
  readonly action?: string;
  readonly du?: string;
  readonly au?: string;
  readonly famille?: string;
  readonly resultat?: string;
}

export interface FamilleCiblee {
  readonly id: string;
  readonly reference: string;
  readonly demandes: readonly string[];
  readonly comptes: readonly string[];
  readonly contestations: readonly string[];
}

export interface FiltreLu {
  readonly filtre: AuditFilter;
  /** One line for people and for the journal entry of the read: never a value of a family's data. */
  readonly resume: string;
  readonly famille: FamilleCiblee | null;
}

export interface EntreeLisible {
  readonly seq: number;
  readonly dateIso: string;
  readonly date: string;
  readonly acteurType: string;
  readonly acteurTypeLibelle: string;
  readonly acteurId: string;
  /** The agent's name for an agent. */
  readonly acteurNom: string | null;
  readonly pourLeCompteDe: string | null;
  readonly action: string;
  readonly actionLibelle: string | null;
  readonly cibleType: string | null;
  readonly cibleTypeLibelle: string | null;
  readonly cibleId: string | null;
  /** A family's or request's reference, an agent's name. */
  readonly cibleLibelle: string | null;
  readonly resultat: string;
  readonly resultatLibelle: string;
  readonly correlation: string | null;
  /** `clé = valeur ; …` for pages and CSV. */
  readonly details: string;
  readonly detailsBruts: Readonly<Record<string, AuditDetailValue>>;
}

export interface PageJournal {
  readonly entrees: readonly EntreeLisible[];
  readonly suivante: number | null;
  readonly resume: string;
}

export type Sujet = { readonly type: 'famille'; readonly reference: string } | { readonly type: 'agent'; readonly id: string };

export interface ExportSaisi {
  readonly sujet?: string;
  readonly famille?: string;
  readonly agent?: string;
  readonly du?: string;
  readonly au?: string;
  readonly format?: string;
}

export interface Fichier {
  readonly nom: string;
  readonly type: string;
  readonly corps: AsyncIterable<string>;
  readonly entrees: number;
}

export interface ControleResume {
  readonly id: string;
  readonly du: string;
  readonly au: string;
  readonly taille: number;
  readonly creeLe: string;
  readonly creePar: string;
  readonly closLe: string | null;
}

export interface ControleDetail extends ControleResume {
  readonly graine: string;
  readonly observations: string | null;
  readonly entrees: readonly EntreeLisible[];
  /** The sample drawn again from the seed over the same period: true when it is the same. */
  readonly reproductible: boolean;
  readonly population: number;
  /** The highest journal sequence number when the control was drawn (null for controls made before it was kept). */
  readonly borne: number | null;
}

export interface Verification {
  readonly le: string;
  readonly par: string;
  readonly intact: boolean;
  readonly message: string;
  readonly sequenceRompue: number | null;
  readonly entreesVerifiees: number;
  readonly ancre: { readonly etat: string; readonly sequence: number | null };
  readonly dureeMs: number;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;
const ACTION = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\.?$/;
const REFERENCE = /^([A-Z])-?([A-Z0-9]{4})-?([A-Z0-9]{4})$/;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const controleIntrouvable = () => new QuotientError('not_found', 'controle_introuvable', 'Ce contrôle n’existe pas.');
export const TAILLE_MAX = 200;
/** A control covers a year at most: viewing it draws the sample again over its whole period. */
export const PERIODE_MAX_JOURS = 366;
const OBSERVATIONS_MAX = 5000;
const PAGE = 50;

const invalide = (message: string, details: ErrorDetail[]) => new QuotientError('invalid', 'filtre_invalide', message, { details });

const libelleAgent = (a: Agent) => `${a.prenom} ${a.nom}`;

export class ControleService {
  constructor(private readonly deps: ControleDeps) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  async agents(): Promise<Agent[]> {
    return this.deps.agents.lister();
  }

  // -------------------------------------------------------------------------------------------
  // Reading the journal

  /** A family by its reference (`F-ABCD-EFGH`), or by the reference of one of its requests. */
  async familleParReference(saisie: string, champ: string): Promise<FamilleCiblee> {
    const texte = saisie.trim().toUpperCase().replace(/\s+/g, '');
    const m = REFERENCE.exec(texte);
    if (!m || (m[1] !== 'F' && m[1] !== 'D')) {
      throw invalide('Vérifiez la référence.', [
        { path: champ, message: 'Indiquez la référence d’une famille (par exemple F-ABCD-EFGH) ou d’une demande (D-ABCD-EFGH).' },
      ]);
    }
    // As typed first (references made elsewhere may differ in case), then in the usual form.
    const reference = `${m[1]}-${m[2]}-${m[3]}`;
    const candidates = [...new Set([saisie.trim(), reference])];
    const { db } = this.deps;
    let famille =
      m[1] === 'F' ? await db.selectFrom('familles').select(['id', 'reference']).where('reference', 'in', candidates).executeTakeFirst() : undefined;
    if (m[1] === 'D') {
      const demande = await db.selectFrom('demandes').select('famille_id').where('reference', 'in', candidates).executeTakeFirst();
      if (demande) famille = await db.selectFrom('familles').select(['id', 'reference']).where('id', '=', demande.famille_id).executeTakeFirst();
    }
    if (!famille)
      throw new QuotientError('not_found', 'famille_introuvable', 'Aucune famille ne correspond.', {
        details: [{ path: champ, message: `Aucune famille ni demande ne porte la référence ${reference}.` }],
      });
    const [demandes, comptes, contestations] = await Promise.all([
      db.selectFrom('demandes').select('id').where('famille_id', '=', famille.id).execute(),
      db.selectFrom('comptes').select('id').where('famille_id', '=', famille.id).execute(),
      db.selectFrom('contestations').select('id').where('famille_id', '=', famille.id).execute(),
    ]);
    return {
      id: famille.id,
      reference: famille.reference,
      demandes: demandes.map((d) => d.id),
      comptes: comptes.map((c) => c.id),
      contestations: contestations.map((c) => c.id),
    };
  }

  private date(text: string | undefined, champ: string, nom: string, problems: ErrorDetail[]): DateSaisie | undefined {
    const t = (text ?? '').trim();
    if (t === '') return undefined;
    const d = lireDate(t);
    if (!d) problems.push({ path: champ, message: `La date « ${nom} » doit être au format JJ/MM/AAAA, par exemple 03/02/2026.` });
    else if (!dansLesBornes(d)) {
      problems.push({ path: champ, message: `La date « ${nom} » doit être comprise entre ${ANNEE_MIN} et ${ANNEE_MAX}.` });
      return undefined;
    }
    return d ?? undefined;
  }

  /** Reads the filter form; a French error per faulty field, all at once. */
  async lireFiltre(saisi: FiltreSaisi): Promise<FiltreLu> {
    const problems: ErrorDetail[] = [];
    const resume: string[] = [];
    const filtre: { -readonly [K in keyof AuditFilter]: AuditFilter[K] } = {};
    const texte = (v: string | undefined) => (v ?? '').trim();
    const sur = (champ: string, valeur: string, max: number): boolean => {
      if (valeur.length > max) problems.push({ path: champ, message: `${max} caractères au plus.` });
      else if (CONTROL.test(valeur)) problems.push({ path: champ, message: 'Caractère non autorisé.' });
      else if (ressembleANumeroFiscal(valeur))
        problems.push({ path: champ, message: 'Un numéro fiscal ne peut pas servir de critère : le journal n’en contient jamais.' });
      else return true;
      return false;
    };

    const agentId = texte(saisi.agent);
    const acteurType = texte(saisi.acteurType);
    const acteurId = texte(saisi.acteurId);
    if (agentId !== '') {
      const agent = (await this.agents()).find((a) => a.id === agentId);
      if (!agent) problems.push({ path: 'agent', message: 'Choisissez un agent de la liste.' });
      else if (acteurType !== '' || acteurId !== '')
        problems.push({ path: 'agent', message: 'Choisissez un agent dans la liste ou indiquez un acteur, pas les deux.' });
      else {
        filtre.actor = { type: 'agent', id: agent.id };
        resume.push(`agent ${libelleAgent(agent)}`);
      }
    } else if (acteurType !== '' || acteurId !== '') {
      if (acteurType !== '' && !(TYPES_ACTEUR as readonly string[]).includes(acteurType))
        problems.push({ path: 'acteurType', message: 'Choisissez un type d’acteur de la liste.' });
      else if (acteurId !== '' && acteurType === '') problems.push({ path: 'acteurType', message: 'Choisissez le type d’acteur de cet identifiant.' });
      else if (acteurId === '' || sur('acteurId', acteurId, 200)) {
        filtre.actor = { type: acteurType as (typeof TYPES_ACTEUR)[number], ...(acteurId !== '' ? { id: acteurId } : {}) };
        resume.push(`acteur ${acteurType}${acteurId !== '' ? ` ${acteurId}` : ''}`);
      }
    }

    let action = texte(saisi.action).toLowerCase();
    // Same guard as the other fields: a 13-digit run would otherwise reach the journal entry of the read.
    if (action !== '' && sur('action', action, 100)) {
      // A bare family (« demande ») means all its codes.
      if (!action.includes('.')) action = `${action}.`;
      if (action.length > 100 || !ACTION.test(action))
        problems.push({
          path: 'action',
          message: 'Indiquez un code d’action, par exemple famille.consultee, ou une famille de codes terminée par un point, par exemple demande.',
        });
      else {
        filtre.action = action;
        resume.push(`action ${action}`);
      }
    }

    const du = this.date(saisi.du, 'du', 'du', problems);
    const au = this.date(saisi.au, 'au', 'au', problems);
    if (du && au && instantDebut(du) >= instantFin(au)) problems.push({ path: 'au', message: 'La date de fin précède la date de début.' });
    if (du) {
      filtre.from = instantDebut(du);
      resume.push(`du ${dateLisible(du)}`);
    }
    if (au) {
      filtre.to = instantFin(au);
      resume.push(`au ${dateLisible(au)}`);
    }

    const resultat = texte(saisi.resultat);
    if (resultat !== '') {
      if (!(OUTCOMES as readonly string[]).includes(resultat)) problems.push({ path: 'resultat', message: 'Choisissez un résultat de la liste.' });
      else {
        filtre.outcome = resultat as (typeof OUTCOMES)[number];
        resume.push(`résultat ${LIBELLES_RESULTATS[resultat]?.toLowerCase()}`);
      }
    }

    let famille: FamilleCiblee | null = null;
    const reference = texte(saisi.famille);
    if (reference !== '' && sur('famille', reference, 40)) {
      try {
        famille = await this.familleParReference(reference, 'famille');
        filtre.targets = refsFamille(famille);
        resume.push(`famille ${famille.reference}`);
      } catch (error) {
        if (!(error instanceof QuotientError) || (error.kind !== 'invalid' && error.kind !== 'not_found')) throw error;
        problems.push(...error.details);
      }
    }
    if (problems.length > 0) throw invalide('Vérifiez les critères de recherche.', problems);
    return { filtre, resume: resume.length > 0 ? resume.join(' ; ') : 'toutes les entrées', famille };
  }

  /** One page of the journal, newest first; the read is journaled with its criteria. */
  async consulterJournal(saisi: FiltreSaisi, avant: number | undefined, par: Acteur): Promise<PageJournal> {
    const lu = await this.lireFiltre(saisi);
    const page = await this.deps.journal.query(lu.filtre, { limit: PAGE, ...(avant !== undefined ? { before: avant } : {}) });
    await this.deps.journal.append({
      actor: par,
      action: 'journal.consulte',
      ...(lu.famille ? { target: { type: 'famille', id: lu.famille.id } } : {}),
      outcome: 'succes',
      details: { filtre: lu.resume.slice(0, 500), entrees: page.entries.length, ...(avant !== undefined ? { avant } : {}) },
    });
    return { entrees: await this.lisibles(page.entries), suivante: page.nextBefore, resume: lu.resume };
  }

  /** Entries as a person reads them: labels, agents' names, families' and requests' references. */
  async lisibles(entries: readonly AuditEntry[]): Promise<EntreeLisible[]> {
    const { db } = this.deps;
    const agents = new Map((await this.agents()).map((a) => [a.id, libelleAgent(a)]));
    const ids = (type: string) => [...new Set(entries.filter((e) => e.target?.type === type).map((e) => (e.target as AuditRef).id))];
    const familleIds = ids('famille');
    const demandeIds = ids('demande');
    const references = new Map<string, string>();
    if (familleIds.length > 0)
      for (const f of await db.selectFrom('familles').select(['id', 'reference']).where('id', 'in', familleIds).execute())
        references.set(`famille:${f.id}`, f.reference);
    if (demandeIds.length > 0)
      for (const d of await db.selectFrom('demandes').select(['id', 'reference']).where('id', 'in', demandeIds).execute())
        references.set(`demande:${d.id}`, d.reference);
    return entries.map((e) => {
      const cible = e.target;
      const behalf = e.actor.onBehalfOf;
      return {
        seq: e.seq,
        dateIso: e.time,
        date: dateHeureParis(e.time),
        acteurType: e.actor.type,
        acteurTypeLibelle: LIBELLES_ACTEURS[e.actor.type] ?? e.actor.type,
        acteurId: e.actor.id,
        acteurNom: e.actor.type === 'agent' ? (agents.get(e.actor.id) ?? null) : null,
        pourLeCompteDe: behalf
          ? `${LIBELLES_ACTEURS[behalf.type] ?? behalf.type} ${behalf.type === 'agent' ? (agents.get(behalf.id) ?? behalf.id) : behalf.id}`
          : null,
        action: e.action,
        actionLibelle: libelleAction(e.action),
        cibleType: cible?.type ?? null,
        cibleTypeLibelle: cible ? (LIBELLES_CIBLES[cible.type] ?? cible.type) : null,
        cibleId: cible?.id ?? null,
        cibleLibelle: cible ? (cible.type === 'agent' ? (agents.get(cible.id) ?? null) : (references.get(`${cible.type}:${cible.id}`) ?? null)) : null,
        resultat: e.outcome,
        resultatLibelle: LIBELLES_RESULTATS[e.outcome] ?? e.outcome,
        correlation: e.correlationId,
        details: Object.entries(e.details)
          .map(([k, v]) => `${k} = ${String(v)}`)
          .join(' ; '),
        detailsBruts: e.details,
      };
    });
  }

  // -------------------------------------------------------------------------------------------
  // Exports about one person

  /**
   * Every entry about a family (its records, its accounts' actions, the agents acting for it) or an
   * agent (what they did, what was done to their account) over a period, oldest first, as CSV or
   * JSON. The end of the period is capped at now, so the export's own journal entry, written
   * before the file is streamed, is not in it.
   */
  async exporter(saisi: ExportSaisi, par: Acteur): Promise<Fichier> {
    const { format, du, au, involving, target, sujetNom, sujetJson } = await this.lireExport(saisi);
    const maintenant = new Date(this.now()).toISOString();
    const from = du ? instantDebut(du) : undefined;
    const to = au && instantFin(au) < maintenant ? instantFin(au) : maintenant;
    const filtre: AuditFilter = { involving, ...(from ? { from } : {}), to };
    const entrees = await this.deps.journal.count(filtre);
    await this.deps.journal.append({
      actor: par,
      action: 'journal.exporte',
      target,
      outcome: 'succes',
      details: { format, entrees, ...(from ? { du: from } : {}), au: to },
    });

    const lots = this.lotsLisibles(filtre);
    const periode = `${du ? jourOuInstant(du) : 'debut'}_${au ? jourOuInstant(au) : 'aujourdhui'}`;
    const nom = `journal-${sujetNom}-${periode}`
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .replace(/[^A-Za-z0-9_.-]+/g, '-');
    if (format === 'csv') {
      return { nom: `${nom}.csv`, type: 'text/csv; charset=utf-8', corps: csvExport(lots), entrees };
    }
    const entete = { exporteLe: maintenant, exportePar: par.id, sujet: sujetJson, periode: { du: from ?? null, au: to }, entrees };
    return { nom: `${nom}.json`, type: 'application/json; charset=utf-8', corps: jsonExport(entete, lots), entrees };
  }

  /** Checks the export form without exporting: the checked fields, or a French error per faulty field. */
  async verifierExport(saisi: ExportSaisi): Promise<ExportSaisi> {
    return (await this.lireExport(saisi)).retenu;
  }

  private async lireExport(saisi: ExportSaisi) {
    const problems: ErrorDetail[] = [];
    const format = saisi.format === 'json' ? 'json' : saisi.format === 'csv' || saisi.format === undefined || saisi.format === '' ? 'csv' : null;
    if (format === null) problems.push({ path: 'format-csv', message: 'Choisissez le format du fichier : CSV ou JSON.' });
    const du = this.date(saisi.du, 'du', 'du', problems);
    const au = this.date(saisi.au, 'au', 'au', problems);
    if (du && au && instantDebut(du) >= instantFin(au)) problems.push({ path: 'au', message: 'La date de fin précède la date de début.' });

    let involving: AuditRef[] = [];
    let target: AuditRef | undefined;
    let sujetNom = '';
    let sujetJson: Record<string, string> = {};
    const sujet = saisi.sujet ?? '';
    if (sujet === 'famille') {
      const reference = (saisi.famille ?? '').trim();
      if (reference === '') problems.push({ path: 'famille', message: 'Indiquez la référence de la famille.' });
      else if (ressembleANumeroFiscal(reference))
        problems.push({ path: 'famille', message: 'Un numéro fiscal ne peut pas servir de critère : le journal n’en contient jamais.' });
      else {
        try {
          const f = await this.familleParReference(reference, 'famille');
          // A family acts through its accounts: as an actor it is named by the account's id.
          involving = [...refsFamille(f), ...f.comptes.map((id) => ({ type: 'famille', id }))];
          target = { type: 'famille', id: f.id };
          sujetNom = `famille-${f.reference}`;
          sujetJson = { type: 'famille', reference: f.reference, id: f.id };
        } catch (error) {
          if (!(error instanceof QuotientError) || (error.kind !== 'invalid' && error.kind !== 'not_found')) throw error;
          problems.push(...error.details);
        }
      }
    } else if (sujet === 'agent') {
      const agent = (await this.agents()).find((a) => a.id === (saisi.agent ?? ''));
      if (!agent) problems.push({ path: 'agent', message: 'Choisissez un agent de la liste.' });
      else {
        involving = [{ type: 'agent', id: agent.id }];
        target = { type: 'agent', id: agent.id };
        sujetNom = `agent-${agent.nom}-${agent.prenom}`;
        sujetJson = { type: 'agent', id: agent.id, nom: libelleAgent(agent) };
      }
    } else {
      problems.push({ path: 'sujet-famille', message: 'Indiquez si l’export concerne une famille ou un agent.' });
    }
    if (problems.length > 0 || target === undefined || format === null) throw invalide('Vérifiez les informations de l’export.', problems);
    // Only the fields the export uses, each one checked: what the session may keep until the download.
    const retenu: ExportSaisi = {
      sujet,
      ...(sujet === 'famille' ? { famille: (saisi.famille ?? '').trim() } : { agent: saisi.agent ?? '' }),
      ...(du ? { du: (saisi.du ?? '').trim() } : {}),
      ...(au ? { au: (saisi.au ?? '').trim() } : {}),
      format,
    };
    return { format, du, au, involving, target, sujetNom, sujetJson, retenu };
  }

  /** Readable entries in batches (one query per batch for names and references). */
  private async *lotsLisibles(filtre: AuditFilter): AsyncGenerator<EntreeLisible[]> {
    let lot: AuditEntry[] = [];
    for await (const e of this.deps.journal.exportMatching(filtre)) {
      lot.push(e);
      if (lot.length === 200) {
        yield await this.lisibles(lot);
        lot = [];
      }
    }
    if (lot.length > 0) yield await this.lisibles(lot);
  }

  // -------------------------------------------------------------------------------------------
  // Periodic controls

  /**
   * Seq numbers of the accesses to families' data by agents over a period (the control's population),
   * up to `borne` (the journal's last entry when the control was drawn): what is written later,
   * even dated within the period, does not change the population, so the draw stays reproducible.
   */
  private async population(du: string, au: string, borne: number | null): Promise<number[]> {
    const seqs: number[] = [];
    // Entries come oldest first, by sequence number: nothing after the bound needs reading.
    for await (const e of this.deps.journal.exportMatching({ actor: { type: 'agent' }, from: instantDebut({ jour: du }), to: instantFin({ jour: au }) })) {
      if (borne !== null && e.seq > borne) break;
      if (estUnAcces(e)) seqs.push(e.seq);
    }
    return seqs;
  }

  async creerControle(saisi: { du?: string; au?: string; taille?: string }, par: Acteur): Promise<string> {
    const problems: ErrorDetail[] = [];
    const du = this.date(saisi.du, 'du', 'du', problems);
    const au = this.date(saisi.au, 'au', 'au', problems);
    if (!saisi.du?.trim()) problems.push({ path: 'du', message: 'Indiquez le premier jour de la période contrôlée.' });
    if (!saisi.au?.trim()) problems.push({ path: 'au', message: 'Indiquez le dernier jour de la période contrôlée.' });
    if ((du && !('jour' in du)) || (au && !('jour' in au)))
      problems.push({ path: du && !('jour' in du) ? 'du' : 'au', message: 'Indiquez un jour, au format JJ/MM/AAAA.' });
    const tailleTexte = (saisi.taille ?? '').trim();
    const taille = /^[0-9]{1,4}$/.test(tailleTexte) ? Number(tailleTexte) : Number.NaN;
    if (!Number.isInteger(taille) || taille < 1 || taille > TAILLE_MAX)
      problems.push({ path: 'taille', message: `Indiquez un nombre d’accès à tirer entre 1 et ${TAILLE_MAX}.` });
    const jourDu = du && 'jour' in du ? du.jour : undefined;
    const jourAu = au && 'jour' in au ? au.jour : undefined;
    const aujourdhui = jourParis(new Date(this.now()).toISOString());
    if (jourDu && jourAu && jourDu > jourAu) problems.push({ path: 'au', message: 'La date de fin précède la date de début.' });
    else if (jourAu && jourAu > aujourdhui)
      problems.push({
        path: 'au',
        message: 'La période contrôlée ne peut pas finir après aujourd’hui : les accès à venir ne sont pas encore dans le journal.',
      });
    else if (jourDu && jourAu && joursEntre(jourDu, jourAu) + 1 > PERIODE_MAX_JOURS) {
      problems.push({
        path: 'du',
        message: `La période contrôlée ne peut pas dépasser ${PERIODE_MAX_JOURS} jours : choisissez une période plus courte, ou faites plusieurs contrôles.`,
      });
    }
    if (problems.length > 0 || !jourDu || !jourAu) throw invalide('Vérifiez les informations du contrôle.', problems);

    // The journal's last entry now bounds the population for good (see population()).
    const borne = (await this.deps.journal.query({}, { limit: 1 })).entries[0]?.seq ?? 0;
    const population = await this.population(jourDu, jourAu, borne);
    const graine = nouvelleGraine();
    const echantillon = tirerEchantillon(population, graine, taille);
    const id = randomUUID();
    const maintenant = new Date(this.now()).toISOString();
    await this.deps.journal.inTransaction(async (trx) => {
      await trx
        .insertInto('controles')
        .values({
          id,
          periode_du: jourDu,
          periode_au: jourAu,
          echantillon: JSON.stringify({ seqs: echantillon, borne } satisfies Echantillon),
          graine,
          cree_le: maintenant,
          cree_par: par.id,
          observations: null,
          clos_le: null,
        })
        .execute();
      await this.deps.journal.append(
        {
          actor: par,
          action: 'controle.cree',
          target: { type: 'controle', id },
          outcome: 'succes',
          details: { du: jourDu, au: jourAu, taille: echantillon.length, demandee: taille, population: population.length, borne },
        },
        trx,
      );
    });
    return id;
  }

  async listerControles(): Promise<ControleResume[]> {
    const rows = await this.deps.db.selectFrom('controles').selectAll().orderBy('cree_le', 'desc').execute();
    const agents = new Map((await this.agents()).map((a) => [a.id, libelleAgent(a)]));
    return rows.map((r) => ({
      id: r.id,
      du: r.periode_du,
      au: r.periode_au,
      taille: parseEchantillon(r.echantillon).seqs.length,
      creeLe: r.cree_le,
      creePar: agents.get(r.cree_par) ?? r.cree_par,
      closLe: r.clos_le,
    }));
  }

  private async ligne(id: string) {
    const row = ID.test(id) ? await this.deps.db.selectFrom('controles').selectAll().where('id', '=', id).executeTakeFirst() : undefined;
    if (!row) throw controleIntrouvable();
    return row;
  }

  /** A control with its sampled entries, drawn again from the seed to show it reproduces; journaled. */
  async controle(id: string, par: Acteur): Promise<ControleDetail> {
    const row = await this.ligne(id);
    const { seqs: echantillon, borne } = parseEchantillon(row.echantillon);
    const page = await this.deps.journal.query({ seqs: echantillon }, { limit: TAILLE_MAX });
    const population = await this.population(row.periode_du, row.periode_au, borne);
    const encore = tirerEchantillon(population, row.graine, echantillon.length);
    await this.deps.journal.append({
      actor: par,
      action: 'controle.consulte',
      target: { type: 'controle', id },
      outcome: 'succes',
      details: { entrees: page.entries.length },
    });
    const agents = new Map((await this.agents()).map((a) => [a.id, libelleAgent(a)]));
    return {
      id: row.id,
      du: row.periode_du,
      au: row.periode_au,
      taille: echantillon.length,
      creeLe: row.cree_le,
      creePar: agents.get(row.cree_par) ?? row.cree_par,
      closLe: row.clos_le,
      graine: row.graine,
      observations: row.observations,
      entrees: await this.lisibles([...page.entries].reverse()),
      reproductible: encore.length === echantillon.length && encore.every((s, i) => s === echantillon[i]),
      population: population.length,
      borne,
    };
  }

  /** Saves the auditor's observations and, when asked, closes the control (then nothing changes any more). */
  async enregistrerObservations(id: string, observations: string, clore: boolean, par: Acteur): Promise<void> {
    const row = await this.ligne(id);
    if (row.clos_le !== null) throw new QuotientError('conflict', 'controle_clos', 'Ce contrôle est clos : ses observations ne peuvent plus être modifiées.');
    const texte = observations.replace(/\r\n/g, '\n').trim();
    const problems: ErrorDetail[] = [];
    if (texte.length > OBSERVATIONS_MAX)
      problems.push({ path: 'observations', message: `Les observations ne doivent pas dépasser ${OBSERVATIONS_MAX} caractères.` });
    if (clore && texte === '')
      problems.push({ path: 'observations', message: 'Indiquez vos observations avant de clore le contrôle, même pour dire qu’aucun accès n’est injustifié.' });
    if (ressembleANumeroFiscal(texte)) problems.push({ path: 'observations', message: 'Les observations ne doivent pas contenir de numéro fiscal.' });
    if (problems.length > 0) throw new QuotientError('invalid', 'observations_invalides', 'Vérifiez vos observations.', { details: problems });
    const maintenant = new Date(this.now()).toISOString();
    await this.deps.journal.inTransaction(async (trx) => {
      const done = await trx
        .updateTable('controles')
        .set({ observations: texte === '' ? null : texte, ...(clore ? { clos_le: maintenant } : {}) })
        .where('id', '=', id)
        .where('clos_le', 'is', null)
        .executeTakeFirst();
      if (Number(done.numUpdatedRows) !== 1)
        throw new QuotientError('conflict', 'controle_clos', 'Ce contrôle vient d’être clos : ses observations ne peuvent plus être modifiées.');
      await this.deps.journal.append(
        {
          actor: par,
          action: clore ? 'controle.clos' : 'controle.observations_enregistrees',
          target: { type: 'controle', id },
          outcome: 'succes',
          details: { caracteres: texte.length },
        },
        trx,
      );
    });
  }

  // -------------------------------------------------------------------------------------------
  // Integrity

  /**
   * Runs the full check now; its result is kept as a journal entry, which the page shows. A broken
   * journal that no acknowledgement covers halts fiscal operations (`GardeIntegrite`).
   */
  async verifier(par: Acteur): Promise<Verification> {
    const { rapport: report, etat } = await this.deps.integrite.verifier('demande');
    const entry = await this.deps.journal.append({
      actor: par,
      action: 'journal.verifie',
      target: { type: 'journal_audit', id: 'journal' },
      outcome: 'succes',
      details: {
        intact: report.intact,
        raison: report.reason,
        sequenceRompue: report.firstBrokenSeq,
        entreesVerifiees: report.checked,
        ancre: report.anchor.state,
        ancreSequence: report.anchor.seq,
        dureeMs: report.durationMs,
        arret: etat.etat === 'arret',
      },
    });
    return verificationDe(entry, await this.agents());
  }

  /** The integrity halt as this instance sees it. */
  etatIntegrite(): EtatIntegrite {
    return this.deps.integrite.etat();
  }

  /** The auditor acknowledges the break after investigation, with a reason: operations resume. */
  reconnaitreAlteration(motif: unknown, par: Acteur): Promise<EtatIntegrite> {
    return this.deps.integrite.reconnaitre(par, motif);
  }

  /** An agent's name, for the pages (the journal keeps ids). */
  async nomAgent(id: string): Promise<string> {
    const agent = (await this.agents()).find((a) => a.id === id);
    return agent ? libelleAgent(agent) : id;
  }

  async derniereVerification(): Promise<Verification | null> {
    const page = await this.deps.journal.query({ action: 'journal.verifie' }, { limit: 1 });
    const entry = page.entries[0];
    return entry ? verificationDe(entry, await this.agents()) : null;
  }
}

function refsFamille(f: FamilleCiblee): AuditRef[] {
  return [
    { type: 'famille', id: f.id },
    ...f.demandes.map((id) => ({ type: 'demande', id })),
    ...f.comptes.map((id) => ({ type: 'compte', id })),
    ...f.contestations.map((id) => ({ type: 'contestation', id })),
  ];
}

/** What `controles.echantillon` holds: the sampled seqs and the bound of the population. */
interface Echantillon {
  readonly seqs: readonly number[];
  readonly borne: number | null;
}

/** Also reads the controls stored before the bound was kept: a plain array of seqs, no bound. */
function parseEchantillon(text: string): Echantillon {
  const entiers = (v: unknown): number[] => (Array.isArray(v) ? v.filter((n): n is number => Number.isSafeInteger(n)) : []);
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed)) return { seqs: entiers(parsed), borne: null };
    if (parsed !== null && typeof parsed === 'object') {
      const { seqs, borne } = parsed as { seqs?: unknown; borne?: unknown };
      return { seqs: entiers(seqs), borne: Number.isSafeInteger(borne) ? (borne as number) : null };
    }
  } catch {
    // An unreadable sample is shown empty (and not reproducible) rather than failing the page.
  }
  return { seqs: [], borne: null };
}

/** Days from one `AAAA-MM-JJ` to another (calendar days, no time zone involved). */
function joursEntre(du: string, au: string): number {
  return Math.round((Date.parse(`${au}T00:00:00Z`) - Date.parse(`${du}T00:00:00Z`)) / 86_400_000);
}

function jourOuInstant(d: DateSaisie): string {
  return 'jour' in d ? d.jour : d.instant.slice(0, 19);
}

function verificationDe(entry: AuditEntry, agents: readonly Agent[]): Verification {
  const d = entry.details;
  const raison = typeof d.raison === 'string' ? (d.raison as BreakReason) : null;
  const seq = typeof d.sequenceRompue === 'number' ? d.sequenceRompue : null;
  const checked = typeof d.entreesVerifiees === 'number' ? d.entreesVerifiees : 0;
  const n = new Intl.NumberFormat('fr-FR');
  const message =
    d.intact === true
      ? `Journal intact : ${n.format(checked)} entrée(s) vérifiée(s).`
      : `Journal altéré${seq !== null ? ` à la séquence n° ${seq}` : ''} : ${raison !== null ? (BREAK_MESSAGES[raison] ?? raison) : 'cause inconnue'}.`;
  const agent = agents.find((a) => a.id === entry.actor.id);
  return {
    le: entry.time,
    par: agent ? libelleAgent(agent) : entry.actor.id,
    intact: d.intact === true,
    message,
    sequenceRompue: seq,
    entreesVerifiees: checked,
    ancre: { etat: typeof d.ancre === 'string' ? d.ancre : 'inconnue', sequence: typeof d.ancreSequence === 'number' ? d.ancreSequence : null },
    dureeMs: typeof d.dureeMs === 'number' ? d.dureeMs : 0,
  };
}

export const ENTETES_CSV = [
  'Séquence',
  'Date et heure (UTC)',
  'Date et heure (Paris)',
  'Type d’acteur',
  'Identifiant de l’acteur',
  'Nom de l’agent',
  'Pour le compte de',
  'Code de l’action',
  'Action',
  'Type de cible',
  'Identifiant de la cible',
  'Référence de la cible',
  'Résultat',
  'Corrélation',
  'Détails',
];

async function* csvExport(lots: AsyncIterable<EntreeLisible[]>): AsyncGenerator<string> {
  yield CSV_BOM + csvRow(ENTETES_CSV);
  for await (const lot of lots) {
    yield lot
      .map((e) =>
        csvRow([
          e.seq,
          e.dateIso,
          e.date,
          e.acteurTypeLibelle,
          e.acteurId,
          e.acteurNom,
          e.pourLeCompteDe,
          e.action,
          e.actionLibelle,
          e.cibleTypeLibelle,
          e.cibleId,
          e.cibleLibelle,
          e.resultatLibelle,
          e.correlation,
          e.details,
        ]),
      )
      .join('');
  }
}

async function* jsonExport(entete: Record<string, unknown>, lots: AsyncIterable<EntreeLisible[]>): AsyncGenerator<string> {
  const head = JSON.stringify(entete, null, 2);
  yield `${head.slice(0, -2)},\n  "journal": [`;
  let first = true;
  for await (const lot of lots) {
    for (const e of lot) {
      const item = {
        sequence: e.seq,
        date: e.dateIso,
        acteur: {
          type: e.acteurType,
          id: e.acteurId,
          ...(e.acteurNom ? { nom: e.acteurNom } : {}),
          ...(e.pourLeCompteDe ? { pourLeCompteDe: e.pourLeCompteDe } : {}),
        },
        action: e.action,
        ...(e.actionLibelle ? { libelle: e.actionLibelle } : {}),
        cible: e.cibleType ? { type: e.cibleType, id: e.cibleId, ...(e.cibleLibelle ? { libelle: e.cibleLibelle } : {}) } : null,
        resultat: e.resultat,
        correlation: e.correlation,
        details: e.detailsBruts,
      };
      yield `${first ? '\n' : ',\n'}    ${JSON.stringify(item)}`;
      first = false;
    }
  }
  yield `${first ? '' : '\n  '}]\n}\n`;
}
