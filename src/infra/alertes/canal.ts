import { getSystemErrorName } from 'node:util';
import type { Alerte } from './alerte.ts';

export const NOMS_CANAUX = ['courriel', 'webhook', 'syslog'] as const;
export type NomCanal = (typeof NOMS_CANAUX)[number];

/** Who sends: put in every alert so that a receiver serving several communes knows whose it is. */
export interface Emetteur {
  readonly commune: string;
  readonly codeInsee: string;
  /** This machine's name. */
  readonly hote: string;
}

/**
 * One way an alert reaches a person. `envoyer` resolves with a French account of the delivery
 * (« envoyé à rssi@ville.fr ») and rejects, ideally with `EchecCanal`, with a French reason; it
 * gives up when `signal` aborts.
 */
export interface CanalAlerte {
  readonly nom: NomCanal;
  /** Where it delivers, for a person and the journal: addresses, an origin, host and port. Never a secret. */
  readonly destination: string;
  envoyer(alerte: Alerte, signal: AbortSignal): Promise<string>;
  /** Releases what the channel keeps open between alerts. */
  fermer?(): Promise<void>;
}

/** A delivery that failed, its message a short French reason: « refusé (HTTP 500) ». */
export class EchecCanal extends Error {
  override readonly name = 'EchecCanal';
}

const TLS_CODES =
  /^(?:CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID|ERR_SSL_|ERR_TLS_|HOSTNAME_MISMATCH)/;

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'injoignable (connexion refusée)',
  ECONNRESET: 'connexion interrompue par le destinataire',
  EPIPE: 'connexion interrompue par le destinataire',
  ENOTFOUND: 'nom d’hôte introuvable (DNS)',
  EAI_AGAIN: 'nom d’hôte introuvable pour l’instant (DNS)',
  EHOSTUNREACH: 'hôte injoignable (réseau)',
  ENETUNREACH: 'réseau injoignable',
  ETIMEDOUT: 'délai dépassé',
  UND_ERR_CONNECT_TIMEOUT: 'délai de connexion dépassé',
  UND_ERR_HEADERS_TIMEOUT: 'délai de réponse dépassé',
  UND_ERR_BODY_TIMEOUT: 'délai de réponse dépassé',
  UND_ERR_SOCKET: 'connexion interrompue par le destinataire',
  EAUTH: 'authentification refusée par le relais SMTP',
  EENVELOPE: 'destinataire refusé par le relais SMTP',
};

/** The French reason for a network failure, from its code (looked for along the `cause` chain). */
export function raisonReseau(error: unknown): string {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof EchecCanal) return e.message;
    // nodemailer wraps a socket error as ESOCKET and keeps the system's errno beside it.
    const errno = (e as { errno?: unknown }).errno;
    const code = typeof errno === 'number' && errno < 0 ? getSystemErrorName(errno) : (e as { code?: unknown }).code;
    const responseCode = (e as { responseCode?: unknown }).responseCode;
    if (typeof responseCode === 'number' && responseCode >= 400) return `refusé par le relais SMTP (code ${responseCode})`;
    if (typeof code === 'string') {
      if (REASONS[code]) return REASONS[code];
      if (TLS_CODES.test(code)) return `certificat TLS refusé (${code})`;
    }
    if ((e as { name?: unknown }).name === 'AbortError') return 'délai dépassé';
  }
  const code = (error as { code?: unknown } | null)?.code;
  return `échec inattendu${typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? ` (${code})` : ''}`;
}

/** Waits, or stops waiting when the signal aborts (then rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new EchecCanal('délai dépassé'));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new EchecCanal('délai dépassé'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Seconds for a person: « 5 s », « 0,5 s ». */
export function secondes(ms: number): string {
  return `${new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 }).format(ms / 1000)} s`;
}
