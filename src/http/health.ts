import type { FastifyInstance } from 'fastify';
import type { Database } from '../infra/db/database.ts';

/** `/healthz`: the process answers. `/readyz`: it can serve, i.e. the database answers too. */
export function registerHealthRoutes(app: FastifyInstance, deps: { database: Database }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async () => {
    await deps.database.ping();
    return { status: 'ok', database: 'ok' };
  });
}
