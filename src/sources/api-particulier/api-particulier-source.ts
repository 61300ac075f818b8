import { z } from 'zod';
import { isQuotientError } from '../../domain/errors.ts';
import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { createSituationFiscale, type SituationFamille, type SituationFiscale } from '../../domain/situation-fiscale.ts';
import { SourceFiscaleError } from '../fiscal-source.ts';
import { authenticatedGet, StaticCredential } from '../http/authenticated-get.ts';
import { safeJson } from '../http/token-cache.ts';
import { retryAfterMs, type UpstreamHttp } from '../http/upstream-http.ts';
import { isoFromDgfipDate } from '../impot-particulier/reponse-ir.ts';

const declarantV2 = z.object({
  nom: z.string().nullish(),
  nomNaissance: z.string().nullish(),
  prenoms: z.string().nullish(),
  dateNaissance: z.string().nullish(),
});
const avisV2 = z.object({
  declarant1: declarantV2,
  declarant2: declarantV2.nullish(),
  dateEtablissement: z.string().nullish(),
  nombreParts: z.number(),
  situationFamille: z.string(),
  nombrePersonnesCharge: z.number().int(),
  revenuFiscalReference: z.number().int(),
  anneeRevenus: z.union([z.string(), z.number()]),
  foyerFiscal: z.object({ adresse: z.string().nullish() }).nullish(),
  // Empty strings for an ordinary avis; a sentence when a correction exists or the year is partial.
  erreurCorrectif: z.string().nullish(),
  situationPartielle: z.string().nullish(),
});

const v2Error = z.object({ error: z.string() });
const errorOf = (body: string): string | undefined => {
  const parsed = v2Error.safeParse(safeJson(body));
  return parsed.success ? parsed.data.error : undefined;
};

const nonVide = (v: string | null | undefined): boolean => v != null && v.trim() !== '';

/** The v2 wrote the family situation in words; the DGFiP's letter is what the rest of Quotient uses. */
const SITUATIONS: ReadonlyArray<[RegExp, SituationFamille]> = [
  [/^mari/i, 'M'],
  [/^pacs/i, 'O'],
  [/^c[ée]libataire/i, 'C'],
  [/^divorc/i, 'D'],
  [/^veu/i, 'V'],
];

/**
 * DINUM's API Particulier v2 `avis-imposition` (numéro fiscal + référence d'avis), the legacy route
 * communes leave: kept to compare both sources during the migration, normalised to the same
 * `SituationFiscale`.
 */
export class ApiParticulierSource {
  readonly source = 'api-particulier' as const;

  /** A static key: a 401 is final, never retried. */
  private readonly credentials: StaticCredential;

  constructor(private readonly options: { http: UpstreamHttp; baseUrl: string; apiKey: string; clock?: () => number }) {
    this.credentials = new StaticCredential({ 'x-api-key': options.apiKey });
  }

  async parAvis(spi: NumeroFiscal, referenceAvis: string, options: { signal?: AbortSignal } = {}): Promise<SituationFiscale> {
    const reference = referenceAvis.replace(/\s+/g, '').toUpperCase();
    if (!/^[0-9A-Z]{13,14}$/.test(reference))
      throw new SourceFiscaleError('criteres_invalides', { detail: 'La référence d’avis comporte 13 caractères (14 pour un avis de dégrèvement).' });
    const url = new URL(`${this.options.baseUrl.replace(/\/$/, '')}/api/v2/avis-imposition`);
    url.search = new URLSearchParams({ numeroFiscal: spi.revealForUpstreamCall(), referenceAvis: reference }).toString();
    const response = await authenticatedGet(this.options.http, this.credentials, {
      url,
      loggedPath: url.pathname,
      headers: { accept: 'application/json' },
      // 502 `invalid_response`: the provider's answer is unusable, asking again changes nothing.
      finale: (r) => r.status === 502 && errorOf(r.body) === 'invalid_response',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const { status, correlationId } = response;
    if (status === 509 || status === 429) {
      // `rate_limited`: API Particulier holds calls after too many failures at the DGFiP; later, with a backoff.
      const retryAt = (this.options.clock ?? Date.now)() + retryAfterMs(response.headers['retry-after'], 5 * 60_000);
      throw new SourceFiscaleError('quota_depasse', { correlationId, retryAt, detail: '(API Particulier : trop d’échecs récents, nouvel essai plus tard)' });
    }
    if (status === 502) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: '(API Particulier : réponse du fournisseur inexploitable)' });
    if (status === 404) throw new SourceFiscaleError('introuvable', { correlationId });
    if (status === 401 || status === 403)
      throw new SourceFiscaleError('identifiants_refuses', { correlationId, detail: '(jeton X-Api-Key de l’API Particulier)' });
    if (status === 400) throw new SourceFiscaleError('criteres_invalides', { correlationId });
    if (status !== 200) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(API Particulier : HTTP ${status})` });
    const parsed = avisV2.safeParse(safeJson(response.body));
    if (!parsed.success) throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: '(API Particulier : champs inattendus)' });
    const a = parsed.data;
    const situation = SITUATIONS.find(([pattern]) => pattern.test(a.situationFamille))?.[1];
    const declarant = (d: z.infer<typeof declarantV2> | null | undefined) =>
      d && d.nomNaissance && d.nomNaissance.trim() !== ''
        ? {
            nomNaissance: d.nomNaissance,
            nomUsage: d.nom && d.nom.trim() !== '' ? d.nom : null,
            prenoms: d.prenoms ?? '',
            dateNaissance: d.dateNaissance ? isoFromDgfipDate(d.dateNaissance) : null,
          }
        : null;
    try {
      return createSituationFiscale({
        anneeRevenus: Number(a.anneeRevenus),
        rfr: a.revenuFiscalReference,
        nbParts: a.nombreParts,
        situationFamille: situation,
        nbPac: a.nombrePersonnesCharge,
        declarants: [declarant(a.declarant1), declarant(a.declarant2)].filter((d) => d !== null),
        adresse: a.foyerFiscal?.adresse ?? null,
        dateEtablissement: isoFromDgfipDate(a.dateEtablissement),
        source: 'api-particulier',
        avertissements: [
          ...(nonVide(a.erreurCorrectif) ? (['avis_corrige'] as const) : []),
          ...(nonVide(a.situationPartielle) ? (['situation_partielle'] as const) : []),
        ],
      });
    } catch (error) {
      if (isQuotientError(error))
        throw new SourceFiscaleError('reponse_invalide', { correlationId, detail: `(${error.details.map((d) => d.path).join(', ')})` });
      throw error;
    }
  }
}
