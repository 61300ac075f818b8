import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';

/**
 * How the DGFiP will be asked about one foyer fiscal: by numéro fiscal; as the FranceConnect user,
 * with the access token of a sign-in and the instant it stops being valid (epoch ms, about a minute);
 * or by état civil. The état civil typed for the call (with its place of birth) is personal data
 * of the request like the number: it waits here, in memory, and is lost like it at a restart.
 */
export type Identifiant =
  { readonly spi: NumeroFiscal } | { readonly franceConnectToken: string; readonly valableJusque: number } | { readonly etatCivil: EtatCivil };

/**
 * A FranceConnect token is handed to the call only while it has this much life left: the quota slot,
 * the call and its retries take up to this long, and the DGFiP refuses a token that expired on the way.
 */
export const MARGE_JETON_FRANCECONNECT_MS = 10_000;

/**
 * A foyer fiscal recorded without what to ask with: its declarant is to sign in with FranceConnect
 * (`franceConnectAttendu`), or what was typed for it never reached this process (`aRessaisir`: typed
 * on another instance of the service while the family was at FranceConnect) and is asked again.
 */
export type IdentifiantAttendu = { readonly franceConnectAttendu: true } | { readonly aRessaisir: 'numero_fiscal' | 'etat_civil' };

/** The `demande_foyers.voie` of an identifiant: how the avis was asked for (never what was typed). */
export function voieDe(identifiant: Identifiant | IdentifiantAttendu): 'numero_fiscal' | 'franceconnect' | 'etat_civil' {
  if ('franceConnectToken' in identifiant || 'franceConnectAttendu' in identifiant) return 'franceconnect';
  if ('aRessaisir' in identifiant) return identifiant.aRessaisir;
  if ('etatCivil' in identifiant) return 'etat_civil';
  return 'numero_fiscal';
}

/**
 * The only place a numéro fiscal (or an état civil) waits between the form and the call: this process's memory
 * (ARCHITECTURE §3.1). Entries expire so that a request never processed does not keep a number
 * alive; a restart empties the vault, and the requests it held become `a_ressaisir`.
 */
export class SpiVault {
  private readonly entries = new Map<string, { identifiant: Identifiant; expiresAt: number }>();
  /** Entries that ran out before they were used (not forgotten): the family is told why. */
  private readonly expired = new Set<string>();
  /** Foyers whose entry was typed where this process could not see it (another instance): asked again, and said so. */
  private readonly ailleurs = new Set<string>();

  constructor(
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Keyed by the foyer fiscal of a request (`demande_foyers.id`). */
  put(foyerFiscalId: string, identifiant: Identifiant): void {
    const limite = 'valableJusque' in identifiant ? identifiant.valableJusque - MARGE_JETON_FRANCECONNECT_MS : Infinity;
    this.expired.delete(foyerFiscalId);
    this.ailleurs.delete(foyerFiscalId);
    this.entries.set(foyerFiscalId, { identifiant, expiresAt: Math.min(this.clock() + this.ttlMs, limite) });
  }

  /** What was typed for this foyer fiscal never reached this process: nothing to call with, the family types it again. */
  marquerARessaisir(foyerFiscalId: string): void {
    this.entries.delete(foyerFiscalId);
    this.expired.delete(foyerFiscalId);
    this.ailleurs.add(foyerFiscalId);
  }

  /** True when this foyer fiscal was recorded with `marquerARessaisir` and nothing was given since. */
  estARessaisir(foyerFiscalId: string): boolean {
    return this.ailleurs.has(foyerFiscalId);
  }

  get(foyerFiscalId: string): Identifiant | undefined {
    const entry = this.entries.get(foyerFiscalId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(foyerFiscalId);
      this.expired.add(foyerFiscalId);
      return undefined;
    }
    return entry.identifiant;
  }

  has(foyerFiscalId: string): boolean {
    return this.get(foyerFiscalId) !== undefined;
  }

  /** True when an entry was put for this foyer fiscal and ran out before it was used. */
  aExpire(foyerFiscalId: string): boolean {
    this.get(foyerFiscalId);
    return this.expired.has(foyerFiscalId);
  }

  /** Dropped as soon as the DGFiP answered, whatever it answered. */
  forget(foyerFiscalId: string): void {
    this.entries.delete(foyerFiscalId);
    this.expired.delete(foyerFiscalId);
    this.ailleurs.delete(foyerFiscalId);
  }

  get size(): number {
    return this.entries.size;
  }

  toJSON(): string {
    return `SpiVault(${this.entries.size})`;
  }
}
