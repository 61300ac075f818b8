import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, buildConnector } from 'undici';
import type { Logger } from '../../infra/log/logger.ts';
import { QuotaEpuise, type PrioriteQuota, type QuotaSlot } from '../../infra/queue/quota-slot.ts';
import { SourceFiscaleError, type RaisonEchec } from '../fiscal-source.ts';

/**
 * The HTTP layer every DGFiP adapter shares: mutual TLS (TLS 1.2 at least), a fresh
 * X-Correlation-ID per call, a quota slot before every call, a total deadline, bounded retries
 * with exponential backoff and jitter on 5xx, timeouts and resets, `Retry-After` honoured (and
 * shared through the quota slot), no redirect followed, a response size cap. Paths that carry a
 * numéro fiscal are only ever logged masked, as the caller gives them.
 */
export interface TlsMaterial {
  readonly ca?: string | Buffer;
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
}

export interface UpstreamHttpOptions {
  readonly tls: TlsMaterial;
  readonly logger: Logger;
  readonly quota?: QuotaSlot;
  /** Whole call, retries and waits included. */
  readonly deadlineMs?: number;
  readonly connectTimeoutMs?: number;
  readonly maxAttempts?: number;
  readonly baseBackoffMs?: number;
  readonly maxBodyBytes?: number;
  readonly clock?: () => number;
  /**
   * Asked before every attempt, token requests included: true while Quotient holds its DGFiP
   * calls (an incident switch, the integrity halt), and then nothing is sent.
   */
  readonly suspendu?: () => boolean;
  /** Told the outcome of every attempt sent (metrics): succes, refus, quota_depasse, erreur_serveur, or the failure's reason. */
  readonly onAppel?: (issue: string) => void;
}

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  /** The path as it may be written down: the numéro fiscal replaced by a mask. */
  readonly loggedPath: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /**
   * An answer the adapter reads as final although its status is one we retry (API Particulier's
   * 502 `invalid_response`: the provider's data is unusable, and asking again changes nothing).
   */
  readonly finale?: (response: UpstreamResponse) => boolean;
  /** Not counted in the quota (token requests, unless the operator says they count). */
  readonly horsQuota?: boolean;
  /** A campaign's call takes only the slots online requests leave (default: online). */
  readonly priorite?: PrioriteQuota;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly correlationId: string;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const CLIENT_CERT_REFUSED = /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE|ACCESS_DENIED/i;
const SERVER_CERT_REFUSED = /UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO|ALTNAME|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|UNABLE_TO_GET_ISSUER/i;

class ResponseTooLarge extends Error {}

const issueDe = (status: number) => (status === 429 ? 'quota_depasse' : status >= 500 ? 'erreur_serveur' : status >= 400 ? 'refus' : 'succes');

export class UpstreamHttp {
  private readonly agent: Agent;
  private readonly deadlineMs: number;
  private readonly maxAttempts: number;
  private readonly baseBackoffMs: number;
  private readonly maxBodyBytes: number;
  private readonly clock: () => number;

  constructor(private readonly options: UpstreamHttpOptions) {
    this.deadlineMs = options.deadlineMs ?? 20_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseBackoffMs = options.baseBackoffMs ?? 250;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
    this.clock = options.clock ?? Date.now;
    const connector = buildConnector({
      ...(options.tls.ca ? { ca: options.tls.ca } : {}),
      ...(options.tls.cert ? { cert: options.tls.cert } : {}),
      ...(options.tls.key ? { key: options.tls.key } : {}),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      timeout: options.connectTimeoutMs ?? 5_000,
    });
    this.agent = new Agent({
      // Under TLS 1.3 the gateway refuses a client certificate after the handshake, by an alert
      // that undici reports only as "other side closed"; the socket's own error keeps the alert.
      connect: (connectOptions, callback) =>
        connector(connectOptions, (error, socket) => {
          if (error) this.noteTlsError(error);
          socket?.on('error', (socketError) => this.noteTlsError(socketError));
          callback(error, socket as never);
        }),
      headersTimeout: this.deadlineMs,
      bodyTimeout: this.deadlineMs,
      keepAliveTimeout: 4_000,
      connections: 8,
    });
  }

  /**
   * One logical call. Returns any final answer (2xx to 4xx but 429) for the adapter to interpret;
   * throws a `SourceFiscaleError` when no usable answer came before the deadline.
   */
  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const deadline = this.clock() + this.deadlineMs;
    let lastFailure: SourceFiscaleError | undefined;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (request.signal?.aborted) throw new SourceFiscaleError('indisponible', { detail: 'Appel annulé.' });
      if (this.options.suspendu?.()) throw new SourceFiscaleError('appels_suspendus', { retryAt: this.clock() + 60_000 });
      if (!request.horsQuota) await this.takeSlot(deadline, request.priorite, request.signal);
      const correlationId = randomUUID();
      let retryDelay: number;
      try {
        const response = await this.once(request, correlationId, deadline);
        this.options.onAppel?.(issueDe(response.status));
        if (response.status === 429) {
          const until = this.clock() + retryAfterMs(response.headers['retry-after'], 60_000);
          await this.options.quota?.pauseUntil(until);
          lastFailure = new SourceFiscaleError('quota_depasse', { correlationId, retryAt: until });
          this.logFailure(request, correlationId, attempt, { status: 429 });
          retryDelay = until - this.clock();
        } else if (RETRYABLE_STATUS.has(response.status) && !request.finale?.(response)) {
          lastFailure = new SourceFiscaleError('indisponible', { correlationId, detail: `(HTTP ${response.status})` });
          this.logFailure(request, correlationId, attempt, { status: response.status });
          retryDelay = Math.max(this.backoff(attempt), retryAfterMs(response.headers['retry-after'], 0));
        } else {
          return response;
        }
      } catch (error) {
        const failure = this.classify(error, correlationId);
        this.options.onAppel?.(failure.raison);
        this.logFailure(request, correlationId, attempt, { code: errorCode(error), raison: failure.raison });
        if (!isRetryable(failure.raison)) throw failure;
        lastFailure = failure;
        retryDelay = this.backoff(attempt);
      }
      if (attempt === this.maxAttempts || this.clock() + retryDelay >= deadline) break;
      await sleep(retryDelay, undefined, request.signal ? { signal: request.signal } : undefined).catch(() => undefined);
    }
    // A gateway that refuses our certificate under TLS 1.3 may close right after the handshake
    // without a word: we say so, and send nothing else to find out (no probe outside the quota).
    if (lastFailure?.raison === 'indisponible' && /UND_ERR_SOCKET|ECONNRESET|EPIPE/.test(errorCode(lastFailure.cause))) {
      throw new SourceFiscaleError('indisponible', {
        correlationId: lastFailure.correlationId,
        detail: '(connexion fermée sans réponse juste après la négociation TLS : si cela persiste, vérifiez le certificat client DGFIP_CLIENT_CERT)',
        cause: lastFailure.cause,
      });
    }
    throw lastFailure ?? new SourceFiscaleError('indisponible');
  }

  private lastTlsAlert: { text: string; at: number } | undefined;

  private noteTlsError(error: unknown): void {
    const text = `${errorCode(error)} ${error instanceof Error ? error.message : ''}`;
    if (/SSL|TLS|CERT/i.test(text)) this.lastTlsAlert = { text, at: this.clock() };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async takeSlot(deadline: number, priorite: PrioriteQuota | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (!this.options.quota) return;
    try {
      await this.options.quota.acquire(deadline, { ...(priorite ? { priorite } : {}), ...(signal ? { signal } : {}) });
    } catch (error) {
      if (error instanceof QuotaEpuise) throw new SourceFiscaleError('quota_depasse', { retryAt: error.retryAt });
      throw new SourceFiscaleError('indisponible', { detail: 'Le compteur d’appels partagé ne répond pas.', cause: error });
    }
  }

  private async once(request: UpstreamRequest, correlationId: string, deadline: number): Promise<UpstreamResponse> {
    const remaining = Math.max(deadline - this.clock(), 1);
    const signals = [AbortSignal.timeout(remaining), ...(request.signal ? [request.signal] : [])];
    const signal = AbortSignal.any(signals);
    const response = await this.agent.request({
      origin: request.url.origin,
      path: request.url.pathname + request.url.search,
      method: request.method,
      headers: { ...request.headers, 'x-correlation-id': correlationId },
      body: request.body ?? null,
      signal,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > this.maxBodyBytes) throw new ResponseTooLarge();
        chunks.push(chunk as Buffer);
      }
    } catch (error) {
      response.body.destroy();
      throw error;
    }
    return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString('utf8'), correlationId };
  }

  private classify(error: unknown, correlationId: string): SourceFiscaleError {
    if (error instanceof SourceFiscaleError) return error;
    if (error instanceof ResponseTooLarge) return new SourceFiscaleError('reponse_invalide', { correlationId, detail: 'Réponse trop volumineuse.' });
    const recentAlert = this.lastTlsAlert && this.clock() - this.lastTlsAlert.at < 5_000 ? this.lastTlsAlert.text : '';
    const text = `${errorCode(error)} ${error instanceof Error ? error.message : ''} ${causeText(error)} ${recentAlert}`;
    let raison: RaisonEchec = 'indisponible';
    if (SERVER_CERT_REFUSED.test(text)) raison = 'certificat_serveur_refuse';
    else if (CLIENT_CERT_REFUSED.test(text)) raison = 'certificat_refuse';
    else if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|UND_ERR_CONNECT_TIMEOUT/.test(text)) raison = 'injoignable';
    return new SourceFiscaleError(raison, { correlationId, cause: error });
  }

  private backoff(attempt: number): number {
    const exponential = this.baseBackoffMs * 2 ** (attempt - 1);
    return Math.round(exponential / 2 + Math.random() * exponential);
  }

  private logFailure(request: UpstreamRequest, correlationId: string, attempt: number, what: Record<string, unknown>): void {
    this.options.logger.warn({ correlationId, method: request.method, path: request.loggedPath, attempt, ...what }, 'appel DGFiP en échec');
  }
}

function isRetryable(raison: RaisonEchec): boolean {
  return raison === 'indisponible' || raison === 'injoignable';
}

function errorCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : ((error as Error)?.name ?? '');
}

function causeText(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  if (!cause) return '';
  return `${errorCode(cause)} ${cause instanceof Error ? cause.message : ''}`;
}

/** `Retry-After` in seconds or as an HTTP date; bounded to ten minutes. */
export function retryAfterMs(value: string | string[] | undefined, fallback: number): number {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return fallback;
  const seconds = Number(text);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(text) - Date.now();
  if (!Number.isFinite(ms) || ms < 0) return fallback;
  return Math.min(ms, 10 * 60_000);
}
