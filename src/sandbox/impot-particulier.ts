import { calendarYear, latestTaxedYear } from './calendar.ts';
import { applyContract, renderSituation } from './contract.ts';
import { franceConnectScopesFor } from './franceconnect-scopes.ts';
import { checkHeaders, passGateway, requestHeader, type CallContext, type SandboxState } from './gateway.ts';
import { erreur, gatewayFault, json, type Answer } from './http.ts';
import type { Situation } from './population.ts';

/**
 * API Impôt particulier, IR resources, by numéro fiscal (`/spi/{spi}/...`) and by FranceConnect
 * (`X-FranceConnect-OAuth`), under `/impotparticulier/1.0`.
 */

export const IMPOT_PARTICULIER_PREFIX = '/impotparticulier/1.0';

type Resource = 'situations' | 'derniere' | 'deuxans' | 'multiple';

const RESOURCES: Readonly<Record<Resource, { scope: string; mediaType: string }>> = {
  situations: { scope: 'RessourceIR', mediaType: 'application/prs.dgfip.part.situations.ir.assiettes.v1+json' },
  derniere: { scope: 'RessourceIRDerniere', mediaType: 'application/prs.dgfip.part.derniere.situations.ir.assiettes.v1+json' },
  deuxans: { scope: 'RessourceIRDerniere2', mediaType: 'application/prs.dgfip.part.derniere.situations.ir.assiettes.v1+json' },
  multiple: { scope: 'RessourceIRMultiple', mediaType: 'application/prs.dgfip.part.situations.ir.assiettes.multiple.v1+json' },
};

interface Route {
  readonly resource: Resource;
  readonly byFranceConnect: boolean;
  readonly spi?: string;
  readonly annrev?: string;
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Matches the path after the prefix, already split and percent-decoded. */
export function matchRoute(segments: readonly string[]): Route | undefined {
  let tail = segments;
  let spi: string | undefined;
  if (segments[0] === 'spi' && segments.length > 1) {
    spi = segments[1];
    tail = segments.slice(2);
  }
  const byFranceConnect = spi === undefined;
  const base = { byFranceConnect, ...(spi !== undefined ? { spi } : {}) };
  if (tail.length === 5 && same(tail.slice(0, 4), ['situations', 'ir', 'assiettes', 'annrev'])) {
    return { ...base, resource: 'situations', annrev: tail[4] as string };
  }
  if (tail.length === 5 && same(tail.slice(0, 4), ['dernieresituation', 'ir', 'assiettes', 'annrev'])) {
    return { ...base, resource: 'derniere', annrev: tail[4] as string };
  }
  if (same(tail, ['dernieresituation', 'ir', 'assiettes', 'deuxans'])) return { ...base, resource: 'deuxans' };
  if (tail.length === 6 && same(tail.slice(0, 5), ['situations', 'ir', 'assiettes', 'multiple', 'annrev'])) {
    return { ...base, resource: 'multiple', annrev: tail[5] as string };
  }
  return undefined;
}

const MESSAGES = {
  formatSpi: 'format SPI incorrect',
  formatAnnee: 'mauvais format d’année (annrev)',
  aucunResultat: 'La requête avec le spi et l’année ne renvoie aucun résultat',
  spiInconnu: 'Le spi envoyé ne correspond à aucun usager',
  plusieursSituations:
    'La requête avec le spi et l’année ne renvoie aucun résultat unique : plusieurs situations existent pour cette année (décès), utiliser dernieresituation ou multiple',
  acces: 'L’utilisateur n’a pas accès à la ressource',
  accesAnnee: 'L’utilisateur n’a pas accès à la ressource pour cette année de revenus',
  franceConnectAbsent: 'En-tête X-FranceConnect-OAuth absent',
  franceConnectInvalide: 'Jeton FranceConnect invalide ou expiré',
  franceConnectPortees: 'Le jeton FranceConnect ne porte pas le consentement de l’usager aux données demandées',
} as const;

export function notFoundResource(): Answer {
  return gatewayFault(404, 900906, 'No matching resource found for given API Request', 'Aucune ressource de l’API ne correspond à cette requête.');
}

/** Last period of a year: the survivor's avis when a spouse died. */
function lastPeriod(list: readonly Situation[]): Situation | undefined {
  return [...list].sort((a, b) => (b.periode?.debut ?? '').localeCompare(a.periode?.debut ?? ''))[0];
}

export async function impotParticulier(state: SandboxState, ctx: CallContext, segments: readonly string[]): Promise<Answer> {
  const route = matchRoute(segments);
  if (!route) return notFoundResource();
  if (ctx.req.method !== 'GET') {
    return {
      ...gatewayFault(405, 405, 'Method Not Allowed', 'Seule la méthode GET est acceptée.'),
      headers: { 'content-type': 'application/json', allow: 'GET' },
    };
  }
  const { scope, mediaType } = RESOURCES[route.resource];
  const gate = passGateway(state, ctx, 'impot-particulier', scope);
  if (!gate.ok) return gate.answer;
  const client = gate.client;
  const refused = checkHeaders(state, ctx, client, { idTeleservice: 'default' });
  if (refused) return refused;
  const now = ctx.now;

  let spi: string;
  if (route.byFranceConnect) {
    const fcToken = requestHeader(ctx.req, 'x-franceconnect-oauth');
    if (!fcToken) return erreur(400, undefined, MESSAGES.franceConnectAbsent, now);
    // Like the DGFiP, which checks the token with FranceConnect: an expired token is refused as an unknown one.
    const known = state.franceConnectTokens.get(fcToken);
    const resolved = known ? (known.expiresAt === undefined || now < known.expiresAt ? known.spi : undefined) : await state.franceConnectResolver?.(fcToken);
    if (!resolved) return erreur(403, 4031, MESSAGES.franceConnectInvalide, now);
    // The person consented at FranceConnect to scopes: each field of the contract needs its own.
    const granted = known?.scopes;
    const missing = granted ? franceConnectScopesFor(client.fields).filter((s) => !granted.has(s)) : [];
    if (missing.length > 0) return erreur(403, 4031, `${MESSAGES.franceConnectPortees} (${missing.join(' ')})`, now);
    spi = resolved;
  } else {
    spi = route.spi as string;
  }
  ctx.spi = spi;

  if (!/^[0-9]{13}$/.test(spi)) return erreur(400, 4001, MESSAGES.formatSpi, now);
  let annrev: number | undefined;
  if (route.annrev !== undefined) {
    if (!/^[0-9]{4}$/.test(route.annrev)) return erreur(400, 4002, MESSAGES.formatAnnee, now);
    annrev = Number(route.annrev);
  }

  const n = calendarYear(now);
  const latest = latestTaxedYear(now, state.taxation);
  // The CGU's order: the SPI, then the téléservice's rights on the year.
  if (!state.population.connu(spi)) return erreur(410, 4102, MESSAGES.spiInconnu, now);
  if (annrev !== undefined && annrev < n && !client.annees.includes(n - annrev)) return erreur(403, 4031, MESSAGES.accesAnnee, now);

  const all = state.population.situations(spi, n);
  const ofYear = (y: number): Situation[] => (y <= latest ? all.filter((s) => s.annrev === y) : []);
  const render = (s: Situation): Record<string, unknown> => applyContract(renderSituation(s, state.aftDetailKeys), client.fields);

  switch (route.resource) {
    case 'situations': {
      const list = ofYear(annrev as number);
      if (list.length === 0) return erreur(410, 4101, MESSAGES.aucunResultat, now);
      if (list.length > 1) return erreur(410, 4101, MESSAGES.plusieursSituations, now);
      return json(200, render(list[0] as Situation), mediaType);
    }
    case 'derniere': {
      const last = lastPeriod(ofYear(annrev as number));
      if (!last) return erreur(410, 4101, MESSAGES.aucunResultat, now);
      return json(200, { annRevenu: last.annrev, ...render(last) }, mediaType);
    }
    case 'multiple': {
      const list = ofYear(annrev as number);
      if (list.length === 0) return erreur(410, 4101, MESSAGES.aucunResultat, now);
      return json(200, { situationsIR: list.map((s) => multipleItem(s, render(s))) }, mediaType);
    }
    case 'deuxans': {
      // The last avis of the two latest taxed years, within the habilitation's years.
      const candidates = [latest, latest - 1].filter((y) => client.annees.includes(n - y));
      if (candidates.length === 0) return erreur(403, 4031, MESSAGES.accesAnnee, now);
      for (const y of candidates) {
        const last = lastPeriod(ofYear(y));
        if (last) return json(200, { annRevenu: last.annrev, ...render(last) }, mediaType);
      }
      return erreur(410, 4101, MESSAGES.aucunResultat, now);
    }
  }
}

/** One element of `situationsIR`: the avis plus its period (the whole year when there is one avis). */
function multipleItem(s: Situation, rendered: Record<string, unknown>): Record<string, unknown> {
  const p = s.periode;
  return {
    ...rendered,
    dateDebutPeriode: p?.debut ?? `${s.annrev}-01-01`,
    dateFinPeriode: p?.fin ?? `${s.annrev}-12-31`,
    typeAvis: p?.typeAvis ?? 1,
    ...(p?.dateDecesDec1 ? { dateDecesdec1: p.dateDecesDec1 } : {}),
    ...(p?.dateDecesDec2 ? { dateDecesdec2: p.dateDecesDec2 } : {}),
  };
}
