import { derniereAnneeImposee, type DateTaxation } from '../../domain/annee-imposition.ts';
import type { SituationFiscale } from '../../domain/situation-fiscale.ts';
import { SourceFiscaleError, type OptionsAppel } from '../fiscal-source.ts';
import { authenticatedGet, type CredentialProvider } from '../http/authenticated-get.ts';
import { safeJson } from '../http/token-cache.ts';
import type { UpstreamHttp } from '../http/upstream-http.ts';
import { ReponseIrInvalide, situationFromReponseIr } from '../impot-particulier/reponse-ir.ts';
import { parisDate } from '../paris-date.ts';
import { criteresEtatCivil, refusEtatCivil, type EtatCivil } from './etat-civil.ts';

export const SFIP_MEDIA_TYPE = 'application/vnd.dgfip.sfip.v1.0+json';

/**
 * État civil → the last IR situation in one call, through SFiP (`demandeDeService/02AA/personne`),
 * the route the DGFiP opens to new état-civil habilitations since 2025. SFiP resolves the person
 * and returns « la dernière imposition à l'IR ». Its specification defines no `annRevenu`
 * (contract point 3): when the answer has none, the income year is the latest taxed at today's
 * date (the configured taxation date); when it has one, it is believed.
 */
export class SfipSource {
  readonly source = 'sfip' as const;

  constructor(
    private readonly options: {
      http: UpstreamHttp;
      credentials: CredentialProvider;
      sfipUrl: string;
      idTeleservice: string;
      taxation?: DateTaxation;
      clock?: () => number;
    },
  ) {}

  async parEtatCivil(etatCivil: EtatCivil, options: OptionsAppel = {}): Promise<SituationFiscale> {
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
      ...(options.priorite ? { priorite: options.priorite } : {}),
    });
    const { status, correlationId } = response;
    const body = safeJson(response.body);
    if (status === 200) {
      const derniere = derniereAnneeImposee(parisDate(this.options.clock?.() ?? Date.now()), this.options.taxation);
      let situation: SituationFiscale;
      try {
        situation = situationFromReponseIr(body, derniere, 'sfip');
      } catch (error) {
        if (error instanceof ReponseIrInvalide) throw new SourceFiscaleError(error.raison, { correlationId, detail: `(${error.message})` });
        throw error;
      }
      // SFiP cannot be asked for a year: the one it gave is not the one asked for.
      if (options.anneeRevenus !== undefined && situation.anneeRevenus !== options.anneeRevenus) {
        throw new SourceFiscaleError('annee_indisponible', { correlationId, detail: `SFiP donne la dernière année imposée (${situation.anneeRevenus}).` });
      }
      return situation;
    }
    // 404 (40433): nobody has this état civil; 416 (4101): the person has no avis to give.
    if (status === 404) throw new SourceFiscaleError('etat_civil_introuvable', { correlationId });
    if (status === 416) throw new SourceFiscaleError('introuvable', { correlationId });
    if (status === 403) {
      const erreur = (body as { erreur?: { code?: unknown; message?: unknown } } | undefined)?.erreur;
      // 40305 « Informations non disponibles pour la personne »: homonyms, or a file not disclosed (point 13).
      throw new SourceFiscaleError(String(erreur?.code) === '40305' ? refusEtatCivil(etatCivil, '') : 'acces_refuse', { correlationId });
    }
    if (status === 400) throw new SourceFiscaleError('criteres_invalides', { correlationId });
    if (status === 401) throw new SourceFiscaleError('identifiants_refuses', { correlationId });
    throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(SFiP : HTTP ${status})` });
  }
}
