import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { QuotientError } from '../domain/errors.ts';
import type { AdresseEcoute } from '../infra/config/config.ts';
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
 * `GET /metrics`: with a token, 401 unless the request carries it; without one, `ouvert` says
 * whether the route answers anyway (the internal listener) or 404 as if absent (`absent`).
 */
function routeMetriques(app: FastifyInstance, deps: { metriques: Metriques; jeton: string | undefined; ouvert: boolean; absent: string }): void {
  const attendu = deps.jeton === undefined ? undefined : digest(deps.jeton);
  app.get('/metrics', async (request, reply) => {
    if (attendu === undefined && !deps.ouvert) return reply.code(404).type('text/plain; charset=utf-8').send(deps.absent);
    if (attendu !== undefined) {
      const donne = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (donne === undefined || !timingSafeEqual(digest(donne), attendu)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="metriques"')
          .type('text/plain; charset=utf-8')
          .send('Jeton des métriques absent ou invalide.');
      }
    }
    const { contentType, texte } = await deps.metriques.exposer();
    return reply.header('cache-control', 'no-store').type(contentType).send(texte);
  });
}

/**
 * Latency of every answer by route pattern, and `GET /metrics` behind a bearer token: without a
 * configured token the route answers 404 (as if absent), with a wrong or missing one 401. When the
 * metrics have their own internal listener (`interne`), the public one answers 404, token or not.
 */
export function registerMetriques(app: FastifyInstance, deps: { metriques: Metriques; jeton: string | undefined; interne?: boolean }): void {
  app.addHook('onResponse', (request, reply, done) => {
    // The router's pattern, never the URL: no id nor number reaches a label.
    deps.metriques.observerRequete(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  routeMetriques(app, {
    metriques: deps.metriques,
    jeton: deps.interne ? undefined : deps.jeton,
    ouvert: false,
    absent: deps.interne ? 'Métriques non servies à cette adresse.' : 'Métriques non activées (QUOTIENT_METRICS_TOKEN_FILE).',
  });
}

export interface EcouteMetriques {
  /** `http://HOST:PORT/metrics`, the port chosen by the system when 0 was asked. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The internal listener of QUOTIENT_METRICS_ADDRESS: `GET /metrics` only (everything else 404),
 * still behind the token when one is configured. Web and worker processes alike open it, so that
 * a worker's upstream calls and alerts are scraped too.
 */
export async function ecouterMetriques(adresse: AdresseEcoute, deps: { metriques: Metriques; jeton: string | undefined }): Promise<EcouteMetriques> {
  const app = Fastify({ logger: false, forceCloseConnections: true });
  routeMetriques(app, { ...deps, ouvert: true, absent: '' });
  app.setNotFoundHandler((_request, reply) => reply.code(404).type('text/plain; charset=utf-8').send('Seule /metrics est servie à cette adresse.'));
  try {
    await app.listen({ host: adresse.host, port: adresse.port });
  } catch (error) {
    await app.close().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    const ici = `${adresse.host.includes(':') ? `[${adresse.host}]` : adresse.host}:${adresse.port}`;
    if (code === 'EADDRINUSE') {
      throw new QuotientError('conflict', 'port_occupe', `L’adresse des métriques ${ici} (QUOTIENT_METRICS_ADDRESS) est déjà utilisée par un autre programme.`);
    }
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') {
      throw new QuotientError(
        'invalid',
        'adresse_metriques_indisponible',
        `Impossible d’écouter sur ${ici} (QUOTIENT_METRICS_ADDRESS) : l’adresse n’est pas celle de cette machine, ou le port est réservé (choisissez-en un supérieur à 1024).`,
      );
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : adresse.port;
  const host = adresse.host.includes(':') ? `[${adresse.host}]` : adresse.host;
  return { url: `http://${host}:${port}/metrics`, close: () => app.close() };
}
