import type { FastifyInstance } from 'fastify';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { registerAdministrationRoutes } from '../administration/administration-routes.tsx';
import type { PolitiquesService } from '../administration/politiques-service.ts';
import type { ClesApiService } from '../api/cles-api-service.ts';
import type { JournalAudit } from '../audit/journal-audit.ts';
import { registerControleRoutes } from '../controle/controle-routes.tsx';
import type { ControleService } from '../controle/controle-service.ts';
import type { DemandesService } from '../demandes/demandes-service.ts';
import type { FamillesService } from '../familles/familles-service.ts';
import type { InstructionService } from '../instruction/instruction-service.ts';
import { registerInstructionRoutes } from '../instruction/instruction-routes.tsx';
import type { FacturationService } from '../facturation/facturation-service.ts';
import { registerFacturation } from '../facturation/facturation-routes.tsx';
import { registerGuichetRoutes } from '../guichet/guichet-routes.tsx';
import { registerTableauDeBordRoutes } from '../tableau-de-bord/tableau-de-bord-routes.tsx';
import type { TableauDeBordService } from '../tableau-de-bord/tableau-de-bord-service.ts';
import { AgentsOidcClient, type AgentsOidcSettings } from './agents-client.ts';
import { registerAgentsRoutes } from './agents-routes.tsx';
import type { AgentsService } from './agents-service.ts';

/** What the back-office and the API use, composed in src/cli/services.ts (and the tests' support). */
export interface BackOfficeServices {
  readonly agents: AgentsService;
  readonly clesApi: ClesApiService;
  readonly journal: JournalAudit;
  readonly demandes: DemandesService;
  readonly familles: FamillesService;
  /** The instructors' review queue and cases (fiscal fields read with a journaled reason). */
  readonly instruction: InstructionService;
  /** The versions of the tariff policy, and the one in force on a date. */
  readonly politiques: PolitiquesService;
  /** The QFs in force for billing software: CSV export and REST API. */
  readonly facturation: FacturationService;
  /** The auditors' journal, exports, sampled controls and integrity checks. */
  readonly controle: ControleService;
  /** The dashboard's aggregates (requests, QFs by bracket, DGFiP quota and health). */
  readonly tableauDeBord: TableauDeBordService;
  /** Tells the processing loop a request was just queued. */
  readonly wake: () => void;
  /** The agents' identity provider (ProConnect, the city's own, or the local one in demo). */
  readonly oidc: AgentsOidcSettings;
}

export interface BackOfficeDeps extends BackOfficeServices {
  readonly commune: CommuneConfig;
  /** The policy in force today (the version an administrator activated, else the configuration file's). */
  readonly politique: () => PolitiqueTarifaire;
  readonly publicUrl: string;
}

/** The back-office at /agents and the API at /api/v1: every capability registers here. */
export function registerBackOffice(app: FastifyInstance, deps: BackOfficeDeps): void {
  registerAgentsRoutes(app, { commune: deps.commune, agents: deps.agents, oidc: new AgentsOidcClient(deps.oidc), publicUrl: deps.publicUrl });
  registerInstructionRoutes(app, deps);
  registerFacturation(app, deps);
  registerAdministrationRoutes(app, deps);
  registerGuichetRoutes(app, deps);
  registerControleRoutes(app, deps);
  registerTableauDeBordRoutes(app, deps);
}
