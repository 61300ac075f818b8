import { z } from 'zod';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { SituationFiscale } from '../../domain/situation-fiscale.ts';
import { SourceFiscaleError, type OptionsAppel } from '../fiscal-source.ts';
import { authenticatedGet, type CredentialProvider } from '../http/authenticated-get.ts';
import { safeJson } from '../http/token-cache.ts';
import type { UpstreamHttp } from '../http/upstream-http.ts';
import type { ImpotParticulierSource } from '../impot-particulier/impot-particulier-source.ts';
import { criteresEtatCivil, refusEtatCivil, type EtatCivil } from './etat-civil.ts';

const r2pAnswer = z.object({ identifiant: z.object({ spi: z.string() }) });

/**
 * État civil → numéro fiscal through R2P (`GET /r2p/v1/personne/spi`), then API Impôt particulier.
 * The numéro fiscal obtained lives only inside this call: it is never returned, stored or logged
 * (CGU: « ne pas enregistrer le SPI »).
 */
export class R2pEtatCivilSource {
  readonly source = 'impot-particulier' as const;

  constructor(private readonly options: { http: UpstreamHttp; credentials: CredentialProvider; r2pUrl: string; impotParticulier: ImpotParticulierSource }) {}

  async parEtatCivil(etatCivil: EtatCivil, options: OptionsAppel = {}): Promise<SituationFiscale> {
    const url = new URL(`${this.options.r2pUrl.replace(/\/$/, '')}/personne/spi`);
    url.search = criteresEtatCivil(etatCivil).toString();
    const response = await authenticatedGet(this.options.http, this.options.credentials, {
      url,
      // The query carries the état civil: only the path is written down.
      loggedPath: url.pathname,
      headers: { accept: 'application/json' },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.priorite ? { priorite: options.priorite } : {}),
    });
    const { status, correlationId } = response;
    if (status === 404) throw new SourceFiscaleError('etat_civil_introuvable', { correlationId });
    if (status === 403) throw new SourceFiscaleError(refus403(etatCivil, safeJson(response.body)), { correlationId });
    if (status === 400) throw new SourceFiscaleError('criteres_invalides', { correlationId });
    if (status === 401) throw new SourceFiscaleError('identifiants_refuses', { correlationId });
    if (status !== 200) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(R2P : HTTP ${status})` });
    const parsed = r2pAnswer.safeParse(safeJson(response.body));
    const spi = parsed.success ? NumeroFiscal.tryParse(parsed.data.identifiant.spi) : undefined;
    if (!spi?.ok) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: '(R2P : numéro fiscal absent ou mal formé)' });
    return this.options.impotParticulier.parNumeroFiscal(spi.value, options);
  }
}

/**
 * R2P's 403 means « Trop de réponse ou dossier non communicable » (its specification), or, with the
 * gateway's `fault` body, a token without the R2P scope: never homonyms by default (contract point 13).
 */
export function refus403(etatCivil: EtatCivil, body: unknown): 'etat_civil_ambigu' | 'dossier_non_communicable' | 'acces_refuse' {
  const b = body as { fault?: unknown; erreur?: { message?: unknown } } | undefined;
  if (b?.fault !== undefined) return 'acces_refuse';
  return refusEtatCivil(etatCivil, typeof b?.erreur?.message === 'string' ? b.erreur.message : '');
}
