import { generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { OidcContext } from 'oidc-provider';
import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { adaptateurMemoire, chargerOidcProvider } from './memoire.ts';

/**
 * A local OpenID Connect provider for the demo and the tests (oidc-provider): authorization code
 * with PKCE (S256 only), state and nonce, ES256-signed ID token and userinfo, an `acr`, RP-initiated
 * logout, and the `iss` parameter in the authorisation response. It runs on its own port on
 * 127.0.0.1: a separate origin and issuer, as the real providers are, so that the clients' checks
 * (issuer, audience, redirect, form-action) are exercised for real and cookies never mix.
 *
 * What differs between the families' FranceConnect and the agents' ProConnect-like provider is
 * given by the caller: the directory of accounts, the scopes and claims, the branding.
 */

export interface ProviderClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
}

/** Who may sign in. The account id is what the provider's session and tokens carry: opaque. */
export interface AccountDirectory {
  /** The account id for a login and password, or undefined (one answer for both mistakes). */
  authenticate(login: string, password: string): string | undefined;
  /** The claims of an account (including `sub`), or undefined when it no longer exists. */
  claims(accountId: string): Record<string, unknown> | undefined;
}

export interface LocalOidcOptions {
  readonly clients: readonly ProviderClient[];
  /** Default 0 (ephemeral). */
  readonly port?: number;
  readonly directory: AccountDirectory;
  readonly scopes: readonly string[];
  /**
   * Further scopes that carry no claim: a data provider's (FranceConnect's DGFiP scopes), granted
   * with the token and told to `onAccessToken`, never put in the ID token or the userinfo.
   */
  readonly dataScopes?: readonly string[];
  /** Scopes not granted even when asked (the person, or the provider, declined them), asked at each sign-in. */
  readonly refusedScopes?: () => readonly string[];
  readonly acr: string;
  /** Shown in the header of every page of the provider, and in its name. */
  readonly brand: { readonly name: string; readonly subtitle: string };
  /** The explanation above the login form. */
  readonly loginHelp: ComponentChildren;
  readonly loginInputMode: 'numeric' | 'email';
  /** Called when an access token is issued, with the account it was issued for, its expiry (epoch ms) and the scopes granted. */
  readonly onAccessToken?: (token: string, accountId: string, expiresAt: number, scopes: readonly string[]) => void;
  /**
   * Lifetime of access tokens in seconds (default 3600), asked at each issue: a test shortens it
   * for one sign-in rather than waiting for it to run out.
   */
  readonly accessTokenTtlSeconds?: () => number;
}

export interface LocalOidcProvider {
  /** `http://127.0.0.1:<port>`, also the issuer. */
  readonly issuer: string;
  close(): Promise<void>;
}

const CSS = readFileSync(new URL('../../http/assets/quotient.css', import.meta.url), 'utf8');

export async function startLocalOidcProvider(options: LocalOidcOptions): Promise<LocalOidcProvider> {
  const { brand, directory } = options;

  function Page({ title, children }: { title: string; children: ComponentChildren }) {
    return (
      <html lang="fr">
        <head>
          <meta charSet="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="no-referrer" />
          <title>{`${title} – ${brand.name} (démonstration locale)`}</title>
          <link rel="stylesheet" href="/static/quotient.css" />
        </head>
        <body>
          <header class="site-header">
            <div class="container site-header__inner">
              <span class="site-header__brand">
                <span class="site-header__commune">{brand.name}</span>
                <span class="site-header__service">{brand.subtitle}</span>
              </span>
            </div>
          </header>
          <main id="contenu" class="container site-main">
            {children}
          </main>
        </body>
      </html>
    );
  }

  function LoginPage({ uid, error, clientName }: { uid: string; error?: string; clientName: string }) {
    return (
      <Page title={error ? 'Erreur : connexion' : 'Connexion'}>
        {error ? (
          <div class="error-summary" role="alert" tabIndex={-1}>
            <h2 class="error-summary__title">La connexion a échoué</h2>
            <p>{error}</p>
          </div>
        ) : null}
        <h1>Se connecter avec un compte fictif</h1>
        <p class="lead">Le service « {clientName} » demande votre identité.</p>
        <div class="alert alert--info">
          <h2 class="alert__title">Plateforme de démonstration</h2>
          {options.loginHelp}
        </div>
        <form method="post" action={`/interaction/${uid}/login`} class="simulateur-form">
          <div class="field">
            <label for="login">Identifiant</label>
            <input id="login" name="login" type="text" inputMode={options.loginInputMode} autoComplete="off" spellcheck={false} required />
          </div>
          <div class="field">
            <label for="password">Mot de passe</label>
            <input id="password" name="password" type="password" autoComplete="off" required />
          </div>
          <button class="button" type="submit">
            Se connecter
          </button>
        </form>
        <form method="post" action={`/interaction/${uid}/abort`}>
          <button class="button button--secondary" type="submit">
            Annuler et revenir au service
          </button>
        </form>
      </Page>
    );
  }

  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const clientOrigins = [...new Set(options.clients.flatMap((c) => c.redirectUris.map((u) => new URL(u).origin)))].join(' ');

  const send = (res: ServerResponse, status: number, page: preact.VNode) => {
    res.statusCode = status;
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    // Chrome applies form-action to the redirects that follow a form: the clients' origins are listed.
    res.setHeader(
      'content-security-policy',
      `default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' ${clientOrigins}; frame-ancestors 'none'; base-uri 'none'`,
    );
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.end(`<!doctype html>${renderToString(page)}`);
  };

  const jwk = {
    ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
    kid: randomBytes(8).toString('hex'),
    alg: 'ES256',
    use: 'sig',
  };

  const Provider = await chargerOidcProvider();
  const provider = new Provider(issuer, {
    adapter: adaptateurMemoire(),
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      client_name: c.clientId,
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris,
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'ES256',
      userinfo_signed_response_alg: 'ES256',
    })),
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: [...options.scopes, ...(options.dataScopes ?? [])],
    claims: Object.fromEntries(options.scopes.map((s) => [s, s === 'openid' ? ['sub'] : [s]])),
    acrValues: [options.acr],
    enabledJWA: { idTokenSigningAlgValues: ['ES256'], userinfoSigningAlgValues: ['ES256'] },
    pkce: { required: () => true },
    responseTypes: ['code'],
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      jwtUserinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: { body: string }, form: string) => {
          ctx.body = `<!doctype html>${renderToString(
            <Page title="Déconnexion">
              <h1>Se déconnecter de {brand.name}</h1>
              <p>Vous quittez le service. Confirmez la déconnexion de {brand.name}.</p>
              <div dangerouslySetInnerHTML={{ __html: form }} />
              <button class="button" type="submit" form="op.logoutForm" name="logout" value="yes">
                Se déconnecter
              </button>
            </Page>,
          )}`;
        },
        postLogoutSuccessSource: (ctx: { body: string }) => {
          ctx.body = `<!doctype html>${renderToString(
            <Page title="Déconnecté">
              <h1>Vous êtes déconnecté de {brand.name}</h1>
            </Page>,
          )}`;
        },
      },
    },
    ttl: { AccessToken: () => options.accessTokenTtlSeconds?.() ?? 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 1800, Grant: 1800 },
    issueRefreshToken: () => false,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, id: string) => {
      const claims = directory.claims(id);
      if (!claims) return undefined;
      return { accountId: id, claims: () => ({ ...claims, sub: claims.sub ?? id }) };
    },
    // Like FranceConnect and ProConnect, no consent screen of its own for a service it has authorised.
    loadExistingGrant: async (ctx: OidcContext) => {
      const { client, session, provider: p, params } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      // A grant of this session (an earlier sign-in, for fewer scopes) is widened to what is asked now.
      const grant = (existing ? await p.Grant.find(existing) : undefined) ?? new p.Grant({ accountId: session.accountId, clientId: client.clientId });
      const refused = new Set(options.refusedScopes?.() ?? []);
      const asked = String(params?.scope ?? 'openid')
        .split(/\s+/)
        .filter((s) => s !== '');
      grant.addOIDCScope(asked.filter((s) => !refused.has(s)).join(' '));
      // Declined, not forgotten: the token is issued without them, and no consent screen asks again.
      const declined = asked.filter((s) => refused.has(s));
      if (declined.length > 0) grant.rejectOIDCScope(declined.join(' '));
      const grantId = await grant.save();
      session.ensureClientContainer(client.clientId);
      session.grantIdFor(client.clientId, grantId);
      return grant;
    },
    renderError: (ctx: { type: string; body: string; status: number }, out: { error?: string }) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html>${renderToString(
        <Page title="Erreur">
          <h1>La connexion n’a pas pu aboutir</h1>
          <p>Le fournisseur d’identité a refusé la demande ({out.error ?? 'erreur'}). Revenez au service et recommencez.</p>
        </Page>,
      )}`;
    },
  });

  // Opaque access tokens are stored (`saved`); the value handed to the client is their jti.
  // The token's `exp` is written into its stored payload; on the instance, its lifetime is `expiration` (seconds).
  const announce = (token: { jti: string; accountId?: string; exp?: number; expiration?: number; scope?: string }) => {
    const expiresAt = token.exp ? token.exp * 1000 : Date.now() + (token.expiration ?? 0) * 1000;
    const scopes = (token.scope ?? '').split(/\s+/).filter((s) => s !== '');
    if (token.accountId && options.onAccessToken) options.onAccessToken(token.jti, token.accountId, expiresAt, scopes);
  };
  provider.on('access_token.saved', announce);
  provider.on('access_token.issued', announce);

  const handleProvider = provider.callback();
  const clientName = (clientId: unknown) => options.clients.find((c) => c.clientId === clientId)?.clientId ?? 'inconnu';

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const [, , uid = '', action = ''] = path.split('/');
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction');
    if (req.method === 'GET' && action === '') {
      send(res, 200, <LoginPage uid={uid} clientName={clientName(details.params.client_id)} />);
      return;
    }
    if (req.method === 'POST' && action === 'abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'Connexion annulée' }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const accountId = directory.authenticate(form.get('login') ?? '', form.get('password') ?? '');
      if (accountId === undefined) {
        send(res, 400, <LoginPage uid={uid} clientName={clientName(details.params.client_id)} error="Identifiant ou mot de passe incorrect." />);
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId, acr: options.acr, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
      return;
    }
    res.statusCode = 405;
    res.end();
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/static/quotient.css') {
      res.setHeader('content-type', 'text/css; charset=utf-8');
      res.end(CSS);
      return;
    }
    if (path.startsWith('/interaction/')) {
      interaction(req, res, path).catch(() => {
        if (res.headersSent) return;
        send(
          res,
          400,
          <Page title="Erreur">
            <h1>Cette connexion a expiré</h1>
            <p>Revenez au service et recommencez la connexion.</p>
          </Page>,
        );
      });
      return;
    }
    handleProvider(req, res);
  });

  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Compares two secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
