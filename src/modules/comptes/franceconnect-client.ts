import { QuotientError } from '../../domain/errors.ts';
import { OidcRelyingParty, textClaim, type PendingAuthorization, type RelyingPartySettings } from '../../infra/oidc/relying-party.ts';

export type { PendingAuthorization } from '../../infra/oidc/relying-party.ts';

/** What Quotient asks FranceConnect (v2): the identity pivot, nothing more. */
export const FC_SCOPE = 'openid given_name family_name birthdate gender birthplace birthcountry';
export const FC_ACR = 'eidas1';

/**
 * QUOTIENT_FC_ISSUER and the client's credentials; the redirect URI is
 * `<public URL>/connexion/franceconnect/retour`, the post-logout one `<public URL>/deconnexion/fin`.
 */
export type FranceConnectSettings = RelyingPartySettings;

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
  new QuotientError(
    'forbidden',
    'franceconnect_refuse',
    'La connexion avec FranceConnect n’a pas pu être vérifiée. Revenez à la page de connexion et recommencez.',
    {
      details: [{ path: 'franceconnect', message: why }],
      cause,
    },
  );

/** The FranceConnect relying party (v2): the shared OpenID Connect checks, FranceConnect's identity pivot. */
export class FranceConnectClient {
  private readonly rp: OidcRelyingParty;

  constructor(settings: FranceConnectSettings) {
    this.rp = new OidcRelyingParty(settings, {
      scope: FC_SCOPE,
      acr: FC_ACR,
      signingAlg: 'ES256',
      refused,
      unavailable: (cause) =>
        new QuotientError(
          'unavailable',
          'franceconnect_indisponible',
          'FranceConnect ne répond pas pour le moment. Réessayez dans quelques minutes ou connectez-vous avec votre adresse électronique.',
          { cause },
        ),
    });
  }

  get issuerOrigin(): string {
    return this.rp.issuerOrigin;
  }

  start(): Promise<{ url: string; pending: PendingAuthorization }> {
    return this.rp.start();
  }

  /** Validates the return to `/connexion/franceconnect/retour` and gives the verified identity. */
  async finish(callbackUrl: URL, pending: PendingAuthorization | undefined): Promise<FranceConnectIdentity> {
    const signIn = await this.rp.finish(callbackUrl, pending);
    const info = signIn.userinfo;
    const givenName = textClaim(info.given_name);
    const familyName = textClaim(info.family_name);
    if (!givenName || !familyName) throw refused('nom ou prénoms absents');
    return {
      issuer: signIn.issuer,
      sub: signIn.sub,
      givenName,
      familyName,
      birthdate: textClaim(info.birthdate),
      gender: textClaim(info.gender),
      birthplace: textClaim(info.birthplace),
      birthcountry: textClaim(info.birthcountry),
      idToken: signIn.idToken,
      accessToken: signIn.accessToken,
    };
  }

  /** The provider's end-session URL, which comes back to `/deconnexion/fin`. */
  logoutUrl(idToken: string): Promise<string> {
    return this.rp.logoutUrl(idToken);
  }
}
