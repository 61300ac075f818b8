/** Test support: a browser's walk through a local OpenID Connect provider, driven by fetch. */

/** A browser's view of the provider: cookies by name (paths ignored), redirects followed by hand. */
export async function providerRequest(jar: Map<string, string>, url: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
  });
  for (const line of res.headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const i = pair.indexOf('=');
    jar.set(pair.slice(0, i), pair.slice(i + 1));
  }
  return res;
}

/**
 * From the provider's authorisation URL to the URL it sends the browser back to (under
 * `returnPrefix`): the login page is fetched, the form posted, the redirects followed (5 at most).
 */
export async function signInAtProvider(authorize: URL, login: string, password: string, returnPrefix: string): Promise<{ back: URL; loginPage: string }> {
  const op = new Map<string, string>();
  let res = await providerRequest(op, authorize.href);
  let location = new URL(String(res.headers.get('location')), authorize);
  res = await providerRequest(op, location.href);
  if (res.status !== 200) throw new Error(`no login page: ${res.status}`);
  const loginPage = await res.text();
  res = await providerRequest(op, `${location.href}/login`, {
    method: 'POST',
    body: new URLSearchParams({ login, password }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  if (res.status !== 303) throw new Error(`login refused: ${res.status}`);
  for (let hops = 0; hops < 5; hops += 1) {
    location = new URL(String(res.headers.get('location')), location);
    if (location.href.startsWith(returnPrefix)) return { back: location, loginPage };
    res = await providerRequest(op, location.href);
  }
  throw new Error('no return to Quotient');
}
