import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { CSV_BOM, csvRow } from '../../infra/csv/csv.ts';
import type { Acteur, AuditEntry, AuditFilter, AuditRef } from '../audit/index.ts';
import { dateSaisie, horloge, invalide, libelleAgent, type ControleDeps } from './commun.ts';
import { refsFamille, type EntreeLisible, type LectureJournal } from './lecture-journal.ts';
import { instantDebut, instantFin, type DateSaisie } from './periode.ts';

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

/** Exports about one person, streamed as CSV or JSON; each export is journaled before the file is sent. */
export class ExportJournal {
  constructor(
    private readonly deps: ControleDeps,
    private readonly lecture: LectureJournal,
  ) {}

  /**
   * Every entry about a family (its records, its accounts' actions, the agents acting for it) or an
   * agent (what they did, what was done to their account) over a period, oldest first, as CSV or
   * JSON. The end of the period is capped at now, so the export's own journal entry, written
   * before the file is streamed, is not in it.
   */
  async exporter(saisi: ExportSaisi, par: Acteur): Promise<Fichier> {
    const { format, du, au, involving, target, sujetNom, sujetJson } = await this.lireExport(saisi);
    const maintenant = new Date(horloge(this.deps)).toISOString();
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
    const du = dateSaisie(saisi.du, 'du', 'du', problems);
    const au = dateSaisie(saisi.au, 'au', 'au', problems);
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
          const f = await this.lecture.familleParReference(reference, 'famille');
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
      const agent = (await this.deps.agents.lister()).find((a) => a.id === (saisi.agent ?? ''));
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
        yield await this.lecture.lisibles(lot);
        lot = [];
      }
    }
    if (lot.length > 0) yield await this.lecture.lisibles(lot);
  }
}

function jourOuInstant(d: DateSaisie): string {
  return 'jour' in d ? d.jour : d.instant.slice(0, 19);
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
