import * as oidc from 'openid-client';
import { QuotientError } from '../../domain/errors.ts';

/** What Quotient asks FranceConnect (v2): the identity pivot, nothing more. */
export const FC_SCOPE = 'openid given_name family_name birthdate gender birthplace birthcountry';
export const FC_ACR = 'eidas1';

export interface FranceConnectSettings {
  /** QUOTIENT_FC_ISSUER: the issuer (discovery at `/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** `<public URL>/connexion/franceconnect/retour` */
  readonly redirectUri: string;
  /** `<public URL>/deconnexion/fin` */
  readonly postLogoutRedirectUri: string;
}

export interface PendingAuthorization {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface FranceConnectIdentity {
  readonly issuer: string;
  readonly sub: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly birthdate: string | null;
  readonly gender: string | null;
  readonly birthplace: string | null;
  readonly birthcountry: string | null;
  readonly idToken: string;
  readonly accessToken: string;
}

const refused = (why: string, cause?: unknown) =>
  new QuotientError('forbidden', 'franceconnect_refuse', 'La connexion avec FranceConnect n’a pas pu être vérifiée. Revenez à la page de connexion et recommencez.', {
    details: [{ path: 'franceconnect', message: why }],
    cause,
  });

/**
 * The FranceConnect relying party, on openid-client: authorization code with PKCE (S256), state and
 * nonce bound to the browser's session, the `iss` of the authorisation response checked (RFC 9207,
 * mix-up), the ID token's issuer, audience, nonce, expiry and ES256 signature checked, the userinfo
 * verified as an ES256 JWT of the same issuer and subject. A code is exchanged once: the pending
 * request leaves the session before the exchange, and the provider refuses a replayed code.
 */
export class FranceConnectClient {
  private config: Promise<oidc.Configuration> | undefined;

  constructor(private readonly settings: FranceConnectSettings) {}

  get issuerOrigin(): string {
    return new URL(this.settings.issuer).origin;
  }

  /** Discovery is lazy (the provider may start after Quotient) and retried after a failure. */
  private configuration(): Promise<oidc.Configuration> {
    const s = this.settings;
    this.config ??= oidc
      .discovery(
        new URL(s.issuer),
        s.clientId,
        { id_token_signed_response_alg: 'ES256', userinfo_signed_response_alg: 'ES256' },
        oidc.ClientSecretPost(s.clientSecret),
        // The local provider of the demo and tests listens on http://127.0.0.1 only.
        new URL(s.issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {},
      )
      .catch((error: unknown) => {
        this.config = undefined;
        throw new QuotientError('unavailable', 'franceconnect_indisponible', 'FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes ou connectez-vous avec votre adresse électronique.', { cause: error });
      });
    return this.config;
  }

  async start(): Promise<{ url: string; pending: PendingAuthorization }> {
    const config = await this.configuration();
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: FC_SCOPE,
      acr_values: FC_ACR,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      prompt: 'login',
    });
    return { url: url.href, pending };
  }

  /** Validates the return to `/connexion/franceconnect/retour` and gives the verified identity. */
  async finish(callbackUrl: URL, pending: PendingAuthorization | undefined): Promise<FranceConnectIdentity> {
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
    if (claims.acr !== FC_ACR) throw refused('niveau de garantie inattendu');
    let info: oidc.UserInfoResponse;
    try {
      info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    } catch (error) {
      throw refused('informations d’identité invalides', error);
    }
    const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    const givenName = text(info.given_name);
    const familyName = text(info.family_name);
    if (!givenName || !familyName) throw refused('nom ou prénoms absents');
    return {
      issuer: claims.iss,
      sub: claims.sub,
      givenName,
      familyName,
      birthdate: text(info.birthdate),
      gender: text(info.gender),
      birthplace: text(info.birthplace),
      birthcountry: text(info.birthcountry),
      idToken: tokens.id_token as string,
      accessToken: tokens.access_token,
    };
  }

  /** The provider's end-session URL, which comes back to `/deconnexion/fin`. */
  async logoutUrl(idToken: string): Promise<string> {
    const config = await this.configuration();
    return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: this.settings.postLogoutRedirectUri, state: oidc.randomState() }).href;
  }
}
