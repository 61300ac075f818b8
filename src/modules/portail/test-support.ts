import type { Habilitation } from '../../domain/habilitation.ts';
/**
 * Test support for the family portal: the real application, composed as in production, with
 * sign-in (local accounts and the local FranceConnect-like provider), the DGFiP sandbox on loopback
 * and the processing loop. Everything is closed by `close()`.
 */
import { franceConnectRedirectUris } from '../comptes/franceconnect-client.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { creerCompteLocal } from '../../http/test-comptes.ts';
import { alertesDe, createTestApp, type OptionsAlertes, type TestApp } from '../../http/testing.ts';
import { createSmtpMailer, startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { FC_PASSWORD, startLocalProvider, type LocalProvider } from '../../sandbox/franceconnect/provider.tsx';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { Jar, csrfOf } from '../../http/test-cookies.ts';
import { HABILITATION_TEST, harnessOf, POLITIQUE_BOULOGNE, TEST_UPSTREAM_HTTP, type Harness } from '../demandes/test-harness.ts';

export const PORTAIL_URL = 'http://localhost:3998';
const FC_CLIENT = { clientId: 'quotient-portail-test', clientSecret: 'secret-de-test-du-portail-franceconnect' };
export const PASSWORD = 'Une phrase de passe 2026 !';

export interface PortailTestApp extends TestApp {
  readonly harness: Harness;
  readonly sandbox: SandboxHandle;
  readonly provider: LocalProvider;
  readonly smtp: CaptureSmtp;
  /** The lifetime of the next FranceConnect access tokens (default 60 s, as FranceConnect's): a test shortens it instead of waiting. */
  setFranceConnectTtl(seconds: number): void;
  /** The FranceConnect access tokens issued, to look for them where they must not be, with the scopes granted. */
  readonly fcTokens: Array<{ token: string; spi: string; expiresAt: number; scopes: readonly string[] }>;
  /** Scopes FranceConnect will not grant from now on, though asked (default none): its token response says so. */
  setFranceConnectRefusedScopes(scopes: readonly string[]): void;
  /**
   * Scopes the DGFiP sandbox will believe the next tokens lack although FranceConnect granted them
   * (default none): the DGFiP then refuses the token in the queue (403), as when the consent was withdrawn meanwhile.
   */
  setScopesUnknownToDgfip(scopes: readonly string[]): void;
  /**
   * A form posted that sends the browser to FranceConnect (303 to the provider), the person signs in
   * there with `login`, and the browser comes back: the authorisation URL and the return's answer.
   */
  viaFranceConnect(
    jar: Jar,
    from: string,
    url: string,
    fields: Record<string, string>,
    login: string,
  ): Promise<{ authorize: URL; retour: { statusCode: number; body: string; headers: Record<string, unknown> } }>;
  /** A local account with its family, signed in: the jar carries its session. */
  signedInFamily(famille: unknown, email: string): Promise<{ jar: Jar; familleId: string; compteId: string }>;
  get(jar: Jar, url: string): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;
  /** Posts a form with the CSRF token of the page `from` (or none when `from` is null). */
  post(
    jar: Jar,
    from: string | null,
    url: string,
    fields: Record<string, string>,
  ): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;
}

export async function createPortailTestApp(
  options: { publicUrl?: string; attenteMs?: number; habilitation?: Habilitation } & OptionsAlertes = {},
): Promise<PortailTestApp> {
  const publicUrl = options.publicUrl ?? PORTAIL_URL;
  const dir = mkdtempSync(join(tmpdir(), 'quotient-portail-'));
  // What is already started, closed in reverse order if a later step fails: a test file whose
  // set-up failed must end, not hang on open servers.
  const started: Array<() => Promise<unknown> | unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    return await build(publicUrl, dir, options, started);
  } catch (error) {
    for (const close of started.reverse())
      await Promise.resolve()
        .then(close)
        .catch(() => undefined);
    throw error;
  }
}

async function build(
  publicUrl: string,
  dir: string,
  options: { attenteMs?: number; habilitation?: Habilitation } & OptionsAlertes,
  started: Array<() => Promise<unknown> | unknown>,
): Promise<PortailTestApp> {
  const sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  started.push(() => sandbox.close());
  const smtp = await startCaptureSmtp();
  started.push(() => smtp.close());
  let fcTtl = 60;
  let refusedScopes: readonly string[] = [];
  let unknownToDgfip: readonly string[] = [];
  const fcTokens: Array<{ token: string; spi: string; expiresAt: number; scopes: readonly string[] }> = [];
  const provider = await startLocalProvider({
    accessTokenTtlSeconds: () => fcTtl,
    refusedScopes: () => refusedScopes,
    clients: [{ ...FC_CLIENT, redirectUris: franceConnectRedirectUris(publicUrl), postLogoutRedirectUris: [`${publicUrl}/deconnexion/fin`] }],
    onAccessToken: (token, spi, expiresAt, scopes) => {
      fcTokens.push({ token, spi, expiresAt, scopes });
      sandbox.admin.registerFranceConnectToken(
        token,
        spi,
        expiresAt,
        scopes.filter((s) => !unknownToDgfip.includes(s)),
      );
    },
  });
  started.push(() => provider.close());
  // The app and its services as production composes them, on this test's sandbox, mailer and provider.
  const t = await createTestApp({
    env: { QUOTIENT_PUBLIC_URL: publicUrl },
    dataDir: dir,
    // The log is searched for numéros fiscaux: the services' debug lines too.
    logLevel: 'debug',
    compose: {
      dgfip: sandbox,
      upstreamHttp: TEST_UPSTREAM_HTTP,
      instanceId: 'portail-test',
      habilitation: options.habilitation ?? HABILITATION_TEST,
      politique: () => POLITIQUE_BOULOGNE,
      mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
      outbox: smtp.messages,
      franceConnect: { issuer: provider.issuer, ...FC_CLIENT },
      background: true,
    },
    web: { signInPerMinute: 1000, ...(options.attenteMs !== undefined ? { attenteMs: options.attenteMs } : {}) },
    ...alertesDe(options),
  });
  started.push(() => t.close());
  // The harness's view of the same services; they stop with the app.
  const harness = harnessOf(t.services, t.logLines, dir, () => t.services.stop());

  const get = async (jar: Jar, url: string) => {
    const res = await t.app.inject({ url, headers: { cookie: jar.header() } });
    jar.take(res.headers);
    return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
  };
  const post = async (jar: Jar, from: string | null, url: string, fields: Record<string, string>) => {
    const token = from === null ? undefined : csrfOf((await get(jar, from)).body);
    const payload = new URLSearchParams({ ...(token ? { _csrf: token } : {}), ...fields }).toString();
    const res = await t.app.inject({ method: 'POST', url, payload, headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' } });
    jar.take(res.headers);
    return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
  };

  return {
    ...t,
    harness,
    sandbox,
    provider,
    smtp,
    setFranceConnectTtl: (seconds) => void (fcTtl = seconds),
    setFranceConnectRefusedScopes: (scopes) => void (refusedScopes = scopes),
    setScopesUnknownToDgfip: (scopes) => void (unknownToDgfip = scopes),
    fcTokens,
    get,
    post,
    async viaFranceConnect(jar, from, url, fields, login) {
      const sent = await post(jar, from, url, fields);
      if (sent.statusCode !== 303) throw new Error(`not sent to FranceConnect: ${sent.statusCode} ${sent.body.slice(0, 300)}`);
      const authorize = new URL(String(sent.headers.location));
      if (authorize.origin !== provider.issuer) throw new Error(`not sent to FranceConnect: ${authorize.href}`);
      const { back } = await signInAtProvider(authorize, login, FC_PASSWORD, publicUrl);
      return { authorize, retour: await get(jar, back.pathname + back.search) };
    },
    async signedInFamily(famille, email) {
      const { id: familleId } = await harness.familles.creer(famille, { type: 'agent', id: 'test' });
      const compteId = await creerCompteLocal(t.database.db, { email, motDePasse: PASSWORD, familleId });
      const jar = new Jar();
      const res = await post(jar, '/connexion', '/connexion', { email, password: PASSWORD });
      if (res.statusCode !== 303) throw new Error(`sign-in refused: ${res.statusCode}`);
      return { jar, familleId, compteId };
    },
    async close() {
      try {
        await t.close();
      } finally {
        await provider.close();
        await smtp.close();
        await sandbox.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
