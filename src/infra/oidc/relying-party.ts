import * as oidc from 'openid-client';
import type { QuotientError } from '../../domain/errors.ts';

/**
 * An OpenID Connect relying party on openid-client, shared by the families' FranceConnect and the
 * agents' provider (ProConnect or the city's own): authorization code with PKCE (S256), state and
 * nonce bound to the browser's session, the `iss` of the authorisation response checked (RFC 9207,
 * mix-up), the ID token's issuer, audience, nonce, expiry and signature checked, the userinfo
 * verified as a signed JWT of the same issuer and subject. A code is exchanged once: the pending
 * request leaves the session before the exchange, and the provider refuses a replayed code.
 */

export interface RelyingPartySettings {
  /** The issuer (discovery at `/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
}

export interface RelyingPartyProfile {
  readonly scope: string;
  /** The `acr` asked for and required in the ID token; none when absent. */
  readonly acr?: string;
  /** ID token and userinfo signature algorithm (FranceConnect v2: ES256; ProConnect: RS256). */
  readonly signingAlg: string;
  /** The typed errors to answer with, in the words of this provider. */
  readonly refused: (why: string, cause?: unknown) => QuotientError;
  readonly unavailable: (cause: unknown) => QuotientError;
}

export interface PendingAuthorization {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The scopes asked (absent in a session written before they were kept: the profile's). */
  readonly scope?: string;
}

export interface VerifiedSignIn {
  readonly issuer: string;
  readonly sub: string;
  readonly userinfo: Readonly<Record<string, unknown>>;
  readonly idToken: string;
  readonly accessToken: string;
  /** Seconds the access token has left, as the token response said (`expires_in`); undefined when it did not. */
  readonly accessTokenExpiresIn: number | undefined;
  /**
   * The scopes the access token carries: the token response's `scope`, or the scopes asked when it
   * has none (RFC 6749 §5.1: the provider must say so when it granted other scopes than asked).
   */
  readonly accessTokenScopes: readonly string[];
}

export class OidcRelyingParty {
  private config: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly settings: RelyingPartySettings,
    private readonly profile: RelyingPartyProfile,
  ) {}

  get issuerOrigin(): string {
    return new URL(this.settings.issuer).origin;
  }

  /** Discovery is lazy (the provider may start after Quotient) and retried after a failure. */
  private configuration(): Promise<oidc.Configuration> {
    const s = this.settings;
    const alg = this.profile.signingAlg;
    this.config ??= oidc
      .discovery(
        new URL(s.issuer),
        s.clientId,
        { id_token_signed_response_alg: alg, userinfo_signed_response_alg: alg },
        oidc.ClientSecretPost(s.clientSecret),
        // The local providers of the demo and tests listen on http://127.0.0.1 only.
        new URL(s.issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {},
      )
      .catch((error: unknown) => {
        this.config = undefined;
        throw this.profile.unavailable(error);
      });
    return this.config;
  }

  /**
   * `redirectUri`: one of the URIs registered at the provider, the settings' by default; `scope`:
   * the profile's unless told otherwise (a FranceConnect sign-in made for an avis adds the DGFiP's).
   * The pending authorisation keeps the scopes asked.
   */
  async start(redirectUri: string = this.settings.redirectUri, scope: string = this.profile.scope): Promise<{ url: string; pending: PendingAuthorization }> {
    const config = await this.configuration();
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier(), scope };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      ...(this.profile.acr ? { acr_values: this.profile.acr } : {}),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      prompt: 'login',
    });
    return { url: url.href, pending };
  }

  /** Validates the return to the redirect URI and gives the verified identity. */
  async finish(callbackUrl: URL, pending: PendingAuthorization | undefined): Promise<VerifiedSignIn> {
    const { refused } = this.profile;
    if (!pending) throw refused('aucune connexion en cours dans ce navigateur');
    const config = await this.configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw refused(error instanceof Error ? error.message : 'réponse invalide', error);
    }
    const claims = tokens.claims();
    if (!claims) throw refused('pas de jeton d’identité');
    if (this.profile.acr !== undefined && claims.acr !== this.profile.acr) throw refused('niveau de garantie inattendu');
    let userinfo: oidc.UserInfoResponse;
    try {
      userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    } catch (error) {
      throw refused('informations d’identité invalides', error);
    }
    return {
      issuer: claims.iss,
      sub: claims.sub,
      userinfo,
      idToken: tokens.id_token as string,
      accessToken: tokens.access_token,
      accessTokenExpiresIn: tokens.expiresIn(),
      accessTokenScopes: (typeof tokens.scope === 'string' ? tokens.scope : (pending.scope ?? this.profile.scope)).split(/\s+/).filter((s) => s !== ''),
    };
  }

  /** The provider's end-session URL, which comes back to the post-logout redirect URI. */
  async logoutUrl(idToken: string): Promise<string> {
    const config = await this.configuration();
    return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: this.settings.postLogoutRedirectUri, state: oidc.randomState() })
      .href;
  }
}

/** A claim as a non-empty string, or null. */
export const textClaim = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
