import { z } from 'zod';
import { champsDeConsentement, verifierDonneesEtRetrait, type AuteurConsentement, type Consentement, type DonneeConsentie } from './consentement.ts';
import type { RoleParent } from './controle-identite.ts';
import { QuotientError } from './errors.ts';
import { invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The consentement de renouvellement (standing consent for renewal, issue 14): when a declarant
 * consents to a request, they may also agree — opt-in, never pre-ticked — that the commune asks the
 * DGFiP again each year, for the same purpose and the same data, by état civil, until they withdraw
 * it and for at most the duration the commune's configuration sets (`renouvellement.dureeMaxAns`).
 *
 * It records what a consent records (who, how, when, which text, which data, why) plus the
 * resources (the habilitation's scopes), the route (`etat_civil`: the numéro fiscal is never kept,
 * so a renewal can only ask by état civil), the duration and the expiry it implies. A withdrawn or
 * expired standing consent covers nothing, and the état civil kept for it is deleted.
 */

/** No commune may ask for longer than this, whatever its configuration says. */
export const DUREE_RENOUVELLEMENT_MAX_ANS = 5;

/** Online by the family, or a signed form recorded by an agent with its piece (no e-mail: the text must be signed). */
export const MODES_RENOUVELLEMENT = ['en_ligne', 'formulaire_signe'] as const;
export type ModeRenouvellement = (typeof MODES_RENOUVELLEMENT)[number];

/** How a renewal asks the DGFiP: by état civil only (SFiP, or R2P then Impôt particulier). */
export const VOIES_RENOUVELLEMENT = ['etat_civil'] as const;
export type VoieRenouvellement = (typeof VOIES_RENOUVELLEMENT)[number];

/**
 * The sentence the declarant ticks, and its version: the record keeps the version and the
 * duration, from which the exact text read is rebuilt. A new wording gets a new version.
 */
export const VERSION_TEXTE_RENOUVELLEMENT = 'renouvellement-1';
export function texteRenouvellement(dureeAns: number): string {
  return `J’accepte aussi que la commune redemande chaque année mon avis d’imposition à la DGFiP, pour le même usage, jusqu’à ce que je retire cet accord (au plus ${dureeAns} an${dureeAns > 1 ? 's' : ''})`;
}

export interface ConsentementRenouvellement {
  /** The declarant whose avis may be asked again each year. */
  readonly declarant: RoleParent;
  readonly donnePar: AuteurConsentement;
  readonly mode: ModeRenouvellement;
  /** For a signed form: what was received and when. */
  readonly piece: string | null;
  /** ISO 8601 instant, normalised to UTC. */
  readonly recueilliLe: string;
  readonly versionTexte: string;
  /** Resources the renewal may call: the habilitation's scopes (`RessourceIR`, `api_r2p_resolution_spi`…). */
  readonly ressources: readonly string[];
  /** Fields the renewal may ask, with the label the family read. */
  readonly donnees: readonly DonneeConsentie[];
  readonly finalite: string;
  readonly voie: VoieRenouvellement;
  /** Whole years, from 1 to the commune's maximum. */
  readonly dureeAns: number;
  /** Derived: `recueilliLe` plus `dureeAns` calendar years (never later). */
  readonly expireLe: string;
  /** Set when the declarant withdrew it (or a newer one replaced it). */
  readonly retireLe: string | null;
}

export interface OptionsRenouvellement {
  /** The commune's maximum (`renouvellement.dureeMaxAns`); a stored consent is read without it. */
  readonly dureeMaxAns?: number;
  /** Labels of the habilitation's fields, as for a consent. */
  readonly libelles?: Readonly<Record<string, string>>;
}

const RESSOURCE_RE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/**
 * `recueilliLe` plus `ans` calendar years, at the same time of day. On 29 February the year it
 * lands in may have no such day: then 28 February, so that the duration never exceeds `ans` years.
 */
export function ajouterAns(iso: string, ans: number): string {
  const d = new Date(iso);
  const annee = d.getUTCFullYear() + ans;
  const mois = d.getUTCMonth();
  const dernierJour = new Date(Date.UTC(annee, mois + 1, 0)).getUTCDate();
  const jour = Math.min(d.getUTCDate(), dernierJour);
  return new Date(Date.UTC(annee, mois, jour, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())).toISOString();
}

function schema(options: OptionsRenouvellement) {
  const { libelles } = options;
  const max = Math.min(options.dureeMaxAns ?? DUREE_RENOUVELLEMENT_MAX_ANS, DUREE_RENOUVELLEMENT_MAX_ANS);
  return z
    .strictObject({
      ...champsDeConsentement(MODES_RENOUVELLEMENT, libelles),
      ressources: z
        .array(z.string().trim().regex(RESSOURCE_RE, { message: 'nom de ressource (portée) de la DGFiP attendu' }))
        .min(1, 'au moins une ressource')
        .max(20),
      voie: z.enum(VOIES_RENOUVELLEMENT),
      dureeAns: z
        .number()
        .int('un nombre entier d’années')
        .min(1, 'au moins 1 an')
        .max(max, `au plus ${max} an${max > 1 ? 's' : ''}, la durée maximale fixée par la commune`),
    })
    .superRefine((c, ctx) => {
      if (c.mode === 'en_ligne' && c.donnePar.type !== 'famille') {
        ctx.addIssue({ code: 'custom', path: ['donnePar', 'type'], message: 'un accord donné en ligne est donné par la famille elle-même' });
      }
      if (c.mode === 'formulaire_signe' && c.donnePar.type !== 'agent') {
        ctx.addIssue({ code: 'custom', path: ['donnePar', 'type'], message: 'un accord sur formulaire signé est enregistré par un agent' });
      }
      if (c.mode === 'formulaire_signe' && c.piece === null) {
        ctx.addIssue({ code: 'custom', path: ['piece'], message: 'obligatoire pour un accord sur formulaire signé : décrivez la pièce reçue et sa date' });
      }
      if (c.mode === 'en_ligne' && c.piece !== null) {
        ctx.addIssue({ code: 'custom', path: ['piece'], message: 'sans objet pour un accord donné en ligne' });
      }
      verifierDonneesEtRetrait(c, ctx, libelles);
      if (new Set(c.ressources).size !== c.ressources.length) ctx.addIssue({ code: 'custom', path: ['ressources'], message: 'ressource listée deux fois' });
    });
}

export type ConsentementRenouvellementInput = z.input<ReturnType<typeof schema>>;

/**
 * Validates a standing consent (from a form, the counter or storage) and derives its expiry.
 * Throws a `QuotientError` (`invalid`, `consentement_renouvellement_invalide`) naming each faulty
 * field. The result is frozen; instants are normalised to UTC.
 */
export function parseConsentementRenouvellement(input: unknown, options: OptionsRenouvellement = {}): ConsentementRenouvellement {
  const result = schema(options).safeParse(input, parseOptions);
  if (!result.success) {
    throw invalidInput('consentement_renouvellement_invalide', 'L’accord de renouvellement est incomplet ou incohérent.', result.error.issues);
  }
  const c = result.data;
  const recueilliLe = new Date(c.recueilliLe).toISOString();
  const donnees = c.donnees.map((d) => Object.freeze({ champ: d.champ, libelle: d.libelle ?? (options.libelles?.[d.champ] as string) }));
  return Object.freeze({
    ...c,
    donnePar: Object.freeze({ ...c.donnePar }),
    recueilliLe,
    ressources: Object.freeze([...c.ressources]),
    donnees: Object.freeze(donnees),
    expireLe: ajouterAns(recueilliLe, c.dureeAns),
    retireLe: c.retireLe === null ? null : new Date(c.retireLe).toISOString(),
  });
}

/**
 * The standing consent that goes with a consent just given: the same declarant, author, mode,
 * piece, instant, data and purpose, for the resources of the habilitation and the duration asked.
 */
export function renouvellementDe(
  consentement: Consentement,
  entree: { readonly ressources: readonly string[]; readonly dureeAns: number },
  options: OptionsRenouvellement = {},
): ConsentementRenouvellement {
  return parseConsentementRenouvellement(
    {
      declarant: consentement.declarant,
      donnePar: consentement.donnePar,
      mode: consentement.mode,
      piece: consentement.piece,
      recueilliLe: consentement.recueilliLe,
      versionTexte: VERSION_TEXTE_RENOUVELLEMENT,
      ressources: entree.ressources,
      donnees: consentement.donnees.map((d) => ({ champ: d.champ, libelle: d.libelle })),
      finalite: consentement.finalite,
      voie: 'etat_civil',
      dureeAns: entree.dureeAns,
      retireLe: null,
    },
    options,
  );
}

export type EtatRenouvellement = 'a_venir' | 'en_vigueur' | 'retire' | 'expire';

export const LIBELLES_ETAT_RENOUVELLEMENT: Record<EtatRenouvellement, string> = {
  a_venir: 'pas encore en vigueur',
  en_vigueur: 'en vigueur',
  retire: 'retiré',
  expire: 'arrivé à échéance',
};

/** Where the standing consent stands at instant `le` (ISO): whichever of withdrawal and expiry came first ends it. */
export function etatRenouvellement(c: ConsentementRenouvellement, le: string): EtatRenouvellement {
  const t = Date.parse(le);
  if (!Number.isFinite(t)) throw new QuotientError('invalid', 'instant_invalide', 'Instant attendu au format ISO 8601.');
  if (t < Date.parse(c.recueilliLe)) return 'a_venir';
  const expire = Date.parse(c.expireLe);
  const retire = c.retireLe === null ? Number.POSITIVE_INFINITY : Date.parse(c.retireLe);
  if (t >= Math.min(expire, retire)) return retire <= expire ? 'retire' : 'expire';
  return 'en_vigueur';
}

/** True when the standing consent is in force at instant `le`: given, not yet expired, not withdrawn. */
export function renouvellementEnVigueur(c: ConsentementRenouvellement, le: string): boolean {
  return etatRenouvellement(c, le) === 'en_vigueur';
}

/** A renewal call: the income year asked, when the call is made, and the fields asked. */
export interface AppelRenouvellement {
  readonly anneeRevenus: number;
  /** ISO instant of the call. */
  readonly le: string;
  readonly champs: readonly string[];
}

export type RaisonNonCouvert = 'a_venir' | 'retire' | 'expire' | 'annee_anterieure' | 'annee_non_close' | 'donnees_non_couvertes' | 'sans_donnee';

export type CouvertureRenouvellement = { readonly couvre: true } | { readonly couvre: false; readonly raison: RaisonNonCouvert; readonly manquants?: string[] };

/**
 * Whether the standing consent covers a renewal of income year N, asked at instant `le`: it is in
 * force then; N is not older than the latest avis at the time of the consent (the year before it
 * was given) — a renewal looks forward, never back; N is a year already over at the call; and the
 * call asks only for data the consent lists.
 */
export function couvreRenouvellement(c: ConsentementRenouvellement, appel: AppelRenouvellement): CouvertureRenouvellement {
  const etat = etatRenouvellement(c, appel.le);
  if (etat !== 'en_vigueur') return { couvre: false, raison: etat };
  if (!Number.isInteger(appel.anneeRevenus) || appel.anneeRevenus < new Date(c.recueilliLe).getUTCFullYear() - 1) {
    return { couvre: false, raison: 'annee_anterieure' };
  }
  if (appel.anneeRevenus >= new Date(appel.le).getUTCFullYear()) return { couvre: false, raison: 'annee_non_close' };
  if (appel.champs.length === 0) return { couvre: false, raison: 'sans_donnee' };
  const couverts = new Set(c.donnees.map((d) => d.champ));
  const manquants = [...new Set(appel.champs)].filter((champ) => !couverts.has(champ));
  if (manquants.length > 0) return { couvre: false, raison: 'donnees_non_couvertes', manquants };
  return { couvre: true };
}

const MESSAGES_NON_COUVERT: Record<RaisonNonCouvert, string> = {
  a_venir: 'L’accord de renouvellement n’était pas encore donné à cette date.',
  retire: 'L’accord de renouvellement a été retiré : la DGFiP ne peut plus être interrogée chaque année pour cette personne.',
  expire: 'L’accord de renouvellement est arrivé à échéance : un nouvel accord est nécessaire.',
  annee_anterieure: 'L’accord de renouvellement ne couvre pas un avis plus ancien que celui de l’année où il a été donné.',
  annee_non_close: 'Les revenus de cette année ne sont pas encore déclarés : aucun avis ne peut être demandé.',
  donnees_non_couvertes: 'L’accord de renouvellement ne couvre pas toutes les données demandées : un nouvel accord est nécessaire.',
  sans_donnee: 'Un appel à la DGFiP doit demander au moins une donnée.',
};

/**
 * The check a renewal makes just before its call (invariant 2 for campaigns): returns nothing when
 * covered; otherwise throws a `QuotientError` (`forbidden`, `renouvellement_<raison>`; `invalid`
 * for a call asking for nothing) whose message says why in French.
 */
export function exigerRenouvellement(c: ConsentementRenouvellement, appel: AppelRenouvellement): void {
  const couverture = couvreRenouvellement(c, appel);
  if (couverture.couvre) return;
  const { raison } = couverture;
  throw new QuotientError(raison === 'sans_donnee' ? 'invalid' : 'forbidden', `renouvellement_${raison}`, MESSAGES_NON_COUVERT[raison], {
    details: (couverture.manquants ?? []).map((m) => ({ path: 'champs', message: `donnée non couverte : ${m}` })),
  });
}
