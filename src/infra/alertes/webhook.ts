import { createHmac, timingSafeEqual } from 'node:crypto';
import { Agent, request, type Dispatcher } from 'undici';
import { isLoopbackHost } from '../config/securite-config.ts';
import type { Alerte } from './alerte.ts';
import { EchecCanal, pause, raisonReseau, secondes, type CanalAlerte, type Emetteur } from './canal.ts';

export const SIGNATURE_HEADER = 'X-Quotient-Signature';
/** Receivers refuse a signature older (or newer) than this: a replayed request is refused. */
export const TOLERANCE_SIGNATURE_S = 300;

/** The JSON the receiver gets (`type` and `version` let it tell this format from a later one). */
export function corpsWebhook(alerte: Alerte, emetteur: Emetteur): string {
  return JSON.stringify({
    type: 'quotient.alerte',
    version: 1,
    id: alerte.id,
    code: alerte.code,
    gravite: alerte.gravite,
    titre: alerte.titre,
    message: alerte.message,
    survenueLe: alerte.survenueLe,
    details: alerte.details,
    emetteur: { logiciel: 'quotient', commune: emetteur.commune, codeInsee: emetteur.codeInsee, hote: emetteur.hote },
  });
}

/**
 * `t=<unix seconds>,v1=<hex>`, where v1 = HMAC-SHA256(secret, "<t>.<body>") over the body's exact
 * bytes: binding the time into the MAC lets the receiver refuse an old request replayed as is.
 */
export function signerWebhook(secret: Buffer, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body, 'utf8').digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

export type VerificationSignature =
  | { readonly valide: true; readonly timestamp: number }
  | { readonly valide: false; readonly raison: 'entete_invalide' | 'signature_invalide' | 'trop_ancienne' };

/**
 * What a receiver does (also written out in docs/alertes.md): recompute the MAC over the raw body,
 * compare in constant time, refuse a timestamp outside the tolerance. Refusing a replay inside the
 * window is then a matter of remembering the alert ids seen in the last few minutes.
 */
export function verifierSignatureWebhook(options: {
  secret: Buffer;
  header: string | undefined;
  body: string;
  nowS?: number;
  toleranceS?: number;
}): VerificationSignature {
  const match = /^t=([0-9]{1,12}),v1=([0-9a-f]{64})$/.exec(options.header ?? '');
  if (!match) return { valide: false, raison: 'entete_invalide' };
  const timestamp = Number(match[1]);
  const expected = Buffer.from(signerWebhook(options.secret, timestamp, options.body).slice(-64), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(match[2] as string, 'hex'))) return { valide: false, raison: 'signature_invalide' };
  const now = options.nowS ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceS ?? TOLERANCE_SIGNATURE_S)) return { valide: false, raison: 'trop_ancienne' };
  return { valide: true, timestamp };
}

export interface WebhookOptions {
  readonly url: string;
  readonly secret: Buffer;
  readonly emetteur: Emetteur;
  /** Per attempt: connection, then answer. Default 5 s. */
  readonly delaiMs?: number;
  /** Before the one retry. Default 0.5 s. */
  readonly pauseAvantRelanceMs?: number;
  /** Tests: an agent trusting a test authority. */
  readonly dispatcher?: Dispatcher;
  readonly horloge?: () => number;
}

type Essai = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly raison: string; readonly relancer: boolean };

/**
 * POSTs the alert as signed JSON. One retry, on what may pass (no answer, 5xx, 429); never follows
 * a redirect, which could carry the alert elsewhere.
 */
export function canalWebhook(options: WebhookOptions): CanalAlerte {
  const url = new URL(options.url);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new EchecCanal('adresse refusée : https:// attendu (http:// seulement vers cette machine)');
  }
  const delaiMs = options.delaiMs ?? 5000;
  const horloge = options.horloge ?? Date.now;
  const ownAgent = options.dispatcher === undefined ? new Agent({ connect: { timeout: delaiMs }, headersTimeout: delaiMs, bodyTimeout: delaiMs }) : undefined;
  const dispatcher = options.dispatcher ?? (ownAgent as Agent);
  // The path may hold a token (many receivers put one there): only the origin is ever shown.
  const destination = url.origin;

  const essayer = async (alerte: Alerte, signal: AbortSignal): Promise<Essai> => {
    const body = corpsWebhook(alerte, options.emetteur);
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher,
        signal: AbortSignal.any([signal, AbortSignal.timeout(delaiMs)]),
        headersTimeout: delaiMs,
        bodyTimeout: delaiMs,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Quotient-alertes/1',
          'x-quotient-alerte-id': alerte.id,
          [SIGNATURE_HEADER.toLowerCase()]: signerWebhook(options.secret, Math.floor(horloge() / 1000), body),
        },
        body,
      });
      await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      const status = response.statusCode;
      if (status >= 200 && status < 300) return { ok: true, status };
      if (status >= 300 && status < 400) return { ok: false, raison: `redirection refusée (HTTP ${status})`, relancer: false };
      return { ok: false, raison: `refusé (HTTP ${status})`, relancer: status >= 500 || status === 429 };
    } catch (error) {
      if (signal.aborted) throw new EchecCanal('délai dépassé');
      // Our per-try signal and undici's own timeouts may fire in either order: one reason for both.
      const code = String((error as { code?: unknown }).code ?? '');
      const timedOut = (error as { name?: unknown }).name === 'TimeoutError' || /^UND_ERR_(?:CONNECT|HEADERS|BODY)_TIMEOUT$/.test(code);
      const raison = timedOut ? `délai dépassé (${secondes(delaiMs)})` : raisonReseau(error);
      return { ok: false, raison, relancer: true };
    }
  };

  return {
    nom: 'webhook',
    destination,
    async envoyer(alerte, signal) {
      const first = await essayer(alerte, signal);
      if (first.ok) return `accepté par ${destination} (HTTP ${first.status})`;
      if (!first.relancer) throw new EchecCanal(`${first.raison} par ${destination}`);
      await pause(options.pauseAvantRelanceMs ?? 500, signal);
      const second = await essayer(alerte, signal);
      if (second.ok) return `accepté par ${destination} (HTTP ${second.status}) au second essai`;
      throw new EchecCanal(`${second.raison} par ${destination}, après 2 essais`);
    },
    async fermer() {
      await ownAgent?.close();
    },
  };
}
