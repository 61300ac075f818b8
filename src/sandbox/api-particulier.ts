import { calendarYear, latestTaxedYear } from './calendar.ts';
import { renderAvisV2 } from './contract.ts';
import type { CallContext, SandboxState } from './gateway.ts';
import { requestHeader } from './gateway.ts';
import { json, type Answer } from './http.ts';

/**
 * DINUM's API Particulier v2, `GET /api/v2/avis-imposition` (and its `/api/impots/svair` alias):
 * the legacy route a commune migrates away from, kept so that both sources can be compared.
 * It listens apart from the DGFiP gateway, without client certificate, as the real one did.
 */

function v2Error(status: number, error: string, reason: string, message: string): Answer {
  return json(status, { error, reason, message });
}

export function apiParticulierError(status: 429 | 500 | 503 | 504): Answer {
  switch (status) {
    case 500:
      return v2Error(500, 'error', 'Internal server error', 'Une erreur interne s’est produite, l’équipe a été prévenue.');
    case 503:
    case 504:
      return v2Error(503, 'network_error', 'timeout of 10000 ms exceeded', 'Une erreur est survenue lors de l’appel au fournisseur de donnée');
    case 429:
      return v2Error(429, 'rate_limited', 'Too many requests', 'Trop de requêtes : réessayez après le délai indiqué par Retry-After.');
  }
}

export function apiParticulierNotFound(): Answer {
  return v2Error(404, 'not_found', 'Not found', 'Aucune ressource ne correspond à cette requête.');
}

export function apiParticulier(state: SandboxState, ctx: CallContext, segments: readonly string[]): Answer {
  const path = segments.join('/');
  const legacy = path === 'api/impots/svair';
  if (path !== 'api/v2/avis-imposition' && !legacy) return apiParticulierNotFound();
  ctx.api = 'api-particulier';
  if (ctx.req.method !== 'GET')
    return {
      ...v2Error(405, 'method_not_allowed', 'Method not allowed', 'Seule la méthode GET est acceptée.'),
      headers: { 'content-type': 'application/json', allow: 'GET' },
    };
  const key = requestHeader(ctx.req, 'x-api-key');
  if (!key || !state.apiKeys.has(key)) {
    return v2Error(401, 'access_denied', 'Token not found or inactive', 'Votre jeton d’API n’a pas été trouvé ou n’est pas actif');
  }
  ctx.faultable = true;
  const numero = ctx.query.get('numeroFiscal');
  const reference = ctx.query.get('referenceAvis');
  if (!numero || !reference) {
    return v2Error(400, 'bad_request', 'Missing parameters', 'Les paramètres numeroFiscal et referenceAvis doivent être fournis dans la requête.');
  }
  const spi = numero.replace(/\s+/g, '');
  const ref = reference.replace(/\s+/g, '').toUpperCase();
  ctx.spi = spi;
  const notFound = v2Error(
    404,
    'not_found',
    'Les paramètres fournis sont incorrects ou ne correspondent pas à un avis',
    'Les paramètres fournis sont incorrects ou ne correspondent pas à un avis',
  );
  if (!/^[0-9]{13}$/.test(spi) || !/^[0-9A-Z]{13,14}$/.test(ref)) return notFound;
  const avis = state.population.avisParReference(spi, ref, calendarYear(ctx.now));
  if (!avis || avis.annrev > latestTaxedYear(ctx.now, state.taxation)) return notFound;
  return json(200, renderAvisV2(avis, legacy));
}
