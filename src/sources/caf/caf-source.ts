import { z } from 'zod';
import { parseIsoDate } from '../../domain/dates.ts';
import { QuotientError, isQuotientError } from '../../domain/errors.ts';
import { normaliserQuotientCaf, type QuotientCaf } from '../../domain/quotient-caf.ts';
import type { Logger } from '../../infra/log/logger.ts';
import type { PrioriteQuota, QuotaSlot } from '../../infra/queue/quota-slot.ts';
import type { EtatCivil } from '../etat-civil/etat-civil.ts';
import { isSourceFiscaleError } from '../fiscal-source.ts';
import { authenticatedGet, StaticCredential } from '../http/authenticated-get.ts';
import { safeJson } from '../http/token-cache.ts';
import { retryAfterMs, UpstreamHttp, type UpstreamResponse } from '../http/upstream-http.ts';
import { ErreurSource, type OptionsErreurSource, type RaisonsSource } from '../erreur-source.ts';

/**
 * The CAF/MSA quotient familial through API Particulier v3 (`/v3/dss/quotient_familial/identite`
 * by the état civil the family gave, `/france_connect` for the person behind a FranceConnect
 * token): Bearer token, mandatory `recipient` SIRET, a quota slot of its own before every call,
 * bounded deadline and retries (the shared `UpstreamHttp`), the answer normalised and minimised
 * (`QuotientCaf`) on receipt. Every failure is a `SourceCafError`; nothing else escapes.
 */

export type RaisonEchecCaf =
  | 'introuvable'
  | 'criteres_invalides'
  | 'mois_indisponible'
  | 'requete_refusee'
  | 'jeton_refuse'
  | 'jeton_franceconnect_refuse'
  | 'acces_refuse'
  | 'requete_en_cours'
  | 'quota_depasse'
  | 'injoignable'
  | 'indisponible'
  | 'reponse_invalide'
  | 'appels_suspendus';

const RAISONS: RaisonsSource<RaisonEchecCaf> = {
  introuvable: {
    kind: 'not_found',
    message: 'Ni la CAF ni la MSA ne connaissent d’allocataire à cet état civil : vérifiez le nom de naissance, les prénoms, la date et le lieu de naissance.',
  },
  criteres_invalides: {
    kind: 'invalid',
    message: 'L’état civil est incomplet pour la CAF et la MSA : nom de naissance, prénoms, sexe et lieu de naissance sont nécessaires.',
  },
  mois_indisponible: {
    kind: 'invalid',
    message: 'Ce mois n’est pas disponible : la CAF et la MSA donnent le quotient du mois en cours et des deux années passées.',
  },
  requete_refusee: { kind: 'invalid', message: 'L’API Particulier refuse la requête comme mal formée.' },
  jeton_refuse: { kind: 'unavailable', message: 'L’API Particulier refuse le jeton de la commune (CAF_QF_TOKEN_FILE) : il est absent, expiré ou révoqué.' },
  jeton_franceconnect_refuse: {
    kind: 'unauthenticated',
    message: 'L’API Particulier refuse la connexion FranceConnect (expirée ou retirée) : reconnectez-vous avec FranceConnect.',
  },
  acces_refuse: { kind: 'unavailable', message: 'L’API Particulier refuse l’accès au quotient familial : vérifiez l’habilitation (DataPass) de la commune.' },
  requete_en_cours: { kind: 'conflict', message: 'Une demande identique est déjà en cours auprès de la CAF ou de la MSA : réessayez dans un instant.' },
  quota_depasse: { kind: 'rate_limited', message: 'Le quota d’appels vers l’API Particulier est atteint : la demande reprendra dès qu’un créneau se libère.' },
  injoignable: { kind: 'unavailable', message: 'L’API Particulier est injoignable (adresse, réseau ou pare-feu).' },
  indisponible: { kind: 'unavailable', message: 'Le service de la CAF ou de la MSA est momentanément indisponible.' },
  reponse_invalide: { kind: 'upstream', message: 'La CAF ou la MSA a renvoyé une réponse inutilisable.' },
  appels_suspendus: { kind: 'unavailable', message: 'Les appels à l’API Particulier sont suspendus : aucun n’est envoyé pour le moment.' },
};

export class SourceCafError extends ErreurSource<RaisonEchecCaf> {
  constructor(raison: RaisonEchecCaf, options: OptionsErreurSource = {}) {
    super('caf', RAISONS, raison, options);
  }
}

export function isSourceCafError(error: unknown): error is SourceCafError {
  return error instanceof SourceCafError;
}

export interface OptionsAppelCaf {
  /** The month wanted (`AAAA-MM`); default the current one, as the API does. */
  readonly mois?: string;
  readonly signal?: AbortSignal;
  readonly priorite?: PrioriteQuota;
}

export interface CafSourceOptions {
  /** Its own: a quota slot of the `caf` bucket, its deadline and retries. */
  readonly http: UpstreamHttp;
  /** `https://particulier.api.gouv.fr` (or the sandbox's API Particulier listener). */
  readonly baseUrl: string;
  /** The commune's API Particulier token (Bearer). */
  readonly token: string;
  /** The commune's SIRET, mandatory `recipient` of every call. */
  readonly recipient: string;
  readonly clock?: () => number;
}

const v3Errors = z.object({ errors: z.array(z.object({ code: z.string() })).min(1) });
/** The upstream's error code, only when it has the documented shape (5 digits): it goes into our messages. */
const codeOf = (body: string): string | undefined => {
  const parsed = v3Errors.safeParse(safeJson(body));
  const code = parsed.success ? parsed.data.errors[0]?.code : undefined;
  return code !== undefined && /^[0-9]{5}$/.test(code) ? code : undefined;
};

const majuscules = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toUpperCase()
    .replace(/\s+/g, ' ')
    .trim();

/**
 * The v3 query of an état civil; refused here, before any call, when the API could not find anyone
 * with it (no sex, born in France without a commune).
 */
export function parametresEtatCivil(etatCivil: EtatCivil): URLSearchParams {
  const nom = majuscules(etatCivil.nom);
  const prenoms = majuscules(etatCivil.prenoms)
    .split(' ')
    .filter((p) => p !== '');
  if (nom === '' || prenoms.length === 0)
    throw new SourceCafError('criteres_invalides', { detail: 'Le nom de naissance et un prénom au moins sont obligatoires.' });
  if (nom.length > 100 || prenoms.some((p) => p.length > 60)) throw new SourceCafError('criteres_invalides', { detail: 'Un nom ou un prénom est trop long.' });
  if (!etatCivil.sexe) throw new SourceCafError('criteres_invalides', { detail: 'Le sexe indiqué à l’état civil est nécessaire.' });
  const params = new URLSearchParams({ nomNaissance: nom });
  // At most three first names, in the order of the birth record.
  for (const p of prenoms.slice(0, 3)) params.append('prenoms[]', p);
  params.set('sexeEtatCivil', etatCivil.sexe);
  if (etatCivil.dateNaissance) {
    const d = parseIsoDate(etatCivil.dateNaissance);
    if (!d) throw new SourceCafError('criteres_invalides', { detail: 'La date de naissance s’écrit AAAA-MM-JJ.' });
    params.set('anneeDateNaissance', String(d.year));
    params.set('moisDateNaissance', String(d.month));
    params.set('jourDateNaissance', String(d.day));
  }
  const pays = etatCivil.naisCodePays ?? '99100';
  if (!/^[0-9]{5}$/.test(pays)) throw new SourceCafError('criteres_invalides', { detail: 'Le code du pays de naissance comporte 5 chiffres.' });
  params.set('codeCogInseePaysNaissance', pays);
  if (pays === '99100') {
    const dept = etatCivil.naisCodeDept?.trim().toUpperCase();
    const commune = etatCivil.naisCodeCommune?.trim();
    if (!dept || !commune || !/^(?:[0-9]{2,3}|2[AB])$/.test(dept) || !/^[0-9]{2,3}$/.test(commune))
      throw new SourceCafError('criteres_invalides', {
        detail: 'Pour une personne née en France, le département et la commune de naissance sont nécessaires.',
      });
    // The 5-character COG: 2 characters of département then 3 of commune (97105 = 97 + 105).
    params.set('codeCogInseeCommuneNaissance', `${dept.slice(0, 2)}${commune.padStart(3, '0')}`);
  }
  return params;
}

export class CafSource {
  readonly source = 'caf' as const;
  private readonly credentials: StaticCredential;
  private readonly clock: () => number;

  constructor(private readonly options: CafSourceOptions) {
    if (!/^[0-9]{14}$/.test(options.recipient))
      throw new QuotientError('invalid', 'caf_recipient_invalide', 'Le SIRET de la commune (CAF_QF_RECIPIENT) comporte 14 chiffres.');
    this.credentials = new StaticCredential({ authorization: `Bearer ${options.token}` });
    this.clock = options.clock ?? Date.now;
  }

  async parEtatCivil(etatCivil: EtatCivil, options: OptionsAppelCaf = {}): Promise<QuotientCaf> {
    return this.appeler('identite', parametresEtatCivil(etatCivil), this.credentials, options);
  }

  async parFranceConnect(franceConnectToken: string, options: OptionsAppelCaf = {}): Promise<QuotientCaf> {
    // The person's FranceConnect token stands for the commune's on this route.
    return this.appeler('france_connect', new URLSearchParams(), new StaticCredential({ authorization: `Bearer ${franceConnectToken}` }), options);
  }

  private async appeler(
    route: 'identite' | 'france_connect',
    params: URLSearchParams,
    credentials: StaticCredential,
    options: OptionsAppelCaf,
  ): Promise<QuotientCaf> {
    params.set('recipient', this.options.recipient);
    if (options.mois !== undefined) {
      const m = /^([0-9]{4})-(0[1-9]|1[0-2])$/.exec(options.mois);
      if (!m) throw new SourceCafError('mois_indisponible', { detail: 'Le mois s’écrit AAAA-MM.' });
      params.set('annee', String(Number(m[1])));
      params.set('mois', String(Number(m[2])));
    }
    const url = new URL(`${this.options.baseUrl.replace(/\/$/, '')}/v3/dss/quotient_familial/${route}`);
    url.search = params.toString();
    let response: UpstreamResponse;
    try {
      response = await authenticatedGet(this.options.http, credentials, {
        url,
        // The query carries the état civil: never written down.
        loggedPath: url.pathname,
        headers: { accept: 'application/json' },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.priorite ? { priorite: options.priorite } : {}),
      });
    } catch (error) {
      throw enErreurCaf(error);
    }
    return this.interpreter(route, response);
  }

  private interpreter(route: 'identite' | 'france_connect', response: UpstreamResponse): QuotientCaf {
    const { status, correlationId } = response;
    const code = status === 200 ? undefined : codeOf(response.body);
    const detail = code ? `(code ${code})` : `(HTTP ${status})`;
    switch (status) {
      case 200:
        break;
      case 404:
        throw new SourceCafError('introuvable', { correlationId });
      case 400:
        throw new SourceCafError('mois_indisponible', { correlationId });
      case 422:
        // 00203/00204: our own recipient, a configuration matter; 00366: the état civil.
        throw code === '00366' ? new SourceCafError('criteres_invalides', { correlationId }) : new SourceCafError('requete_refusee', { correlationId, detail });
      case 401:
        throw new SourceCafError(route === 'france_connect' ? 'jeton_franceconnect_refuse' : 'jeton_refuse', { correlationId });
      case 403:
        throw new SourceCafError('acces_refuse', { correlationId, detail });
      case 409:
        throw new SourceCafError('requete_en_cours', { correlationId, retryAt: this.clock() + retryAfterMs(response.headers['retry-after'], 10_000) });
      default:
        throw new SourceCafError('reponse_invalide', { correlationId, detail });
    }
    const type = String(response.headers['content-type'] ?? '');
    if (!/^application\/json/i.test(type)) throw new SourceCafError('reponse_invalide', { correlationId, detail: '(type de contenu inattendu)' });
    try {
      return normaliserQuotientCaf(safeJson(response.body));
    } catch (error) {
      if (isQuotientError(error)) throw new SourceCafError('reponse_invalide', { correlationId, detail: `(${error.details.map((d) => d.path).join(', ')})` });
      throw error;
    }
  }
}

/** The shared HTTP layer speaks of the DGFiP; here its failures are told as the CAF's. */
function enErreurCaf(error: unknown): SourceCafError {
  if (!isSourceFiscaleError(error)) return new SourceCafError('indisponible', { cause: error });
  const options = {
    ...(error.correlationId ? { correlationId: error.correlationId } : {}),
    ...(error.retryAt !== undefined ? { retryAt: error.retryAt } : {}),
    cause: error,
  };
  switch (error.raison) {
    case 'quota_depasse':
      return new SourceCafError('quota_depasse', options);
    case 'appels_suspendus':
      return new SourceCafError('appels_suspendus', options);
    case 'injoignable':
    case 'certificat_serveur_refuse':
      return new SourceCafError('injoignable', options);
    case 'reponse_invalide':
      return new SourceCafError('reponse_invalide', options);
    default:
      return new SourceCafError('indisponible', options);
  }
}

/** Where the CAF/MSA quotient is asked, as plain data: API Particulier (or the sandbox), the commune's token and SIRET. */
export interface CafConnection {
  readonly baseUrl: string;
  readonly token: string;
  readonly recipient: string;
  /** Trust for the server's certificate (the sandbox's CA); default the system's. */
  readonly caPem?: string;
}

export interface CafClientOptions {
  readonly logger: Logger;
  /** The `caf` bucket: API Particulier's quota is not the DGFiP's. */
  readonly quota?: QuotaSlot;
  /** Whole call, retries included; default 10 s (a family waits on the page). */
  readonly deadlineMs?: number;
  readonly maxAttempts?: number;
  readonly baseBackoffMs?: number;
  readonly suspendu?: () => boolean;
  readonly clock?: () => number;
}

export interface CafClient {
  readonly source: CafSource;
  close(): Promise<void>;
}

export function createCafClient(connection: CafConnection, options: CafClientOptions): CafClient {
  const http = new UpstreamHttp({
    tls: connection.caPem ? { ca: connection.caPem } : {},
    logger: options.logger,
    deadlineMs: options.deadlineMs ?? 10_000,
    connectTimeoutMs: 3_000,
    maxAttempts: options.maxAttempts ?? 3,
    ...(options.baseBackoffMs !== undefined ? { baseBackoffMs: options.baseBackoffMs } : {}),
    ...(options.quota ? { quota: options.quota } : {}),
    ...(options.suspendu ? { suspendu: options.suspendu } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const source = new CafSource({
    http,
    baseUrl: connection.baseUrl,
    token: connection.token,
    recipient: connection.recipient,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { source, close: () => http.close() };
}
