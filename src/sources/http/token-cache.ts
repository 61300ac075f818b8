import { z } from 'zod';
import { SourceFiscaleError } from '../fiscal-source.ts';
import type { Credential, CredentialProvider } from './authenticated-get.ts';
import type { UpstreamHttp } from './upstream-http.ts';

export interface ClientCredentials {
  readonly tokenUrl: URL;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated OAuth scopes, e.g. `RessourceIR RessourceIRDerniere2`. */
  readonly scope: string;
}

const tokenAnswer = z.object({
  access_token: z.string().min(1).max(8192),
  token_type: z.string().optional(),
  expires_in: z.coerce
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .optional(),
});

const oauthError = z.object({ error: z.string(), error_description: z.string().optional() });

/**
 * OAuth 2.0 client credentials with the token kept in memory only: refreshed a little before it
 * expires, one refresh in flight at a time whatever the number of callers, and dropped on demand
 * when the gateway says it is no longer valid. Presented as `Authorization: Bearer`.
 */
export class TokenCache implements CredentialProvider {
  private current: { credential: Credential; refreshAt: number } | undefined;
  private inFlight: Promise<Credential> | undefined;

  constructor(
    private readonly http: UpstreamHttp,
    private readonly credentials: ClientCredentials,
    private readonly clock: () => number = Date.now,
    /** The DGFiP counts calls to its API; a token request takes a slot only when the operator says it does (DGFIP_QUOTA_JETONS). */
    private readonly tokensInQuota = false,
  ) {}

  async get(): Promise<Credential> {
    if (this.current && this.clock() < this.current.refreshAt) return this.current.credential;
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** The gateway answered `401 invalid_token`: the next call fetches a new token (unless another caller already did). */
  invalidate(credential: Credential): boolean {
    if (this.current?.credential === credential) this.current = undefined;
    return true;
  }

  private async fetchToken(): Promise<Credential> {
    const { tokenUrl, clientId, clientSecret, scope } = this.credentials;
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
    const response = await this.http.send({
      method: 'POST',
      url: tokenUrl,
      loggedPath: tokenUrl.pathname,
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }).toString(),
      horsQuota: !this.tokensInQuota,
    });
    if (response.status === 200) {
      const parsed = tokenAnswer.safeParse(safeJson(response.body));
      if (!parsed.success) throw new SourceFiscaleError('reponse_invalide', { correlationId: response.correlationId, detail: 'Jeton OAuth illisible.' });
      const lifetimeMs = (parsed.data.expires_in ?? 300) * 1000;
      // Refresh early, by a tenth of the lifetime and at least 30 s, so no call carries a dying token.
      const margin = Math.min(Math.max(lifetimeMs / 10, 30_000), lifetimeMs / 2);
      const credential: Credential = { headers: { authorization: `Bearer ${parsed.data.access_token}` } };
      this.current = { credential, refreshAt: this.clock() + lifetimeMs - margin };
      return credential;
    }
    const error = oauthError.safeParse(safeJson(response.body));
    const code = error.success ? error.data.error : undefined;
    if (response.status === 401 || code === 'invalid_client' || code === 'unauthorized_client') {
      throw new SourceFiscaleError('identifiants_refuses', { correlationId: response.correlationId });
    }
    if (code === 'invalid_scope') throw new SourceFiscaleError('acces_refuse', { correlationId: response.correlationId, detail: `Portée refusée : ${scope}.` });
    throw new SourceFiscaleError('reponse_invalide', { correlationId: response.correlationId, detail: `Point de jeton : HTTP ${response.status}.` });
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
