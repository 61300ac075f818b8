import { z } from 'zod';
import { QuotientError } from '../../domain/errors.ts';
import { OidcRelyingParty, textClaim, type PendingAuthorization, type RelyingPartySettings } from '../../infra/oidc/relying-party.ts';

export type { PendingAuthorization } from '../../infra/oidc/relying-party.ts';

/**
 * What Quotient asks FranceConnect (v2): the identity pivot, and the e-mail address the family is
 * written to (request done, renewal…), which it can change afterwards as any family can.
 */
export const FC_SCOPE = 'openid given_name family_name birthdate gender birthplace birthcountry email';
export const FC_ACR = 'eidas1';

/**
 * Where FranceConnect sends the browser back: the sign-in, and the sign-in made for an avis (the
 * DGFiP called at once with its one-minute access token). Both are declared at FranceConnect.
 */
export const FC_RETOUR_CONNEXION = '/connexion/franceconnect/retour';
export const FC_RETOUR_AVIS = '/mon-quotient/franceconnect/retour';

export function franceConnectRedirectUris(publicUrl: string): string[] {
  return [`${publicUrl}${FC_RETOUR_CONNEXION}`, `${publicUrl}${FC_RETOUR_AVIS}`];
}

/**
 * QUOTIENT_FC_ISSUER and the client's credentials; the redirect URIs are `franceConnectRedirectUris`,
 * the post-logout one `<public URL>/deconnexion/fin`.
 */
export type FranceConnectSettings = RelyingPartySettings & {
  /**
   * The DGFiP data scopes a sign-in made for an avis asks for on top of the identity (the
   * habilitation's fields, `porteesFranceConnect`): the DGFiP answers only what the person agreed to.
   */
  readonly porteesAvis?: readonly string[];
};

export interface FranceConnectIdentity {
  readonly issuer: string;
  readonly sub: string;
  readonly givenName: string;
  readonly familyName: string;
  readonly birthdate: string | null;
  readonly gender: string | null;
  readonly birthplace: string | null;
  readonly birthcountry: string | null;
  /** The `email` claim, lower-cased; null when absent or not an address the family's record accepts. */
  readonly email: string | null;
  readonly idToken: string;
  /**
   * The access token API Impôt particulier accepts (`X-FranceConnect-OAuth`), and its lifetime as
   * FranceConnect gave it (about 60 s). Never written anywhere: used within the callback request,
   * or held in memory with its expiry until the DGFiP call.
   */
  readonly accessToken: string;
  readonly accessTokenExpiresIn: number | undefined;
  /** The scopes the access token carries: for an avis, the DGFiP data scopes the person agreed to. */
  readonly accessTokenScopes: readonly string[];
}

// The same check as the family's record (familleSchema's `courriel`): what passes here is stored there.
const ADRESSE = z.email().max(254);
function emailClaim(value: unknown): string | null {
  const email = textClaim(value)?.trim().toLowerCase();
  return email && ADRESSE.safeParse(email).success ? email : null;
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

  constructor(private readonly settings: FranceConnectSettings) {
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

  /** The DGFiP data scopes an avis needs (empty when none is configured). */
  get porteesAvis(): readonly string[] {
    return this.settings.porteesAvis ?? [];
  }

  /**
   * The sign-in (`connexion`: the identity only), or the sign-in made to ask the DGFiP for an avis
   * (`avis`: the identity and the DGFiP data scopes of the habilitation's fields): each has its return URL.
   */
  start(retour: 'connexion' | 'avis' = 'connexion'): Promise<{ url: string; pending: PendingAuthorization }> {
    if (retour === 'connexion') return this.rp.start(this.settings.redirectUri);
    return this.rp.start(new URL(FC_RETOUR_AVIS, this.settings.redirectUri).href, [FC_SCOPE, ...this.porteesAvis].join(' '));
  }

  /** The DGFiP data scopes of the avis that `identity`'s token does not carry: the person did not agree to them. */
  porteesManquantes(identity: Pick<FranceConnectIdentity, 'accessTokenScopes'>): string[] {
    return this.porteesAvis.filter((p) => !identity.accessTokenScopes.includes(p));
  }

  /** Validates the return to one of the redirect URIs and gives the verified identity. */
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
      email: emailClaim(info.email),
      idToken: signIn.idToken,
      accessToken: signIn.accessToken,
      accessTokenExpiresIn: signIn.accessTokenExpiresIn,
      accessTokenScopes: signIn.accessTokenScopes,
    };
  }

  /** The provider's end-session URL, which comes back to `/deconnexion/fin`. */
  logoutUrl(idToken: string): Promise<string> {
    return this.rp.logoutUrl(idToken);
  }
}
