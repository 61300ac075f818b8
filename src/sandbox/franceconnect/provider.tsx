import { createHmac, randomBytes } from 'node:crypto';
import { DEFAULT_TAXATION_DATE } from '../calendar.ts';
import { FRANCECONNECT_DGFIP_SCOPES } from '../franceconnect-scopes.ts';
import { startLocalOidcProvider, sameSecret, type ProviderClient } from '../oidc/local-provider.tsx';
import { Population, type Personne } from '../population.ts';

export type { ProviderClient } from '../oidc/local-provider.tsx';

/**
 * A local identity provider shaped like FranceConnect v2, for the demo and the tests: authorization
 * code with PKCE (S256 only), state and nonce, ES256-signed ID token and userinfo, `acr` eidas1,
 * the identity claims of FranceConnect (given_name, family_name, birthdate, gender, birthplace,
 * birthcountry) and its `email` claim, RP-initiated logout, and the `iss` parameter in the authorisation response.
 *
 * It runs on its own port on 127.0.0.1: a separate origin and issuer, as FranceConnect is, so that
 * the client's checks (issuer, audience, redirect, form-action) are exercised for real and its
 * cookies never mix with Quotient's.
 *
 * People are the fictitious identities of the DGFiP sandbox; the login is their numéro fiscal, the
 * password `123`, as on FranceConnect's integration platform. The numéro fiscal is used only to
 * find the person in memory: the account id and the `sub` are an HMAC of it under a key of this
 * provider (opaque, pseudonymous, stable as long as the key is), nothing is logged, and its session
 * store is in memory.
 */

export const FC_SCOPES = ['openid', 'given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry', 'email'] as const;
export const FC_PASSWORD = '123';
/** FranceConnect's access tokens live about a minute. */
export const FC_ACCESS_TOKEN_TTL_SECONDS = 60;

export interface LocalProviderOptions {
  readonly clients: readonly ProviderClient[];
  /** Default 0 (ephemeral). */
  readonly port?: number;
  /** Key of the pseudonymous identifiers; random when absent (then `sub` changes at each start). */
  readonly subjectKey?: Buffer;
  /**
   * Called when an access token is issued, with the person's numéro fiscal and the scopes granted:
   * the DGFiP sandbox registers it so that API Impôt particulier « via FranceConnect » resolves it,
   * and serves only what the scopes allow.
   */
  readonly onAccessToken?: (token: string, spi: string, expiresAt: number, scopes: readonly string[]) => void;
  /**
   * Scopes not granted even when asked, read at each sign-in (default none): a test makes
   * FranceConnect give a token without some DGFiP data scopes, as when the service provider's own
   * FranceConnect habilitation lacks them.
   */
  readonly refusedScopes?: () => readonly string[];
  /**
   * Lifetime of access tokens, in seconds, asked at each issue. Default 60, as FranceConnect's:
   * the journey must call the DGFiP within a minute of the sign-in. Tests shorten it instead of waiting.
   */
  readonly accessTokenTtlSeconds?: () => number;
  /** Default: the whole sandbox population. */
  readonly personnes?: Iterable<Personne>;
}

export interface LocalProvider {
  /** `http://127.0.0.1:<port>`, also the issuer. */
  readonly issuer: string;
  /** The `sub` this provider gives a login (for tests and the demo summary; never stored). */
  subjectOf(login: string): string | undefined;
  close(): Promise<void>;
}

interface Claims {
  sub: string;
  given_name: string;
  family_name: string;
  birthdate?: string;
  gender: 'male' | 'female';
  birthplace: string;
  birthcountry: string;
  email: string;
}

/**
 * Every FranceConnect account has an e-mail address. The published identities carry theirs; a
 * generated person gets a fictitious one from its names, under the reserved `.example` domain.
 */
export function emailFictif(p: Pick<Personne, 'prenoms' | 'nomNaissance' | 'email'>): string {
  if (p.email) return p.email;
  const ascii = (s: string) =>
    s
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
  return `${ascii(p.prenoms.split(/\s+/)[0] ?? '') || 'personne'}.${ascii(p.nomNaissance) || 'fictive'}@bac-a-sable.example`;
}

function claimsOf(sub: string, p: Personne): Claims {
  return {
    sub,
    given_name: p.prenoms,
    family_name: p.nomNaissance,
    ...(p.naissance ? { birthdate: `${p.naissance.annee}-${p.naissance.mois}-${p.naissance.jour}` } : {}),
    gender: p.sexe === '2' ? 'female' : 'male',
    // FranceConnect gives the INSEE code of the birth commune, empty when born abroad.
    birthplace: p.cogNaissance ?? '',
    birthcountry: p.paysNaissance,
    email: emailFictif(p),
  };
}

export async function startLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const subjectKey = options.subjectKey ?? randomBytes(32);
  const subjectOf = (login: string) =>
    createHmac('sha256', subjectKey)
      .update(`fc-sub:${login.replace(/\s/g, '')}`)
      .digest('base64url');
  // The in-memory account lookup: pseudonymous id → person. The numéro fiscal stays inside.
  const accounts = new Map<string, Personne>();
  for (const p of options.personnes ?? new Population(DEFAULT_TAXATION_DATE).personnes.values()) accounts.set(subjectOf(p.spi), p);

  const provider = await startLocalOidcProvider({
    clients: options.clients,
    ...(options.port !== undefined ? { port: options.port } : {}),
    scopes: FC_SCOPES,
    // The DGFiP's data scopes (a data provider's): granted with the token, no claim of their own.
    dataScopes: FRANCECONNECT_DGFIP_SCOPES,
    ...(options.refusedScopes ? { refusedScopes: options.refusedScopes } : {}),
    acr: 'eidas1',
    brand: { name: 'FranceConnect', subtitle: 'Fournisseur d’identité de démonstration (données fictives)' },
    loginInputMode: 'numeric',
    loginHelp: (
      <p>
        Comme sur la plateforme d’intégration de FranceConnect, l’identifiant est le numéro fiscal d’une personne fictive du bac à sable de la DGFiP, et le mot
        de passe est « 123 ».
      </p>
    ),
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? (() => FC_ACCESS_TOKEN_TTL_SECONDS),
    directory: {
      authenticate(login, password) {
        const id = subjectOf(login);
        return accounts.has(id) && sameSecret(password, FC_PASSWORD) ? id : undefined;
      },
      claims(id) {
        const person = accounts.get(id);
        return person ? { ...claimsOf(id, person) } : undefined;
      },
    },
    ...(options.onAccessToken
      ? {
          onAccessToken: (token: string, accountId: string, expiresAt: number, scopes: readonly string[]) => {
            const person = accounts.get(accountId);
            if (person) options.onAccessToken?.(token, person.spi, expiresAt, scopes);
          },
        }
      : {}),
  });
  return {
    issuer: provider.issuer,
    subjectOf: (login) => {
      const id = subjectOf(login);
      return accounts.has(id) ? id : undefined;
    },
    close: () => provider.close(),
  };
}
