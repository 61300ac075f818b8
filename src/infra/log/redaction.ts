import { masquerNumerosFiscaux } from '../../domain/numero-fiscal.ts';

/**
 * The last layer that keeps numéros fiscaux out of logs: whatever reached the serialised line,
 * any run shaped like one (13 digits or more of any script, with spaces, dashes, dots, slashes or
 * invisible characters between them: the rule of `ressembleANumeroFiscal`) is masked. It
 * over-masks (a 13-digit phone list, a millisecond epoch), which is the safe side; the logger
 * writes ISO timestamps so its own fields are not hit. Canonical UUIDs stay as they are: request
 * and correlation ids must be read intact to follow a call across logs (issue 13), and the rule's
 * UUID exemption says why that hides no numéro fiscal.
 */
/** The same run, URL-encoded with %20, + or %2D between digit groups. */
const ENCODED_DIGIT_RUN = /(?<![0-9])[0-9](?:(?:%20|%2D|\+)?[0-9]){12,}(?![0-9])/gi;

export const REDACTED = '[masqué]';

export function maskDigitRuns(text: string): string {
  return masquerNumerosFiscaux(text, REDACTED).replace(ENCODED_DIGIT_RUN, REDACTED);
}

/**
 * Field names whose values are secrets or personal identifiers, wherever they appear in a log
 * object (the logger redacts them at any depth, case-insensitively).
 */
export const SENSITIVE_KEYS: readonly string[] = [
  'spi',
  'numerofiscal',
  'numero_fiscal',
  'numerosfiscaux',
  'nfp',
  'password',
  'motdepasse',
  'mot_de_passe',
  'secret',
  'clientsecret',
  'client_secret',
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-franceconnect-oauth',
  'access_token',
  'refresh_token',
  'id_token',
  'token',
];

/**
 * The last layer applied to a serialised JSON log line: every string is masked as above, and every
 * number whose integer part has 13 digits or more (a numéro fiscal read as a number) becomes the
 * mask. Working on the parsed line keeps it valid JSON, which masking raw text would not (the
 * fraction digits of a duration are no SPI and must not be cut in half).
 */
export function maskLogLine(line: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return maskDigitRuns(line);
  }
  return `${JSON.stringify(maskValue(parsed))}\n`;
}

/**
 * The X-Correlation-IDs we generate (UUIDs) are quoted to the DGFiP's support and must match its
 * logs byte for byte, yet about 2 % of them hold 13 digits across a dash. Kept intact, but only
 * under a correlation-id key and only when the whole value is a UUID: nothing else gets through.
 */
const CORRELATION_KEY = /^(?:x-)?correlation-?id$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function maskValue(value: unknown, key?: string): unknown {
  if (typeof value === 'string') return key !== undefined && CORRELATION_KEY.test(key) && UUID.test(value) ? value : maskDigitRuns(value);
  if (typeof value === 'number') return Math.abs(value) >= 1e12 ? REDACTED : value;
  if (Array.isArray(value)) return value.map((item) => maskValue(item));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[maskDigitRuns(key)] = maskValue(inner, key);
    return out;
  }
  return value;
}
