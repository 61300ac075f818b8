import type { FastifyInstance } from 'fastify';
import type { Services } from '../app/compose.ts';
import type { PolitiqueTarifaire } from '../domain/politique-tarifaire.ts';
import type { CommuneConfig } from '../infra/config/commune-config.ts';
import type { CompteursPartages } from '../infra/limites/compteurs.ts';
import { echecConnexion } from './detection-connexion.ts';
import { registerAdministrationRoutes } from '../modules/administration/administration-routes.tsx';
import type { AgentsOidcClient } from '../modules/agents/agents-client.ts';
import { registerAgentsRoutes } from '../modules/agents/agents-routes.tsx';
import { registerControleRoutes } from '../modules/controle/controle-routes.tsx';
import { registerAlertesRoutes } from '../modules/detection/alertes-routes.tsx';
import { registerFacturation } from '../modules/facturation/facturation-routes.tsx';
import { registerGuichetRoutes } from '../modules/guichet/guichet-routes.tsx';
import { registerIncidentRoutes } from '../modules/incident/incident-routes.tsx';
import { registerCampagnesRoutes } from '../modules/campagnes/campagnes-routes.tsx';
import { registerInstructionRoutes } from '../modules/instruction/instruction-routes.tsx';
import { registerTableauDeBordRoutes } from '../modules/tableau-de-bord/tableau-de-bord-routes.tsx';

export interface BackOfficeDeps {
  readonly commune: CommuneConfig;
  /** The policy in force today (the version an administrator activated, else the configuration file's). */
  readonly politique: () => PolitiqueTarifaire;
  readonly publicUrl: string;
  /** The agents' identity provider (ProConnect, the city's own, or the local one in demo). */
  readonly oidc: AgentsOidcClient;
  /** The throttles' counts in the database, shared by every instance (the billing API's allowance). */
  readonly compteurs?: CompteursPartages;
  readonly services: Pick<
    Services,
    | 'agents'
    | 'clesApi'
    | 'decisions'
    | 'instruction'
    | 'avis'
    | 'politiques'
    | 'facturation'
    | 'guichet'
    | 'controle'
    | 'tableauDeBord'
    | 'incident'
    | 'detection'
    | 'dgfip'
    | 'renouvellement'
    | 'campagnes'
    | 'executeurCampagnes'
  >;
}

/**
 * The back-office at /agents and the API at /api/v1: every module of the agents' space registers
 * here, each given the services it uses.
 */
export function registerBackOffice(app: FastifyInstance, deps: BackOfficeDeps): void {
  const { commune, politique, publicUrl, services } = deps;
  registerAgentsRoutes(app, { commune, agents: services.agents, oidc: deps.oidc, publicUrl, echecConnexion: echecConnexion(services) });
  registerInstructionRoutes(app, { commune, instruction: services.instruction, decisions: services.decisions, avis: services.avis, politique });
  registerFacturation(app, { commune, facturation: services.facturation, publicUrl, ...(deps.compteurs ? { compteurs: deps.compteurs } : {}) });
  registerAdministrationRoutes(app, { commune, agents: services.agents, clesApi: services.clesApi, politiques: services.politiques });
  registerGuichetRoutes(app, {
    commune,
    guichet: services.guichet,
    voieEtatCivil: services.dgfip.clients.source.voie,
    dureeRenouvellement: services.renouvellement.dureeMaxAns,
  });
  registerControleRoutes(app, { commune, controle: services.controle });
  registerAlertesRoutes(app, {
    commune,
    alertes: services.incident.alertesStore,
    nomAgent: (id) => services.controle.nomAgent(id),
    lisibles: (entrees) => services.controle.lisibles(entrees),
  });
  registerTableauDeBordRoutes(app, { commune, tableauDeBord: services.tableauDeBord, politique });
  registerIncidentRoutes(app, { commune, incidents: services.incident.incidents, cache: services.incident.cache, integrite: services.incident.integrite });
  registerCampagnesRoutes(app, {
    commune,
    campagnes: services.campagnes,
    agents: services.agents,
    campagnesArretees: () => services.incident.cache.campagnesArretees(),
    wake: () => services.executeurCampagnes.wake(),
  });
}
