import type { FastifyInstance } from 'fastify';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { jourFrancais } from '../controle/periode.ts';
import type { TableauDeBordService } from './tableau-de-bord-service.ts';
import { TableauDeBordPage } from './tableau-de-bord-views.tsx';

export interface TableauDeBordRoutesDeps {
  readonly commune: CommuneConfig;
  readonly tableauDeBord: TableauDeBordService;
  /** The tariff policy in force today (the administrators' active version, or the configuration's). */
  readonly politique: () => PolitiqueTarifaire;
}

function nomPolitique(p: PolitiqueTarifaire): string {
  const d = p.deliberation;
  const deliberation = d.numero ? `délibération n° ${d.numero}` : d.date ? `délibération du ${jourFrancais(d.date)}` : 'délibération';
  return `${deliberation}, applicable depuis le ${jourFrancais(p.validite.du)}`;
}

/** The dashboard: aggregates for every agent role (policy: AGENTS). */
export function registerTableauDeBordRoutes(app: FastifyInstance, deps: TableauDeBordRoutesDeps): void {
  app.get('/agents/tableau-de-bord', async (request, reply) => {
    requireAgent(request);
    const politique = deps.politique();
    const tdb = await deps.tableauDeBord.resume(politique);
    reply.header('cache-control', 'no-store');
    return sendAgentPage(request, reply, deps.commune, 'Tableau de bord', <TableauDeBordPage tdb={tdb} politique={nomPolitique(politique)} />);
  });
}
