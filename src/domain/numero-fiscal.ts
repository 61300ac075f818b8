import { QuotientError } from './errors.ts';

/**
 * The numéro fiscal (SPI): 13 digits, the first one 0 to 3. It must never be persisted, logged or
 * shown back (ARCHITECTURE §3.1), so it only exists inside this value object, whose every textual
 * form is a mask. The raw digits are reachable only through `revealForUpstreamCall()`, whose name
 * makes each use easy to find in review.
 */
const MASK = '*************';
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Inputs longer than this are refused before any other work, so a huge paste costs nothing. */
const MAX_INPUT_LENGTH = 64;

export type NumeroFiscalProblem = 'vide' | 'trop_long' | 'caracteres_invalides' | 'longueur' | 'premier_chiffre';

export class NumeroFiscalInvalide extends QuotientError {
  readonly problem: NumeroFiscalProblem;
  constructor(problem: NumeroFiscalProblem, message: string) {
    super('invalid', 'numero_fiscal_invalide', message);
    this.problem = problem;
  }
}

const privateDigits = new WeakMap<NumeroFiscal, string>();

export class NumeroFiscal {
  /**
   * False when the mod-511 key does not check: most likely a typo. The forms ask the person to
   * check the number and confirm it before it is sent (a typo costs no DGFiP call); parsing never
   * refuses it, since some numbers of the DGFiP's sandbox fail the key.
   */
  readonly cleValide: boolean;

  private constructor(digits: string) {
    privateDigits.set(this, digits);
    this.cleValide = cleModulo511Valide(digits);
    Object.freeze(this);
  }

  /** Strips spaces (people type `30 12 345 678 901`), then requires exactly 13 ASCII digits, 0–3 first. */
  static parse(input: string): NumeroFiscal {
    if (typeof input !== 'string' || input.trim() === '') {
      throw new NumeroFiscalInvalide('vide', 'Saisissez le numéro fiscal : il figure en haut à gauche de votre avis d’imposition.');
    }
    if (input.length > MAX_INPUT_LENGTH) {
      throw new NumeroFiscalInvalide('trop_long', 'Le numéro fiscal comporte 13 chiffres : la saisie est beaucoup trop longue.');
    }
    const compact = input.replace(/[ \u00a0\u202f\t]/g, '');
    if (!/^[0-9]*$/.test(compact)) {
      throw new NumeroFiscalInvalide('caracteres_invalides', 'Le numéro fiscal ne contient que des chiffres (de 0 à 9), sans lettre ni signe.');
    }
    if (compact.length !== 13) {
      throw new NumeroFiscalInvalide('longueur', `Le numéro fiscal comporte 13 chiffres ; vous en avez saisi ${compact.length}.`);
    }
    if (!/^[0-3]/.test(compact)) {
      throw new NumeroFiscalInvalide('premier_chiffre', 'Le numéro fiscal commence par 0, 1, 2 ou 3 : vérifiez le premier chiffre.');
    }
    return new NumeroFiscal(compact);
  }

  /** `parse` that answers with the error instead of throwing, for forms that show every problem. */
  static tryParse(input: string): { ok: true; value: NumeroFiscal } | { ok: false; error: NumeroFiscalInvalide } {
    try {
      return { ok: true, value: NumeroFiscal.parse(input) };
    } catch (error) {
      if (error instanceof NumeroFiscalInvalide) return { ok: false, error };
      throw error;
    }
  }

  /** The digits, for the one place that sends them to the DGFiP. Never store or log the result. */
  revealForUpstreamCall(): string {
    return privateDigits.get(this) as string;
  }

  equals(other: NumeroFiscal): boolean {
    return privateDigits.get(this) === privateDigits.get(other);
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [INSPECT](): string {
    return `NumeroFiscal(${MASK})`;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }
}

/** Official key: the last 3 digits equal the first 10 digits, read as an integer, modulo 511. */
export function cleModulo511Valide(digits: string): boolean {
  if (!/^[0-9]{13}$/.test(digits)) return false;
  return Number(digits.slice(0, 10)) % 511 === Number(digits.slice(10));
}

/** The 13 digits of a numéro fiscal whose first 10 are `base10`, completed with their mod-511 key. */
export function avecCle(base10: string): string {
  return `${base10}${String(Number(base10) % 511).padStart(3, '0')}`;
}

export const NUMERO_FISCAL_MASK = MASK;

/**
 * The shape of a numéro fiscal, the one normaliser every free-text boundary uses (forms, JSON
 * bodies, the journal's guard, the mailer's guard, the log masker): 13 digits, whatever the first
 * one or the key, with up to three separators between any two. A digit is any Unicode digit
 * (full-width `３`, Arabic-Indic…, superscripts, circled); a separator is any space (tab, NBSP,
 * U+202F, U+2028, doubled…), any dash (`31-41-592-653-423`, en dash, full-width hyphen), a dot, a
 * slash, a backslash, an underscore, a middle dot or an invisible format character (zero-width
 * space, soft hyphen), mixed at will. The text is also checked after NFKC, which folds what
 * remains (`①`, ligatures, full-width punctuation) into plain digits and signs.
 *
 * One exemption, the same everywhere: a canonical UUID (8-4-4-4-12 hex digits) is an identifier,
 * not a number typed with dashes. Quotient's own ids, links and correlation ids are UUIDs, and
 * about one random UUID in a few hundred has 13 decimal digits across its first groups; refusing
 * those would lose journal entries and e-mails at random. It hides nothing the rest of the rule
 * catches: a UUID's groups hold at most 12 digits, so a numéro fiscal inside one has to be split
 * on purpose into the 8-4-… pattern — an encoding, like hexadecimal, which no shape rule can stop.
 * Digits on either side of a UUID are not joined through it.
 */
const CHIFFRE = String.raw`[\p{Nd}\p{No}]`;
const SEPARATEUR = String.raw`[\s\p{Pd}\p{Cf}._/\\\u00b7\u2024\u2027\u2044\u2215\uff0e\uff0f\uff3c\uff3f]`;
const SUITE = String.raw`${CHIFFRE}(?:${SEPARATEUR}{0,3}${CHIFFRE})`;
const FORME_NUMERO_FISCAL = new RegExp(`${SUITE}{12}`, 'u');
/** The whole run, for masking: 13 digits or more, with their separators. */
const SUITE_A_MASQUER = new RegExp(`${SUITE}{12,}`, 'gu');
const UUID = /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-f])/gi;
/** Texts longer than this are checked in overlapping windows, so the regex never works on megabytes at once. */
const FENETRE = 4096;

function horsIdentifiants(text: string): string[] {
  return text.split(UUID);
}

function morceauRessemble(piece: string): boolean {
  for (let start = 0; start < piece.length; start += FENETRE) {
    // Each window overlaps the next by the longest possible run (13 digits, 12 gaps of 3).
    const window = piece.slice(start, start + FENETRE + 64);
    if (FORME_NUMERO_FISCAL.test(window) || FORME_NUMERO_FISCAL.test(window.normalize('NFKC'))) return true;
  }
  return false;
}

export function ressembleANumeroFiscal(text: string): boolean {
  return horsIdentifiants(text).some(morceauRessemble);
}

/** A web address as written in a text: up to the first space, quote or angle bracket. */
const ADRESSE_WEB = /https?:\/\/[^\s<>"'«»]+/giu;

/**
 * The same shape, for a text that cites web addresses (a tariff policy's sources and comments):
 * inside an `http(s)://` address the slashes are the address's structure, not separators typed
 * between digits — a council's document link (`/documents/976405/1280877/0/…`) or a dated article
 * (`/2019/02/19/37141584.html`) easily holds 13 digits across its path — so each part between two
 * slashes is checked on its own, and the text around the addresses as `ressembleANumeroFiscal`.
 * A number whole within one part (`/avis/3141592653423`, `?n=31-41-592-653-423`) is still refused;
 * one cut into path segments is cut on purpose, an encoding like the UUID's groups above.
 */
export function ressembleANumeroFiscalHorsAdresses(text: string): boolean {
  const pieces: string[] = [];
  let last = 0;
  for (const m of text.matchAll(ADRESSE_WEB)) {
    pieces.push(text.slice(last, m.index), ...m[0].split('/'));
    last = m.index + m[0].length;
  }
  pieces.push(text.slice(last));
  return pieces.some(ressembleANumeroFiscal);
}

/** Every run shaped like a numéro fiscal replaced by `masque`, UUIDs kept as they are (the log masker's last layer). */
export function masquerNumerosFiscaux(text: string, masque: string): string {
  const pieces: string[] = [];
  let last = 0;
  for (const m of text.matchAll(UUID)) {
    pieces.push(masquerMorceau(text.slice(last, m.index), masque), m[0]);
    last = m.index + m[0].length;
  }
  pieces.push(masquerMorceau(text.slice(last), masque));
  return pieces.join('');
}

function masquerMorceau(piece: string, masque: string): string {
  const masked = piece.replace(SUITE_A_MASQUER, masque);
  // What only NFKC reveals (circled digits, full-width punctuation between digits): the whole piece goes.
  return morceauRessemble(masked) ? masque : masked;
}

/** A person's name holds no digit at all, in any script or form (names are kept, shown and e-mailed). */
export function contientUnChiffre(text: string): boolean {
  return /[\p{Nd}\p{No}]/u.test(text) || /[\p{Nd}\p{No}]/u.test(text.normalize('NFKC'));
}

/** What was typed, to show it again with its errors: a text shaped like a numéro fiscal is emptied, never echoed. */
export function sansNumeroFiscal<T extends object>(values: T): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' && ressembleANumeroFiscal(v) ? '' : v])) as T;
}
