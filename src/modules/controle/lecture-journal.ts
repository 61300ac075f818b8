import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { TYPES_ACTEUR, OUTCOMES } from '../audit/audit-entry.ts';
import type { Acteur, AuditDetailValue, AuditEntry, AuditFilter, AuditRef } from '../audit/index.ts';
import type { Agent } from '../agents/agents-service.ts';
import { dateSaisie, invalide, libelleAgent, type ControleDeps } from './commun.ts';
import { detailsLisibles } from './libelles-details.ts';
import { LIBELLES_ACTEURS, LIBELLES_CIBLES, LIBELLES_RESULTATS, libelleAction } from './libelles.ts';
import { dateHeureParis, dateLisible, instantDebut, instantFin } from './periode.ts';

/**
 * Reading the journal: the auditor's filters, one page at a time, entries as people read them. The
 * journal holds no fiscal value, and neither does anything here; every read is itself journaled.
 */

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
  /** An agent's name, a family's reference, an API key's label, a robot's job; '' when nothing is to be read (a visitor); null when unknown. */
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
  /** `Clé : valeur ; …` in French, for pages and CSV. */
  readonly details: string;
  readonly detailsBruts: Readonly<Record<string, AuditDetailValue>>;
}

export interface PageJournal {
  readonly entrees: readonly EntreeLisible[];
  readonly suivante: number | null;
  readonly resume: string;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;
const ACTION = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\.?$/;
const REFERENCE = /^([A-Z])-?([A-Z0-9]{4})-?([A-Z0-9]{4})$/;
const PAGE = 50;

export class LectureJournal {
  constructor(private readonly deps: ControleDeps) {}

  async agents(): Promise<Agent[]> {
    return this.deps.agents.lister();
  }

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

    const du = dateSaisie(saisi.du, 'du', 'du', problems);
    const au = dateSaisie(saisi.au, 'au', 'au', problems);
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

  /**
   * Who acted, in words: an agent's name, a family's reference (its account's family), an API key's
   * label, the robot's job. Absent when unknown (a deleted account): the page then shows the id.
   */
  private async nomsActeurs(entries: readonly AuditEntry[], agents: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    const noms = new Map<string, string>();
    const acteurs = entries.flatMap((e) => (e.actor.onBehalfOf ? [e.actor, e.actor.onBehalfOf] : [e.actor]));
    const ids = (type: string) => [...new Set(acteurs.filter((a) => a.type === type).map((a) => a.id))];
    for (const id of ids('agent')) {
      const n = agents.get(id);
      if (n) noms.set(`agent:${id}`, n);
    }
    const comptes = ids('famille');
    if (comptes.length > 0)
      for (const c of await this.deps.db
        .selectFrom('comptes')
        .innerJoin('familles', 'familles.id', 'comptes.famille_id')
        .select(['comptes.id as id', 'familles.reference as reference'])
        .where('comptes.id', 'in', comptes)
        .execute())
        noms.set(`famille:${c.id}`, `famille ${c.reference}`);
    const cles = ids('api');
    if (cles.length > 0)
      for (const k of await this.deps.db.selectFrom('cles_api').select(['id', 'libelle']).where('id', 'in', cles).execute()) noms.set(`api:${k.id}`, k.libelle);
    // The robot and the system name a job or a process, not a person: shown as they are.
    for (const type of ['robot', 'systeme']) for (const id of ids(type)) noms.set(`${type}:${id}`, id);
    // A visitor's id is the request's: nothing a person reads.
    for (const id of ids('anonyme')) noms.set(`anonyme:${id}`, '');
    return noms;
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
    const noms = await this.nomsActeurs(entries, agents);
    const nom = (a: { type: string; id: string }) => noms.get(`${a.type}:${a.id}`) ?? null;
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
        acteurNom: nom(e.actor),
        pourLeCompteDe: behalf ? `${LIBELLES_ACTEURS[behalf.type] ?? behalf.type} ${nom(behalf) ?? behalf.id}` : null,
        action: e.action,
        actionLibelle: libelleAction(e.action),
        cibleType: cible?.type ?? null,
        cibleTypeLibelle: cible ? (LIBELLES_CIBLES[cible.type] ?? cible.type) : null,
        cibleId: cible?.id ?? null,
        cibleLibelle: cible ? (cible.type === 'agent' ? (agents.get(cible.id) ?? null) : (references.get(`${cible.type}:${cible.id}`) ?? null)) : null,
        resultat: e.outcome,
        resultatLibelle: LIBELLES_RESULTATS[e.outcome] ?? e.outcome,
        correlation: e.correlationId,
        details: detailsLisibles(e.details),
        detailsBruts: e.details,
      };
    });
  }
}

export function refsFamille(f: FamilleCiblee): AuditRef[] {
  return [
    { type: 'famille', id: f.id },
    ...f.demandes.map((id) => ({ type: 'demande', id })),
    ...f.comptes.map((id) => ({ type: 'compte', id })),
    ...f.contestations.map((id) => ({ type: 'contestation', id })),
  ];
}
