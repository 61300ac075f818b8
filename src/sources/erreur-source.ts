import { QuotientError, type ErrorKind } from '../domain/errors.ts';

export interface OptionsErreurSource {
  /** The X-Correlation-ID of the last call (sent by our HTTP layer), to quote to the source's support. */
  readonly correlationId?: string;
  /** When a slot or the upstream will be free again (epoch ms), for quota and pauses. */
  readonly retryAt?: number;
  readonly detail?: string;
  readonly cause?: unknown;
}

/** Each reason of failure of a source, with the kind of error and the French message it gives. */
export type RaisonsSource<R extends string> = Record<R, { readonly kind: ErrorKind; readonly message: string }>;

/**
 * A failure of an upstream source (the DGFiP, the CAF or MSA): a reason from the source's closed
 * list, whose kind and French message it carries, with what is needed to try again.
 */
export abstract class ErreurSource<R extends string> extends QuotientError {
  readonly raison: R;
  readonly correlationId: string | undefined;
  readonly retryAt: number | undefined;

  protected constructor(prefixeCode: string, raisons: RaisonsSource<R>, raison: R, options: OptionsErreurSource) {
    const { kind, message } = raisons[raison];
    super(kind, `${prefixeCode}_${raison}`, options.detail ? `${message} ${options.detail}` : message, { cause: options.cause });
    this.raison = raison;
    this.correlationId = options.correlationId;
    this.retryAt = options.retryAt;
  }
}
