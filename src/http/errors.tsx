import { STATUS_CODES, validateHeaderValue } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QuotientError, isQuotientError, type ErrorDetail, type ErrorKind } from '../domain/errors.ts';
import type { CommuneConfig } from '../infra/config/commune-config.ts';
import { pageContext, sendPage } from './render.tsx';
import { enTetesDeRepli, type SecurityOptions } from './security.ts';
import { Layout } from './ui/layout.tsx';

/** The single place where typed errors become HTTP statuses. */
const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  unavailable: 503,
  upstream: 502,
};
const STATUS_BY_CODE: Record<string, number> = { methode_non_autorisee: 405 };

/** French titles for the statuses a person may meet. */
const TITLES: Record<number, string> = {
  400: 'Demande incorrecte',
  401: 'Connexion nécessaire',
  403: 'Accès refusé',
  404: 'Page introuvable',
  405: 'Méthode non autorisée',
  406: 'Format non disponible',
  408: 'Délai dépassé',
  409: 'Action impossible pour le moment',
  413: 'Envoi trop volumineux',
  414: 'Adresse trop longue',
  415: 'Format non pris en charge',
  429: 'Trop de demandes',
  431: 'En-têtes trop volumineux',
  500: 'Erreur du service',
  502: 'Réponse inutilisable d’un service partenaire',
  503: 'Service momentanément indisponible',
};

/** Messages for errors raised by the framework itself (malformed body, size, media type). */
const FRAMEWORK_MESSAGES: Record<number, string> = {
  400: 'La requête est mal formée : vérifiez les informations envoyées.',
  404: 'La ressource demandée n’existe pas.',
  406: 'Ce format de réponse n’est pas disponible.',
  408: 'La requête a pris trop de temps ; réessayez.',
  413: 'Les données envoyées dépassent la taille autorisée.',
  414: 'L’adresse demandée est trop longue : vérifiez le lien suivi.',
  415: 'Le format des données envoyées n’est pas pris en charge.',
  429: 'Trop de demandes en peu de temps ; patientez un instant avant de réessayer.',
  431: 'Les en-têtes de la requête sont trop volumineux : effacez les cookies de ce site, puis réessayez.',
};

/**
 * Node refuses to write a header holding a line break, a NUL or a character beyond Latin-1: they
 * come from the address a client typed (an identifier echoed into a redirection), so it is a bad
 * request, not a failure of ours.
 */
const INVALID_HEADER_CODES = new Set(['ERR_INVALID_CHAR', 'ERR_HTTP_INVALID_HEADER_VALUE']);
const CARACTERES_INVALIDES = 'L’adresse demandée contient des caractères qui ne sont pas acceptés : vérifiez le lien suivi.';

const INTERNAL_MESSAGE =
  'Une erreur inattendue nous empêche de répondre. Réessayez dans quelques minutes ; si le problème persiste, contactez-nous en citant la référence ci-dessous.';

export interface Problem {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: readonly ErrorDetail[];
}

export function toProblem(error: unknown): Problem {
  if (INVALID_HEADER_CODES.has(String((error as { code?: unknown } | null)?.code))) {
    return { status: 400, code: 'caracteres_invalides', title: TITLES[400] as string, detail: CARACTERES_INVALIDES, errors: [] };
  }
  if (isQuotientError(error)) {
    const status = STATUS_BY_CODE[error.code] ?? STATUS_BY_KIND[error.kind];
    return { status, code: error.code, title: TITLES[status] ?? 'Erreur', detail: error.message, errors: error.details };
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    const errors: ErrorDetail[] = (fastifyError.validation ?? []).map((v) => ({
      path: (v.instancePath || (v.params as { missingProperty?: string } | undefined)?.missingProperty || '(requête)').replace(/^\//, '').replace(/\//g, '.'),
      message: 'valeur invalide',
    }));
    return {
      status,
      code: fastifyError.validation ? 'requete_invalide' : `http_${status}`,
      title: TITLES[status] ?? 'Demande incorrecte',
      detail: FRAMEWORK_MESSAGES[status] ?? (FRAMEWORK_MESSAGES[400] as string),
      errors,
    };
  }
  return { status: 500, code: 'erreur_interne', title: TITLES[500] as string, detail: INTERNAL_MESSAGE, errors: [] };
}

function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/') || request.url === '/healthz' || request.url === '/readyz';
}

function ErrorPage({ problem, requestId }: { problem: Problem; requestId: string }) {
  return (
    <>
      <h1>{problem.title}</h1>
      <p class="lead">{problem.detail}</p>
      {problem.errors.length > 0 && problem.status < 500 ? (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.path}>{e.message}</li>
          ))}
        </ul>
      ) : null}
      <p>
        <a class="button" href="/">
          Revenir à l’accueil
        </a>
      </p>
      <p class="muted">
        Référence de l’erreur (à donner au service si vous le contactez) : <code>{requestId}</code>
      </p>
    </>
  );
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem, commune: CommuneConfig): FastifyReply {
  if (problem.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '60');
  if (wantsJson(request)) {
    return reply
      .code(problem.status)
      .type('application/problem+json; charset=utf-8')
      .send({
        type: 'about:blank',
        title: problem.title,
        status: problem.status,
        detail: problem.detail,
        code: problem.code,
        requestId: request.id,
        ...(problem.errors.length > 0 ? { errors: problem.errors } : {}),
      });
  }
  const ctx = pageContext(request, reply, commune);
  return sendPage(
    reply,
    <Layout ctx={ctx} title={problem.title}>
      <ErrorPage problem={problem} requestId={request.id} />
    </Layout>,
    problem.status,
  );
}

/**
 * When even the error page cannot be rendered, a fixed text is sent: Fastify's own fallback would
 * show the raw error message to the person.
 */
function sendLastResort(request: FastifyRequest, reply: FastifyReply, status: number): FastifyReply {
  const text = `${TITLES[status] ?? 'Erreur'}. Référence de l’erreur : ${request.id}`;
  if (wantsJson(request)) {
    return reply
      .code(status)
      .type('application/problem+json; charset=utf-8')
      .send({ type: 'about:blank', title: TITLES[status] ?? 'Erreur', status, requestId: request.id });
  }
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="fr"><meta charset="utf-8"><title>Erreur</title><p>${text}</p></html>`);
}

function respond(request: FastifyRequest, reply: FastifyReply, problem: Problem, commune: CommuneConfig): FastifyReply {
  try {
    return sendProblem(request, reply, problem, commune);
  } catch (renderError) {
    request.log.error({ err: renderError }, 'page d’erreur impossible à produire');
    return sendLastResort(request, reply, problem.status);
  }
}

/** Headers this reply cannot carry (a value Node refuses to write): dropped, so that the error page can be sent. */
function sansEnTetesInvalides(reply: FastifyReply): void {
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    try {
      for (const one of [value].flat()) validateHeaderValue(name, String(one));
    } catch {
      reply.removeHeader(name);
    }
  }
}

/** One error handler for the whole application; 5xx never carry internals to the client. */
export function registerErrorHandling(app: FastifyInstance, commune: CommuneConfig): void {
  app.setErrorHandler((error, request, reply) => {
    sansEnTetesInvalides(reply);
    const problem = toProblem(error);
    if (problem.status >= 500) request.log.error({ err: error, code: problem.code }, 'échec de la requête');
    else request.log.info({ code: problem.code, status: problem.status }, 'requête refusée');
    return respond(request, reply, problem, commune);
  });
  app.setNotFoundHandler((request, reply) =>
    respond(request, reply, toProblem(new QuotientError('not_found', 'introuvable', 'La page demandée n’existe pas ou a été déplacée.')), commune),
  );
}

/**
 * What the router refuses before any hook runs (an address that does not decode, an identifier
 * longer than the router accepts): the same French answer as any error, with the security headers
 * set here since helmet's hook did not run.
 */
export function frameworkErrorHandler(commune: CommuneConfig, securite: SecurityOptions) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    reply.headers(enTetesDeRepli(securite));
    const problem = toProblem(error);
    request.log.info({ code: error.code, status: problem.status }, 'requête refusée par le routeur');
    void respond(request, reply, problem, commune);
  };
}

/**
 * What Node's HTTP parser refuses (a malformed request line or header, headers too large, a request
 * too slow): Fastify would answer in English JSON without our headers. The answer is written on the
 * socket itself, in French, as a page or as problem+json for the API, and the connection closed.
 */
export function clientErrorHandler(securite: SecurityOptions) {
  // Node passes the bytes read so far as a Buffer (Fastify's type says otherwise).
  return (error: Error & { readonly code?: string; readonly rawPacket?: unknown }, socket: Duplex): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const title = TITLES[status] as string;
    const detail = FRAMEWORK_MESSAGES[status] as string;
    // The request line, when it was read that far, tells whether the API was asked.
    const api = Buffer.isBuffer(error.rawPacket) && /^[A-Z]{1,16} \/api\//.test(error.rawPacket.toString('latin1', 0, 32));
    const body = api
      ? JSON.stringify({ type: 'about:blank', title, status, detail, code: `http_${status}` })
      : `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${title} – Quotient familial</title><link rel="stylesheet" href="/static/quotient.css"></head><body><main class="container site-main"><h1>${title}</h1><p class="lead">${detail}</p><p><a class="button" href="/">Revenir à l’accueil</a></p></main></body></html>`;
    const headers = {
      ...enTetesDeRepli(securite),
      'content-type': api ? 'application/problem+json; charset=utf-8' : 'text/html; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    };
    const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] as string}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // Whatever the client sends next is not read: once the answer is out, the connection ends.
    socket.end(`${head}\r\n\r\n${body}`, () => socket.destroy());
  };
}
