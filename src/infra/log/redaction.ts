/**
 * The last layer that keeps numéros fiscaux out of logs: whatever reached the serialised line,
 * any run of 13 or more digits, possibly typed with single spaces, dots or dashes between them
 * (`31 41 592 653 423`), is masked. It over-masks (a 13-digit phone list, a millisecond epoch),
 * which is the safe side; the logger writes ISO timestamps so its own fields are not hit.
 */
const DIGIT_RUN = /(?<![0-9])[0-9](?:[ .\-\u00a0]?[0-9]){12,}(?![0-9])/g;
/** The same run, URL-encoded with %20 or + between digit groups. */
const ENCODED_DIGIT_RUN = /(?<![0-9])[0-9](?:(?:%20|\+)?[0-9]){12,}(?![0-9])/g;

export const REDACTED = '[masqué]';

export function maskDigitRuns(text: string): string {
  return text.replace(DIGIT_RUN, REDACTED).replace(ENCODED_DIGIT_RUN, REDACTED);
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
