/**
 * Exact arithmetic for money. Amounts are integer cents; every intermediate value (RFR ÷ 12 ÷ 2.5
 * parts, 0.36 % of a QF) is an exact fraction of big integers, rounded once, by the rule the
 * policy states. Floating point never decides a cent, so cents cannot drift.
 */
export interface Rational {
  readonly n: bigint;
  /** Always positive. */
  readonly d: bigint;
}

/** How an amount is brought back to whole units; the names are those of the policy files. */
export const MODES_ARRONDI = ['inferieur', 'superieur', 'plus-proche'] as const;
export type ModeArrondi = (typeof MODES_ARRONDI)[number];

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

export function rational(n: bigint, d: bigint = 1n): Rational {
  if (d === 0n) throw new RangeError('Division by zero');
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

/**
 * The decimal a person wrote (0.36, 2.5, 1e-7) as an exact fraction: a JavaScript number prints
 * as the shortest decimal that reads back to it, which is what the YAML file or the form said.
 */
export function rationalFromDecimal(x: number): Rational {
  if (!Number.isFinite(x)) throw new RangeError(`Not a finite number: ${x}`);
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!match) throw new RangeError(`Unexpected number form: ${x}`);
  const [, sign, int, frac = '', exp = '0'] = match;
  let n = BigInt(`${sign}${int}${frac}`);
  let d = 10n ** BigInt(frac.length);
  const e = Number(exp);
  if (e > 0) n *= 10n ** BigInt(e);
  else d *= 10n ** BigInt(-e);
  return rational(n, d);
}

export const add = (a: Rational, b: Rational): Rational => rational(a.n * b.d + b.n * a.d, a.d * b.d);
export const mul = (a: Rational, b: Rational): Rational => rational(a.n * b.n, a.d * b.d);
export const div = (a: Rational, b: Rational): Rational => rational(a.n * b.d, a.d * b.n);
export const compare = (a: Rational, b: Rational): number => {
  const diff = a.n * b.d - b.n * a.d;
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
};
export const isZero = (a: Rational): boolean => a.n === 0n;

/** Rounds to an integer. Half-way values go up (away from zero for the non-negative amounts here). */
export function roundRational(r: Rational, mode: ModeArrondi): bigint {
  const floor = r.n >= 0n ? r.n / r.d : -((-r.n + r.d - 1n) / r.d);
  const rest = r.n - floor * r.d; // 0 <= rest < d
  if (rest === 0n) return floor;
  switch (mode) {
    case 'inferieur':
      return floor;
    case 'superieur':
      return floor + 1n;
    case 'plus-proche':
      return 2n * rest >= r.d ? floor + 1n : floor;
  }
}

/** Rounds to a multiple of `step` (100 cents for a whole euro). */
export function roundToStep(r: Rational, step: bigint, mode: ModeArrondi): bigint {
  return roundRational(div(r, rational(step)), mode) * step;
}

export function toNumber(r: Rational): number {
  return Number(r.n) / Number(r.d);
}

/** `null` when the amount has more than two decimals: a price is never a fraction of a cent. */
export function eurosToCents(euros: number): number | null {
  if (!Number.isFinite(euros)) return null;
  const cents = mul(rationalFromDecimal(euros), rational(100n));
  return cents.d === 1n && Number.isSafeInteger(Number(cents.n)) ? Number(cents.n) : null;
}

/** Integer cents to euros for JSON: the nearest double to c/100, which prints with ≤ 2 decimals. */
export function centsToEuros(cents: number): number {
  return cents / 100;
}

const NBSP = '\u00a0';

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
}

/** `1 333,33 €`; whole amounts keep their cents (`48 000,00 €`) unless `wholeEuros` is set. */
export function formatEuros(cents: number, options: { wholeEuros?: boolean } = {}): string {
  const negative = cents < 0;
  const abs = Math.abs(cents);
  const euros = groupThousands(String(Math.trunc(abs / 100)));
  const rest = String(abs % 100).padStart(2, '0');
  const body = options.wholeEuros && abs % 100 === 0 ? euros : `${euros},${rest}`;
  return `${negative ? '-' : ''}${body}${NBSP}€`;
}

/** `2,5`, `0,36`, `48 000`: a decimal number the French way. */
export function formatNombre(x: number): string {
  const [int = '0', frac] = String(Math.abs(x)).split('.');
  return `${x < 0 ? '-' : ''}${groupThousands(int)}${frac ? `,${frac}` : ''}`;
}
