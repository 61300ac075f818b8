import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { formatDateCourte, parseDateSaisie } from '../../domain/dates.ts';
import { lireFormulaire, pageFormulaire, saisieAReafficher, texteOptionnel, type EnvoiPage } from '../../http/formulaire.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { CompteursPartages } from '../../infra/limites/compteurs.ts';
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
  /** The API's counts, shared by every instance. */
  readonly compteurs?: CompteursPartages;
  readonly clock?: () => number;
}

/** The export's date: none at all (a bookmarked link) is `aujourdhui`; a date typed wrong is said. */
const schemaExport = (aujourdhui: string) =>
  z.object({
    date: texteOptionnel().transform((typed, ctx) => {
      if (typed === undefined) return aujourdhui;
      const date = parseDateSaisie(typed);
      if (date !== null) return date;
      ctx.issues.push({
        code: 'custom',
        message:
          typed.trim() === ''
            ? 'Indiquez la date des quotients, au format JJ/MM/AAAA.'
            : 'La date doit être une date réelle au format JJ/MM/AAAA, par exemple 01/09/2026.',
        input: undefined,
      });
      return z.NEVER;
    }),
  });

/**
 * The billing software's interface: the CSV export of the QFs in force at a date (counter agents
 * and administrators, at /agents/facturation) and the REST API with its OpenAPI document.
 */
export function registerFacturation(app: FastifyInstance, deps: FacturationRoutesDeps): void {
  const { commune, facturation } = deps;
  const today = () => parisDate((deps.clock ?? Date.now)());
  const page: EnvoiPage = (request, reply, title, body, status) => sendAgentPage(request, reply, commune, title, body, status);

  app.get('/agents/facturation', (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Export pour la facturation', <FacturationPage date={formatDateCourte(today())} errors={[]} />);
  });

  app.get('/agents/facturation/export.csv', async (request, reply) => {
    const agent = requireAgent(request);
    const lecture = lireFormulaire(schemaExport(today()), request.query);
    if (!lecture.ok) {
      return pageFormulaire(
        page,
        request,
        reply,
        'Export pour la facturation',
        lecture.errors,
        <FacturationPage date={saisieAReafficher(request.query).date ?? ''} errors={lecture.errors} />,
      );
    }
    const { date } = lecture.values;
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
    ...(deps.compteurs ? { compteurs: deps.compteurs } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
}
