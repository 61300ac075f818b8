import type { UpstreamHttp, UpstreamRequest, UpstreamResponse } from './upstream-http.ts';

/** A credential as one call presents it: the headers that carry it. */
export interface Credential {
  readonly headers: Readonly<Record<string, string>>;
}

/** Where an adapter's credential comes from: an OAuth token from the cache, or a static API key. */
export interface CredentialProvider {
  get(): Promise<Credential>;
  /**
   * The upstream answered 401 to a call that presented `credential`: forget it. True when the
   * next `get()` may give another one, so that one more try can help.
   */
  invalidate(credential: Credential): boolean;
}

/** A key set once in the configuration (API Particulier's `X-Api-Key`): there is no other to try. */
export class StaticCredential implements CredentialProvider {
  private readonly credential: Credential;

  constructor(headers: Readonly<Record<string, string>>) {
    this.credential = { headers };
  }

  get(): Promise<Credential> {
    return Promise.resolve(this.credential);
  }

  invalidate(): boolean {
    return false;
  }
}

/**
 * The one authenticated GET of every adapter: the credential's headers on the request (the
 * correlation ID is `UpstreamHttp`'s) and, on a 401, the credential invalidated and the call tried
 * once more — an OAuth token may expire between the cache's check and the gateway's. Whatever the
 * last answer, 401 included, is the adapter's to interpret.
 */
export async function authenticatedGet(
  http: UpstreamHttp,
  credentials: CredentialProvider,
  request: Omit<UpstreamRequest, 'method' | 'body'>,
): Promise<UpstreamResponse> {
  const send = async (): Promise<{ credential: Credential; response: UpstreamResponse }> => {
    const credential = await credentials.get();
    const response = await http.send({ ...request, method: 'GET', headers: { ...request.headers, ...credential.headers } });
    return { credential, response };
  };
  const first = await send();
  if (first.response.status !== 401 || !credentials.invalidate(first.credential)) return first.response;
  return (await send()).response;
}
