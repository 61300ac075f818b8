import { QuotientError } from '../../domain/errors.ts';
import { OidcRelyingParty, textClaim, type PendingAuthorization, type RelyingPartySettings, type VerifiedSignIn } from '../../infra/oidc/relying-party.ts';
import type { IdentiteAgent } from './agents-service.ts';

/** The agents' provider: ProConnect or the city's own, configured by QUOTIENT_AGENTS_OIDC_*. */
export interface AgentsOidcSettings extends RelyingPartySettings {
  /** Required `acr`, when the provider gives one (ProConnect: eidas1). */
  readonly acr?: string;
  /** ID token and userinfo signature (ProConnect: RS256; the local demo provider: ES256). */
  readonly signingAlg: string;
}

export const AGENTS_SCOPE = 'openid email given_name usual_name uid';

const refused = (why: string, cause?: unknown) =>
  new QuotientError(
    'forbidden',
    'connexion_agent_refusee',
    'La connexion n’a pas pu être vérifiée. Revenez à la page de connexion des agents et recommencez.',
    {
      details: [{ path: 'connexion', message: why }],
      cause,
    },
  );

export class AgentsOidcClient {
  private readonly rp: OidcRelyingParty;

  constructor(settings: AgentsOidcSettings) {
    this.rp = new OidcRelyingParty(settings, {
      scope: AGENTS_SCOPE,
      ...(settings.acr ? { acr: settings.acr } : {}),
      signingAlg: settings.signingAlg,
      refused,
      unavailable: (cause) =>
        new QuotientError(
          'unavailable',
          'fournisseur_agents_indisponible',
          'Le service de connexion des agents ne répond pas pour le moment. Réessayez dans quelques minutes.',
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

  async finish(callbackUrl: URL, pending: PendingAuthorization | undefined): Promise<IdentiteAgent & Pick<VerifiedSignIn, 'idToken'>> {
    const signIn = await this.rp.finish(callbackUrl, pending);
    const info = signIn.userinfo;
    return {
      issuer: signIn.issuer,
      sub: signIn.sub,
      email: textClaim(info.email),
      prenom: textClaim(info.given_name),
      // ProConnect says `usual_name`; a city's provider may say `family_name`.
      nom: textClaim(info.usual_name) ?? textClaim(info.family_name),
      idToken: signIn.idToken,
    };
  }

  logoutUrl(idToken: string): Promise<string> {
    return this.rp.logoutUrl(idToken);
  }
}
