import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { QuotientError } from '../domain/errors.ts';
import type { Metriques } from '../infra/metriques/metriques.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The token of `/metrics`, from the file QUOTIENT_METRICS_TOKEN_FILE names (24 characters at least). */
export function lireJetonMetriques(fichier: string | undefined): string | undefined {
  if (fichier === undefined) return undefined;
  const jeton = readFileSync(fichier, 'utf8').trim();
  if (jeton.length < 24 || /\s/.test(jeton)) {
    throw new QuotientError(
      'invalid',
      'jeton_metriques_invalide',
      `Le jeton des métriques (${fichier}, QUOTIENT_METRICS_TOKEN_FILE) doit faire au moins 24 caractères sans espace (par exemple : openssl rand -hex 32).`,
    );
  }
  return jeton;
}

/**
 * Latency of every answer by route pattern, and `GET /metrics` behind a bearer token: without a
 * configured token the route answers 404 (as if absent), with a wrong or missing one 401.
 */
export function registerMetriques(app: FastifyInstance, deps: { metriques: Metriques; jeton: string | undefined }): void {
  const attendu = deps.jeton === undefined ? undefined : digest(deps.jeton);
  app.addHook('onResponse', (request, reply, done) => {
    // The router's pattern, never the URL: no id nor number reaches a label.
    deps.metriques.observerRequete(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', async (request, reply) => {
    if (attendu === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Métriques non activées (QUOTIENT_METRICS_TOKEN_FILE).');
    const header = request.headers.authorization ?? '';
    const donne = /^Bearer (\S+)$/.exec(header)?.[1];
    if (donne === undefined || !timingSafeEqual(digest(donne), attendu)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="metriques"')
        .type('text/plain; charset=utf-8')
        .send('Jeton des métriques absent ou invalide.');
    }
    const { contentType, texte } = await deps.metriques.exposer();
    return reply.header('cache-control', 'no-store').type(contentType).send(texte);
  });
}
