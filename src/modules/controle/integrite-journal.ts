import { BREAK_MESSAGES, type Acteur, type AuditEntry, type BreakReason } from '../audit/index.ts';
import type { Agent } from '../agents/agents-service.ts';
import type { EtatIntegrite } from '../incident/garde-integrite.ts';
import { libelleAgent, type ControleDeps } from './commun.ts';

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

/** The integrity of the journal: the full check run on demand, the halt it decides, its acknowledgement. */
export class IntegriteJournal {
  constructor(private readonly deps: ControleDeps) {}

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
    return verificationDe(entry, await this.deps.agents.lister());
  }

  /** The integrity halt as this instance sees it. */
  etatIntegrite(): EtatIntegrite {
    return this.deps.integrite.etat();
  }

  /** The auditor acknowledges the break after investigation, with a reason: operations resume. */
  reconnaitreAlteration(motif: unknown, par: Acteur): Promise<EtatIntegrite> {
    return this.deps.integrite.reconnaitre(par, motif);
  }

  async derniereVerification(): Promise<Verification | null> {
    const page = await this.deps.journal.query({ action: 'journal.verifie' }, { limit: 1 });
    const entry = page.entries[0];
    return entry ? verificationDe(entry, await this.deps.agents.lister()) : null;
  }
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
