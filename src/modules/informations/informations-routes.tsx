import type { FastifyInstance } from 'fastify';
import type { FunctionComponent } from 'preact';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { pageContext, sendPage } from '../../http/render.tsx';
import { Layout } from '../../http/ui/layout.tsx';
import { AccessibilitePage, ConfidentialitePage, ContactPage, MentionsLegalesPage } from './informations-views.tsx';

/** The pages linked from every footer (legal duties of a public online service). */
const PAGES: ReadonlyArray<{ path: string; title: string; Page: FunctionComponent<{ commune: CommuneConfig }> }> = [
  { path: '/mentions-legales', title: 'Mentions légales', Page: MentionsLegalesPage },
  { path: '/accessibilite', title: 'Accessibilité', Page: AccessibilitePage },
  { path: '/confidentialite', title: 'Données personnelles', Page: ConfidentialitePage },
  { path: '/contact', title: 'Contact', Page: ContactPage },
];

export function registerInformationsRoutes(app: FastifyInstance, deps: { commune: CommuneConfig }): void {
  for (const { path, title, Page } of PAGES) {
    app.get(path, (request, reply) =>
      sendPage(
        reply,
        <Layout ctx={pageContext(request, reply, deps.commune)} title={title}>
          <Page commune={deps.commune} />
        </Layout>,
      ),
    );
  }
}
