import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QuotientError } from '../../domain/errors.ts';
import { EntreeAuditInvalide, type Acteur, type AuditEntryInput } from '../../modules/audit/audit-entry.ts';
import { cleRoute, POLITIQUE_ACCES } from './politique-acces.ts';
import type { Principal } from './principal.ts';

/** A signed-in agent as the back-office sees it on each request (read again every time). */
export interface AgentConnecte {
  readonly id: string;
  readonly prenom: string;
  readonly nom: string;
  readonly email: string;
  readonly roles: readonly Exclude<Principal, 'anonyme' | 'famille' | 'api'>[];
}

export interface CleApiConnue {
  readonly id: string;
  readonly libelle: string;
}

export interface ControleAccesDeps {
  readonly journal?: { append(entry: AuditEntryInput): Promise<unknown> };
  /** An active agent by id (disabled or unknown: undefined, and the session ends). */
  readonly agentActif?: (id: string) => Promise<AgentConnecte | undefined>;
  /** The key named by an `Authorization: Bearer` header, if valid and not revoked. */
  readonly cleApi?: (secret: string) => Promise<CleApiConnue | undefined>;
  /** Further entries (tests that add routes of their own). */
  readonly politique?: Readonly<Record<string, readonly Principal[]>>;
  /** The origin of QUOTIENT_PUBLIC_URL: state-changing requests sent from another site are refused. */
  readonly origine?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in agent, on back-office routes; null otherwise. */
    agent: AgentConnecte | null;
    /** The API key of the caller, on API routes; null otherwise. */
    cleApi: CleApiConnue | null;
    /** Who the access policy saw: set on every routed request before its handler runs. */
    principaux: readonly Principal[] | null;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{16,200})$/;
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Same scheme, host and port; on this machine (the demo) localhost, 127.0.0.1 and [::1] are one host. */
function memeOrigine(origin: string, attendue: string): boolean {
  if (origin === attendue) return true;
  let a: URL;
  let b: URL;
  try {
    a = new URL(origin);
    b = new URL(attendue);
  } catch {
    // Not an origin at all: not us.
    return false;
  }
  return LOOPBACK.has(a.hostname) && LOOPBACK.has(b.hostname) && a.protocol === b.protocol && a.port === b.port;
}

/**
 * Defence in depth beside the CSRF tokens: a form or a script of another site, as the browser says
 * (`Origin`, `Sec-Fetch-Site`). Requests without these headers (older browsers, the tests' own
 * clients) are judged by their CSRF token alone. The API's callers authenticate with a key and are
 * no browser: they are not concerned.
 */
function envoyeeDAilleurs(request: FastifyRequest, origine: string): boolean {
  if (!UNSAFE_METHODS.has(request.method)) return false;
  if (request.url.startsWith('/api/') && BEARER.test(request.headers.authorization ?? '')) return false;
  if (request.headers['sec-fetch-site'] === 'cross-site') return true;
  const origin = request.headers.origin;
  // « null » tells nothing: our own pages send it (Referrer-Policy: no-referrer), as do sandboxed
  // frames; Sec-Fetch-Site above, and the CSRF token, decide then.
  return origin !== undefined && origin !== 'null' && !memeOrigine(origin, origine);
}

/**
 * Every request is checked against the one policy before anything else of the route runs (before
 * its body is even read): who is asking, is it allowed. A refusal sends a visitor to the sign-in page
 * of the space (a page), answers 401 (a form or the API without credentials) or 403, and is one
 * journal entry.
 */
export function registerControleAcces(app: FastifyInstance, deps: ControleAccesDeps): void {
  const politique = { ...POLITIQUE_ACCES, ...deps.politique };
  app.decorateRequest('agent', null);
  app.decorateRequest('cleApi', null);
  app.decorateRequest('principaux', null);

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    // Unknown URLs: the not-found page, which gives nothing away.
    if (route === undefined) return;
    const principaux = await principauxDe(request, deps);
    request.principaux = principaux;
    if (deps.origine !== undefined && envoyeeDAilleurs(request, deps.origine)) {
      await tracerRefus(request, route, principaux, deps, 'origine');
      throw new QuotientError(
        'forbidden',
        'origine_refusee',
        'Ce formulaire a été envoyé depuis un autre site : rien n’a été enregistré. Ouvrez le site de la commune directement, puis recommencez.',
      );
    }
    const allowed = politique[cleRoute(request.method, route)];
    if (allowed && principaux.some((p) => allowed.includes(p))) return;
    if (!allowed) request.log.error({ route, method: request.method }, 'route absente de la politique d’accès : refusée');
    await tracerRefus(request, route, principaux, deps);
    return refuser(request, reply, route, principaux);
  });
}

async function principauxDe(request: FastifyRequest, deps: ControleAccesDeps): Promise<Principal[]> {
  if (request.url.startsWith('/api/')) {
    const match = BEARER.exec(request.headers.authorization ?? '');
    const cle = match && deps.cleApi ? await deps.cleApi(match[1] as string) : undefined;
    if (cle) {
      request.cleApi = cle;
      return ['api'];
    }
    return ['anonyme'];
  }
  const session = request.session as { agentId?: unknown; compteId?: unknown } | undefined;
  if (typeof session?.agentId === 'string') {
    const agent = deps.agentActif ? await deps.agentActif(session.agentId) : undefined;
    if (agent && agent.roles.length > 0) {
      request.agent = agent;
      return [...agent.roles];
    }
    // Disabled since the session began: it ends now, and the request goes on with a fresh empty one.
    await request.session.regenerate();
    return ['anonyme'];
  }
  if (typeof session?.compteId === 'string') return ['famille'];
  return ['anonyme'];
}

/** Who to write in the journal for a refusal: the agent, the family's account, the key, or the request. */
function acteurDe(request: FastifyRequest): Acteur {
  if (request.agent) return { type: 'agent', id: request.agent.id };
  if (request.cleApi) return { type: 'api', id: request.cleApi.id };
  const compteId = (request.session as { compteId?: unknown } | undefined)?.compteId;
  if (typeof compteId === 'string') return { type: 'famille', id: compteId };
  return { type: 'anonyme', id: String(request.id) };
}

async function tracerRefus(
  request: FastifyRequest,
  route: string,
  principaux: readonly Principal[],
  deps: ControleAccesDeps,
  motif?: 'origine',
): Promise<void> {
  // The route's pattern, never the URL: identifiers and query strings stay out of the journal; nor
  // the Origin a client sent, only that it was another site's.
  const details = { methode: request.method, route, roles: principaux.join(','), ...(motif ? { motif } : {}) };
  const entree: AuditEntryInput = { actor: acteurDe(request), action: 'acces.refuse', outcome: 'refus', correlationId: String(request.id), details };
  try {
    try {
      await deps.journal?.append(entree);
    } catch (error) {
      if (!(error instanceof EntreeAuditInvalide)) throw error;
      // The request id is the one value here a client may have influenced (through a proxy): if the
      // journal's guard refuses it, the refusal is written without it rather than lost.
      const { correlationId: _refuse, ...sansId } = entree;
      await deps.journal?.append({
        ...sansId,
        actor: entree.actor.type === 'anonyme' ? { type: 'anonyme', id: 'inconnu' } : entree.actor,
        details: { ...details, identifiantRequete: 'masque' },
      });
    }
  } catch (error) {
    // The refusal stands even if the journal cannot take it; the operator is told.
    request.log.error({ err: error }, 'refus d’accès non journalisé');
  }
}

function refuser(request: FastifyRequest, reply: FastifyReply, route: string, principaux: readonly Principal[]): FastifyReply | never {
  const anonyme = principaux.includes('anonyme');
  if (anonyme && route.startsWith('/api/')) {
    reply.header('www-authenticate', 'Bearer realm="quotient"');
    throw new QuotientError('unauthenticated', 'cle_api_requise', 'Une clé d’API valide est requise (en-tête Authorization: Bearer).');
  }
  // A page asked by someone not signed in: the sign-in page of its space (families or agents).
  if (anonyme && request.method === 'GET') return reply.redirect(route === '/agents' || route.startsWith('/agents/') ? '/agents/connexion' : '/connexion', 303);
  if (anonyme) throw new QuotientError('unauthenticated', 'connexion_requise', 'Connectez-vous pour accéder à cette page.');
  throw new QuotientError('forbidden', 'acces_refuse', 'Vous n’avez pas accès à cette page avec votre compte.');
}
