/**
 * Test support for the back-office and the API: the whole application (family portal, back-office,
 * API) on a throwaway SQLite database, the request service, the DGFiP sandbox, the local
 * FranceConnect-like provider and the local agents' provider on loopback, the demo agents (one per
 * role) declared, and the processing loop. Agents sign in through the real OpenID Connect flow.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../http/app.ts';
import type { Principal } from '../../http/acces/principal.ts';
import { Jar, csrfOf } from '../../http/test-cookies.ts';
import { signInAtProvider } from '../../http/test-oidc.ts';
import { loadConfig, type AppConfig } from '../../infra/config/config.ts';
import { openDatabase, type Database } from '../../infra/db/database.ts';
import { migrateToLatest } from '../../infra/db/migrations.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { createSmtpMailer, startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { DEMO_AGENT_PASSWORD, DEMO_AGENTS, startLocalAgentsProvider } from '../../sandbox/agents/provider.tsx';
import { startLocalProvider, type LocalProvider } from '../../sandbox/franceconnect/provider.tsx';
import type { LocalOidcProvider } from '../../sandbox/oidc/local-provider.tsx';
import { startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { PolitiquesService } from '../administration/politiques-service.ts';
import { ClesApiService } from '../api/cles-api-service.ts';
import { InstructionService } from '../instruction/instruction-service.ts';
import { FacturationService } from '../facturation/facturation-service.ts';
import { ControleService } from '../controle/controle-service.ts';
import { TableauDeBordService } from '../tableau-de-bord/tableau-de-bord-service.ts';
import { QuotaSlot } from '../../infra/queue/quota-slot.ts';
import { createHarness, type Harness } from '../demandes/test-harness.ts';
import { Traitement } from '../demandes/traitement.ts';
import { AgentsService, type Agent } from './agents-service.ts';
import type { BackOfficeServices } from './back-office.ts';
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
  readonly services: BackOfficeServices;
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

export async function createBackOfficeTestApp(options: { publicUrl?: string; politiqueAcces?: Readonly<Record<string, readonly Principal[]>>; beforeReady?: (app: FastifyInstance) => void } = {}): Promise<BackOfficeTestApp> {
  const publicUrl = options.publicUrl ?? BACK_OFFICE_URL;
  const dir = mkdtempSync(join(tmpdir(), 'quotient-back-office-'));
  const config = loadConfig({ QUOTIENT_DATABASE_URL: `sqlite:${join(dir, 'q.db')}`, QUOTIENT_DATA_DIR: dir, QUOTIENT_PUBLIC_URL: publicUrl }, { mode: 'demo', cwd: dir });
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database.db, database.dialect);
  const sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  const smtp = await startCaptureSmtp();
  const franceConnect = await startLocalProvider({
    clients: [{ ...FC_CLIENT, redirectUris: [`${publicUrl}/connexion/franceconnect/retour`], postLogoutRedirectUris: [`${publicUrl}/deconnexion/fin`] }],
    onAccessToken: (token, spi) => sandbox.admin.registerFranceConnectToken(token, spi),
  });
  const agentsProvider = await startLocalAgentsProvider({
    clients: [{ ...AGENTS_CLIENT, redirectUris: [`${publicUrl}/agents/connexion/retour`], postLogoutRedirectUris: [`${publicUrl}/agents/deconnexion/fin`] }],
  });
  // The request service applies the policy version in force on the request's day (asked only once requests are processed).
  const harness = await createHarness(database, sandbox, { dataDir: dir, instanceId: 'back-office-test', politique: (date) => politiques.enVigueur(date) });
  const politiques = await PolitiquesService.ouvrir({ db: database.db, journal: harness.journal, initiale: { politique: config.politique, contenu: readFileSync(config.politiqueFile, 'utf8'), fichier: config.politiqueFile } });
  const quiet = createLogger({ level: 'silent' });
  const traitement = new Traitement({ service: harness.demandes, db: database.db, instanceId: 'back-office-test', logger: quiet });
  const agentsService = new AgentsService({ db: database.db, journal: harness.journal });
  const services: BackOfficeServices = {
    agents: agentsService,
    clesApi: new ClesApiService({ db: database.db, journal: harness.journal }),
    journal: harness.journal,
    demandes: harness.demandes,
    familles: harness.familles,
    instruction: new InstructionService({ db: database.db, journal: harness.journal, coffre: harness.coffre, demandes: harness.demandes }),
    facturation: new FacturationService({ db: database.db, journal: harness.journal }),
    politiques,
    controle: new ControleService({ db: database.db, journal: harness.journal, agents: agentsService }),
    // The same shared slot (bucket `dgfip`, table quota_calls) as the harness's DGFiP clients.
    tableauDeBord: new TableauDeBordService({ db: database.db, journal: harness.journal, quota: new QuotaSlot(database.db, { bucket: 'dgfip', limit: 50 }) }),
    wake: () => traitement.wake(),
    oidc: { issuer: agentsProvider.issuer, ...AGENTS_CLIENT, signingAlg: 'ES256', acr: 'eidas1', redirectUri: `${publicUrl}/agents/connexion/retour`, postLogoutRedirectUri: `${publicUrl}/agents/deconnexion/fin` },
  };
  const installation = { type: 'systeme' as const, id: 'test' };
  const agents = {} as Record<RoleAgent, Agent>;
  for (const demo of DEMO_AGENTS) agents[demo.roles[0] as RoleAgent] = await agentsService.creer(demo, installation);

  const logLines: string[] = [];
  const app = await buildApp({
    config,
    database,
    logger: createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } }),
    comptes: {
      familles: { creer: (input, acteur) => harness.familles.creer(input, acteur) },
      journal: harness.journal,
      mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
      outbox: smtp.messages,
      signInPerMinute: 1000,
      franceConnect: { issuer: franceConnect.issuer, ...FC_CLIENT, redirectUri: `${publicUrl}/connexion/franceconnect/retour`, postLogoutRedirectUri: `${publicUrl}/deconnexion/fin` },
    },
    portail: { demandes: harness.demandes, familles: harness.familles, wake: () => traitement.wake() },
    backOffice: services,
    ...(options.politiqueAcces ? { politiqueAcces: options.politiqueAcces } : {}),
  });
  options.beforeReady?.(app);
  await app.ready();
  await traitement.start();

  const get = async (jar: Jar, url: string, headers: Record<string, string> = {}) => {
    const res = await app.inject({ url, headers: { ...headers, cookie: jar.header() } });
    jar.take(res.headers);
    return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
  };
  const post = async (jar: Jar, from: string | null, url: string, fields: Record<string, string | string[]>) => {
    const token = from === null ? undefined : csrfOf((await get(jar, from)).body);
    const form = new URLSearchParams(token ? { _csrf: token } : {});
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
    const res = await app.inject({ method: 'POST', url, payload: form.toString(), headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' } });
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
      const compteId = crypto.randomUUID();
      const now = new Date().toISOString();
      await database.db
        .insertInto('comptes')
        .values({ id: compteId, kind: 'local', issuer: null, sub: null, email, password_hash: await argon2Hash(FAMILY_PASSWORD), email_verified_at: now, display_name: email, famille_id: familleId, created_at: now, last_sign_in_at: null, locked_until: null })
        .execute();
      const jar = new Jar();
      const res = await post(jar, '/connexion', '/connexion', { email, password: FAMILY_PASSWORD });
      if (res.statusCode !== 303) throw new Error(`sign-in refused: ${res.statusCode}`);
      return { jar, familleId, compteId };
    },
    async apiKey() {
      return (await services.clesApi.creer(`Logiciel de test ${Date.now()}`, { type: 'agent', id: agents.administrateur.id })).secret;
    },
    async close() {
      await traitement.stop();
      await app.close();
      await harness.close();
      await database.close();
      await agentsProvider.close();
      await franceConnect.close();
      await smtp.close();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
