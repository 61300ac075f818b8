import type { IncomingMessage } from 'node:http';
import { horodatage } from './calendar.ts';

/** An answer before it is written: faults may rewrite, truncate or drip it. */
export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export const JSON_TYPE = 'application/json';
export const JSON_UTF8 = 'application/json;charset=UTF-8';

export const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function json(status: number, value: unknown, contentType: string = JSON_TYPE, headers: Record<string, string> = {}): Answer {
  return { status, headers: { 'content-type': contentType, ...headers }, body: JSON.stringify(value) };
}

/**
 * The DGFiP's error body, `{"erreur":{"code","message","horodatage"}}` (explicit in the SFiP
 * specification; `codeapp` in Impôt particulier's descriptions).
 */
export function erreur(status: number, code: number | undefined, message: string, now: number, contentType: string = JSON_TYPE): Answer {
  return json(status, { erreur: { ...(code !== undefined ? { code } : {}), message, horodatage: horodatage(now) } }, contentType);
}

/** The API gateway's own refusals (WSO2 API Manager codes: 9009xx authentication, 900800 quota). */
export function gatewayFault(status: number, code: number, message: string, description: string, headers: Record<string, string> = {}): Answer {
  return json(status, { fault: { code, message, description } }, JSON_TYPE, headers);
}

export function withHeaders(answer: Answer, headers: Record<string, string>): Answer {
  return { ...answer, headers: { ...answer.headers, ...headers } };
}

/** Reads a request body up to `limit` bytes; `undefined` when it is larger. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) return undefined;
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export const SPI_MASK = '*************';

/**
 * A path fit for a record or a terminal: the segment after `spi/` and every long run of digits
 * masked, the query string dropped (R2P, SFiP and API Particulier carry état civil and SPI there).
 */
export function maskPath(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const segments = path.split('/');
  for (let i = 0; i < segments.length - 1; i++) {
    if (segments[i]?.toLowerCase() === 'spi') segments[i + 1] = SPI_MASK;
  }
  const masked = segments.join('/').replace(/(%[0-9A-Fa-f]{2}|[0-9]){6,}/g, SPI_MASK);
  return q === -1 ? masked : `${masked}?…`;
}

/** Path segments percent-decoded; `undefined` when an escape is malformed. */
export function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}
