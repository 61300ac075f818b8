import { hostname } from 'node:os';
import { SYSLOG_FACILITIES } from '../../infra/config/securite-config.ts';
import { APP_NAME, element, envoyerSyslog, MAX_UDP_OCTETS, printable } from '../../infra/alertes/syslog.ts';
import { QuotientError } from '../../domain/errors.ts';
import type { Anchor } from './audit-anchor.ts';

/**
 * A copy of each anchor sent to a syslog server (RFC 5424), one more place outside this machine's
 * reach where the journal's head was written down: an attacker holding the database, the key and
 * the anchor file still cannot unsay what the log server received. Send and forget: a lost copy
 * weakens nothing the anchor file does not already guarantee.
 */

export const SD_ID_ANCRE = 'ancre@32473';
const MSGID = 'ancre';
/** RFC 5424 facility 13, "log audit"; severity 6, informational. */
const PRI = SYSLOG_FACILITIES.security * 8 + 6;

export interface CibleSyslog {
  readonly hote: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
}

/** `udp://hôte:port` or `tcp://hôte:port` (port 514 when absent). */
export function cibleSyslog(url: string): CibleSyslog {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid://');
  }
  const transport = parsed.protocol.replace(/:$/, '');
  if ((transport !== 'udp' && transport !== 'tcp') || parsed.hostname === '') {
    throw new QuotientError(
      'invalid',
      'syslog_ancre_invalide',
      `Copie syslog de l’ancre : adresse attendue de la forme udp://hôte:port ou tcp://hôte:port (reçu « ${url} »).`,
    );
  }
  return { hote: parsed.hostname, port: parsed.port === '' ? 514 : Number(parsed.port), transport };
}

/** `<110>1 TIMESTAMP HOST quotient PID ancre [ancre@32473 journal= seq= hash= scellee= mac=] BOM text`. */
export function formaterAncre(anchor: Anchor, mac: string, hote: string = hostname(), procId: string = String(process.pid)): Buffer {
  const header = `<${PRI}>1 ${anchor.at} ${printable(hote, 255)} ${APP_NAME} ${printable(procId, 128)} ${MSGID} `;
  const sd = element(SD_ID_ANCRE, [
    ['journal', anchor.journalId],
    ['seq', String(anchor.seq)],
    ['hash', anchor.hash],
    ['scellee', anchor.headSealed ? 'oui' : 'non'],
    ['mac', mac],
  ]);
  const message = Buffer.from(`${header}${sd} \u{feff}Journal d’audit : tête ancrée à la séquence n° ${anchor.seq}`, 'utf8');
  // Well within a datagram: identifiers, hex and a short text.
  return message.length <= MAX_UDP_OCTETS ? message : message.subarray(0, MAX_UDP_OCTETS);
}

/** The observer for JournalAudit's `onAnchored`: each moved anchor is sent, failures are told to `onError`. */
export function copieSyslogAncre(cible: CibleSyslog, onError: (error: unknown) => void): (anchor: Anchor, mac: string) => void {
  return (anchor, mac) => {
    envoyerSyslog(cible, formaterAncre(anchor, mac), 5000).catch(onError);
  };
}
