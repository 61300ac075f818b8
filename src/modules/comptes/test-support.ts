/**
 * Test support for sign-in: the real application composed with a local SMTP capture as its mailer
 * (accounts, and with them the portal), and optionally the local FranceConnect-like provider on
 * loopback. Everything is closed by `close()`.
 */
import type { FastifyInstance } from 'fastify';
import { alertesDe, createTestApp, type OptionsAlertes, type TestApp } from '../../http/testing.ts';
import { createSmtpMailer, startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { startLocalProvider, type LocalProvider } from '../../sandbox/franceconnect/provider.tsx';
import { franceConnectRedirectUris } from './franceconnect-client.ts';
import type { JournalAudit } from '../audit/index.ts';

export const PUBLIC_URL = 'http://localhost:3999';
export const FC_CLIENT = { clientId: 'quotient-test', clientSecret: 'secret-de-test-du-client-franceconnect' };

export interface ComptesTestApp extends TestApp {
  readonly smtp: CaptureSmtp;
  readonly provider: LocalProvider | undefined;
  readonly fcTokens: Array<{ token: string; spi: string; expiresAt: number }>;
  /** The journal of this app (to check what the sign-in wrote). */
  readonly journal: JournalAudit;
}

export async function createComptesTestApp(
  options: {
    franceConnect?: boolean;
    clock?: () => number;
    signInPerMinute?: number;
    issuer?: string;
    beforeReady?: (app: FastifyInstance) => void;
    env?: Record<string, string>;
  } & OptionsAlertes = {},
): Promise<ComptesTestApp> {
  const smtp = await startCaptureSmtp();
  const fcTokens: Array<{ token: string; spi: string; expiresAt: number }> = [];
  const provider = options.franceConnect
    ? await startLocalProvider({
        clients: [{ ...FC_CLIENT, redirectUris: franceConnectRedirectUris(PUBLIC_URL), postLogoutRedirectUris: [`${PUBLIC_URL}/deconnexion/fin`] }],
        onAccessToken: (token, spi, expiresAt) => fcTokens.push({ token, spi, expiresAt }),
      })
    : undefined;
  const issuer = options.issuer ?? provider?.issuer;
  const t = await createTestApp({
    env: { QUOTIENT_PUBLIC_URL: PUBLIC_URL, ...options.env },
    ...(options.beforeReady ? { beforeReady: options.beforeReady } : {}),
    compose: {
      mailer: createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' }),
      outbox: smtp.messages,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(issuer ? { franceConnect: { issuer, ...FC_CLIENT } } : {}),
    },
    web: { ...(options.signInPerMinute ? { signInPerMinute: options.signInPerMinute } : {}) },
    ...alertesDe(options),
  });
  return {
    ...t,
    smtp,
    provider,
    fcTokens,
    journal: t.services.journal,
    async close() {
      try {
        await t.close();
      } finally {
        await provider?.close();
        await smtp.close();
      }
    },
  };
}
