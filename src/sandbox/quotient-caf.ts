import { createHash } from 'node:crypto';
import type { CallContext, SandboxState } from './gateway.ts';
import { requestHeader } from './gateway.ts';
import { json, type Answer } from './http.ts';
import { DOSSIERS_CAF, rechercherDossiers, type CriteresCaf, type DossierCaf } from './population-caf.ts';
import type { Personne } from './population.ts';

/**
 * API Particulier v3, the CAF/MSA quotient familial (`/v3/dss/quotient_familial/identite` and
 * `/france_connect`), on the API Particulier listener: `Authorization: Bearer` (the commune's API
 * Particulier token, or the person's FranceConnect token on the FranceConnect route), mandatory
 * `recipient` SIRET, answers and error bodies (`{"errors":[{code,title,detail,source,meta}]}`) as
 * the official v3 file documents them.
 */

export const QF_IDENTITE = 'v3/dss/quotient_familial/identite';
export const QF_FRANCE_CONNECT = 'v3/dss/quotient_familial/france_connect';

/** The FranceConnect scope the person must have agreed to for the quotient (API Particulier's name). */
export const SCOPE_FRANCECONNECT_QF = 'cnaf_quotient_familial';

interface V3Error {
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly parameter?: string;
  readonly meta?: Record<string, unknown>;
}

export function v3Error(status: number, e: V3Error, headers: Record<string, string> = {}): Answer {
  return json(
    status,
    { errors: [{ code: e.code, title: e.title, detail: e.detail, source: e.parameter ? { parameter: e.parameter } : null, meta: e.meta ?? {} }] },
    'application/json',
    headers,
  );
}

const TOKEN_INVALIDE: V3Error = { code: '00101', title: 'Interdit', detail: 'Votre token n’est pas valide ou n’est pas renseigné', parameter: 'token' };
const PRIVILEGES: V3Error = {
  code: '00100',
  title: 'Privilèges insuffisants',
  detail: 'Votre token est valide mais vos privilèges sont insuffisants. Listez vos privilèges sur /api/introspect',
  parameter: 'token',
};
const CIVILITE: V3Error = { code: '00366', title: 'Entité non traitable', detail: 'Un ou plusieurs paramètres de civilité ne sont pas correctement formatés' };
const NON_REFERENCE: V3Error = {
  code: '35003',
  title: 'Allocataire non référencé',
  detail: 'L’allocataire n’est pas référencé auprès des caisses éligibles',
  meta: { provider: 'CNAF & MSA' },
};

/** Error bodies of injected faults, as v3 writes them (a 500 of the provider is a 502 there). */
export function quotientCafError(status: 429 | 500 | 503 | 504): Answer {
  switch (status) {
    case 429:
      return v3Error(429, { code: '00429', title: 'Trop de requêtes', detail: 'Vous avez effectué trop de requêtes' });
    case 500:
      return v3Error(502, {
        code: '37999',
        title: 'Erreur inconnue du fournisseur de données',
        detail: 'La réponse retournée par le fournisseur de données est invalide et inconnue de notre service.',
        meta: { provider: 'CNAV' },
      });
    case 503:
      return v3Error(504, {
        code: '37001',
        title: 'Service non disponible',
        detail: 'Service du fournisseur de données temporairement indisponible ou en maintenance.',
        meta: { provider: 'CNAV' },
      });
    case 504:
      return v3Error(504, {
        code: '37002',
        title: 'Intermédiaire hors-délai',
        detail: 'Temps d’attente d’une réponse du fournisseur de données écoulé.',
        meta: { provider: 'CNAV' },
      });
  }
}

/** The status a fault's answer carries on this API (v3 has no 500 and no 503 of its own). */
export function statutPanneCaf(status: 429 | 500 | 503 | 504): number {
  return quotientCafError(status).status;
}

const entier = (v: string | null): number | undefined | 'invalide' => {
  if (v === null || v.trim() === '') return undefined;
  return /^[0-9]{1,4}$/.test(v.trim()) ? Number(v.trim()) : 'invalide';
};

type Lu<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly answer: Answer };

/** `annee`/`mois` of the call: default the current month; never in the future, at most two years back. */
function moisDemande(query: URLSearchParams, now: number): Lu<{ annee: number; mois: number }> {
  const today = new Date(now);
  const courantA = today.getUTCFullYear();
  const courantM = today.getUTCMonth() + 1;
  const a = entier(query.get('annee'));
  const m = entier(query.get('mois'));
  const refus = (detail: string): Lu<never> => ({
    ok: false,
    answer: v3Error(400, { code: '00207', title: 'Paramètre invalide', detail, parameter: 'annee' }),
  });
  if (a === 'invalide' || m === 'invalide' || (m !== undefined && (m < 1 || m > 12))) return refus('L’année ou le mois du quotient est mal formé.');
  const annee = a ?? courantA;
  const mois = m ?? courantM;
  const ecart = (courantA - annee) * 12 + (courantM - mois);
  if (ecart < 0) return refus('Le mois demandé est dans le futur.');
  if (ecart > 24) return refus('L’API ne donne accès qu’à un historique de deux ans au plus.');
  return { ok: true, value: { annee, mois } };
}

/** The état civil parameters of `/identite`, checked as the v3 file describes them. */
function criteres(query: URLSearchParams): CriteresCaf | undefined {
  const get = (name: string): string | undefined => {
    const v = query.get(name);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const nom = get('nomNaissance');
  const prenoms = query.getAll('prenoms[]').map((p) => p.trim());
  const sexe = get('sexeEtatCivil');
  const pays = get('codeCogInseePaysNaissance');
  if (!nom || nom.length > 100 || prenoms.length < 1 || prenoms.length > 3 || prenoms.some((p) => p === '' || p.length > 60)) return undefined;
  if (sexe !== 'M' && sexe !== 'F') return undefined;
  if (!pays || !/^[0-9]{5}$/.test(pays)) return undefined;
  const commune = get('codeCogInseeCommuneNaissance');
  if (commune !== undefined && !/^(?:[0-9]{5}|2[AB][0-9]{3})$/.test(commune)) return undefined;
  // Born in France: the commune is needed (the name-and-département option is not served here).
  if (pays === '99100' && commune === undefined) return undefined;
  const annee = entier(query.get('anneeDateNaissance'));
  const mois = entier(query.get('moisDateNaissance'));
  const jour = entier(query.get('jourDateNaissance'));
  if (annee === 'invalide' || mois === 'invalide' || jour === 'invalide') return undefined;
  if (mois !== undefined && (mois < 1 || mois > 12)) return undefined;
  if (jour !== undefined && (jour < 1 || jour > 31)) return undefined;
  // Month ignored without a year, day without a month: as the file says.
  const naissance = annee === undefined ? undefined : { annee, ...(mois !== undefined ? { mois, ...(jour !== undefined ? { jour } : {}) } : {}) };
  return {
    nomNaissance: nom,
    prenoms,
    sexe,
    paysNaissance: pays,
    ...(commune !== undefined ? { cogNaissance: commune } : {}),
    ...(naissance ? { naissance } : {}),
  };
}

function criteresDe(p: Personne): CriteresCaf {
  return {
    nomNaissance: p.nomNaissance,
    prenoms: p.prenoms.split(/\s+/),
    sexe: p.sexe === '1' ? 'M' : 'F',
    paysNaissance: p.paysNaissance,
    ...(p.cogNaissance ? { cogNaissance: p.cogNaissance } : {}),
    ...(p.naissance ? { naissance: { annee: Number(p.naissance.annee), mois: Number(p.naissance.mois), jour: Number(p.naissance.jour) } } : {}),
  };
}

/** The 200 body of the v3 file, every required member present. */
export function renderQuotientCaf(d: DossierCaf, quand: { annee: number; mois: number }): unknown {
  const personne = (p: { nomNaissance: string; nomUsage: string | null; prenoms: string; dateNaissance: string; sexe: 'M' | 'F' }) => ({
    nom_naissance: p.nomNaissance,
    nom_usage: p.nomUsage,
    prenoms: p.prenoms,
    date_naissance: p.dateNaissance,
    sexe: p.sexe,
  });
  // The CNAF recomputes the QF when the situation changes (here: in January); the MSA every month.
  const calcul = d.fournisseur === 'MSA' ? quand : { annee: quand.annee, mois: 1 };
  return {
    data: {
      allocataires: d.allocataires.map(personne),
      enfants: d.enfants.map(personne),
      adresse: {
        destinataire: d.adresse.destinataire,
        complement_information: null,
        complement_information_geographique: null,
        numero_libelle_voie: d.adresse.numero_libelle_voie,
        lieu_dit: null,
        code_postal_ville: d.adresse.code_postal_ville,
        pays: d.adresse.pays,
      },
      quotient_familial: {
        fournisseur: d.fournisseur,
        valeur: d.valeur,
        annee: quand.annee,
        mois: quand.mois,
        annee_calcul: calcul.annee,
        mois_calcul: calcul.mois,
      },
    },
    links: {},
    meta: {},
  };
}

/** Whose call it is for the quota: a digest of the token, never the token itself. */
const porteur = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 16);

export async function quotientCaf(state: SandboxState, ctx: CallContext, path: string): Promise<Answer> {
  ctx.api = 'quotient-caf';
  if (ctx.req.method !== 'GET') {
    return v3Error(405, { code: '00405', title: 'Méthode non autorisée', detail: 'Seule la méthode GET est acceptée.' }, { allow: 'GET' });
  }
  const authorization = requestHeader(ctx.req, 'authorization');
  const bearer = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined;
  if (!bearer) return v3Error(401, TOKEN_INVALIDE);

  let personneFc: Personne | undefined;
  if (path === QF_FRANCE_CONNECT) {
    // The person's FranceConnect token stands for the commune's: API Particulier checks it with FranceConnect.
    const known = state.franceConnectTokens.get(bearer);
    const spi = known ? (known.expiresAt === undefined || ctx.now < known.expiresAt ? known.spi : undefined) : await state.franceConnectResolver?.(bearer);
    if (!spi) return v3Error(401, TOKEN_INVALIDE);
    if (known?.scopes && !known.scopes.has(SCOPE_FRANCECONNECT_QF)) return v3Error(403, PRIVILEGES);
    personneFc = state.population.personnes.get(spi);
    ctx.spi = spi;
  } else if (!state.apiKeys.has(bearer)) {
    return v3Error(401, TOKEN_INVALIDE);
  }

  const recipient = ctx.query.get('recipient');
  if (!recipient || recipient.trim() === '') {
    return v3Error(422, { code: '00203', title: 'Entité non traitable', detail: 'Le paramètre recipient est obligatoire', parameter: 'recipient' });
  }
  if (!/^[0-9]{14}$/.test(recipient)) {
    return v3Error(422, {
      code: '00204',
      title: 'Entité non traitable',
      detail: 'Le paramètre recipient n’est pas un numéro SIRET valide',
      parameter: 'recipient',
    });
  }
  const decision = state.quota.take(`quotient-caf:${porteur(bearer)}`);
  if (!decision.ok) return withRetry(quotientCafError(429), decision.retryAfterSeconds);
  ctx.faultable = true;

  const quand = moisDemande(ctx.query, ctx.now);
  if (!quand.ok) return quand.answer;

  let trouves: DossierCaf[];
  if (personneFc) {
    trouves = rechercherDossiers(criteresDe(personneFc));
  } else if (path === QF_FRANCE_CONNECT) {
    trouves = [];
  } else {
    const c = criteres(ctx.query);
    if (!c) return v3Error(422, CIVILITE);
    // A person of the DGFiP population named so (the « PANNE » people, for instance): faults keyed
    // by SPI then apply to this call too.
    const homonyme = state.population.rechercher({
      nom: c.nomNaissance,
      prenom: c.prenoms.join(' '),
      sexe: c.sexe === 'M' ? '1' : '2',
    })[0];
    if (homonyme) ctx.spi = homonyme.spi;
    trouves = rechercherDossiers(c);
  }
  const dossier = trouves.length === 1 ? trouves[0] : undefined;
  if (!dossier) return v3Error(404, NON_REFERENCE);
  return json(200, renderQuotientCaf(dossier, quand.value), 'application/json', { 'x-response-cached': 'false', 'x-cache-expires-in': '' });
}

function withRetry(answer: Answer, seconds: number): Answer {
  return { ...answer, headers: { ...answer.headers, 'retry-after': String(seconds) } };
}

export { DOSSIERS_CAF };
