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
  /** False when the mod-511 key does not check: a warning only, sandbox SPIs often fail it. */
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

export const NUMERO_FISCAL_MASK = MASK;

/**
 * Thirteen digits in a row, possibly typed with one space (no-break or narrow no-break too) between
 * any two: the shape of a numéro fiscal, whatever its first digit or key. Free text that is kept or
 * shown back (the journal, names, reasons, search criteria) refuses it (ARCHITECTURE §3.1). Dashes
 * are not separators here, unlike in the log masker: identifiers (UUIDs) have digit groups between
 * dashes and must be accepted, and a numéro fiscal is written with spaces, never dashes.
 */
const FORME_NUMERO_FISCAL = /[0-9](?:[ \u00a0\u202f]?[0-9]){12}/;

export function ressembleANumeroFiscal(text: string): boolean {
  return FORME_NUMERO_FISCAL.test(text);
}

/** What was typed, to show it again with its errors: a text shaped like a numéro fiscal is emptied, never echoed. */
export function sansNumeroFiscal<T extends object>(values: T): T {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'string' && ressembleANumeroFiscal(v) ? '' : v])) as T;
}
