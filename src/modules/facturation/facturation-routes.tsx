import type { FastifyInstance } from 'fastify';
import { formatDateCourte, parseDateSaisie } from '../../domain/dates.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { registerApiQuotients } from './api-routes.ts';
import type { FacturationService } from './facturation-service.ts';
import { FacturationPage } from './facturation-views.tsx';

export interface FacturationRoutesDeps {
  readonly commune: CommuneConfig;
  readonly facturation: FacturationService;
  readonly publicUrl: string;
  /** API calls per key and minute (default 120). */
  readonly appelsApiParMinute?: number;
  readonly clock?: () => number;
}


/**
 * The billing software's interface: the CSV export of the QFs in force at a date (counter agents
 * and administrators, at /agents/facturation) and the REST API with its OpenAPI document.
 */
export function registerFacturation(app: FastifyInstance, deps: FacturationRoutesDeps): void {
  const { commune, facturation } = deps;
  const today = () => parisDate((deps.clock ?? Date.now)());

  app.get('/agents/facturation', (request, reply) => {
    requireAgent(request);
    return sendAgentPage(request, reply, commune, 'Export pour la facturation', <FacturationPage date={formatDateCourte(today())} />);
  });

  app.get('/agents/facturation/export.csv', async (request, reply) => {
    const agent = requireAgent(request);
    const raw = (request.query as Record<string, unknown>).date;
    // No date at all (a bookmarked link): today. A date typed wrong: the form again, with the reason.
    const date = raw === undefined ? today() : typeof raw === 'string' ? parseDateSaisie(raw) : null;
    if (date === null) {
      const typed = typeof raw === 'string' ? raw : '';
      const error = typed.trim() === '' ? 'Indiquez la date des quotients, au format JJ/MM/AAAA.' : 'La date doit être une date réelle au format JJ/MM/AAAA, par exemple 01/09/2026.';
      return sendAgentPage(request, reply, commune, 'Erreur : export pour la facturation', <FacturationPage date={typed} error={error} />, 400);
    }
    const { csv } = await facturation.exporterCsv(date, acteurAgent(agent), String(request.id));
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="quotients-${date}.csv"`)
      .header('cache-control', 'no-store')
      .send(csv);
  });

  registerApiQuotients(app, {
    facturation,
    publicUrl: deps.publicUrl,
    ...(deps.appelsApiParMinute !== undefined ? { appelsParMinute: deps.appelsApiParMinute } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
}
