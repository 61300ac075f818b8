import type { SituationFiscale } from '../../domain/situation-fiscale.ts';
import { SourceFiscaleError, type OptionsAppel } from '../fiscal-source.ts';
import { authenticatedGet, type CredentialProvider } from '../http/authenticated-get.ts';
import { safeJson } from '../http/token-cache.ts';
import type { UpstreamHttp } from '../http/upstream-http.ts';
import { ReponseIrInvalide, situationFromReponseIr } from '../impot-particulier/reponse-ir.ts';
import { criteresEtatCivil, type EtatCivil } from './etat-civil.ts';

export const SFIP_MEDIA_TYPE = 'application/vnd.dgfip.sfip.v1.0+json';

/**
 * État civil → the last IR situation in one call, through SFiP (`demandeDeService/02AA/personne`),
 * the route the DGFiP opens to new état-civil habilitations since 2025. SFiP resolves the person
 * and returns the latest taxed year with `annRevenu`.
 */
export class SfipSource {
  readonly source = 'sfip' as const;

  constructor(private readonly options: { http: UpstreamHttp; credentials: CredentialProvider; sfipUrl: string; idTeleservice: string }) {}

  async parEtatCivil(etatCivil: EtatCivil, options: Pick<OptionsAppel, 'signal'> = {}): Promise<SituationFiscale> {
    const url = new URL(`${this.options.sfipUrl.replace(/\/$/, '')}/demandeDeService/02AA/personne`);
    url.search = criteresEtatCivil(etatCivil).toString();
    const response = await authenticatedGet(this.options.http, this.options.credentials, {
      url,
      loggedPath: url.pathname,
      headers: {
        accept: SFIP_MEDIA_TYPE,
        'content-type': SFIP_MEDIA_TYPE,
        id_teleservice: this.options.idTeleservice,
      },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const { status, correlationId } = response;
    const body = safeJson(response.body);
    if (status === 200) {
      try {
        return situationFromReponseIr(body, undefined, 'sfip');
      } catch (error) {
        if (error instanceof ReponseIrInvalide) throw new SourceFiscaleError(error.raison, { correlationId, detail: `(${error.message})` });
        throw error;
      }
    }
    if (status === 404 || status === 416) throw new SourceFiscaleError('introuvable', { correlationId });
    if (status === 403) {
      const code = (body as { erreur?: { code?: unknown } } | undefined)?.erreur?.code;
      throw new SourceFiscaleError(String(code) === '40305' ? 'etat_civil_ambigu' : 'acces_refuse', { correlationId });
    }
    if (status === 400) throw new SourceFiscaleError('criteres_invalides', { correlationId });
    if (status === 401) throw new SourceFiscaleError('identifiants_refuses', { correlationId });
    throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(SFiP : HTTP ${status})` });
  }
}
