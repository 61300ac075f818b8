import type { NumeroFiscal } from '../domain/numero-fiscal.ts';
import type { SituationFiscale } from '../domain/situation-fiscale.ts';
import type { EtatCivil } from './etat-civil/etat-civil.ts';
import { SourceFiscaleError, type FiscalSource, type OptionsAppel, type SourceParIdentifiant } from './fiscal-source.ts';

/** How an état civil is asked: SFiP in one call, R2P then Impôt particulier, or not at all. */
export type VoieEtatCivil = 'sfip' | 'r2p' | 'aucune';

/** The habilitation's scopes decide: SFiP as soon as it is granted (the DGFiP's target), else R2P (« à titre transitoire »). */
export function voieEtatCivil(scopes: readonly string[]): VoieEtatCivil {
  if (scopes.includes('sfip_donnees_fiscales_usagers')) return 'sfip';
  if (scopes.includes('api_r2p_resolution_spi')) return 'r2p';
  return 'aucune';
}

interface ParEtatCivil {
  parEtatCivil(etatCivil: EtatCivil, options?: OptionsAppel): Promise<SituationFiscale>;
}

/**
 * The fiscal-source port over the DGFiP: numéro fiscal and FranceConnect to API Impôt particulier,
 * état civil to SFiP or to R2P then Impôt particulier, as the habilitation grants.
 */
export class DgfipSource implements FiscalSource {
  constructor(
    private readonly options: {
      readonly impotParticulier: SourceParIdentifiant;
      readonly sfip: ParEtatCivil;
      readonly r2p: ParEtatCivil;
      readonly voie: VoieEtatCivil;
    },
  ) {}

  get voie(): VoieEtatCivil {
    return this.options.voie;
  }

  parNumeroFiscal(spi: NumeroFiscal, options?: OptionsAppel): Promise<SituationFiscale> {
    return this.options.impotParticulier.parNumeroFiscal(spi, options);
  }

  parFranceConnect(franceConnectToken: string, options?: OptionsAppel): Promise<SituationFiscale> {
    return this.options.impotParticulier.parFranceConnect(franceConnectToken, options);
  }

  parEtatCivil(etatCivil: EtatCivil, options?: OptionsAppel): Promise<SituationFiscale> {
    const { voie } = this.options;
    if (voie === 'aucune') {
      return Promise.reject(
        new SourceFiscaleError('acces_refuse', { detail: 'L’habilitation ne comprend ni SFiP ni R2P : l’état civil ne peut pas être utilisé.' }),
      );
    }
    return (voie === 'sfip' ? this.options.sfip : this.options.r2p).parEtatCivil(etatCivil, options);
  }
}
