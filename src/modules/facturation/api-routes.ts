import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isIsoDate } from '../../domain/dates.ts';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { formatFieldPath, frenchMessage } from '../../domain/zod-francais.ts';
import type { CompteursPartages } from '../../infra/limites/compteurs.ts';
import { magasinPartage } from '../../infra/limites/magasin-rate-limit.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { FacturationService, Position, QuotientFacture } from './facturation-service.ts';
import { LIMITE_DEFAUT, LIMITE_MAX, openApiDocument } from './openapi.ts';

export interface ApiQuotientsDeps {
  readonly facturation: Pick<FacturationService, 'page' | 'tracerApi'>;
  /** The `next` links and the document's server are absolute on it. */
  readonly publicUrl: string;
  /** Calls per key and minute (default 120). */
  readonly appelsParMinute?: number;
  /** Where the calls are counted: the database, so that N instances give one allowance, not N (in this process's memory without). */
  readonly compteurs?: CompteursPartages;
  readonly clock?: () => number;
}

const INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * An ISO-8601 instant with its offset, in UTC as the database writes it (`…T08:00:00.000Z`); null
 * when it is not one. A `+` sent unencoded in a query string arrives as a space: it is read back.
 */
export function parseInstant(text: string): string | null {
  const m = INSTANT.exec(text.replace(/ (\d{2}:?\d{2})$/, '+$1'));
  if (!m) return null;
  const [, date, hh, mm, ss = '00', frac = '', zone] = m as unknown as [string, string, string, string, string | undefined, string | undefined, string];
  if (!isIsoDate(date) || Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59) return null;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
  if (offset !== 'Z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4)) > 59)) return null;
  const ms = Date.parse(`${date}T${hh}:${mm}:${ss}.${frac.padEnd(3, '0').slice(0, 3)}${offset}`);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const MESSAGES = {
  modifiedSince: 'instant ISO 8601 attendu, avec son fuseau : par exemple 2026-09-01T08:00:00Z (le « + » d’un fuseau s’écrit %2B dans une adresse)',
  date: 'date attendue au format AAAA-MM-JJ, par exemple 2026-09-01',
  limit: `nombre entier de 1 à ${LIMITE_MAX} attendu`,
  cursor: 'curseur invalide : reprenez tel quel le lien « next » de la page précédente',
};

const POSITION = z.strictObject({ c: z.string().refine((v) => parseInstant(v) === v), i: z.string().min(1).max(100) });

function decodeCursor(cursor: string): Position | null {
  try {
    const parsed = POSITION.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? { calculeLe: parsed.data.c, id: parsed.data.i } : null;
  } catch {
    return null;
  }
}

const encodeCursor = (p: Position) => Buffer.from(JSON.stringify({ c: p.calculeLe, i: p.id }), 'utf8').toString('base64url');

/** One text per parameter: a repeated parameter (an array) is refused with the same message. */
const parametre = (message: string) => z.string({ error: message });

const querySchema = z.strictObject({
  modifiedSince: parametre(MESSAGES.modifiedSince)
    .transform((v, ctx) => parseInstant(v) ?? (ctx.addIssue({ code: 'custom', message: MESSAGES.modifiedSince }), z.NEVER))
    .optional(),
  date: parametre(MESSAGES.date).refine(isIsoDate, MESSAGES.date).optional(),
  limit: parametre(MESSAGES.limit)
    .regex(/^[0-9]{1,4}$/, MESSAGES.limit)
    .transform(Number)
    .refine((n) => n >= 1 && n <= LIMITE_MAX, MESSAGES.limit)
    .optional(),
  cursor: parametre(MESSAGES.cursor)
    .max(400, MESSAGES.cursor)
    .transform((v, ctx) => decodeCursor(v) ?? (ctx.addIssue({ code: 'custom', message: MESSAGES.cursor }), z.NEVER))
    .optional(),
});

type Requete = z.output<typeof querySchema>;

function lireRequete(query: unknown): Requete {
  const parsed = querySchema.safeParse(query ?? {}, { error: (issue) => frenchMessage(issue) });
  if (parsed.success) return parsed.data;
  const details: ErrorDetail[] = [];
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        details.push({ path: key, message: `paramètre inconnu (faute de frappe ?) ; paramètres possibles : ${Object.keys(querySchema.shape).join(', ')}` });
    } else details.push({ path: formatFieldPath(issue.path), message: issue.message });
  }
  throw new QuotientError('invalid', 'parametres_invalides', 'Paramètres invalides : corrigez ceux indiqués dans « errors ».', { details });
}

/** The JSON of one QF: what the OpenAPI document's `Quotient` schema says, in that order. */
const versJson = (q: QuotientFacture) => ({
  id: q.id,
  famille: q.famille,
  quotientCents: q.quotientCents,
  periode: q.periode,
  valideDu: q.valideDu,
  valideAu: q.valideAu,
  origine: q.origine,
  calculeLe: q.calculeLe,
  // A QF record is never changed once written (a new QF is a new record): recorded is modified.
  modifiedAt: q.calculeLe,
  politique: q.politique,
  tranches: q.tranches,
  enfants: q.enfants,
});

function cleDe(request: FastifyRequest) {
  // The access policy let only a valid key through; this guards a policy mistake.
  if (!request.cleApi) throw new QuotientError('unauthenticated', 'cle_api_requise', 'Une clé d’API valide est requise (en-tête Authorization: Bearer).');
  return request.cleApi;
}

/**
 * `GET /api/v1/quotients` for billing software (API key, limited per key and minute, every call
 * journaled with its row count) and `GET /api/v1/openapi.json`, public.
 */
export function registerApiQuotients(app: FastifyInstance, deps: ApiQuotientsDeps): void {
  const { facturation } = deps;
  const base = deps.publicUrl.replace(/\/+$/, '');
  const document = JSON.stringify(openApiDocument(base));

  app.get('/api/v1/openapi.json', (_request, reply) =>
    reply.type('application/json; charset=utf-8').header('cache-control', 'public, max-age=300').send(document),
  );

  // In its own context: the per-key limit applies to these routes only, not to the rest of the app.
  app.register(async (api) => {
    await api.register(rateLimit, {
      global: true,
      max: deps.appelsParMinute ?? 120,
      timeWindow: 60_000,
      // After the access check, so that the key is known: each billing software has its own allowance.
      hook: 'preHandler',
      ...(deps.compteurs ? { store: magasinPartage(deps.compteurs, 'api-quotients') } : {}),
      keyGenerator: (request) => (request.cleApi ? `cle:${request.cleApi.id}` : `ip:${request.ip}`),
      errorResponseBuilder: () =>
        new QuotientError(
          'rate_limited',
          'trop_de_requetes',
          'Trop d’appels en une minute avec cette clé : patientez avant de réessayer (voir l’en-tête Retry-After).',
        ),
    });

    // Every call with a key is journaled, also those that get no data: refused past the allowance
    // (429), bad parameters, a failure of the service. Before the error answer leaves.
    api.addHook('onError', async (request, _reply, error) => {
      if (!request.cleApi || request.routeOptions.url !== '/api/v1/quotients') return;
      const refus = error instanceof QuotientError && error.kind === 'rate_limited';
      const code = error instanceof QuotientError ? error.code : 'erreur';
      try {
        await facturation.tracerApi(request.cleApi, String(request.id), { code }, refus ? 'refus' : 'echec');
      } catch (journalError) {
        // The caller still gets the first error; the journal's own failure is logged.
        request.log.error({ err: journalError }, 'journal d’audit : appel de l’API non tracé');
      }
    });

    api.get('/api/v1/quotients', async (request, reply) => {
      const cle = cleDe(request);
      // A bad parameter is journaled as a failed call by the onError hook above.
      const requete = lireRequete(request.query);
      const limit = requete.limit ?? LIMITE_DEFAUT;
      const date = requete.date ?? (requete.modifiedSince === undefined ? parisDate((deps.clock ?? Date.now)()) : undefined);
      const selection = { ...(date !== undefined ? { date } : {}), ...(requete.modifiedSince !== undefined ? { modifiedSince: requete.modifiedSince } : {}) };
      const { quotients, suite } = await facturation.page(selection, limit, requete.cursor);
      let next: string | null = null;
      if (suite) {
        const params = new URLSearchParams();
        if (requete.modifiedSince !== undefined) params.set('modifiedSince', requete.modifiedSince);
        if (date !== undefined) params.set('date', date);
        params.set('limit', String(limit));
        params.set('cursor', encodeCursor(suite));
        next = `${base}/api/v1/quotients?${params.toString()}`;
      }
      // Traced before anything leaves: who, what was asked, how many rows.
      await facturation.tracerApi(cle, String(request.id), {
        lignes: quotients.length,
        date: date ?? null,
        modifiedSince: requete.modifiedSince ?? null,
        suite: requete.cursor !== undefined,
        limit,
      });
      reply.header('cache-control', 'no-store');
      if (next) reply.header('link', `<${next}>; rel="next"`);
      return { date: date ?? null, modifiedSince: requete.modifiedSince ?? null, quotients: quotients.map(versJson), next };
    });
  });
}
