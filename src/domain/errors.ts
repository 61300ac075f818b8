/**
 * The one error style of Quotient. Every failure a person or a program may meet is a
 * `QuotientError`: a stable `code` for programs, a `kind` that the HTTP layer maps to a status in a
 * single place, and a French `message` fit to be shown to a person. Anything else that is thrown
 * is a bug, answered with a generic message and never with its details.
 */
export type ErrorKind =
  | 'invalid' // the input is wrong; the person can fix it
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict' // the state does not allow the action now
  | 'rate_limited'
  | 'unavailable' // a dependency (database, DGFiP) cannot answer now
  | 'upstream'; // a dependency answered something we cannot use

/** One problem located in a structured input (a form field, a config path, a CSV cell). */
export interface ErrorDetail {
  readonly path: string;
  readonly message: string;
  /** What kind of problem, for a page that offers more than the message (a number to confirm); absent for most. */
  readonly code?: string;
}

export class QuotientError extends Error {
  override readonly name = 'QuotientError';
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details: readonly ErrorDetail[];

  constructor(kind: ErrorKind, code: string, message: string, options: { details?: readonly ErrorDetail[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.code = code;
    this.details = options.details ?? [];
  }
}

export function isQuotientError(value: unknown): value is QuotientError {
  return value instanceof QuotientError;
}
