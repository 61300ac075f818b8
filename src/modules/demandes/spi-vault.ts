import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';

/**
 * How the DGFiP will be asked about one foyer fiscal: by numéro fiscal, as the FranceConnect user,
 * or by état civil. The état civil typed for the call (with its place of birth) is personal data
 * of the request like the number: it waits here, in memory, and is lost like it at a restart.
 */
export type Identifiant = { readonly spi: NumeroFiscal } | { readonly franceConnectToken: string } | { readonly etatCivil: EtatCivil };

/** The `demande_foyers.voie` of an identifiant: how the avis was asked for (never what was typed). */
export function voieDe(identifiant: Identifiant): 'numero_fiscal' | 'franceconnect' | 'etat_civil' {
  if ('franceConnectToken' in identifiant) return 'franceconnect';
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

  constructor(
    private readonly ttlMs = 60 * 60 * 1000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Keyed by the foyer fiscal of a request (`demande_foyers.id`). */
  put(foyerFiscalId: string, identifiant: Identifiant): void {
    this.entries.set(foyerFiscalId, { identifiant, expiresAt: this.clock() + this.ttlMs });
  }

  get(foyerFiscalId: string): Identifiant | undefined {
    const entry = this.entries.get(foyerFiscalId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock()) {
      this.entries.delete(foyerFiscalId);
      return undefined;
    }
    return entry.identifiant;
  }

  has(foyerFiscalId: string): boolean {
    return this.get(foyerFiscalId) !== undefined;
  }

  /** Dropped as soon as the DGFiP answered, whatever it answered. */
  forget(foyerFiscalId: string): void {
    this.entries.delete(foyerFiscalId);
  }

  get size(): number {
    return this.entries.size;
  }

  toJSON(): string {
    return `SpiVault(${this.entries.size})`;
  }
}
