/**
 * Test support for the family portal: the real application with sign-in (local accounts and the
 * local FranceConnect-like provider), the request service on the same throwaway database, the
 * DGFiP sandbox on loopback, and the processing loop. Everything is closed by `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash as argon2Hash } from '@node-rs/argon2';
import { createTestApp, type TestApp } from '../../http/testing.ts';
import { createSmtpMailer, startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { startLocalProvider, type LocalProvider } from '../../sandbox/franceconnect/provider.tsx';
import { startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { Jar, csrfOf } from '../../http/test-cookies.ts';
import { createHarness, type Harness } from '../demandes/test-harness.ts';
import { Traitement } from '../demandes/traitement.ts';
import type { Soumission } from '../demandes/demandes-service.ts';
import type { FamillesService } from '../familles/familles-service.ts';

export const PORTAIL_URL = 'http://localhost:3998';
const FC_CLIENT = { clientId: 'quotient-portail-test', clientSecret: 'secret-de-test-du-portail-franceconnect' };
export const PASSWORD = 'Une phrase de passe 2026 !';

export interface PortailTestApp extends TestApp {
  readonly harness: Harness;
  readonly sandbox: SandboxHandle;
  readonly provider: LocalProvider;
  readonly smtp: CaptureSmtp;
  /** A local account with its family, signed in: the jar carries its session. */
  signedInFamily(famille: unknown, email: string): Promise<{ jar: Jar; familleId: string; compteId: string }>;
  get(jar: Jar, url: string): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;
  /** Posts a form with the CSRF token of the page `from` (or none when `from` is null). */
  post(jar: Jar, from: string | null, url: string, fields: Record<string, string>): Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>;
}

export async function createPortailTestApp(options: { publicUrl?: string; attenteMs?: number } = {}): Promise<PortailTestApp> {
  const publicUrl = options.publicUrl ?? PORTAIL_URL;
  const dir = mkdtempSync(join(tmpdir(), 'quotient-portail-'));
  // What is already started, closed in reverse order if a later step fails: a test file whose
  // set-up failed must end, not hang on open servers.
  const started: Array<() => Promise<unknown> | unknown> = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    return await build(publicUrl, dir, options, started);
  } catch (error) {
    for (const close of started.reverse()) await Promise.resolve().then(close).catch(() => undefined);
    throw error;
  }
}

async function build(publicUrl: string, dir: string, options: { attenteMs?: number }, started: Array<() => Promise<unknown> | unknown>): Promise<PortailTestApp> {
  const sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  started.push(() => sandbox.close());
  const smtp = await startCaptureSmtp();
  started.push(() => smtp.close());
  const provider = await startLocalProvider({
    clients: [{ ...FC_CLIENT, redirectUris: [`${publicUrl}/connexion/franceconnect/retour`], postLogoutRedirectUris: [`${publicUrl}/deconnexion/fin`] }],
    onAccessToken: (token, spi) => sandbox.admin.registerFranceConnectToken(token, spi),
  });
  started.push(() => provider.close());
  // The services need the database the app creates: bound late, through small forwarding ports.
  const late: { h?: Harness } = {};
  const h = () => late.h as Harness;
  const familles = new Proxy({} as FamillesService, {
    get: (_target, key) => {
      const f = h().familles as unknown as Record<PropertyKey, unknown>;
      const value = f[key];
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(f) : value;
    },
  });
  const loop: { traitement?: Traitement } = {};
  const t = await createTestApp({
    env: { QUOTIENT_PUBLIC_URL: publicUrl },
    deps: {
      comptes: {
        familles: { creer: (input, acteur) => h().familles.creer(input, acteur) },
        journal: { append: (entry) => h().journal.append(entry) },
        mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
        outbox: smtp.messages,
        signInPerMinute: 1000,
        franceConnect: { issuer: provider.issuer, ...FC_CLIENT, redirectUri: `${publicUrl}/connexion/franceconnect/retour`, postLogoutRedirectUri: `${publicUrl}/deconnexion/fin` },
      },
      portail: {
        demandes: {
          // Forwarded one by one: the harness exists only once the app has created the database.
          soumettre: (s: Soumission) => h().demandes.soumettre(s),
          etat: (id: string) => h().demandes.etat(id),
          attendre: (id: string, ms: number) => h().demandes.attendre(id, ms),
          ressaisir: (id, acteur, identifiants) => h().demandes.ressaisir(id, acteur, identifiants),
          rangsARessaisir: (id: string) => h().demandes.rangsARessaisir(id),
        },
        familles,
        wake: () => loop.traitement?.wake(),
        ...(options.attenteMs !== undefined ? { attenteMs: options.attenteMs } : {}),
      },
    },
  });
  started.push(() => t.close());
  late.h = await createHarness(t.database, sandbox, { dataDir: dir, instanceId: 'portail-test' });
  started.push(() => late.h?.close());
  // The app's own log and the request service's log are both searched for numéros fiscaux.
  loop.traitement = new Traitement({ service: late.h.demandes, db: t.database.db, instanceId: 'portail-test', logger: createLogger({ level: 'silent' }) });
  await loop.traitement.start();
  started.push(() => loop.traitement?.stop());

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
    harness: late.h,
    sandbox,
    provider,
    smtp,
    get,
    post,
    async signedInFamily(famille, email) {
      const { id: familleId } = await h().familles.creer(famille, { type: 'agent', id: 'test' });
      const compteId = crypto.randomUUID();
      const now = new Date().toISOString();
      await t.database.db
        .insertInto('comptes')
        .values({ id: compteId, kind: 'local', issuer: null, sub: null, email, password_hash: await argon2Hash(PASSWORD), email_verified_at: now, display_name: email, famille_id: familleId, created_at: now, last_sign_in_at: null, locked_until: null })
        .execute();
      const jar = new Jar();
      const res = await post(jar, '/connexion', '/connexion', { email, password: PASSWORD });
      if (res.statusCode !== 303) throw new Error(`sign-in refused: ${res.statusCode}`);
      return { jar, familleId, compteId };
    },
    async close() {
      await loop.traitement?.stop();
      await t.close();
      await late.h?.close();
      await provider.close();
      await smtp.close();
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
