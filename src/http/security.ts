import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { QuotientError } from '../domain/errors.ts';

/** Methods we serve; anything else (TRACE, CONNECT, WebDAV verbs) is answered 405 before routing. */
const ALLOWED_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface SecurityOptions {
  /** True when the public URL is https: HSTS is sent and insecure requests are upgraded. */
  readonly httpsPublicUrl: boolean;
  /** Extra origins forms may post to (identity providers), added by later capabilities. */
  readonly formActionOrigins?: readonly string[];
}

function directivesCsp(options: SecurityOptions): Record<string, string[]> {
  return {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'none'"],
    frameAncestors: ["'none'"],
    formAction: ["'self'", ...(options.formActionOrigins ?? [])],
    ...(options.httpsPublicUrl ? { upgradeInsecureRequests: [] } : {}),
  };
}

const PERMISSIONS_POLICY = 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()';
const HSTS = 'max-age=63072000; includeSubDomains';

/**
 * The same headers as helmet's and ours below, for the answers written before any hook runs:
 * malformed requests refused by Node's parser or by the router. Without a nonce: no inline script.
 */
export function enTetesDeRepli(options: SecurityOptions): Record<string, string> {
  const csp = Object.entries(directivesCsp(options))
    .map(([name, values]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), ...values].join(' '))
    .join(';');
  return {
    'content-security-policy': csp,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'DENY',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
    'permissions-policy': PERMISSIONS_POLICY,
    'cache-control': 'no-store',
    ...(options.httpsPublicUrl ? { 'strict-transport-security': HSTS } : {}),
  };
}

/** The CSP with the response's nonces on scripts and styles, in the form helmet wrote it. */
function cspAvecNonces(options: SecurityOptions): (script: string, style: string) => string {
  const directives = Object.entries(directivesCsp(options)).map(([name, values]) => [name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), values] as const);
  // Everything but the two nonces is fixed: computed once, joined per response.
  const parts: Array<string | 'script' | 'style'> = [];
  let fixe = '';
  for (const [i, [name, values]] of directives.entries()) {
    fixe += (i > 0 ? ';' : '') + [name, ...values].join(' ');
    if (name === 'script-src' || name === 'style-src') {
      parts.push(`${fixe} 'nonce-`, name === 'script-src' ? 'script' : 'style');
      fixe = "'";
    }
  }
  parts.push(fixe);
  return (script, style) => {
    let csp = '';
    for (const part of parts) csp += part === 'script' ? script : part === 'style' ? style : part;
    return csp;
  };
}

/**
 * Security headers on every response (pages, API, errors, static files). The CSP allows scripts
 * and styles only from our origin or with the per-response nonce: no inline code, no CDN. The
 * headers helmet would set, computed once (helmet rebuilt its middleware for every response,
 * about a tenth of a page's CPU); only the nonces are new each time.
 */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  const csp = cspAvecNonces(options);
  const {
    'cache-control': _cache,
    'permissions-policy': _permissions,
    'strict-transport-security': _hsts,
    'content-security-policy': _csp,
    ...fixes
  } = enTetesDeRepli(options);
  app.decorateReply('cspNonce', null);
  app.addHook('onRequest', async (_request, reply) => {
    const nonces = randomBytes(32).toString('hex');
    const script = nonces.slice(0, 32);
    const style = nonces.slice(32);
    (reply as FastifyReply & { cspNonce: { script: string; style: string } }).cspNonce = { script, style };
    reply.headers(fixes);
    reply.header('content-security-policy', csp(script, style));
  });

  // After the headers' hook, so that the 405 carries the security headers too.
  app.addHook('onRequest', async (request, reply) => {
    if (!ALLOWED_METHODS.has(request.raw.method ?? '')) {
      reply.header('allow', [...ALLOWED_METHODS].join(', '));
      throw new QuotientError('invalid', 'methode_non_autorisee', 'Cette méthode HTTP n’est pas acceptée.', {
        details: [{ path: 'method', message: request.raw.method ?? '' }],
      });
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (options.httpsPublicUrl || request.protocol === 'https') {
      reply.header('strict-transport-security', HSTS);
    }
    reply.header('permissions-policy', PERMISSIONS_POLICY);
    reply.header('x-request-id', request.id);
    // Pages may show a family's data: nothing is cached unless a route says otherwise (static files).
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    reply.removeHeader('x-powered-by');
    return payload;
  });
}
