import type { CallContext, SandboxState } from './gateway.ts';
import { requestHeader, throttled } from './gateway.ts';
import { json, JSON_UTF8, readBody, type Answer } from './http.ts';
import { KNOWN_SCOPES, sameSecret } from './tokens.ts';

/**
 * `POST /token`: OAuth 2.0 client credentials (RFC 6749 §4.4), the client authenticated by HTTP
 * Basic or by `client_id`/`client_secret` in the body (§2.3.1), errors as in §5.2.
 */

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;
const MAX_BODY = 16 * 1024;

function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}): Answer {
  return json(status, { error, error_description: description }, JSON_UTF8, { ...NO_STORE, ...headers });
}

/** Basic credentials are form-urlencoded before base64 (RFC 6749 §2.3.1). */
function decodeBasic(value: string): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(value);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    const form = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

export async function tokenEndpoint(state: SandboxState, ctx: CallContext): Promise<Answer> {
  ctx.api = 'token';
  // Outages of the authorisation server are injectable too (rules with api « token » or « toutes »).
  ctx.faultable = true;
  if (ctx.req.method !== 'POST') {
    return { ...oauthError(405, 'invalid_request', 'Seule la méthode POST est acceptée.'), headers: { 'content-type': JSON_UTF8, allow: 'POST', ...NO_STORE } };
  }
  const type = (requestHeader(ctx.req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return oauthError(400, 'invalid_request', 'Le corps doit être de type application/x-www-form-urlencoded.');
  }
  const raw = await readBody(ctx.req, MAX_BODY);
  if (!raw) return oauthError(413, 'invalid_request', 'Corps de requête trop volumineux.');
  const form = new URLSearchParams(raw.toString('utf8'));
  for (const name of new Set(form.keys())) {
    if (form.getAll(name).length > 1) return oauthError(400, 'invalid_request', `Paramètre « ${name} » répété.`);
  }

  const authorization = requestHeader(ctx.req, 'authorization');
  const bodyId = form.get('client_id');
  const bodySecret = form.get('client_secret');
  let credentials: { id: string; secret: string } | undefined;
  let viaBasic = false;
  if (authorization !== undefined) {
    if (bodySecret !== null) return oauthError(400, 'invalid_request', 'Une seule méthode d’authentification du client est admise.');
    credentials = decodeBasic(authorization);
    viaBasic = true;
    if (!credentials || (bodyId !== null && bodyId !== credentials.id)) {
      return oauthError(401, 'invalid_client', 'Authentification du client refusée.', { 'www-authenticate': 'Basic realm="bac-a-sable-dgfip"' });
    }
  } else if (bodyId !== null && bodySecret !== null) {
    credentials = { id: bodyId, secret: bodySecret };
  }
  const grant = form.get('grant_type');
  if (grant === null || grant === '') return oauthError(400, 'invalid_request', 'Paramètre grant_type absent.');
  if (!credentials) {
    return oauthError(401, 'invalid_client', 'Authentification du client absente.', { 'www-authenticate': 'Basic realm="bac-a-sable-dgfip"' });
  }
  const client = state.clients.get(credentials.id);
  if (!client || !sameSecret(credentials.secret, client.clientSecret)) {
    return oauthError(401, 'invalid_client', 'Authentification du client refusée.', viaBasic ? { 'www-authenticate': 'Basic realm="bac-a-sable-dgfip"' } : {});
  }
  ctx.clientId = client.clientId;
  if (grant !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', 'Seul le type client_credentials est accepté.');

  const asked = (form.get('scope') ?? '').split(' ').filter((s) => s !== '');
  const scopes = asked.length === 0 ? client.scopes : asked;
  const refused = scopes.filter((s) => !KNOWN_SCOPES.includes(s) || !client.scopes.includes(s));
  if (refused.length > 0) return oauthError(400, 'invalid_scope', 'Portée inconnue ou non accordée à ce client.');

  if (state.countTokenRequests) {
    // Counted with the calls of API Impôt particulier, as if the gateway counted every request.
    const decision = state.quota.take(`impot-particulier:${client.clientId}`);
    if (!decision.ok) return throttled(decision.retryAfterSeconds);
  }
  const issued = state.tokens.issue(client.clientId, [...new Set(scopes)], ctx.certFingerprint);
  return json(
    200,
    { access_token: issued.value, token_type: 'Bearer', expires_in: state.tokens.lifetimeSeconds, scope: [...issued.token.scopes].join(' ') },
    JSON_UTF8,
    { ...NO_STORE },
  );
}
