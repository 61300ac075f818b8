import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
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

/**
 * Security headers on every response (pages, API, errors, static files). The CSP allows scripts
 * and styles only from our origin or with the per-response nonce: no inline code, no CDN.
 */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  await app.register(helmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: { useDefaults: false, directives: directivesCsp(options) },
    // HSTS is decided per request below: only over HTTPS, where browsers honour it.
    hsts: false,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    frameguard: { action: 'deny' },
  });

  // After helmet's hooks, so that the 405 carries the security headers too.
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
