import type { AuditDetailValue } from '../../domain/entree-journal.ts';
import type { Alerte } from './alerte.ts';
import { NOMS_CANAUX, raisonReseau, secondes, type CanalAlerte, type NomCanal } from './canal.ts';

export interface ResultatCanal {
  readonly canal: NomCanal;
  readonly destination: string;
  readonly envoye: boolean;
  /** French, one line: « envoyé à rssi@ville.fr », « refusé (HTTP 500) par https://siem.ville.fr, après 2 essais ». */
  readonly compteRendu: string;
  readonly dureeMs: number;
}

export interface RapportAlerte {
  readonly alerteId: string;
  /** One per configured channel, in the order of NOMS_CANAUX. */
  readonly resultats: readonly ResultatCanal[];
  /** At least one channel, and every one delivered. */
  readonly toutEnvoye: boolean;
}

/** Where failures go when nobody awaits the report (callers fire and forget). */
export interface JournalTechnique {
  error(object: Record<string, unknown>, message: string): void;
}

export interface CircuitAlerte {
  readonly canaux: readonly CanalAlerte[];
  /** Sends to every channel at once; never rejects, and settles within the circuit's bound. */
  envoyerAlerte(alerte: Alerte): Promise<RapportAlerte>;
  /** Releases the channels' connections (the webhook's agent). */
  fermer(): Promise<void>;
}

export const DELAI_MAX_CIRCUIT_MS = 20_000;

export function creerCircuitAlerte(options: { canaux: readonly CanalAlerte[]; delaiMaxMs?: number; logger?: JournalTechnique }): CircuitAlerte {
  const canaux = [...options.canaux].sort((a, b) => NOMS_CANAUX.indexOf(a.nom) - NOMS_CANAUX.indexOf(b.nom));
  const delaiMaxMs = options.delaiMaxMs ?? DELAI_MAX_CIRCUIT_MS;

  const envoyerPar = async (canal: CanalAlerte, alerte: Alerte, signal: AbortSignal): Promise<ResultatCanal> => {
    const start = performance.now();
    const result = (envoye: boolean, compteRendu: string): ResultatCanal => ({
      canal: canal.nom,
      destination: canal.destination,
      envoye,
      compteRendu,
      dureeMs: Math.round(performance.now() - start),
    });
    let onAbort: (() => void) | undefined;
    // A channel that ignores the signal still gives way at the deadline: its late answer is dropped.
    const deadline = new Promise<ResultatCanal>((resolve) => {
      onAbort = () => resolve(result(false, `délai dépassé (${secondes(delaiMaxMs)})`));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const sent = (async () => {
      try {
        return result(true, await canal.envoyer(alerte, signal));
      } catch (error) {
        return result(false, signal.aborted ? `délai dépassé (${secondes(delaiMaxMs)})` : raisonReseau(error));
      }
    })();
    try {
      return await Promise.race([sent, deadline]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  };

  return {
    canaux,
    async envoyerAlerte(alerte) {
      const controller = new AbortController();
      // Kept referenced: an alert under way at shutdown gets its bounded time to get out.
      const timer = setTimeout(() => controller.abort(), delaiMaxMs);
      try {
        const resultats = await Promise.all(canaux.map((canal) => envoyerPar(canal, alerte, controller.signal)));
        for (const r of resultats) {
          if (r.envoye) continue;
          try {
            options.logger?.error({ alerteId: alerte.id, code: alerte.code, canal: r.canal }, `alerte non transmise par ${r.canal} : ${r.compteRendu}`);
          } catch {
            // The report is the caller's; a failing log must not turn it into a rejection.
          }
        }
        return { alerteId: alerte.id, resultats, toutEnvoye: resultats.length > 0 && resultats.every((r) => r.envoye) };
      } finally {
        clearTimeout(timer);
        controller.abort();
      }
    },
    async fermer() {
      await Promise.all(canaux.map((c) => c.fermer?.().catch(() => undefined)));
    },
  };
}

/**
 * The report as journal details: one state per channel (`envoye`, `echec`, `non_configure`) and the
 * reason of each failure as shown (it may name the recipient that refused); the accounts of
 * successful deliveries stay out. The alert itself is the entry's target.
 */
export function detailsDuRapport(rapport: RapportAlerte): Record<string, AuditDetailValue> {
  const details: Record<string, AuditDetailValue> = {};
  for (const nom of NOMS_CANAUX) {
    const r = rapport.resultats.find((x) => x.canal === nom);
    details[nom] = r === undefined ? 'non_configure' : r.envoye ? 'envoye' : 'echec';
    if (r !== undefined && !r.envoye) details[`${nom}_raison`] = r.compteRendu.slice(0, 500);
  }
  return details;
}
