import { createHmac, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Provider, { type OidcContext } from 'oidc-provider';
import type { ComponentChildren } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { DEFAULT_TAXATION_DATE } from '../calendar.ts';
import { Population, type Personne } from '../population.ts';

/**
 * A local identity provider shaped like FranceConnect v2, for the demo and the tests: authorization
 * code with PKCE (S256 only), state and nonce, ES256-signed ID token and userinfo, `acr` eidas1,
 * the identity claims of FranceConnect (given_name, family_name, birthdate, gender, birthplace,
 * birthcountry), RP-initiated logout, and the `iss` parameter in the authorisation response.
 *
 * It runs on its own port on 127.0.0.1: a separate origin and issuer, as FranceConnect is, so that
 * the client's checks (issuer, audience, redirect, form-action) are exercised for real and its
 * cookies never mix with Quotient's.
 *
 * People are the fictitious identities of the DGFiP sandbox; the login is their numéro fiscal, the
 * password `123`, as on FranceConnect's integration platform. The numéro fiscal is used only to
 * find the person in memory: the account id and the `sub` are an HMAC of it under a key of this
 * provider (opaque, pseudonymous, stable as long as the key is), nothing is logged, and its session
 * store is in memory.
 */

export const FC_SCOPES = ['openid', 'given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'] as const;
export const FC_PASSWORD = '123';

export interface ProviderClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
}

export interface LocalProviderOptions {
  readonly clients: readonly ProviderClient[];
  /** Default 0 (ephemeral). */
  readonly port?: number;
  /** Key of the pseudonymous identifiers; random when absent (then `sub` changes at each start). */
  readonly subjectKey?: Buffer;
  /**
   * Called when an access token is issued, with the person's numéro fiscal: the DGFiP sandbox
   * registers it so that API Impôt particulier « via FranceConnect » resolves it.
   */
  readonly onAccessToken?: (token: string, spi: string) => void;
  /** Default: the whole sandbox population. */
  readonly personnes?: Iterable<Personne>;
}

export interface LocalProvider {
  /** `http://127.0.0.1:<port>`, also the issuer. */
  readonly issuer: string;
  /** The `sub` this provider gives a login (for tests and the demo summary; never stored). */
  subjectOf(login: string): string | undefined;
  close(): Promise<void>;
}

interface Claims {
  sub: string;
  given_name: string;
  family_name: string;
  birthdate?: string;
  gender: 'male' | 'female';
  birthplace: string;
  birthcountry: string;
}

function claimsOf(sub: string, p: Personne): Claims {
  return {
    sub,
    given_name: p.prenoms,
    family_name: p.nomNaissance,
    ...(p.naissance ? { birthdate: `${p.naissance.annee}-${p.naissance.mois}-${p.naissance.jour}` } : {}),
    gender: p.sexe === '2' ? 'female' : 'male',
    // FranceConnect gives the INSEE code of the birth commune, empty when born abroad.
    birthplace: p.cogNaissance ?? '',
    birthcountry: p.paysNaissance,
  };
}

const CSS = readFileSync(new URL('../../http/assets/quotient.css', import.meta.url), 'utf8');

function Page({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <html lang="fr">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${title} – FranceConnect (bac à sable local)`}</title>
        <link rel="stylesheet" href="/static/quotient.css" />
      </head>
      <body>
        <header class="site-header">
          <div class="container site-header__inner">
            <span class="site-header__brand">
              <span class="site-header__commune">FranceConnect</span>
              <span class="site-header__service">Fournisseur d’identité de démonstration (données fictives)</span>
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

function send(res: ServerResponse, status: number, page: preact.VNode, formAction: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  // Chrome applies form-action to the redirects that follow a form: the clients' origins are listed.
  res.setHeader('content-security-policy', `default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' ${formAction}; frame-ancestors 'none'; base-uri 'none'`);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.end(`<!doctype html>${renderToString(page)}`);
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
        <p>Comme sur la plateforme d’intégration de FranceConnect, l’identifiant est le numéro fiscal d’une personne fictive du bac à sable de la DGFiP, et le mot de passe est « 123 ».</p>
      </div>
      <form method="post" action={`/interaction/${uid}/login`} class="simulateur-form">
        <div class="field">
          <label for="login">Identifiant</label>
          <input id="login" name="login" type="text" inputMode="numeric" autoComplete="off" spellcheck={false} required />
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

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export async function startLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const subjectKey = options.subjectKey ?? randomBytes(32);
  const subjectOf = (login: string) => createHmac('sha256', subjectKey).update(`fc-sub:${login.replace(/\s/g, '')}`).digest('base64url');
  // The in-memory account lookup: pseudonymous id → person. The numéro fiscal stays inside.
  const accounts = new Map<string, Personne>();
  for (const p of options.personnes ?? new Population(DEFAULT_TAXATION_DATE).personnes.values()) accounts.set(subjectOf(p.spi), p);

  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const clientOrigins = [...new Set(options.clients.flatMap((c) => c.redirectUris.map((u) => new URL(u).origin)))].join(' ');

  const jwk = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' };

  const provider = new Provider(issuer, {
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
    scopes: [...FC_SCOPES],
    claims: Object.fromEntries(FC_SCOPES.map((s) => [s, s === 'openid' ? ['sub'] : [s]])),
    acrValues: ['eidas1'],
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
              <h1>Se déconnecter de FranceConnect</h1>
              <p>Vous quittez le service. Confirmez la déconnexion de FranceConnect.</p>
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
              <h1>Vous êtes déconnecté de FranceConnect</h1>
            </Page>,
          )}`;
        },
      },
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 1800, Grant: 1800 },
    issueRefreshToken: () => false,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, id: string) => {
      const person = accounts.get(id);
      if (!person) return undefined;
      return { accountId: id, claims: () => claimsOf(id, person) };
    },
    // FranceConnect asks no consent of its own for a service it has authorised: grant the scopes asked.
    loadExistingGrant: async (ctx: OidcContext) => {
      const { client, session, provider: p, params } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (existing) return p.Grant.find(existing);
      const grant = new p.Grant({ accountId: session.accountId, clientId: client.clientId });
      grant.addOIDCScope(String(params?.scope ?? 'openid'));
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
  const announce = (token: { jti: string; accountId?: string }) => {
    const person = token.accountId ? accounts.get(token.accountId) : undefined;
    if (person && options.onAccessToken) options.onAccessToken(token.jti, person.spi);
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
      send(res, 200, <LoginPage uid={uid} clientName={clientName(details.params.client_id)} />, clientOrigins);
      return;
    }
    if (req.method === 'POST' && action === 'abort') {
      await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'Connexion annulée' }, { mergeWithLastSubmission: false });
      return;
    }
    if (req.method === 'POST' && action === 'login') {
      const form = await readForm(req);
      const accountId = subjectOf(form.get('login') ?? '');
      if (!accounts.has(accountId) || !sameSecret(form.get('password') ?? '', FC_PASSWORD)) {
        send(res, 400, <LoginPage uid={uid} clientName={clientName(details.params.client_id)} error="Identifiant ou mot de passe incorrect." />, clientOrigins);
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId, acr: 'eidas1', amr: ['pwd'] } }, { mergeWithLastSubmission: false });
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
            <p>Revenez au service et cliquez de nouveau sur le bouton FranceConnect.</p>
          </Page>,
          clientOrigins,
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
    subjectOf: (login) => {
      const id = subjectOf(login);
      return accounts.has(id) ? id : undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
