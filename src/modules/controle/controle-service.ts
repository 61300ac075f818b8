import type { Acteur, AuditEntry } from '../audit/index.ts';
import type { Agent } from '../agents/agents-service.ts';
import type { EtatIntegrite } from '../incident/garde-integrite.ts';
import { libelleAgent, type ControleDeps } from './commun.ts';
import { ControlesPeriodiques, type ControleDetail, type ControleResume } from './controles-periodiques.ts';
import { ExportJournal, type ExportSaisi, type Fichier } from './export-journal.ts';
import { IntegriteJournal, type Verification } from './integrite-journal.ts';
import { LectureJournal, type EntreeLisible, type FamilleCiblee, type FiltreLu, type FiltreSaisi, type PageJournal } from './lecture-journal.ts';

export type { ControleDeps } from './commun.ts';

/**
 * The auditor's use cases, as the routes see them: the journal read through filters, exports about
 * one person, periodic controls on a random sample of accesses, and the integrity of the journal.
 * Each job lives in its own file; this facade only hands each call to it.
 */
export class ControleService {
  private readonly lecture: LectureJournal;
  private readonly exports: ExportJournal;
  private readonly controles: ControlesPeriodiques;
  private readonly integrite: IntegriteJournal;

  constructor(deps: ControleDeps) {
    this.lecture = new LectureJournal(deps);
    this.exports = new ExportJournal(deps, this.lecture);
    this.controles = new ControlesPeriodiques(deps, this.lecture);
    this.integrite = new IntegriteJournal(deps);
  }

  agents(): Promise<Agent[]> {
    return this.lecture.agents();
  }

  /** An agent's name, for the pages (the journal keeps ids). */
  async nomAgent(id: string): Promise<string> {
    const agent = (await this.agents()).find((a) => a.id === id);
    return agent ? libelleAgent(agent) : id;
  }

  // Reading the journal (lecture-journal.ts)

  familleParReference(saisie: string, champ: string): Promise<FamilleCiblee> {
    return this.lecture.familleParReference(saisie, champ);
  }

  lireFiltre(saisi: FiltreSaisi): Promise<FiltreLu> {
    return this.lecture.lireFiltre(saisi);
  }

  consulterJournal(saisi: FiltreSaisi, avant: number | undefined, par: Acteur): Promise<PageJournal> {
    return this.lecture.consulterJournal(saisi, avant, par);
  }

  lisibles(entries: readonly AuditEntry[]): Promise<EntreeLisible[]> {
    return this.lecture.lisibles(entries);
  }

  // Exports about one person (export-journal.ts)

  exporter(saisi: ExportSaisi, par: Acteur): Promise<Fichier> {
    return this.exports.exporter(saisi, par);
  }

  verifierExport(saisi: ExportSaisi): Promise<ExportSaisi> {
    return this.exports.verifierExport(saisi);
  }

  // Periodic controls (controles-periodiques.ts)

  creerControle(saisi: { du?: string; au?: string; taille?: string }, par: Acteur): Promise<string> {
    return this.controles.creerControle(saisi, par);
  }

  listerControles(): Promise<ControleResume[]> {
    return this.controles.listerControles();
  }

  controle(id: string, par: Acteur): Promise<ControleDetail> {
    return this.controles.controle(id, par);
  }

  enregistrerObservations(id: string, observations: string, clore: boolean, par: Acteur): Promise<void> {
    return this.controles.enregistrerObservations(id, observations, clore, par);
  }

  enregistrerVerdict(id: string, sequence: number, saisi: { verdict?: string; commentaire?: string }, par: Acteur): Promise<void> {
    return this.controles.enregistrerVerdict(id, sequence, saisi, par);
  }

  // Integrity (integrite-journal.ts)

  verifier(par: Acteur): Promise<Verification> {
    return this.integrite.verifier(par);
  }

  etatIntegrite(): EtatIntegrite {
    return this.integrite.etatIntegrite();
  }

  reconnaitreAlteration(motif: unknown, par: Acteur): Promise<EtatIntegrite> {
    return this.integrite.reconnaitreAlteration(motif, par);
  }

  derniereVerification(): Promise<Verification | null> {
    return this.integrite.derniereVerification();
  }
}
