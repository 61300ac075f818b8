import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CommuneConfig } from '../infra/config/commune-config.ts';
import { pageContext, sendPage } from './render.tsx';
import type { AvisIncident } from './ui/bandeau-incident.tsx';
import { Layout } from './ui/layout.tsx';

declare module 'fastify' {
  interface FastifyRequest {
    /** The incident measures in force, read once per request before anything else of the route. */
    incident: AvisIncident | null;
  }
}

/** How long a family is asked to wait before coming back to a portal in maintenance. */
export const MAINTENANCE_RETRY_AFTER_S = 300;

/** The families' pages: everything but the back-office, the API, the health endpoints and the static files. */
export function estPageDesFamilles(url: string): boolean {
  const path = url.split('?')[0] ?? '/';
  return !(
    path === '/agents' ||
    path.startsWith('/agents/') ||
    path.startsWith('/api/') ||
    path === '/healthz' ||
    path === '/readyz' ||
    path.startsWith('/static/')
  );
}

function MaintenancePage({ commune }: { commune: CommuneConfig }) {
  return (
    <>
      <h1>Service momentanément indisponible</h1>
      <p class="lead">Le service du quotient familial est fermé quelques instants pour une opération de maintenance. Réessayez dans quelques minutes.</p>
      <p>Vos demandes déjà faites et vos résultats sont conservés : vous les retrouverez à la réouverture.</p>
      <p>
        Une question urgente ? {commune.contact.service} : <a href={`mailto:${commune.contact.email}`}>{commune.contact.email}</a>
        {commune.contact.telephone ? <>, {commune.contact.telephone}</> : null}.
      </p>
    </>
  );
}

/**
 * Reads the incident measures for every request (the switches' cache answers within its delay),
 * for the pages' banner; while the portal is in maintenance, the families' pages answer a French
 * 503 page with Retry-After. Registered after the security headers and before the sessions: a
 * family's request during maintenance touches nothing else.
 */
export function registerIncidents(app: FastifyInstance, deps: { commune: CommuneConfig; avis: () => Promise<AvisIncident> }): void {
  app.decorateRequest('incident', null);
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    request.incident = await deps.avis();
    if (!request.incident.incidents.interrupteurs.maintenance.actif || !estPageDesFamilles(request.url)) return;
    reply.header('retry-after', String(MAINTENANCE_RETRY_AFTER_S)).header('cache-control', 'no-store');
    return sendPage(
      reply,
      <Layout ctx={pageContext(request, reply, deps.commune)} title="Service en maintenance">
        <MaintenancePage commune={deps.commune} />
      </Layout>,
      503,
    );
  });
}
