import assert from 'node:assert/strict';
import { test } from 'node:test';

test('the local identity providers start without oidc-provider’s English warnings (in-memory adapter, runtime)', async () => {
  const avertissements: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    avertissements.push(args.map(String).join(' '));
  };
  try {
    // Loaded here first, in this process: the runtime notice, printed at load, would be caught.
    const { startLocalProvider } = await import('../franceconnect/provider.tsx');
    const { startLocalAgentsProvider } = await import('../agents/provider.tsx');
    const client = { clientId: 'essai', clientSecret: 'secret-essai-0123456789', redirectUris: ['http://127.0.0.1:1/retour'], postLogoutRedirectUris: [] };
    const fc = await startLocalProvider({ clients: [client] });
    const agents = await startLocalAgentsProvider({ clients: [client] });
    // A request that makes oidc-provider build its store: the discovery document and an authorisation.
    assert.equal((await fetch(`${fc.issuer}/.well-known/openid-configuration`)).status, 200);
    const auth = await fetch(
      `${fc.issuer}/auth?client_id=essai&response_type=code&scope=openid&redirect_uri=http://127.0.0.1:1/retour&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256&nonce=n&state=s`,
      { redirect: 'manual' },
    );
    assert.ok(auth.status === 303 || auth.status === 302, String(auth.status));
    await fc.close();
    await agents.close();
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(
    avertissements.filter((w) => w.includes('oidc-provider')),
    [],
  );
});

test('the providers’ store: an expired entry is gone, one without a lifetime keeps a day instead of for ever', async () => {
  const { adaptateurMemoire } = await import('./memoire.ts');
  let t = 1_000_000;
  const Adaptateur = adaptateurMemoire(() => t);
  const sessions = new Adaptateur('Session');
  await sessions.upsert('courte', { uid: 'u1' }, 60);
  await sessions.upsert('sans-duree', { uid: 'u2' }, undefined);
  t += 61_000;
  assert.equal(await sessions.find('courte'), undefined, 'expired after its minute');
  assert.deepEqual(await sessions.find('sans-duree'), { uid: 'u2' }, 'still there: a day, not NaN');
  t += 24 * 60 * 60 * 1000;
  await sessions.upsert('autre', { uid: 'u3' }, 60);
  assert.equal(await sessions.find('sans-duree'), undefined, 'gone after a day');
});
