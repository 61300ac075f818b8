/**
 * The local identity providers' store, in memory, given to oidc-provider explicitly. Its own
 * quick-start store does the same but prints an English warning at every start (« development-only
 * in-memory adapter »): these providers are for the demo and the tests, where a restart ending the
 * sign-ins in progress is what one wants.
 */

type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; consumed?: number };

interface Entry {
  payload: Payload;
  expiresAt: number;
}

const SANS_DUREE_MS = 24 * 60 * 60 * 1000;

export function adaptateurMemoire(now: () => number = Date.now) {
  const entries = new Map<string, Entry>();
  const lire = (key: string): Payload | undefined => {
    const e = entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return e.payload;
  };
  return class AdaptateurMemoire {
    constructor(private readonly model: string) {}

    private key(id: string) {
      return `${this.model}:${id}`;
    }

    upsert(id: string, payload: Payload, expiresIn: number | undefined): Promise<void> {
      // A model without a lifetime keeps a day, not for ever; what has expired goes at each write,
      // so a long-running demo does not grow without bound.
      const vie = Number.isFinite(expiresIn) && (expiresIn as number) > 0 ? (expiresIn as number) * 1000 : SANS_DUREE_MS;
      const t = now();
      for (const [key, e] of entries) if (e.expiresAt <= t) entries.delete(key);
      entries.set(this.key(id), { payload: { ...payload }, expiresAt: t + vie });
      return Promise.resolve();
    }

    find(id: string): Promise<Payload | undefined> {
      return Promise.resolve(lire(this.key(id)));
    }

    findByUid(uid: string): Promise<Payload | undefined> {
      for (const [key] of entries) if (key.startsWith(`${this.model}:`) && lire(key)?.uid === uid) return Promise.resolve(lire(key));
      return Promise.resolve(undefined);
    }

    findByUserCode(userCode: string): Promise<Payload | undefined> {
      for (const [key] of entries) if (key.startsWith(`${this.model}:`) && lire(key)?.userCode === userCode) return Promise.resolve(lire(key));
      return Promise.resolve(undefined);
    }

    consume(id: string): Promise<void> {
      const p = lire(this.key(id));
      if (p) p.consumed = Math.floor(now() / 1000);
      return Promise.resolve();
    }

    destroy(id: string): Promise<void> {
      entries.delete(this.key(id));
      return Promise.resolve();
    }

    revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, e] of entries) if (e.payload.grantId === grantId) entries.delete(key);
      return Promise.resolve();
    }
  };
}

/**
 * oidc-provider 9 prints « Unsupported runtime » when loaded on Node 20, which this project still
 * supports (CI runs the suite on it, the providers with it): that one line, in English and at every
 * start, is left out; any other warning goes through.
 */
export async function chargerOidcProvider(): Promise<typeof import('oidc-provider').default> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return;
    warn(...args);
  };
  try {
    return (await import('oidc-provider')).default;
  } finally {
    console.warn = warn;
  }
}
