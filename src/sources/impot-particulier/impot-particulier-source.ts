import { anneePasEncoreImposee, derniereAnneeImposee, type DateTaxation } from '../../domain/annee-imposition.ts';
import { ressembleANumeroFiscal, type NumeroFiscal } from '../../domain/numero-fiscal.ts';
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
  /** The OAuth scopes granted (the habilitation's): they decide which resource is called. Default RessourceIR. */
  readonly ressources?: readonly string[];
}

/**
 * The IR resources of API Impôt particulier a QF may use, by scope: `situations` needs a year and
 * fails on a year with a death; `derniere` gives the last period of a year (the survivor's);
 * `deuxans` needs no year and answers the latest avis, else the previous one, with `annRevenu`.
 */
type Ressource = 'situations' | 'derniere' | 'deuxans';
const TAILS: Record<Ressource, (annee: number | undefined) => string> = {
  situations: (annee) => `situations/ir/assiettes/annrev/${annee}`,
  derniere: (annee) => `dernieresituation/ir/assiettes/annrev/${annee}`,
  deuxans: () => 'dernieresituation/ir/assiettes/deuxans',
};

/** A refusal decided by our calendar, not by the DGFiP. */
const AUCUN_APPEL = '(d’après la date de taxation ; aucune demande n’a été envoyée à la DGFiP)';

/** Which caller the DGFiP is asked about: a numéro fiscal, or the person behind a FranceConnect token. */
type Sujet = { readonly spi: NumeroFiscal } | { readonly franceConnectToken: string };

/**
 * API Impôt particulier, by numéro fiscal or by FranceConnect, through the resource the
 * habilitation grants: `dernieresituation/.../deuxans` (RessourceIRDerniere2) when no year is asked,
 * else `dernieresituation/.../annrev/{annrev}` (RessourceIRDerniere), else
 * `situations/.../annrev/{annrev}` (RessourceIR). With a resource by year and no requested year it
 * asks for the latest taxed year and, when the habilitation allows N-2 and that avis does not exist
 * yet (4101), the year before.
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
      if (anneePasEncoreImposee(options.anneeRevenus, today, this.options.taxation))
        throw new SourceFiscaleError('annee_indisponible', { detail: AUCUN_APPEL });
      if (!allowed.includes(options.anneeRevenus)) {
        throw new SourceFiscaleError('annee_hors_habilitation', { detail: `Elle couvre les revenus de ${allowed.join(' et ')}.` });
      }
      const ressource = this.granted('RessourceIRDerniere') ? 'derniere' : this.granted('RessourceIR') ? 'situations' : 'deuxans';
      if (ressource !== 'deuxans') return this.call(sujet, ressource, options.anneeRevenus, options);
      // Only the two-year resource: it names its year, which must be the one asked for.
      const situation = await this.call(sujet, 'deuxans', undefined, options);
      if (situation.anneeRevenus !== options.anneeRevenus) {
        throw new SourceFiscaleError('annee_indisponible', { detail: `(la DGFiP a répondu l’avis des revenus ${situation.anneeRevenus})` });
      }
      return situation;
    }
    if (this.granted('RessourceIRDerniere2')) return this.call(sujet, 'deuxans', undefined, options);
    const ressource = this.granted('RessourceIRDerniere') ? 'derniere' : 'situations';
    const latest = derniereAnneeImposee(today, this.options.taxation);
    const candidates = allowed.filter((year) => year <= latest).sort((a, b) => b - a);
    if (candidates.length === 0) throw new SourceFiscaleError('annee_indisponible', { detail: AUCUN_APPEL });
    for (const [index, year] of candidates.entries()) {
      try {
        return await this.call(sujet, ressource, year, options);
      } catch (error) {
        const last = index === candidates.length - 1;
        // Only "no avis for this year" (4101) moves on to the previous year: an unknown numéro
        // fiscal (4102) is unknown for every year, and any other failure is final.
        if (last || !(error instanceof SourceFiscaleError) || error.raison !== 'annee_indisponible') throw error;
      }
    }
    throw new SourceFiscaleError('introuvable');
  }

  private granted(scope: string): boolean {
    return (this.options.ressources ?? ['RessourceIR']).includes(scope);
  }

  private async call(sujet: Sujet, ressource: Ressource, annee: number | undefined, options: OptionsAppel): Promise<SituationFiscale> {
    const byFc = 'franceConnectToken' in sujet;
    const tail = TAILS[ressource](annee);
    const path = byFc ? `/${tail}` : `/spi/${encodeURIComponent(sujet.spi.revealForUpstreamCall())}/${tail}`;
    const response = await authenticatedGet(this.options.http, this.options.credentials, {
      url: new URL(this.options.baseUrl.replace(/\/$/, '') + path),
      loggedPath: byFc ? path : `/spi/${sujet.spi.toString()}/${tail}`,
      headers: {
        accept: `${IR_MEDIA_TYPES.join(', ')}, application/json;q=0.9`,
        id_teleservice: this.options.idTeleservice,
        ...(byFc ? { 'x-franceconnect-oauth': sujet.franceConnectToken } : {}),
      },
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.priorite ? { priorite: options.priorite } : {}),
    });
    // On the FranceConnect paths a 403 is the person's token refused (expired, revoked: code 4031), not the habilitation.
    if (byFc && response.status === 403) throw new SourceFiscaleError('jeton_franceconnect_refuse', { correlationId: response.correlationId });
    return interpret(response, annee);
  }
}

/** The DGFiP's own code and words, shortened, and never anything shaped like a numéro fiscal. */
function motifDgfip(code: unknown, body: unknown): string {
  const message = (body as { erreur?: { message?: unknown } } | undefined)?.erreur?.message;
  const words = typeof message === 'string' ? message.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  const parts = [
    code === undefined || code === null ? 'sans code' : `code ${String(code).slice(0, 10)}`,
    ...(words && !ressembleANumeroFiscal(words) ? [`« ${words} »`] : []),
  ];
  return `(HTTP 400, ${parts.join(', ')})`;
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
      if (error instanceof ReponseIrInvalide) throw new SourceFiscaleError(error.raison, { correlationId, detail: `(${error.message})` });
      throw error;
    }
  }
  if (status === 204 || status === 404 || status === 410) {
    const message = String((body as { erreur?: { message?: unknown } } | undefined)?.erreur?.message ?? '');
    if (/plusieurs situations|aucun résultat unique/i.test(message)) throw new SourceFiscaleError('situation_multiple', { correlationId });
    // 4102: nobody has this numéro fiscal. 4101 (or no code on a 410/204): the person is known, the
    // year has no avis (not yet taxed). A 404 without code is the gateway's « no such resource ».
    if (String(code) === '4102' || (status === 404 && code === undefined)) throw new SourceFiscaleError('introuvable', { correlationId });
    throw new SourceFiscaleError('annee_indisponible', { correlationId, detail: '(réponse de la DGFiP : aucun avis pour cette année)' });
  }
  if (status === 400) {
    if (String(code) === '4001') throw new SourceFiscaleError('numero_fiscal_invalide', { correlationId });
    throw new SourceFiscaleError('requete_refusee', { correlationId, detail: motifDgfip(code, body) });
  }
  if (status === 401) throw new SourceFiscaleError('identifiants_refuses', { correlationId });
  if (status === 403) throw new SourceFiscaleError('acces_refuse', { correlationId });
  throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(HTTP ${status})` });
}
