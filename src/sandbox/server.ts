import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { apiParticulier, apiParticulierError } from './api-particulier.ts';
import { DEFAULT_TAXATION_DATE, validateTaxationDate, type Clock, type TaxationDate } from './calendar.ts';
import { DEFAULT_CONTRACT, validateContract, type AftDetailKeys } from './contract.ts';
import { r2p, sfip, SFIP_MEDIA_TYPE } from './etat-civil.ts';
import { FaultSwitch, writeAnswer, writeFaulty, type FaultEnvironment, type FaultKind, type FaultRule, type SandboxApi } from './faults.ts';
import { peerFingerprint, throttled, type CallContext, type FranceConnectResolver, type SandboxClient, type SandboxState } from './gateway.ts';
import { decodeSegments, erreur, gatewayFault, json, JSON_UTF8, maskPath, withHeaders, type Answer } from './http.ts';
import { impotParticulier, notFoundResource } from './impot-particulier.ts';
import { QF_FRANCE_CONNECT, QF_IDENTITE, quotientCaf, quotientCafError, statutPanneCaf } from './quotient-caf.ts';
import { issueClientCertificate, loadOrCreateSandboxFiles, type CertificateAndKey } from './pki.ts';
import { Population } from './population.ts';
import { DEFAULT_QUOTA, SlidingWindowQuota } from './quota.ts';
import { tokenEndpoint } from './token-endpoint.ts';
import { DEFAULT_SCOPES, KNOWN_SCOPES, TokenStore } from './tokens.ts';
import { QuotientError } from '../domain/errors.ts';

/**
 * The local DGFiP bac à sable: one HTTPS listener for the DGFiP gateway (token, Impôt particulier,
 * R2P, SFiP; client certificate required by default) and one for API Particulier (v2 avis
 * d'imposition, v3 CAF/MSA quotient familial; server TLS only, as the real one). It writes no log: the numéro fiscal travels in its paths.
 */

export type { FaultKind, FaultRule, SandboxApi } from './faults.ts';
export type { SandboxClient, FranceConnectResolver } from './gateway.ts';
export type { TaxationDate, Clock } from './calendar.ts';
export { SPI_SANDBOX } from './population.ts';

export interface SandboxClientOptions {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default: the scopes a QF téléservice subscribes to (IR, IR dernière, IR 2 ans, IR multiple, R2P, SFiP). */
  readonly scopes?: readonly string[];
  /** Default `QUOTIENT_BAC_A_SABLE`. */
  readonly idTeleservice?: string;
  /** Default: the QF contract (see `DEFAULT_CONTRACT`). */
  readonly fields?: readonly string[];
  /** Default `[1, 2, 3]`: N-1, N-2, N-3. */
  readonly annees?: readonly number[];
}

export interface SandboxOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Port of the DGFiP gateway; default 0 (ephemeral). */
  readonly port?: number;
  /** Port of API Particulier; default 0 (ephemeral). */
  readonly apiParticulierPort?: number;
  /** Where the test PKI and the demo credentials live; default `./data/sandbox-pki`. */
  readonly dataDir?: string;
  /** Default true: a TLS handshake without a certificate of the sandbox CA fails. */
  readonly requireClientCert?: boolean;
  /** Default: one demo client whose secret is kept in the data folder. */
  readonly clients?: readonly SandboxClientOptions[];
  /** `X-Api-Key` values accepted by API Particulier; default: one demo key kept in the data folder. */
  readonly apiParticulierKeys?: readonly string[];
  /** Access token lifetime; default 3600 s. */
  readonly tokenTtlSeconds?: number;
  /** Default 50 calls per client in any 60 000 ms, token requests not counted. */
  readonly quota?: { readonly limit?: number; readonly windowMs?: number; readonly includeTokenRequests?: boolean };
  /** Day from which N-1 is served; default 22 July. */
  readonly taxationDate?: TaxationDate;
  /** The clock of every rule (years, token expiry, quota window); default `Date.now`. */
  readonly now?: Clock;
  /** Faults active from the start. */
  readonly faults?: readonly FaultRule[];
  /** FranceConnect access tokens the sandbox resolves to a person, by a table or a hook. */
  readonly franceConnect?: { readonly tokens?: Readonly<Record<string, string>>; readonly resolve?: FranceConnectResolver };
  /** Keys of `aftDetail` for postcode and city; default `codePostal`/`commune` (the sandbox data's). */
  readonly aftDetailKeys?: AftDetailKeys;
  /** Default true: `ID_Teleservice` is required on Impôt particulier (always on SFiP). */
  readonly requireIdTeleservice?: boolean;
  /** Called after each call, with a masked path. Exceptions are ignored. */
  readonly onCall?: (record: CallRecord) => void;
}

/** One call as the sandbox saw it. Paths are masked: no SPI, no query string. */
export interface CallRecord {
  readonly at: number;
  readonly listener: 'dgfip' | 'api-particulier';
  readonly api: SandboxApi | undefined;
  readonly method: string;
  readonly path: string;
  /** Status written; absent when nothing was (timeout, reset, failed handshake). */
  readonly status?: number;
  readonly clientId?: string;
  readonly correlationId?: string;
  readonly fault?: FaultKind;
  /** Age of the access token used, in seconds. */
  readonly tokenAgeSeconds?: number;
  readonly clientCertFingerprint?: string;
  /** Code of a refused TLS handshake (no or unknown client certificate...). */
  readonly tlsError?: string;
}

export interface SandboxAdmin {
  addFault(rule: FaultRule): string;
  removeFault(id: string): boolean;
  clearFaults(): void;
  faults(): readonly (FaultRule & { readonly id: string; readonly remaining: number })[];
  /** Revokes the live access tokens (of one client): the next call gets `401 invalid_token`. */
  revokeTokens(clientId?: string): number;
  /**
   * While on, the API answers `401 invalid_token` to every access token (of one client), even one
   * the token endpoint has just issued: a new token does not help until it is turned off.
   */
  refuseAllTokens(on: boolean, clientId?: string): void;
  /**
   * A FranceConnect access token and whose it is; refused after `expiresAt` (epoch ms) when given, as
   * FranceConnect's own are. With `scopes` (what the person agreed to at FranceConnect), a call is
   * refused (403, 4031) when they lack the scope of a field of the téléservice's contract.
   */
  registerFranceConnectToken(token: string, spi: string, expiresAt?: number, scopes?: readonly string[]): void;
  revokeFranceConnectToken(token: string): void;
  /** Adds or replaces a client (for instance to change its contract during a test). */
  setClient(client: SandboxClientOptions): SandboxClient;
  resetQuota(): void;
  /** Calls counted in the current window for a client and an API (default Impôt particulier). */
  quotaUsage(clientId: string, api?: SandboxApi): number;
  calls(): readonly CallRecord[];
  clearCalls(): void;
  /** A further client certificate from the sandbox CA (rotation, second téléservice, expired one). */
  issueClientCertificate(options?: { commonName?: string; notBefore?: Date; notAfter?: Date }): Promise<CertificateAndKey>;
}

export interface SandboxHandle {
  /** `https://127.0.0.1:<port>`: the gateway. */
  readonly origin: string;
  /** API Impôt particulier, the equivalent of `https://<gateway>/impotparticulier/1.0`. */
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly r2pUrl: string;
  readonly sfipUrl: string;
  /** API Particulier, the equivalent of `https://particulier.api.gouv.fr` (no client certificate). */
  readonly apiParticulierUrl: string;
  readonly apiParticulierKeys: readonly string[];
  readonly requireClientCert: boolean;
  readonly pki: {
    readonly dir: string;
    readonly caCertPem: string;
    readonly clientCertPem: string;
    readonly clientKeyPem: string;
    readonly paths: { readonly caCert: string; readonly clientCert: string; readonly clientKey: string };
  };
  readonly clients: readonly SandboxClient[];
  readonly admin: SandboxAdmin;
  close(): Promise<void>;
}

const MAX_RECORDS = 10_000;

const configError = (message: string): QuotientError => new QuotientError('invalid', 'configuration_bac_a_sable', message);

function resolveClient(o: SandboxClientOptions): SandboxClient {
  if (!o.clientId || !o.clientSecret) throw configError('Client du bac à sable : client_id et client_secret sont obligatoires.');
  const scopes = o.scopes ?? DEFAULT_SCOPES;
  const unknown = scopes.filter((s) => !KNOWN_SCOPES.includes(s));
  if (unknown.length > 0) throw configError(`Client ${o.clientId} : portée(s) inconnue(s) ${unknown.join(', ')}.`);
  const fields = o.fields ?? DEFAULT_CONTRACT;
  validateContract(fields);
  const annees = o.annees ?? [1, 2, 3];
  if (annees.some((a) => !Number.isInteger(a) || a < 1)) throw configError(`Client ${o.clientId} : années (décalages 1, 2, 3...) invalides.`);
  return {
    clientId: o.clientId,
    clientSecret: o.clientSecret,
    scopes: [...scopes],
    idTeleservice: o.idTeleservice ?? 'QUOTIENT_BAC_A_SABLE',
    fields: [...fields],
    annees: [...annees],
  };
}

/** 5xx and 429 bodies in each API's own style, for injected faults. */
function faultEnvironment(api: SandboxApi | undefined, now: number, onClose: FaultEnvironment['onClose']): FaultEnvironment {
  return {
    onClose,
    errorAnswer(status, retryAfterSeconds) {
      const retry: Record<string, string> = retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {};
      if (status === 429) {
        const limited =
          api === 'api-particulier' ? apiParticulierError(429) : api === 'quotient-caf' ? quotientCafError(429) : throttled(retryAfterSeconds ?? 30);
        return withHeaders(limited, retry);
      }
      let answer: Answer;
      if (api === 'api-particulier') answer = apiParticulierError(status);
      else if (api === 'quotient-caf') answer = quotientCafError(status);
      else if (api === 'token') {
        answer = json(
          status,
          status === 500
            ? { error: 'server_error', error_description: 'Erreur technique.' }
            : { error: 'temporarily_unavailable', error_description: 'Service momentanément indisponible.' },
          JSON_UTF8,
          { 'cache-control': 'no-store' },
        );
      } else if (status === 500) {
        answer = api === 'sfip' ? erreur(500, 40401, 'Une erreur est survenue', now, SFIP_MEDIA_TYPE) : erreur(500, undefined, 'Erreur technique', now);
      } else if (status === 503) {
        answer = gatewayFault(503, 101503, 'Runtime Error', 'Erreur de connexion au service de la DGFiP.');
      } else {
        answer = gatewayFault(504, 101504, 'Runtime Error', 'Le service de la DGFiP n’a pas répondu à temps.');
      }
      return withHeaders(answer, retry);
    },
  };
}

export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const now = options.now ?? Date.now;
  const taxation = options.taxationDate ?? DEFAULT_TAXATION_DATE;
  validateTaxationDate(taxation);
  const requireClientCert = options.requireClientCert ?? true;
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir ?? 'data/sandbox-pki');
  const files = await loadOrCreateSandboxFiles(dataDir);

  const clients = new Map<string, SandboxClient>();
  const clientOptions = options.clients ?? [{ clientId: files.demo.clientId, clientSecret: files.demo.clientSecret, idTeleservice: files.demo.idTeleservice }];
  for (const o of clientOptions) {
    const client = resolveClient(o);
    if (clients.has(client.clientId)) throw configError(`Client ${client.clientId} déclaré deux fois.`);
    clients.set(client.clientId, client);
  }
  const apiKeys = [...(options.apiParticulierKeys ?? [files.demo.apiKey])];

  const state: SandboxState = {
    now,
    taxation,
    population: new Population(taxation),
    clients,
    tokens: new TokenStore(options.tokenTtlSeconds ?? 3600, now),
    quota: new SlidingWindowQuota({ limit: options.quota?.limit ?? DEFAULT_QUOTA.limit, windowMs: options.quota?.windowMs ?? DEFAULT_QUOTA.windowMs }, now),
    countTokenRequests: options.quota?.includeTokenRequests ?? false,
    faults: new FaultSwitch(options.faults ?? []),
    franceConnectTokens: new Map(Object.entries(options.franceConnect?.tokens ?? {}).map(([token, spi]) => [token, { spi }])),
    franceConnectResolver: options.franceConnect?.resolve,
    apiKeys: new Set(apiKeys),
    aftDetailKeys: options.aftDetailKeys ?? 'codePostal',
    requireIdTeleservice: options.requireIdTeleservice ?? true,
  };

  const records: CallRecord[] = [];
  const record = (r: CallRecord): void => {
    records.push(r);
    if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS);
    try {
      options.onCall?.(r);
    } catch {
      // A failing observer must not break the sandbox.
    }
  };

  const cleanups = new Set<() => void>();
  const onClose: FaultEnvironment['onClose'] = (cleanup) => {
    cleanups.add(cleanup);
    return () => cleanups.delete(cleanup);
  };

  async function route(listener: CallRecord['listener'], ctx: CallContext): Promise<Answer> {
    if (!ctx.path.startsWith('/')) return erreur(400, undefined, 'Requête mal formée', ctx.now);
    if (listener === 'dgfip' && ctx.path === '/token') return tokenEndpoint(state, ctx);
    const segments = decodeSegments(ctx.path);
    if (!segments) return erreur(400, undefined, 'Requête mal formée', ctx.now);
    if (listener === 'api-particulier') {
      const path = segments.join('/');
      if (path === QF_IDENTITE || path === QF_FRANCE_CONNECT) return quotientCaf(state, ctx, path);
      return apiParticulier(state, ctx, segments);
    }
    const [a, b, ...rest] = segments;
    if (a === 'impotparticulier' && b === '1.0') return impotParticulier(state, ctx, rest);
    if (a === 'r2p' && b === 'v1') return r2p(state, ctx, rest);
    if (a === 'sfip' && b === 'v1') return sfip(state, ctx, rest);
    return notFoundResource();
  }

  async function dispatch(listener: CallRecord['listener'], req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const ctx: CallContext = {
      req,
      path: q === -1 ? rawUrl : rawUrl.slice(0, q),
      query: new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1)),
      now: now(),
      certFingerprint: peerFingerprint(req),
      api: undefined,
      clientId: undefined,
      token: undefined,
      spi: undefined,
      faultable: false,
      correlationId: undefined,
    };
    let answer: Answer;
    try {
      answer = await route(listener, ctx);
    } catch {
      // Never echo what failed: the request carried an SPI.
      answer = erreur(500, undefined, 'Erreur technique', ctx.now);
    }
    const extra: Record<string, string> = {};
    if (!answer.headers['cache-control']) extra['cache-control'] = 'no-store';
    if (ctx.correlationId) extra['x-correlation-id'] = ctx.correlationId;
    answer = withHeaders(answer, extra);
    const fault = ctx.faultable && ctx.api ? state.faults.match(ctx.api, ctx.spi) : undefined;
    const noStatus = fault && ['timeout', 'connectionReset'].includes(fault.kind);
    record({
      at: ctx.now,
      listener,
      api: ctx.api,
      method: req.method ?? '',
      path: maskPath(rawUrl),
      ...(noStatus ? {} : { status: fault ? statusOfFault(fault, answer, ctx.api) : answer.status }),
      ...(ctx.clientId ? { clientId: ctx.clientId } : {}),
      ...(ctx.correlationId ? { correlationId: ctx.correlationId } : {}),
      ...(fault ? { fault: fault.kind } : {}),
      ...(ctx.token ? { tokenAgeSeconds: Math.floor((ctx.now - ctx.token.issuedAt) / 1000) } : {}),
      ...(ctx.certFingerprint ? { clientCertFingerprint: ctx.certFingerprint } : {}),
    });
    if (fault) writeFaulty(res, answer, fault, faultEnvironment(ctx.api, ctx.now, onClose));
    else writeAnswer(res, answer);
  }

  const sockets = new Set<Socket>();
  const track = (server: Server, listener: CallRecord['listener']): void => {
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => {
      record({ at: now(), listener, api: undefined, method: '', path: '', tlsError: error.code ?? 'TLS' });
      socket.destroy();
    });
  };
  const handler = (listener: CallRecord['listener']) => (req: IncomingMessage, res: ServerResponse) => {
    dispatch(listener, req, res).catch(() => res.destroy());
  };

  const tls = { key: files.pki.serverKeyPem, cert: files.pki.serverCertPem, minVersion: 'TLSv1.2' as const };
  const gateway = createServer({ ...tls, ca: files.pki.caCertPem, requestCert: true, rejectUnauthorized: requireClientCert }, handler('dgfip'));
  const particulier = createServer(tls, handler('api-particulier'));
  track(gateway, 'dgfip');
  track(particulier, 'api-particulier');

  const listen = (server: Server, port: number): Promise<number> =>
    new Promise((resolveListen, reject) => {
      const onError = (error: NodeJS.ErrnoException): void =>
        reject(
          error.code === 'EADDRINUSE'
            ? new QuotientError('conflict', 'port_occupe', `Le port ${port} est déjà utilisé par un autre programme : choisissez-en un autre.`)
            : new QuotientError('unavailable', 'ecoute_impossible', `Écoute impossible sur ${host}:${port} (${error.code ?? 'erreur'}).`),
        );
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const address = server.address();
        resolveListen(typeof address === 'object' && address ? address.port : port);
      });
    });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const cleanup of [...cleanups]) cleanup();
      cleanups.clear();
      const closed = [gateway, particulier].map((server) => new Promise<void>((done) => (server.listening ? server.close(() => done()) : done())));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    })();
    return closing;
  };

  let gatewayPort: number;
  let particulierPort: number;
  try {
    gatewayPort = await listen(gateway, options.port ?? 0);
    particulierPort = await listen(particulier, options.apiParticulierPort ?? 0);
  } catch (error) {
    await close();
    throw error;
  }

  const urlHost = host.includes(':') ? `[${host}]` : host;
  const origin = `https://${urlHost}:${gatewayPort}`;
  const admin: SandboxAdmin = {
    addFault: (rule) => state.faults.add(rule),
    removeFault: (id) => state.faults.remove(id),
    clearFaults: () => state.faults.clear(),
    faults: () => state.faults.list(),
    revokeTokens: (clientId) => state.tokens.revokeAll(clientId),
    refuseAllTokens: (on, clientId) => state.tokens.refuseAll(on, clientId),
    registerFranceConnectToken: (token, spi, expiresAt, scopes) =>
      void state.franceConnectTokens.set(token, {
        spi,
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        ...(scopes !== undefined ? { scopes: new Set(scopes) } : {}),
      }),
    revokeFranceConnectToken: (token) => void state.franceConnectTokens.delete(token),
    setClient: (o) => {
      const client = resolveClient(o);
      clients.set(client.clientId, client);
      return client;
    },
    resetQuota: () => state.quota.reset(),
    quotaUsage: (clientId, api = 'impot-particulier') => state.quota.usage(`${api}:${clientId}`),
    calls: () => [...records],
    clearCalls: () => void records.splice(0, records.length),
    issueClientCertificate: (o) => issueClientCertificate(files.pki, o),
  };

  return {
    origin,
    baseUrl: `${origin}/impotparticulier/1.0`,
    tokenUrl: `${origin}/token`,
    r2pUrl: `${origin}/r2p/v1`,
    sfipUrl: `${origin}/sfip/v1`,
    apiParticulierUrl: `https://${urlHost}:${particulierPort}`,
    apiParticulierKeys: apiKeys,
    requireClientCert,
    pki: {
      dir: files.pki.dir,
      caCertPem: files.pki.caCertPem,
      clientCertPem: files.pki.clientCertPem,
      clientKeyPem: files.pki.clientKeyPem,
      paths: { caCert: files.pki.paths.caCert, clientCert: files.pki.paths.clientCert, clientKey: files.pki.paths.clientKey },
    },
    get clients() {
      return [...clients.values()];
    },
    admin,
    close,
  };
}

function statusOfFault(fault: FaultRule, answer: Answer, api: SandboxApi | undefined): number {
  if (api === 'quotient-caf' && (fault.kind === 'http500' || fault.kind === 'http503' || fault.kind === 'http504')) {
    return statutPanneCaf(({ http500: 500, http503: 503, http504: 504 } as const)[fault.kind]);
  }
  switch (fault.kind) {
    case 'http500':
      return 500;
    case 'http503':
      return 503;
    case 'http504':
      // API Particulier documents no 504: its network_error is a 503.
      return api === 'api-particulier' ? 503 : 504;
    case 'http429':
      return 429;
    case 'redirect':
      return 302;
    case 'wrongContentType':
    case 'schemaMismatch':
    case 'oversizedBody':
      return 200;
    default:
      return answer.status;
  }
}
