import { anneePasEncoreImposee, derniereAnneeImposee, type DateTaxation } from '../../domain/annee-imposition.ts';
import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { SituationFiscale } from '../../domain/situation-fiscale.ts';
import { SourceFiscaleError, type OptionsAppel, type SourceParIdentifiant } from '../fiscal-source.ts';
import { authenticatedGet, type CredentialProvider } from '../http/authenticated-get.ts';
import { safeJson } from '../http/token-cache.ts';
import type { UpstreamHttp, UpstreamResponse } from '../http/upstream-http.ts';
import { parisDate } from '../paris-date.ts';
import { ReponseIrInvalide, situationFromReponseIr } from './reponse-ir.ts';

export const IR_MEDIA_TYPES = [
  'application/prs.dgfip.part.situations.ir.assiettes.v1+json',
  'application/prs.dgfip.part.derniere.situations.ir.assiettes.v1+json',
];

export interface ImpotParticulierOptions {
  readonly http: UpstreamHttp;
  /** The OAuth token of the téléservice (a `TokenCache`). */
  readonly credentials: CredentialProvider;
  /** `https://<gateway>/impotparticulier/1.0`. */
  readonly baseUrl: string;
  readonly idTeleservice: string;
  /** Income years of the habilitation as offsets from the current year: [1] = N-1 only, [1, 2] = N-1 else N-2. */
  readonly anneesAutorisees: readonly number[];
  readonly taxation?: DateTaxation;
  readonly clock?: () => number;
}

/** Which caller the DGFiP is asked about: a numéro fiscal, or the person behind a FranceConnect token. */
type Sujet = { readonly spi: NumeroFiscal } | { readonly franceConnectToken: string };

/**
 * API Impôt particulier, resource `situations/ir/assiettes/annrev/{annrev}` (scope RessourceIR),
 * by numéro fiscal or by FranceConnect. Without a requested year it asks for the latest taxed year
 * and, when the habilitation allows N-2 and that avis does not exist, the year before.
 */
export class ImpotParticulierSource implements SourceParIdentifiant {
  readonly source = 'impot-particulier' as const;

  constructor(private readonly options: ImpotParticulierOptions) {}

  parNumeroFiscal(spi: NumeroFiscal, options: OptionsAppel = {}): Promise<SituationFiscale> {
    return this.situation({ spi }, options);
  }

  parFranceConnect(franceConnectToken: string, options: OptionsAppel = {}): Promise<SituationFiscale> {
    return this.situation({ franceConnectToken }, options);
  }

  private async situation(sujet: Sujet, options: OptionsAppel): Promise<SituationFiscale> {
    const today = parisDate(this.options.clock?.() ?? Date.now());
    const currentYear = Number(today.slice(0, 4));
    const allowed = this.options.anneesAutorisees.map((offset) => currentYear - offset);
    if (options.anneeRevenus !== undefined) {
      if (anneePasEncoreImposee(options.anneeRevenus, today, this.options.taxation)) throw new SourceFiscaleError('annee_indisponible');
      if (!allowed.includes(options.anneeRevenus)) {
        throw new SourceFiscaleError('acces_refuse', { detail: `L’habilitation couvre les revenus de ${allowed.join(' et ')}.` });
      }
      return this.call(sujet, options.anneeRevenus, options.signal);
    }
    const latest = derniereAnneeImposee(today, this.options.taxation);
    const candidates = allowed.filter((year) => year <= latest).sort((a, b) => b - a);
    if (candidates.length === 0) throw new SourceFiscaleError('annee_indisponible');
    for (const [index, year] of candidates.entries()) {
      try {
        return await this.call(sujet, year, options.signal);
      } catch (error) {
        const last = index === candidates.length - 1;
        // Only "no avis for this year" moves on to the previous year; any other failure is final.
        if (last || !(error instanceof SourceFiscaleError) || error.raison !== 'introuvable') throw error;
      }
    }
    throw new SourceFiscaleError('introuvable');
  }

  private async call(sujet: Sujet, annee: number, signal: AbortSignal | undefined): Promise<SituationFiscale> {
    const byFc = 'franceConnectToken' in sujet;
    const tail = `situations/ir/assiettes/annrev/${annee}`;
    const path = byFc ? `/${tail}` : `/spi/${encodeURIComponent(sujet.spi.revealForUpstreamCall())}/${tail}`;
    const response = await authenticatedGet(this.options.http, this.options.credentials, {
      url: new URL(this.options.baseUrl.replace(/\/$/, '') + path),
      loggedPath: byFc ? path : `/spi/${sujet.spi.toString()}/${tail}`,
      headers: {
        accept: `${IR_MEDIA_TYPES.join(', ')}, application/json;q=0.9`,
        id_teleservice: this.options.idTeleservice,
        ...(byFc ? { 'x-franceconnect-oauth': sujet.franceConnectToken } : {}),
      },
      ...(signal ? { signal } : {}),
    });
    return interpret(response, annee);
  }
}

/** DGFiP answers → a situation or a typed error; never anything else. */
export function interpret(response: UpstreamResponse, annee: number | undefined): SituationFiscale {
  const { status, correlationId } = response;
  const body = safeJson(response.body);
  const code = (body as { erreur?: { code?: unknown } } | undefined)?.erreur?.code;
  if (status === 200) {
    const type = String(response.headers['content-type'] ?? '');
    if (!/json/i.test(type)) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(type ${type || 'absent'})` });
    if (body === undefined) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: 'Corps JSON illisible.' });
    try {
      return situationFromReponseIr(body, annee, 'impot-particulier');
    } catch (error) {
      if (error instanceof ReponseIrInvalide) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(${error.message})` });
      throw error;
    }
  }
  if (status === 204 || status === 404 || status === 410) {
    const message = String((body as { erreur?: { message?: unknown } } | undefined)?.erreur?.message ?? '');
    if (/plusieurs situations|aucun résultat unique/i.test(message)) throw new SourceFiscaleError('situation_multiple', { correlationId });
    throw new SourceFiscaleError('introuvable', { correlationId });
  }
  if (status === 400 && (code === 4001 || code === '4001')) throw new SourceFiscaleError('numero_fiscal_invalide', { correlationId });
  if (status === 401) throw new SourceFiscaleError('identifiants_refuses', { correlationId });
  if (status === 403) throw new SourceFiscaleError('acces_refuse', { correlationId });
  throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(HTTP ${status})` });
}
