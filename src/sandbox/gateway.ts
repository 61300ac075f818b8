import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Clock, TaxationDate } from './calendar.ts';
import type { AftDetailKeys } from './contract.ts';
import type { FaultSwitch, SandboxApi } from './faults.ts';
import { erreur, gatewayFault, UUID, type Answer } from './http.ts';
import type { Population } from './population.ts';
import type { SlidingWindowQuota } from './quota.ts';
import { fingerprint, type IssuedToken, type TokenStore } from './tokens.ts';

/**
 * What the API gateway checks before a call reaches the data, in its order: the access token
 * (401), its scope (403), the quota (429), then the headers the DGFiP requires (400/403).
 */

/** A téléservice known to the sandbox: OAuth client, habilitation (scopes, fields, years). */
export interface SandboxClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  /** Expected `ID_Teleservice` header. */
  readonly idTeleservice: string;
  /** Fields of the contract (top-level names, or `pac.nbPac`-style members). */
  readonly fields: readonly string[];
  /** Income years of the habilitation, as offsets from the current year: 1 = N-1, 2 = N-2, 3 = N-3. */
  readonly annees: readonly number[];
}

/** Resolves a FranceConnect access token to the SPI of the person who consented. */
export type FranceConnectResolver = (token: string) => string | undefined | Promise<string | undefined>;

export interface SandboxState {
  readonly now: Clock;
  readonly taxation: TaxationDate;
  readonly population: Population;
  readonly clients: Map<string, SandboxClient>;
  readonly tokens: TokenStore;
  readonly quota: SlidingWindowQuota;
  readonly countTokenRequests: boolean;
  readonly faults: FaultSwitch;
  /**
   * FranceConnect access token → the person's SPI and, when known, when the token stops being valid
   * (epoch ms) and the scopes the person agreed to (absent: not checked).
   */
  readonly franceConnectTokens: Map<string, { readonly spi: string; readonly expiresAt?: number; readonly scopes?: ReadonlySet<string> }>;
  readonly franceConnectResolver: FranceConnectResolver | undefined;
  readonly apiKeys: Set<string>;
  readonly aftDetailKeys: AftDetailKeys;
  readonly requireIdTeleservice: boolean;
}

/** One call in flight: what the dispatcher records and what the fault switch matches on. */
export interface CallContext {
  readonly req: IncomingMessage;
  /** Raw path, not normalised (no dot-segment or backslash rewriting as WHATWG URL would do). */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly now: number;
  readonly certFingerprint: string | undefined;
  api: SandboxApi | undefined;
  clientId: string | undefined;
  token: IssuedToken | undefined;
  /** The SPI the call is about, once known; only ever compared, never written anywhere. */
  spi: string | undefined;
  /** True once the call passed the gateway: from then on injected faults apply. */
  faultable: boolean;
  /** The valid X-Correlation-ID of the request, echoed on the answer. */
  correlationId: string | undefined;
}

export function peerFingerprint(req: IncomingMessage): string | undefined {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  return cert && cert.raw ? fingerprint(cert.raw) : undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export { header as requestHeader };

/** The header carries an ASCII description (header values are Latin-1); the body the French one. */
const INVALID_TOKEN = (description: string, headerDescription: string): Answer =>
  gatewayFault(401, 900901, 'Invalid Credentials', description, {
    'www-authenticate': `Bearer realm="bac-a-sable-dgfip", error="invalid_token", error_description="${headerDescription}"`,
  });

const TOKEN_REFUSALS: Readonly<Record<'inconnu' | 'expire' | 'revoque' | 'certificat', readonly [string, string]>> = {
  inconnu: ['Jeton d’accès inconnu.', 'unknown access token'],
  expire: ['Jeton d’accès expiré.', 'access token expired'],
  revoque: ['Jeton d’accès révoqué.', 'access token revoked'],
  certificat: ['Jeton d’accès obtenu avec un autre certificat client.', 'access token bound to another client certificate'],
};

export type GatewayResult = { readonly ok: true; readonly client: SandboxClient } | { readonly ok: false; readonly answer: Answer };

/** Token, scope, quota. On success the call becomes faultable. */
export function passGateway(state: SandboxState, ctx: CallContext, api: SandboxApi, scope: string | undefined): GatewayResult {
  ctx.api = api;
  const authorization = header(ctx.req, 'authorization');
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (!authorization) {
    return {
      ok: false,
      answer: gatewayFault(401, 900902, 'Missing Credentials', 'Jeton d’accès absent : en-tête « Authorization: Bearer <jeton> » attendu.', {
        'www-authenticate': 'Bearer realm="bac-a-sable-dgfip"',
      }),
    };
  }
  if (!match) return { ok: false, answer: INVALID_TOKEN('En-tête Authorization mal formé : schéma Bearer attendu.', 'malformed Authorization header') };
  const checked = state.tokens.check(match[1] as string, ctx.certFingerprint);
  if (!checked.ok) {
    const why = TOKEN_REFUSALS[checked.reason];
    return { ok: false, answer: INVALID_TOKEN(why[0], why[1]) };
  }
  const token = checked.token;
  const client = state.clients.get(token.clientId);
  if (!client) return { ok: false, answer: INVALID_TOKEN('Jeton d’accès inconnu.', 'unknown access token') };
  ctx.clientId = client.clientId;
  ctx.token = token;
  if (scope !== undefined && !token.scopes.has(scope)) {
    return {
      ok: false,
      answer: gatewayFault(403, 900910, 'The access token does not allow you to access the requested resource', `Portée « ${scope} » absente du jeton.`),
    };
  }
  const decision = state.quota.take(`${api}:${client.clientId}`);
  if (!decision.ok) return { ok: false, answer: throttled(decision.retryAfterSeconds) };
  ctx.faultable = true;
  return { ok: true, client };
}

export function throttled(retryAfterSeconds: number): Answer {
  return gatewayFault(429, 900800, 'Message throttled out', 'Quota d’appels dépassé : réessayez après le délai indiqué par Retry-After.', {
    'retry-after': String(retryAfterSeconds),
  });
}

/**
 * `X-Correlation-ID` (a UUID, required) and `ID_Teleservice` (the habilitation's identifier;
 * required unless the sandbox is told otherwise, or when `required` says so as in SFiP).
 */
export function checkHeaders(
  state: SandboxState,
  ctx: CallContext,
  client: SandboxClient,
  options: { idTeleservice: 'required' | 'default' | 'ignored'; contentType?: string; forbiddenCode?: number; badRequestCode?: number },
): Answer | undefined {
  const contentType = options.contentType;
  const correlation = header(ctx.req, 'x-correlation-id');
  if (!correlation) return erreur(400, options.badRequestCode, 'En-tête X-Correlation-ID absent.', ctx.now, contentType);
  if (!UUID.test(correlation)) return erreur(400, options.badRequestCode, 'En-tête X-Correlation-ID invalide : un UUID est attendu.', ctx.now, contentType);
  ctx.correlationId = correlation;
  if (options.idTeleservice === 'ignored') return undefined;
  const id = header(ctx.req, 'id_teleservice');
  const required = options.idTeleservice === 'required' || state.requireIdTeleservice;
  if (id === undefined || id === '') {
    return required ? erreur(400, options.badRequestCode, 'En-tête ID_Teleservice absent.', ctx.now, contentType) : undefined;
  }
  if (id !== client.idTeleservice) {
    return erreur(
      403,
      options.forbiddenCode ?? 4031,
      'L’utilisateur n’a pas accès à la ressource : ID_Teleservice inconnu pour ce client.',
      ctx.now,
      contentType,
    );
  }
  return undefined;
}
