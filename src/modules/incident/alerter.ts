import { creerAlerte, detailsDuRapport, type CircuitAlerte, type NouvelleAlerte } from '../../infra/alertes/index.ts';
import type { Logger } from '../../infra/log/logger.ts';
import type { JournalAudit } from '../audit/index.ts';

export interface Alerteur {
  /** Sends the alert through every configured channel, then journals how it went; never throws. */
  lever(alerte: NouvelleAlerte): void;
  /** Resolves once the alerts under way are delivered (or given up) and journaled: at shutdown. */
  enAttente(): Promise<void>;
}

/** The security alerts of this process, on the circuit composed from the commune's configuration. */
export function creerAlerteur(deps: { circuit: CircuitAlerte; journal: Pick<JournalAudit, 'append'>; logger: Logger }): Alerteur {
  const enCours = new Set<Promise<void>>();
  return {
    lever(nouvelle) {
      const envoi = (async () => {
        const alerte = creerAlerte(nouvelle);
        if (deps.circuit.canaux.length === 0)
          deps.logger.error(
            { alerteId: alerte.id, code: alerte.code },
            `alerte « ${alerte.titre} » : aucun canal d’alerte n’est configuré (section securite.alertes), elle ne parvient à personne`,
          );
        const rapport = await deps.circuit.envoyerAlerte(alerte);
        await deps.journal.append({
          actor: { type: 'systeme', id: 'quotient' },
          action: 'alerte.envoyee',
          target: { type: 'alerte', id: alerte.id },
          outcome: rapport.toutEnvoye ? 'succes' : 'echec',
          details: { code: alerte.code, gravite: alerte.gravite, ...detailsDuRapport(rapport) },
        });
      })().catch((error: unknown) => deps.logger.error({ err: error, code: nouvelle.code }, 'alerte de sécurité non levée'));
      enCours.add(envoi);
      void envoi.finally(() => enCours.delete(envoi));
    },
    async enAttente() {
      await Promise.all([...enCours]);
    },
  };
}
