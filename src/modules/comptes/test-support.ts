/**
 * Test support for sign-in: the real application with the families service (journal and silo on
 * the throwaway database), a local SMTP capture, and optionally the local FranceConnect-like
 * provider on loopback. Everything is closed by `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createTestApp, type TestApp } from '../../http/testing.ts';
import { createSmtpMailer, startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { Coffre } from '../../infra/silo/coffre.ts';
import { openKeyringFile } from '../../infra/silo/keyring.ts';
import { startLocalProvider, type LocalProvider } from '../../sandbox/franceconnect/provider.tsx';
import { auditFilesFor, JournalAudit } from '../audit/index.ts';
import { FamillesService } from '../familles/familles-service.ts';

export const PUBLIC_URL = 'http://localhost:3999';
export const FC_CLIENT = { clientId: 'quotient-test', clientSecret: 'secret-de-test-du-client-franceconnect' };

export interface ComptesTestApp extends TestApp {
  readonly smtp: CaptureSmtp;
  readonly provider: LocalProvider | undefined;
  readonly fcTokens: Array<{ token: string; spi: string }>;
  /** The journal of this app (to check what the sign-in wrote). */
  readonly journal: JournalAudit;
}

export async function createComptesTestApp(options: { franceConnect?: boolean; clock?: () => number; signInPerMinute?: number; issuer?: string; beforeReady?: (app: FastifyInstance) => void } = {}): Promise<ComptesTestApp> {
  const smtp = await startCaptureSmtp();
  const fcTokens: Array<{ token: string; spi: string }> = [];
  const provider = options.franceConnect
    ? await startLocalProvider({
        clients: [{ ...FC_CLIENT, redirectUris: [`${PUBLIC_URL}/connexion/franceconnect/retour`], postLogoutRedirectUris: [`${PUBLIC_URL}/deconnexion/fin`] }],
        onAccessToken: (token, spi) => fcTokens.push({ token, spi }),
      })
    : undefined;
  const keys = mkdtempSync(join(tmpdir(), 'quotient-comptes-'));
  // The services are opened once the database exists: through a late-bound port.
  const late: { familles?: FamillesService; journal?: JournalAudit } = {};
  const issuer = options.issuer ?? provider?.issuer;
  const t = await createTestApp({
    env: { QUOTIENT_PUBLIC_URL: PUBLIC_URL },
    ...(options.beforeReady ? { beforeReady: options.beforeReady } : {}),
    deps: {
      ...(options.clock ? { clock: options.clock } : {}),
      comptes: {
        familles: { creer: (input, acteur) => (late.familles as FamillesService).creer(input, acteur) },
        journal: { append: (entry) => (late.journal as JournalAudit).append(entry) },
        mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
        outbox: smtp.messages,
        ...(options.signInPerMinute ? { signInPerMinute: options.signInPerMinute } : {}),
        ...(issuer ? { franceConnect: { issuer, ...FC_CLIENT, redirectUri: `${PUBLIC_URL}/connexion/franceconnect/retour`, postLogoutRedirectUri: `${PUBLIC_URL}/deconnexion/fin` } } : {}),
      },
    },
  });
  const config = { mode: 'demo' as const, dataDir: keys };
  const journal = await JournalAudit.open({ db: t.database.db, dialect: t.database.dialect, files: auditFilesFor(config), onAlert: () => undefined });
  const coffre = new Coffre({ db: t.database.db, dialect: t.database.dialect, keyring: openKeyringFile(config) });
  late.journal = journal;
  late.familles = new FamillesService({ db: t.database.db, journal, coffre });
  return {
    ...t,
    smtp,
    provider,
    fcTokens,
    journal,
    async close() {
      await t.close();
      await provider?.close();
      await smtp.close();
      rmSync(keys, { recursive: true, force: true });
    },
  };
}
