import type { FastifyInstance } from 'fastify';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { pageContext, sendPage } from '../../http/render.tsx';
import { Layout } from '../../http/ui/layout.tsx';
import { AccueilPage } from './accueil-views.tsx';

export function registerAccueilRoutes(app: FastifyInstance, deps: { commune: CommuneConfig }): void {
  app.get('/', (request, reply) =>
    sendPage(
      reply,
      <Layout ctx={pageContext(request, reply, deps.commune)} title="Accueil">
        <AccueilPage commune={deps.commune} connecte={Boolean(request.compte)} />
      </Layout>,
    ),
  );
}
