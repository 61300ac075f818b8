import { createSocket } from 'node:dgram';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { SYSLOG_FACILITIES, type SyslogFacility } from '../config/securite-config.ts';
import type { Alerte, Gravite } from './alerte.ts';
import { EchecCanal, raisonReseau, secondes, type CanalAlerte, type Emetteur } from './canal.ts';

/** RFC 5424 §6.2.1 severities: critique = Critical, avertissement = Warning, info = Informational. */
export const SEVERITES: Readonly<Record<Gravite, number>> = { critique: 2, avertissement: 4, info: 6 };

/**
 * The SD-ID of our structured data. A name with `@` must carry an IANA private enterprise number;
 * 32473 is the one reserved for documentation (RFC 5612), used until the project registers its own.
 */
export const SD_ID = 'quotient@32473';
export const SD_ID_DETAILS = 'details@32473';
export const APP_NAME = 'quotient';
export const MSGID = 'alerte';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** RFC 5426 §3.2: every receiver should take 2048 octets; a larger datagram could be lost. */
export const MAX_UDP_OCTETS = 2048;

/** PARAM-VALUE escaping (RFC 5424 §6.3.3): `"`, `\` and `]` take a backslash. */
export function echapperValeurSd(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** HOSTNAME, PROCID: printable US-ASCII without spaces, bounded, or the NILVALUE. */
export function printable(value: string, max: number): string {
  const cleaned = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return cleaned === '' ? '-' : cleaned;
}

export function element(id: string, params: ReadonlyArray<readonly [string, string]>): string {
  return `[${id}${params.map(([name, value]) => ` ${name}="${echapperValeurSd(value)}"`).join('')}]`;
}

export interface FormatSyslog {
  readonly facility: SyslogFacility;
  readonly emetteur: Emetteur;
  readonly procId?: string;
  /** Over UDP the message is kept within MAX_UDP_OCTETS. */
  readonly maxOctets?: number;
}

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME quotient PROCID alerte [quotient@32473 …][details@32473 …] BOM MSG`.
 * When too long, the details element goes first, then the end of the text (cut on a character).
 */
export function formaterSyslog(alerte: Alerte, options: FormatSyslog): Buffer {
  const pri = SYSLOG_FACILITIES[options.facility] * 8 + SEVERITES[alerte.gravite];
  const header = `<${pri}>1 ${alerte.survenueLe} ${printable(options.emetteur.hote, 255)} ${APP_NAME} ${printable(options.procId ?? String(process.pid), 128)} ${MSGID} `;
  const main = element(SD_ID, [
    ['id', alerte.id],
    ['code', alerte.code],
    ['gravite', alerte.gravite],
    ['commune', options.emetteur.commune],
    ['codeInsee', options.emetteur.codeInsee],
  ]);
  const entries = Object.entries(alerte.details);
  const details =
    entries.length === 0
      ? ''
      : element(
          SD_ID_DETAILS,
          entries.map(([k, v]) => [k, v === null ? '' : String(v)] as const),
        );
  const msg = Buffer.from(`${alerte.titre} : ${alerte.message}`, 'utf8');
  const max = options.maxOctets ?? Number.POSITIVE_INFINITY;
  let head = Buffer.from(`${header}${main}${details} `, 'utf8');
  if (head.length + BOM.length + msg.length > max && details !== '') head = Buffer.from(`${header}${main} `, 'utf8');
  const room = max - head.length - BOM.length;
  return Buffer.concat([head, BOM, msg.length <= room ? msg : cutUtf8(msg, Math.max(0, room))]);
}

/** The first `max` bytes of UTF-8 text, never splitting a character. */
function cutUtf8(bytes: Buffer, max: number): Buffer {
  let end = max;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Octet-counting framing (RFC 6587 §3.4.1, and RFC 5425 for TLS): `<length> <message>`. */
export function encadrer(message: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
}

export interface SyslogOptions {
  readonly hote: string;
  readonly port?: number;
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly facility: SyslogFacility;
  readonly emetteur: Emetteur;
  /** PEM of the authority to trust for TLS; default: the system's. */
  readonly ca?: string | Buffer;
  /** Connection and sending. Default 5 s. */
  readonly delaiMs?: number;
}

/** Sends each alert on a connection of its own: alerts are rare, and no idle connection can go stale. */
export function canalSyslog(options: SyslogOptions): CanalAlerte {
  const port = options.port ?? (options.transport === 'tls' ? 6514 : 514);
  const delaiMs = options.delaiMs ?? 5000;
  const hote = options.hote.replace(/^\[|\]$/g, '');
  const destination = `${isIP(hote) === 6 ? `[${hote}]` : hote}:${port} (${options.transport})`;
  const format = { facility: options.facility, emetteur: options.emetteur };

  return {
    nom: 'syslog',
    destination,
    async envoyer(alerte, signal) {
      if (options.transport === 'udp') {
        await sendUdp(hote, port, formaterSyslog(alerte, { ...format, maxOctets: MAX_UDP_OCTETS }), signal);
        return `transmis à ${destination}, sans accusé de réception`;
      }
      const frame = encadrer(formaterSyslog(alerte, format));
      await sendStream(
        options.transport === 'tls'
          ? () =>
              tlsConnect({ host: hote, port, ...(isIP(hote) ? {} : { servername: hote }), ...(options.ca ? { ca: options.ca } : {}), rejectUnauthorized: true })
          : () => netConnect({ host: hote, port }),
        frame,
        delaiMs,
        signal,
        options.transport === 'tls' ? 'secureConnect' : 'connect',
      );
      return `transmis à ${destination}`;
    },
  };
}

/**
 * One message to a syslog server over UDP or TCP (octet-counting framing), bounded by `delaiMs`;
 * rejects with `EchecCanal`. For the journal's anchor copy, which has no alert to carry.
 */
export async function envoyerSyslog(
  cible: { readonly hote: string; readonly port: number; readonly transport: 'udp' | 'tcp' },
  message: Buffer,
  delaiMs = 5000,
): Promise<void> {
  const hote = cible.hote.replace(/^\[|\]$/g, '');
  const signal = AbortSignal.timeout(delaiMs);
  if (cible.transport === 'udp') await sendUdp(hote, cible.port, message, signal);
  else await sendStream(() => netConnect({ host: hote, port: cible.port }), encadrer(message), delaiMs, signal, 'connect');
}

function sendUdp(host: string, port: number, message: Buffer, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
    const onAbort = () => {
      socket.close();
      reject(new EchecCanal('délai dépassé'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      socket.close();
      reject(new EchecCanal(raisonReseau(error)));
    });
    socket.send(message, port, host, (error) => {
      signal.removeEventListener('abort', onAbort);
      socket.close();
      if (error) reject(new EchecCanal(raisonReseau(error)));
      else resolve();
    });
  });
}

/** Resolves once the frame is handed to the system after a clean end; the socket then closes by itself. */
function sendStream(open: () => Socket, frame: Buffer, delaiMs: number, signal: AbortSignal, ready: 'connect' | 'secureConnect'): Promise<void> {
  return new Promise((resolve, reject) => {
    let done = false;
    const socket = open();
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (error) {
        socket.destroy();
        reject(error instanceof EchecCanal ? error : new EchecCanal(raisonReseau(error)));
      } else {
        // Nothing is read back: the peer closing, or the timeout, ends the socket; it holds no process open.
        socket.unref();
        resolve();
      }
    };
    const onAbort = () => finish(new EchecCanal('délai dépassé'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.setTimeout(delaiMs, () => {
      if (done) socket.destroy();
      else finish(new EchecCanal(`délai dépassé (${secondes(delaiMs)})`));
    });
    socket.on('error', (error) => finish(error));
    socket.once(ready, () => socket.end(frame, () => finish()));
  });
}
