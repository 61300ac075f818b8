import { calendarYear, latestTaxedYear } from './calendar.ts';
import { applyContract, renderSituation } from './contract.ts';
import { checkHeaders, passGateway, type CallContext, type SandboxState } from './gateway.ts';
import { erreur, json, type Answer } from './http.ts';
import { notFoundResource } from './impot-particulier.ts';
import type { CriteresEtatCivil, Situation } from './population.ts';
import { R2P_SCOPE, SFIP_SCOPE } from './tokens.ts';

/**
 * From an état civil to the numéro fiscal (R2P `GET /r2p/v1/personne/spi`) or directly to the last
 * IR data (SFiP `GET /sfip/v1/demandeDeService/02AA/personne`), searched in the identity files.
 */

export const R2P_PREFIX = '/r2p/v1';
export const SFIP_PREFIX = '/sfip/v1';
export const SFIP_MEDIA_TYPE = 'application/vnd.dgfip.sfip.v1.0+json';

const CRITERIA = ['nom', 'prenom', 'sexe', 'naisDate', 'naisCodePays', 'naisCodeDept', 'naisCodeCommune'] as const;

type Parsed = { readonly ok: true; readonly criteres: CriteresEtatCivil } | { readonly ok: false; readonly message: string };

/** Reads and checks the search criteria shared by R2P and SFiP (formats of their specifications). */
export function parseCriteres(query: URLSearchParams): Parsed {
  for (const name of [...CRITERIA, 'spi']) {
    if (query.getAll(name).length > 1) return { ok: false, message: `Paramètre ${name} répété.` };
  }
  const get = (name: string): string | undefined => {
    const v = query.get(name);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const nom = get('nom');
  const prenom = get('prenom');
  if (!nom || !prenom) return { ok: false, message: 'Les paramètres nom et prenom sont obligatoires.' };
  if (nom.length > 100) return { ok: false, message: 'Le nom dépasse 100 caractères.' };
  if (prenom.split(/\s+/).some((p) => p.length > 20)) return { ok: false, message: 'Un prénom dépasse 20 caractères.' };
  const sexe = get('sexe');
  if (sexe !== undefined && sexe !== '1' && sexe !== '2') return { ok: false, message: 'Le sexe vaut 1 (masculin) ou 2 (féminin).' };
  const naisDate = get('naisDate');
  let naissance: CriteresEtatCivil['naissance'];
  if (naisDate !== undefined) {
    const m = /^(?:(?:(\d{2})\/)?(\d{2})\/)?(\d{4})$/.exec(naisDate);
    if (!m) return { ok: false, message: 'La date de naissance s’écrit AAAA, MM/AAAA ou JJ/MM/AAAA.' };
    naissance = { annee: m[3] as string, ...(m[2] ? { mois: m[2] } : {}), ...(m[1] ? { jour: m[1] } : {}) };
  }
  const pays = get('naisCodePays');
  if (pays !== undefined && !/^\d{5}$/.test(pays)) return { ok: false, message: 'Le code pays de naissance comporte 5 chiffres.' };
  const dept = get('naisCodeDept');
  if (dept !== undefined && !/^(?:\d{2,3}|0?2[AaBb])$/.test(dept))
    return { ok: false, message: 'Le code département de naissance comporte 2 ou 3 caractères.' };
  const commune = get('naisCodeCommune');
  if (commune !== undefined && !/^\d{2,3}$/.test(commune)) return { ok: false, message: 'Le code commune de naissance comporte 2 ou 3 chiffres.' };
  return {
    ok: true,
    criteres: {
      nom,
      prenom,
      ...(sexe ? { sexe } : {}),
      ...(naissance ? { naissance } : {}),
      ...(pays ? { naisCodePays: pays } : {}),
      ...(dept ? { naisCodeDept: dept } : {}),
      ...(commune ? { naisCodeCommune: commune } : {}),
    },
  };
}

function methodNotAllowed(): Answer {
  return {
    status: 405,
    headers: { 'content-type': 'application/json', allow: 'GET' },
    body: JSON.stringify({ fault: { code: 405, message: 'Method Not Allowed', description: 'Seule la méthode GET est acceptée.' } }),
  };
}

export function r2p(state: SandboxState, ctx: CallContext, segments: readonly string[]): Answer {
  if (segments.length !== 2 || segments[0] !== 'personne' || segments[1] !== 'spi') return notFoundResource();
  if (ctx.req.method !== 'GET') return methodNotAllowed();
  const gate = passGateway(state, ctx, 'r2p', R2P_SCOPE);
  if (!gate.ok) return gate.answer;
  const refused = checkHeaders(state, ctx, gate.client, { idTeleservice: 'ignored' });
  if (refused) return refused;
  const parsed = parseCriteres(ctx.query);
  if (!parsed.ok) return erreur(400, undefined, parsed.message, ctx.now);
  const found = state.population.rechercher(parsed.criteres);
  if (found.length === 0) return erreur(404, undefined, 'Personne non trouvée', ctx.now);
  // One answer for homonyms and protected files, as in the specification: the caller cannot tell them apart by the body.
  if (found.length > 1 || found[0]?.nonCommunicable) return erreur(403, undefined, 'Trop de réponse ou dossier non communicable', ctx.now);
  const spi = (found[0] as { spi: string }).spi;
  ctx.spi = spi;
  return json(200, { identifiant: { spi } });
}

export function sfip(state: SandboxState, ctx: CallContext, segments: readonly string[]): Answer {
  const now = ctx.now;
  const sfipError = (status: number, code: number, message: string): Answer => erreur(status, code, message, now, SFIP_MEDIA_TYPE);
  if (segments.length === 1 && segments[0] === 'information') {
    if (ctx.req.method !== 'GET') return methodNotAllowed();
    const gate = passGateway(state, ctx, 'sfip', undefined);
    if (!gate.ok) return gate.answer;
    const refused = checkHeaders(state, ctx, gate.client, { idTeleservice: 'ignored', contentType: SFIP_MEDIA_TYPE, badRequestCode: 4003 });
    if (refused) return refused;
    return json(200, { descriptif: 'L’API est opérationnelle' }, SFIP_MEDIA_TYPE);
  }
  if (!(segments.length === 3 && segments[0] === 'demandeDeService' && segments[1] === '02AA' && segments[2] === 'personne')) return notFoundResource();
  if (ctx.req.method !== 'GET') return methodNotAllowed();
  const gate = passGateway(state, ctx, 'sfip', SFIP_SCOPE);
  if (!gate.ok) return gate.answer;
  const client = gate.client;
  const refused = checkHeaders(state, ctx, client, { idTeleservice: 'required', contentType: SFIP_MEDIA_TYPE, badRequestCode: 4003 });
  if (refused) return refused;

  const nonConforme = 'Un des paramètres en entrée est non conforme aux valeurs possibles';
  let spi: string;
  if (ctx.query.getAll('spi').length > 1) return sfipError(400, 4003, nonConforme);
  const spiParam = ctx.query.get('spi');
  if (spiParam !== null && spiParam !== '') {
    ctx.spi = spiParam;
    if (!/^[0-9]{13}$/.test(spiParam)) return sfipError(400, 4003, nonConforme);
    if (!state.population.connu(spiParam)) return sfipError(404, 40433, 'Aucune personne trouvée');
    spi = spiParam;
  } else {
    const parsed = parseCriteres(ctx.query);
    if (!parsed.ok) return sfipError(400, 4003, nonConforme);
    const found = state.population.rechercher(parsed.criteres);
    if (found.length === 0) return sfipError(404, 40433, 'Aucune personne trouvée');
    if (found.length > 1 || found[0]?.nonCommunicable) {
      return sfipError(403, 40305, 'Informations non disponibles pour la personne, merci de renseigner le numéro fiscal et la date de naissance');
    }
    spi = (found[0] as { spi: string }).spi;
    ctx.spi = spi;
  }

  // « La dernière imposition à l'IR »: the latest taxed year, else the one before, within the habilitation.
  const n = calendarYear(now);
  const latest = latestTaxedYear(now, state.taxation);
  const all = state.population.situations(spi, n);
  for (const y of [latest, latest - 1].filter((year) => client.annees.includes(n - year))) {
    const last = all.filter((s) => s.annrev === y).sort((a, b) => (b.periode?.debut ?? '').localeCompare(a.periode?.debut ?? ''))[0] as Situation | undefined;
    if (last) {
      // No `annRevenu`: the SFiP specification does not define it (its 200 example has none).
      return json(200, applyContract(renderSituation(last, state.aftDetailKeys), client.fields), SFIP_MEDIA_TYPE);
    }
  }
  return sfipError(416, 4101, 'Absence de réponse');
}
