import type { Habilitation } from '../../domain/habilitation.ts';
/**
 * Test support for the back-office and the API: the whole application (family portal, back-office,
 * API) composed as in production on a throwaway SQLite database, with the DGFiP sandbox, the local
 * FranceConnect-like provider and the local agents' provider on loopback, the demo agents (one per
 * role) declared, and the processing loop. Agents sign in through the real OpenID Connect flow.
 */
import { franceConnectRedirectUris } from '../comptes/franceconnect-client.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { creerCompteLocal } from '../../http/test-comptes.ts';
import type { FastifyInstance } from 'fastify';
import type { CanalAlerte } from '../../infra/alertes/index.ts';
import type { Services } from '../../app/compose.ts';
import type { Principal } from '../../http/acces/principal.ts';
import { Jar, csrfOf } from '../../http/test-cookies.ts';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { alertesDe, createTestApp, type OptionsAlertes } from '../../http/testing.ts';
import type { LimitesConfig } from '../demandes/limites-numero-fiscal.ts';
import type { AppConfig } from '../../infra/config/config.ts';
import type { Database } from '../../infra/db/database.ts';
import { createSmtpMailer, startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { DEMO_AGENT_PASSWORD, DEMO_AGENTS, startLocalAgentsProvider } from '../../sandbox/agents/provider.tsx';
import { startLocalProvider, type LocalProvider } from '../../sandbox/franceconnect/provider.tsx';
import type { LocalOidcProvider } from '../../sandbox/oidc/local-provider.tsx';
import { startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { HABILITATION_TEST, harnessOf, TEST_UPSTREAM_HTTP, type Harness } from '../demandes/test-harness.ts';
import type { Agent } from './agents-service.ts';
import type { RoleAgent } from './roles.ts';

export const BACK_OFFICE_URL = 'http://localhost:3997';
const FC_CLIENT = { clientId: 'quotient-bo-fc', clientSecret: 'secret-de-test-franceconnect-back-office' };
const AGENTS_CLIENT = { clientId: 'quotient-bo-agents', clientSecret: 'secret-de-test-du-client-des-agents' };
export const FAMILY_PASSWORD = 'Une phrase de passe 2026 !';

type Response = { statusCode: number; body: string; headers: Record<string, unknown> };

export interface BackOfficeTestApp {
  readonly app: FastifyInstance;
  readonly database: Database;
  readonly config: AppConfig;
  readonly harness: Harness;
  readonly sandbox: SandboxHandle;
  readonly smtp: CaptureSmtp;
  readonly franceConnect: LocalProvider;
  readonly agentsProvider: LocalOidcProvider;
  readonly services: Services;
  /** The demo agents, one per role, declared in the agents table. */
  readonly agents: Readonly<Record<RoleAgent, Agent>>;
  readonly logLines: string[];
  /** Signs an agent in through the agents' provider (the real flow); the jar carries the session. */
  signInAgent(who: RoleAgent | string): Promise<Jar>;
  /** A local family account with its family, signed in. */
  signedInFamily(famille: unknown, email: string): Promise<{ jar: Jar; familleId: string; compteId: string }>;
  /** A fresh API key's secret. */
  apiKey(): Promise<string>;
  get(jar: Jar, url: string, headers?: Record<string, string>): Promise<Response>;
  /** Posts a form with the CSRF token of the page `from` (or none when `from` is null). */
  post(jar: Jar, from: string | null, url: string, fields: Record<string, string | string[]>): Promise<Response>;
  close(): Promise<void>;
}

export async function createBackOfficeTestApp(
  options: {
    /** Another habilitation than HABILITATION_TEST (the état civil route: SFiP or R2P scopes). */
    habilitation?: Habilitation;
    publicUrl?: string;
    politiqueAcces?: Readonly<Record<string, readonly Principal[]>>;
    beforeReady?: (app: FastifyInstance) => void;
    /** More variables (QUOTIENT_TRUST_PROXY: tests that set X-Request-Id as the commune's proxy would). */
    env?: Record<string, string>;
    /** The security alerts' channels (loopback receivers) instead of the configuration's. */
    canauxAlerte?: readonly CanalAlerte[];
    /** The anti-fishing limits, for their tests (out of reach otherwise). */
    numeroFiscal?: LimitesConfig;
  } & OptionsAlertes = {},
): Promise<BackOfficeTestApp> {
  const publicUrl = options.publicUrl ?? BACK_OFFICE_URL;
  const dir = mkdtempSync(join(tmpdir(), 'quotient-back-office-'));
  const sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  const smtp = await startCaptureSmtp();
  const franceConnect = await startLocalProvider({
    clients: [{ ...FC_CLIENT, redirectUris: franceConnectRedirectUris(publicUrl), postLogoutRedirectUris: [`${publicUrl}/deconnexion/fin`] }],
    onAccessToken: (token, spi, expiresAt, scopes) => sandbox.admin.registerFranceConnectToken(token, spi, expiresAt, scopes),
  });
  const agentsProvider = await startLocalAgentsProvider({
    clients: [{ ...AGENTS_CLIENT, redirectUris: [`${publicUrl}/agents/connexion/retour`], postLogoutRedirectUris: [`${publicUrl}/agents/deconnexion/fin`] }],
  });
  // The whole application as production composes it, on this test's sandbox, mailer and providers.
  // The request service applies the policy version in force on the request's day, as in production.
  const t = await createTestApp({
    env: { QUOTIENT_PUBLIC_URL: publicUrl, ...options.env },
    dataDir: dir,
    // The log is searched for numéros fiscaux: the services' debug lines too.
    logLevel: 'debug',
    compose: {
      dgfip: sandbox,
      upstreamHttp: TEST_UPSTREAM_HTTP,
      instanceId: 'back-office-test',
      habilitation: options.habilitation ?? HABILITATION_TEST,
      mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
      outbox: smtp.messages,
      franceConnect: { issuer: franceConnect.issuer, ...FC_CLIENT },
      agentsOidc: { issuer: agentsProvider.issuer, ...AGENTS_CLIENT, signingAlg: 'ES256', acr: 'eidas1' },
      background: true,
      ...(options.canauxAlerte ? { canauxAlerte: options.canauxAlerte } : {}),
    },
    web: { signInPerMinute: 1000, ...(options.politiqueAcces ? { politiqueAcces: options.politiqueAcces } : {}) },
    ...(options.beforeReady ? { beforeReady: options.beforeReady } : {}),
    ...(options.numeroFiscal ? { numeroFiscal: options.numeroFiscal } : {}),
    ...alertesDe(options),
  });
  const { app, database, config, services, logLines } = t;
  // The harness's view of the same services; they stop with the app.
  const harness = harnessOf(services, logLines, dir, () => services.stop());
  const installation = { type: 'systeme' as const, id: 'test' };
  const agents = {} as Record<RoleAgent, Agent>;
  for (const demo of DEMO_AGENTS) agents[demo.roles[0] as RoleAgent] = await services.agents.creer(demo, installation);

  const get = async (jar: Jar, url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ url, headers: { ...headers, cookie: jar.header() } });
    jar.take(res.headers);
    return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
  };
  const post = async (jar: Jar, from: string | null, url: string, fields: Record<string, string | string[]>) => {
    const token = from === null ? undefined : csrfOf((await get(jar, from)).body);
    const form = new URLSearchParams(token ? { _csrf: token } : {});
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
    const res = await app.inject({
      method: 'POST',
      url,
      payload: form.toString(),
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    });
    jar.take(res.headers);
    return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
  };

  return {
    app,
    database,
    config,
    harness,
    sandbox,
    smtp,
    franceConnect,
    agentsProvider,
    services,
    agents,
    logLines,
    get,
    post,
    async signInAgent(who) {
      const email = who.includes('@') ? who : agents[who as RoleAgent].email;
      const jar = new Jar();
      const start = await post(jar, '/agents/connexion', '/agents/connexion', {});
      if (start.statusCode !== 303) throw new Error(`sign-in not started: ${start.statusCode}`);
      const { back } = await signInAtProvider(new URL(String(start.headers.location)), email, DEMO_AGENT_PASSWORD, publicUrl);
      const res = await get(jar, back.pathname + back.search);
      if (res.statusCode !== 303 || res.headers.location !== '/agents') throw new Error(`agent sign-in refused: ${res.statusCode}`);
      return jar;
    },
    async signedInFamily(famille, email) {
      const { id: familleId } = await harness.familles.creer(famille, { type: 'agent', id: 'test' });
      const compteId = await creerCompteLocal(database.db, { email, motDePasse: FAMILY_PASSWORD, familleId });
      const jar = new Jar();
      const res = await post(jar, '/connexion', '/connexion', { email, password: FAMILY_PASSWORD });
      if (res.statusCode !== 303) throw new Error(`sign-in refused: ${res.statusCode}`);
      return { jar, familleId, compteId };
    },
    async apiKey() {
      return (await services.clesApi.creer(`Logiciel de test ${Date.now()}`, { type: 'agent', id: agents.administrateur.id })).secret;
    },
    async close() {
      try {
        await t.close();
      } finally {
        await agentsProvider.close();
        await franceConnect.close();
        await smtp.close();
        await sandbox.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
