import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';

/** How the DGFiP will be asked about one foyer fiscal: by numéro fiscal, or as the FranceConnect user. */
export type Identifiant = { readonly spi: NumeroFiscal } | { readonly franceConnectToken: string };

/**
 * The only place a numéro fiscal waits between the form and the call: this process's memory
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
