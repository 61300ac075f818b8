import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from './calendar.ts';
import { QuotientError } from '../domain/errors.ts';

/** Scopes of API Impôt particulier (OpenAPI `securitySchemes`), R2P and SFiP. */
export const IMPOT_PARTICULIER_SCOPES = [
  'RessourceIR',
  'RessourceIRDerniere',
  'RessourceIRDerniere2',
  'RessourceIRMultiple',
  'RessourceIRFacture',
  'RessourceIFI',
  'RessourceTHPrincipale',
  'RessourceLEP',
] as const;
export const R2P_SCOPE = 'api_r2p_resolution_spi';
export const SFIP_SCOPE = 'sfip_donnees_fiscales_usagers';
export const KNOWN_SCOPES: readonly string[] = [...IMPOT_PARTICULIER_SCOPES, R2P_SCOPE, SFIP_SCOPE, 'sfip_lep'];

/** What a commune computing a QF subscribes to. */
export const DEFAULT_SCOPES: readonly string[] = ['RessourceIR', 'RessourceIRDerniere', 'RessourceIRDerniere2', 'RessourceIRMultiple', R2P_SCOPE, SFIP_SCOPE];

export interface IssuedToken {
  readonly clientId: string;
  readonly scopes: ReadonlySet<string>;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** SHA-256 of the client certificate the token was asked with (RFC 8705 binding). */
  readonly certFingerprint?: string;
}

export type TokenCheck =
  { readonly ok: true; readonly token: IssuedToken } | { readonly ok: false; readonly reason: 'inconnu' | 'expire' | 'revoque' | 'certificat' };

export function fingerprint(raw: Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

export class TokenStore {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly revoked = new Set<string>();
  /** Clients whose every token is refused, even one issued a moment ago (the gateway's keys rotated, a desynchronised node). */
  private readonly refusing = new Set<string | undefined>();

  constructor(
    private readonly ttlSeconds: number,
    private readonly now: Clock,
  ) {
    if (!(ttlSeconds > 0)) throw new QuotientError('invalid', 'configuration_bac_a_sable', 'La durée de vie des jetons doit être positive.');
  }

  get lifetimeSeconds(): number {
    return this.ttlSeconds;
  }

  issue(clientId: string, scopes: readonly string[], certFingerprint: string | undefined): { value: string; token: IssuedToken } {
    const issuedAt = this.now();
    this.purge(issuedAt);
    const value = randomBytes(32).toString('base64url');
    const token: IssuedToken = {
      clientId,
      scopes: new Set(scopes),
      issuedAt,
      expiresAt: issuedAt + this.ttlSeconds * 1000,
      ...(certFingerprint ? { certFingerprint } : {}),
    };
    this.tokens.set(value, token);
    return { value, token };
  }

  check(value: string, certFingerprint: string | undefined): TokenCheck {
    if (this.revoked.has(value)) return { ok: false, reason: 'revoque' };
    const token = this.tokens.get(value);
    if (!token) return { ok: false, reason: 'inconnu' };
    if (this.refusing.has(undefined) || this.refusing.has(token.clientId)) return { ok: false, reason: 'revoque' };
    if (this.now() >= token.expiresAt) return { ok: false, reason: 'expire' };
    // A token asked with one certificate is not usable with another (RFC 8705 §3).
    if (token.certFingerprint && certFingerprint && token.certFingerprint !== certFingerprint) return { ok: false, reason: 'certificat' };
    return { ok: true, token };
  }

  /** Revokes every live token (of one client): the next call gets `401 invalid_token`. */
  revokeAll(clientId?: string): number {
    let count = 0;
    for (const [value, token] of this.tokens) {
      if (clientId !== undefined && token.clientId !== clientId) continue;
      this.tokens.delete(value);
      this.revoked.add(value);
      count++;
    }
    return count;
  }

  /**
   * While on, every token (of one client, or of all) is answered `401 invalid_token`, those issued
   * from now on included: the token endpoint still answers, the API does not accept what it gives.
   */
  refuseAll(on: boolean, clientId?: string): void {
    if (on) this.refusing.add(clientId);
    else this.refusing.delete(clientId);
  }

  private purge(at: number): void {
    // Expired tokens are kept an hour so that their use is answered « expiré », then forgotten.
    for (const [value, token] of this.tokens) if (token.expiresAt + 3_600_000 < at) this.tokens.delete(value);
    if (this.revoked.size > 10_000) this.revoked.clear();
  }
}
