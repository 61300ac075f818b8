import { z } from 'zod';
import { formatDateFrancaise, isIsoDate } from './dates.ts';
import type { Declarant } from './situation-fiscale.ts';
import { invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The identity control: are the declarants of the avis returned by the DGFiP the parents the
 * family declared? A typo or someone else's numéro fiscal returns another household (reference,
 * tricky case 9), so nothing is priced before this control passes. Nothing is guessed: whatever
 * is not clearly the same person goes to an instructor (`a_verifier`), and an avis on which none
 * of the family's parents appears is `discordant`.
 *
 * The control only ever sees declarants (names, first names, birth dates), never a fiscal
 * amount, so its result can be stored and shown to an instructor without leaking one. The birth
 * dates of the avis are compared, never copied into the result.
 */

// ---------------------------------------------------------------------------------------------
// Normalisation

/** Letters that Unicode does not decompose into a base letter plus marks. */
const LETTRES_SPECIALES: Record<string, string> = {
  Œ: 'OE',
  Æ: 'AE',
  ẞ: 'SS',
  Ø: 'O',
  Ł: 'L',
  Đ: 'D',
  Ð: 'D',
  Þ: 'TH',
  Ħ: 'H',
  Ŧ: 'T',
  Ŋ: 'NG',
  Ŀ: 'L',
  ı: 'I',
};
const LETTRES_SPECIALES_RE = new RegExp(`[${Object.keys(LETTRES_SPECIALES).join('')}]`, 'gu');
/** Apostrophe-like modifier letters: Unicode counts them as letters, people as punctuation. */
const APOSTROPHES_LETTRES_RE = /[\u02B9-\u02BC\u02BE\u02BF\u02C8\u02EE]/gu;
const MARQUES_RE = /\p{M}/gu;
const SEPARATEURS_RE = /[^\p{L}\p{N}]+/gu;

function sansMarques(texte: string): string {
  return texte.normalize('NFKD').replace(MARQUES_RE, '');
}

/**
 * The comparable form of a name: upper case, no accents or other marks, ligatures spelled out
 * (Œ → OE), and every run of hyphens, apostrophes, dots or spaces turned into one space.
 * `« N’Diaye-Fall  »` and `NDIAYE FALL`-like variants meet here; the result is idempotent.
 */
export function normaliserNom(texte: string): string {
  // Marks are removed before and after upper-casing: a few letters only decompose once upper case.
  const majuscules = sansMarques(sansMarques(texte).toUpperCase());
  return majuscules
    .replace(LETTRES_SPECIALES_RE, (c) => LETTRES_SPECIALES[c] ?? c)
    .replace(APOSTROPHES_LETTRES_RE, ' ')
    .replace(SEPARATEURS_RE, ' ')
    .trim();
}

function jetons(texte: string): string[] {
  const n = normaliserNom(texte);
  return n === '' ? [] : n.split(' ');
}

/** Particles and initials: a compound name sharing only these with another is not a partial match. */
const PARTICULES = new Set([
  'DE',
  'DU',
  'DES',
  'LA',
  'LE',
  'LES',
  'VAN',
  'VON',
  'DER',
  'DEN',
  'DI',
  'DA',
  'DAL',
  'DEL',
  'DELLA',
  'DOS',
  'DAS',
  'EL',
  'AL',
  'ET',
  'SAINT',
  'SAINTE',
  'ST',
  'STE',
  'BEN',
  'BIN',
  'AIT',
  'MAC',
  'MC',
]);
const significatif = (jeton: string) => jeton.length > 1 && !PARTICULES.has(jeton);

function estSousSuiteContigue(court: readonly string[], long: readonly string[]): boolean {
  for (let i = 0; i + court.length <= long.length; i++) {
    if (court.every((t, k) => long[i + k] === t)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Inputs

export const ROLES_PARENT = ['titulaire', 'autre_parent'] as const;
/** The parents a family account declares: the account holder and, optionally, the other parent. */
export type RoleParent = (typeof ROLES_PARENT)[number];

export const LIBELLES_ROLE_PARENT: Record<RoleParent, string> = {
  titulaire: 'titulaire du compte',
  autre_parent: 'autre parent',
};

/** Storage ranks of the parents of a family (1: the holder, 2: the other parent). */
export const RANG_PARENT: Record<RoleParent, 1 | 2> = { titulaire: 1, autre_parent: 2 };

export function roleParent(rang: 1 | 2): RoleParent {
  return rang === 1 ? 'titulaire' : 'autre_parent';
}

/** A parent as the family (or an agent) declared them; free typing, any case or accents. */
export interface ParentDeclare {
  readonly role: RoleParent;
  readonly nomNaissance: string;
  /** A married person may be known by a usage name; empty means none. */
  readonly nomUsage?: string | null;
  /** One or several first names, the first one first. */
  readonly prenoms: string;
  /** `AAAA-MM-JJ`, or null when unknown. */
  readonly dateNaissance: string | null;
}

/** One foyer fiscal answered by the source: its declarants and whom the family said lives in it. */
export interface FoyerFiscalAControler {
  /** In the order of the avis. Only the identity is read; anything else passed along is ignored. */
  readonly declarants: readonly Declarant[];
  /** The parents declared as declarants of this foyer (at least the one whose numéro was used). */
  readonly parentsAttendus: readonly RoleParent[];
}

export interface EntreeControleIdentite {
  readonly parents: readonly ParentDeclare[];
  /** The foyers fiscaux; the key keeps its short name, which the error paths (`foyers[0]…`) give. */
  readonly foyers: readonly FoyerFiscalAControler[];
}

export interface OptionsControleIdentite {
  /**
   * When true, a birth date missing on either side sends the match to an instructor. By default
   * it is only noted: the names then carry the control alone.
   */
  readonly exigerDateNaissance?: boolean;
}

export const CONFIGURATIONS_FAMILLE = ['couple_un_foyer', 'parent_seul', 'parents_deux_foyers'] as const;
/** How the family's parents file their taxes, as the family declared it. */
export type ConfigurationFamille = (typeof CONFIGURATIONS_FAMILLE)[number];

/**
 * Which parents each foyer must show, in the order of the calls: a married or pacsed couple
 * files one joint avis with both; a single parent files alone; unmarried parents file two avis,
 * the first called with the holder's numéro fiscal, the second with the other parent's.
 */
export function parentsAttendusParFoyerFiscal(configuration: ConfigurationFamille): RoleParent[][] {
  switch (configuration) {
    case 'couple_un_foyer':
      return [['titulaire', 'autre_parent']];
    case 'parent_seul':
      return [['titulaire']];
    case 'parents_deux_foyers':
      return [['titulaire'], ['autre_parent']];
  }
}

const isoDate = z.string().refine(isIsoDate, { message: 'date attendue au format AAAA-MM-JJ (date réelle du calendrier)' });
const nomSaisi = z
  .string()
  .trim()
  .max(200)
  .refine((s) => normaliserNom(s) !== '', { message: 'doit contenir au moins une lettre' });
const nomFacultatif = z
  .string()
  .trim()
  .max(200)
  .nullable()
  .optional()
  .transform((s) => (s && normaliserNom(s) !== '' ? s : null));

const parentSchema = z.strictObject({
  role: z.enum(ROLES_PARENT),
  nomNaissance: nomSaisi,
  nomUsage: nomFacultatif,
  prenoms: nomSaisi,
  dateNaissance: isoDate.nullable(),
});

// Declarants come from a SituationFiscale; `z.object` drops anything else (an RFR never gets in).
const declarantSchema = z.object({
  nomNaissance: z.string().max(200),
  nomUsage: nomFacultatif,
  prenoms: z.string().max(200),
  dateNaissance: isoDate.nullable(),
});

const foyerFiscalSchema = z.object({
  declarants: z.array(declarantSchema).min(1, 'au moins un déclarant').max(2, 'au plus deux déclarants'),
  parentsAttendus: z.array(z.enum(ROLES_PARENT)).min(1, 'au moins un parent attendu').max(2, 'au plus deux parents attendus'),
});

const entreeSchema = z
  .strictObject({
    parents: z.array(parentSchema).min(1, 'au moins un parent déclaré').max(2, 'au plus deux parents déclarés'),
    foyers: z.array(foyerFiscalSchema).min(1, 'au moins un foyer fiscal').max(2, 'au plus deux foyers fiscaux'),
  })
  .superRefine((e, ctx) => {
    const roles = e.parents.map((p) => p.role);
    roles.forEach((role, i) => {
      if (roles.indexOf(role) !== i) ctx.addIssue({ code: 'custom', path: ['parents', i, 'role'], message: `le rôle « ${role} » est déclaré deux fois` });
    });
    const vus = new Set<RoleParent>();
    e.foyers.forEach((f, i) => {
      f.parentsAttendus.forEach((role, k) => {
        if (!roles.includes(role)) {
          ctx.addIssue({ code: 'custom', path: ['foyers', i, 'parentsAttendus', k], message: `aucun parent déclaré n’a le rôle « ${role} »` });
        } else if (vus.has(role)) {
          ctx.addIssue({
            code: 'custom',
            path: ['foyers', i, 'parentsAttendus', k],
            message: `le parent « ${role} » ne peut être attendu que dans un seul foyer`,
          });
        }
        vus.add(role);
      });
    });
  });

type Parent = z.output<typeof parentSchema>;
type DeclarantLu = z.output<typeof declarantSchema>;

// ---------------------------------------------------------------------------------------------
// Outputs

export type VerdictIdentite = 'concordant' | 'a_verifier' | 'discordant';

export const LIBELLES_VERDICT_IDENTITE: Record<VerdictIdentite, string> = {
  concordant: 'identité concordante',
  a_verifier: 'identité à vérifier',
  discordant: 'identité discordante',
};

export type NiveauNom = 'identique' | 'partiel' | 'different';
export type NiveauPrenom = 'premier' | 'autre' | 'partiel' | 'different';
export type NiveauDateNaissance = 'identique' | 'differente' | 'inconnue_avis' | 'inconnue_declaree';

/** A declared parent recognised among the declarants of one foyer. */
export interface Correspondance {
  readonly role: RoleParent;
  /** Position of the foyer in the input, from 1. */
  readonly foyer: number;
  /** Position of the declarant on the avis (déclarant 1 or 2). */
  readonly declarant: number;
  readonly verdict: 'concordant' | 'a_verifier';
  /** False when the family declared this parent in another foyer, or in none. */
  readonly attendu: boolean;
  readonly nom: NiveauNom;
  readonly prenom: NiveauPrenom;
  readonly dateNaissance: NiveauDateNaissance;
}

export interface ResultatParent {
  readonly role: RoleParent;
  /** `non_concerne`: expected in no foyer and found in none (for example a parent living apart). */
  readonly verdict: VerdictIdentite | 'non_concerne';
  readonly correspondances: readonly Correspondance[];
  /** French sentences for the instructor. */
  readonly raisons: readonly string[];
}

export interface ResultatFoyerFiscal {
  /** Position of the foyer in the input, from 1. */
  readonly foyer: number;
  readonly verdict: VerdictIdentite;
  readonly parentsAttendus: readonly RoleParent[];
  readonly correspondances: readonly Correspondance[];
  /** Positions of the declarants in whom no declared parent was recognised. */
  readonly declarantsNonReconnus: readonly number[];
  readonly raisons: readonly string[];
}

export interface ResultatControleIdentite {
  readonly verdict: VerdictIdentite;
  /** One per declared parent, the holder first. */
  readonly parents: readonly ResultatParent[];
  /** One per foyer fiscal, in the input order (the silo keeps this result: the key stays `foyers`). */
  readonly foyers: readonly ResultatFoyerFiscal[];
  /** A summary sentence first, then what concerns several foyers at once. */
  readonly raisons: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Comparing one declared parent with one declarant

type ChampNom = 'nomNaissance' | 'nomUsage';

interface ComparaisonNom {
  readonly niveau: NiveauNom;
  readonly champDeclare: ChampNom;
  readonly champAvis: ChampNom;
  readonly declare: string;
  readonly avis: string;
}

interface ComparaisonPrenom {
  readonly niveau: NiveauPrenom;
  /** Position of the matching first name on the avis, from 1. */
  readonly rang: number | null;
  /** The declared first names cover every first name of the avis. */
  readonly tous: boolean;
}

type VerdictPaire = 'concordant' | 'a_verifier' | 'discordant' | 'aucun';

interface Comparaison {
  readonly nom: ComparaisonNom;
  readonly prenom: ComparaisonPrenom;
  readonly date: NiveauDateNaissance;
  readonly verdict: VerdictPaire;
  /** Higher is a closer match; only used to rank candidates. */
  readonly score: number;
}

function comparerNoms(declare: string, avis: string): NiveauNom {
  const a = jetons(declare);
  const b = jetons(avis);
  if (a.length === 0 || b.length === 0) return 'different';
  // Spaces inside a name are not significant (LE BRUN, LEBRUN; NDIAYE-FALL, NDIAYE FALL).
  if (a.join('') === b.join('')) return 'identique';
  const [court, long] = a.length <= b.length ? [a, b] : [b, a];
  if (court.length < long.length && estSousSuiteContigue(court, long) && court.some(significatif)) return 'partiel';
  return 'different';
}

const RANG_NOM: Record<NiveauNom, number> = { identique: 2, partiel: 1, different: 0 };

function meilleurNom(parent: Parent, d: DeclarantLu): ComparaisonNom {
  const declares: [ChampNom, string][] = [['nomNaissance', parent.nomNaissance]];
  if (parent.nomUsage) declares.push(['nomUsage', parent.nomUsage]);
  const avis: [ChampNom, string][] = [['nomNaissance', d.nomNaissance]];
  if (d.nomUsage) avis.push(['nomUsage', d.nomUsage]);
  let best: ComparaisonNom | null = null;
  // Same kind of name first (birth with birth, usage with usage), then the crossings.
  const paires: [[ChampNom, string], [ChampNom, string]][] = [];
  for (const x of declares) for (const y of avis) if (x[0] === y[0]) paires.push([x, y]);
  for (const x of declares) for (const y of avis) if (x[0] !== y[0]) paires.push([x, y]);
  for (const [[champDeclare, declare], [champAvis, nomAvis]] of paires) {
    const niveau = comparerNoms(declare, nomAvis);
    if (!best || RANG_NOM[niveau] > RANG_NOM[best.niveau]) best = { niveau, champDeclare, champAvis, declare, avis: nomAvis };
  }
  return best as ComparaisonNom;
}

function comparerPrenoms(declare: string, avis: string): ComparaisonPrenom {
  const d = jetons(declare).join('');
  // The avis separates first names by spaces and keeps the hyphen of a composed one (JEAN-PIERRE).
  const unites = avis
    .split(/\s+/u)
    .map((u) => jetons(u))
    .filter((u) => u.length > 0);
  const tokensAvis = unites.flat();
  if (d === '' || unites.length === 0) return { niveau: 'different', rang: null, tous: false };
  // A run of whole first names of the avis written the same, hyphens and spaces aside.
  for (let i = 0; i < unites.length; i++) {
    for (let j = i; j < unites.length; j++) {
      if (
        unites
          .slice(i, j + 1)
          .flat()
          .join('') === d
      ) {
        return { niveau: i === 0 ? 'premier' : 'autre', rang: i + 1, tous: i === 0 && j === unites.length - 1 };
      }
    }
  }
  if (jetons(declare).some((t) => significatif(t) && tokensAvis.includes(t))) return { niveau: 'partiel', rang: null, tous: false };
  return { niveau: 'different', rang: null, tous: false };
}

const RANG_PRENOM: Record<NiveauPrenom, number> = { premier: 2, autre: 2, partiel: 1, different: 0 };
const POIDS_VERDICT: Record<VerdictPaire, number> = { concordant: 3, a_verifier: 2, discordant: 1, aucun: 0 };

function comparer(parent: Parent, d: DeclarantLu, options: OptionsControleIdentite): Comparaison {
  const nom = meilleurNom(parent, d);
  const prenom = comparerPrenoms(parent.prenoms, d.prenoms);
  const date: NiveauDateNaissance =
    d.dateNaissance === null
      ? 'inconnue_avis'
      : parent.dateNaissance === null
        ? 'inconnue_declaree'
        : d.dateNaissance === parent.dateNaissance
          ? 'identique'
          : 'differente';
  const n = RANG_NOM[nom.niveau];
  const p = RANG_PRENOM[prenom.niveau];
  let verdict: VerdictPaire;
  if (date === 'differente') {
    // A differing birth date is another person, however alike the names; kept only to explain.
    verdict = n === 2 && p === 2 ? 'discordant' : 'aucun';
  } else if (n === 2 && p === 2) {
    verdict = date === 'identique' || !options.exigerDateNaissance ? 'concordant' : 'a_verifier';
  } else if (date === 'identique' && n + p >= 2) {
    // Same birth date and one name alike: a changed name, a nickname, a twin… for a person to say.
    verdict = 'a_verifier';
  } else if (date !== 'identique' && n >= 1 && p >= 1 && n + p >= 3) {
    verdict = 'a_verifier';
  } else {
    verdict = 'aucun';
  }
  const score = POIDS_VERDICT[verdict] * 1000 + n * 100 + p * 10 + (prenom.niveau === 'premier' ? 2 : 0) + (date === 'identique' ? 1 : 0);
  return { nom, prenom, date, verdict, score };
}

// ---------------------------------------------------------------------------------------------
// Sentences (French, for the instructor; names only, never an amount nor a date of the avis)

const espaces = (s: string) => s.trim().replace(/\s+/gu, ' ');

function nomParent(p: Parent): string {
  const base = `${espaces(p.prenoms)} ${espaces(p.nomUsage ?? p.nomNaissance)}`;
  return p.nomUsage ? `${base} (nom de naissance ${espaces(p.nomNaissance)})` : base;
}

function quiParent(p: Parent): string {
  return `${nomParent(p)} (${LIBELLES_ROLE_PARENT[p.role]})`;
}

function nomDeclarant(d: DeclarantLu): string {
  const base = `${espaces(d.prenoms)} ${espaces(d.nomNaissance)}`;
  return d.nomUsage ? `${base} (nom d’usage ${espaces(d.nomUsage)})` : base;
}

const ordinal = (n: number) => (n === 1 ? '1er' : `${n}e`);

function deAvis(foyerFiscal: number, nbFoyersFiscaux: number): string {
  if (nbFoyersFiscaux === 1) return 'de l’avis';
  return foyerFiscal === 1 ? 'du premier avis' : 'du second avis';
}

function surAvis(foyerFiscal: number, nbFoyersFiscaux: number): string {
  if (nbFoyersFiscaux === 1) return 'sur l’avis';
  return foyerFiscal === 1 ? 'sur le premier avis' : 'sur le second avis';
}

const LIBELLE_CHAMP_NOM: Record<ChampNom, string> = { nomNaissance: 'nom de naissance', nomUsage: 'nom d’usage' };

function phraseNom(c: ComparaisonNom): string {
  if (c.niveau === 'identique') {
    const base =
      c.champDeclare === c.champAvis
        ? `même ${LIBELLE_CHAMP_NOM[c.champAvis]}`
        : `${LIBELLE_CHAMP_NOM[c.champDeclare]} déclaré identique au ${LIBELLE_CHAMP_NOM[c.champAvis]} de l’avis`;
    const simple = (s: string) => espaces(s).toUpperCase();
    return simple(c.declare) === simple(c.avis) ? base : `${base} (à l’écriture près : « ${espaces(c.declare)} » et « ${espaces(c.avis)} »)`;
  }
  if (c.niveau === 'partiel') {
    return jetons(c.declare).length < jetons(c.avis).length
      ? `le nom déclaré « ${espaces(c.declare)} » n’est qu’une partie du nom « ${espaces(c.avis)} » de l’avis`
      : `le nom « ${espaces(c.avis)} » de l’avis n’est qu’une partie du nom déclaré « ${espaces(c.declare)} »`;
  }
  return `nom différent (déclaré « ${espaces(c.declare)} », sur l’avis « ${espaces(c.avis)} ») : changement de nom ou nom d’usage possible`;
}

function phrasePrenom(c: ComparaisonPrenom, parent: Parent, d: DeclarantLu): string {
  switch (c.niveau) {
    case 'premier':
      return c.tous ? 'mêmes prénoms' : 'même premier prénom';
    case 'autre':
      return `le prénom déclaré « ${espaces(parent.prenoms)} » est le ${ordinal(c.rang ?? 0)} prénom de l’avis (« ${espaces(d.prenoms)} »), pas le premier`;
    case 'partiel':
      return `prénoms qui ne concordent qu’en partie (déclaré « ${espaces(parent.prenoms)} », sur l’avis « ${espaces(d.prenoms)} »)`;
    case 'different':
      return `prénom différent (déclaré « ${espaces(parent.prenoms)} », sur l’avis « ${espaces(d.prenoms)} »)`;
  }
}

function phraseDate(date: NiveauDateNaissance, parent: Parent): string {
  switch (date) {
    case 'identique':
      return 'même date de naissance';
    case 'inconnue_avis':
      return 'date de naissance absente de l’avis, donc non comparée';
    case 'inconnue_declaree':
      return 'date de naissance non déclarée par la famille, donc non comparée';
    case 'differente':
      return `date de naissance différente de celle déclarée (${formatDateFrancaise(parent.dateNaissance as string)})`;
  }
}

function phraseComparaison(c: Comparaison, parent: Parent, d: DeclarantLu): string {
  return [phraseNom(c.nom), phrasePrenom(c.prenom, parent, d), phraseDate(c.date, parent)].join(' ; ');
}

// ---------------------------------------------------------------------------------------------
// The control

interface Affectation {
  /** Per parent (same order as the sorted parents), the declarant index or -1. */
  readonly choix: readonly number[];
  readonly score: number;
}

/** Every way to give each parent at most one declarant, no declarant to two parents. */
function affectations(nbParents: number, nbDeclarants: number, admissible: (p: number, d: number) => boolean): number[][] {
  const out: number[][] = [];
  const rec = (p: number, courant: number[]) => {
    if (p === nbParents) {
      out.push([...courant]);
      return;
    }
    for (let d = -1; d < nbDeclarants; d++) {
      if (d >= 0 && (courant.includes(d) || !admissible(p, d))) continue;
      courant.push(d);
      rec(p + 1, courant);
      courant.pop();
    }
  };
  rec(0, []);
  return out;
}

function pire(verdicts: readonly VerdictIdentite[]): VerdictIdentite {
  if (verdicts.includes('discordant')) return 'discordant';
  if (verdicts.includes('a_verifier')) return 'a_verifier';
  return 'concordant';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Controls the declarants of each foyer against the parents the family declared. Throws a
 * `QuotientError` (`invalid`, `controle_identite_invalide`) when the input itself is incoherent
 * (a parent expected in two foyers, an unknown role…). The result is frozen and does not depend
 * on the order of the parents nor of the declarants of an avis.
 */
export function controlerIdentite(entree: EntreeControleIdentite, options: OptionsControleIdentite = {}): ResultatControleIdentite {
  const parsed = entreeSchema.safeParse(entree, parseOptions);
  if (!parsed.success) {
    throw invalidInput('controle_identite_invalide', 'Les données du contrôle d’identité sont incomplètes ou incohérentes.', parsed.error.issues);
  }
  const parents = [...parsed.data.parents].sort((a, b) => ROLES_PARENT.indexOf(a.role) - ROLES_PARENT.indexOf(b.role));
  const foyersFiscaux = parsed.data.foyers;
  const nbFoyersFiscaux = foyersFiscaux.length;

  const foyerFiscalAttendu = new Map<RoleParent, number>();
  foyersFiscaux.forEach((f, i) => f.parentsAttendus.forEach((role) => foyerFiscalAttendu.set(role, i + 1)));

  const resultatsFoyersFiscaux: ResultatFoyerFiscal[] = [];
  const comparaisonsParFoyerFiscal: Comparaison[][][] = [];

  foyersFiscaux.forEach((foyerFiscal, index) => {
    const numero = index + 1;
    const attendus = new Set(foyerFiscal.parentsAttendus);
    const comps = parents.map((p) => foyerFiscal.declarants.map((d) => comparer(p, d, options)));
    comparaisonsParFoyerFiscal.push(comps);

    const trouvable = (p: number, d: number) => {
      const v = comps[p]?.[d]?.verdict;
      return v === 'concordant' || v === 'a_verifier';
    };
    // The best overall assignment; an expected parent wins an exact tie.
    const candidates: Affectation[] = affectations(parents.length, foyerFiscal.declarants.length, trouvable).map((choix) => ({
      choix,
      score: choix.reduce((s, d, p) => {
        const parent = parents[p] as Parent;
        return d < 0 ? s : s + (comps[p]?.[d]?.score ?? 0) * 2 + (attendus.has(parent.role) ? 1 : 0);
      }, 0),
    }));
    const max = Math.max(...candidates.map((a) => a.score));
    const meilleures = candidates.filter((a) => a.score === max);
    const retenue = meilleures[0] as Affectation;
    const ambigu = meilleures.length > 1;

    const correspondances: Correspondance[] = [];
    retenue.choix.forEach((d, p) => {
      if (d < 0) return;
      const parent = parents[p] as Parent;
      const c = comps[p]?.[d] as Comparaison;
      correspondances.push({
        role: parent.role,
        foyer: numero,
        declarant: d + 1,
        verdict: c.verdict === 'concordant' ? 'concordant' : 'a_verifier',
        attendu: attendus.has(parent.role),
        nom: c.nom.niveau,
        prenom: c.prenom.niveau,
        dateNaissance: c.date,
      });
    });

    const declarantsNonReconnus = foyerFiscal.declarants.map((_, d) => d + 1).filter((n) => !correspondances.some((c) => c.declarant === n));
    const raisons: string[] = [];
    let verdict: VerdictIdentite;
    if (correspondances.length === 0) {
      verdict = 'discordant';
      raisons.push(
        `Aucun des parents déclarés ne figure ${surAvis(numero, nbFoyersFiscaux)}, qui concerne ${foyerFiscal.declarants.map(nomDeclarant).join(' et ')} : le numéro fiscal saisi est peut-être celui d’une autre personne.`,
      );
    } else {
      const problemes: string[] = [];
      for (const role of foyerFiscal.parentsAttendus) {
        const parent = parents.find((p) => p.role === role) as Parent;
        const c = correspondances.find((x) => x.role === role);
        if (!c) problemes.push(`${quiParent(parent)} était attendu(e) ${surAvis(numero, nbFoyersFiscaux)} mais n’y a pas été reconnu(e).`);
        else if (c.verdict === 'a_verifier')
          problemes.push(`Pour ${quiParent(parent)}, la correspondance avec le déclarant ${c.declarant} ${deAvis(numero, nbFoyersFiscaux)} est incertaine.`);
      }
      for (const c of correspondances.filter((x) => !x.attendu)) {
        const parent = parents.find((p) => p.role === c.role) as Parent;
        const ailleurs = foyerFiscalAttendu.get(c.role);
        problemes.push(
          ailleurs === undefined
            ? `${quiParent(parent)} figure ${surAvis(numero, nbFoyersFiscaux)} (déclarant ${c.declarant}) alors que la famille ne l’a pas déclaré(e) dans ce foyer fiscal.`
            : `${quiParent(parent)} figure ${surAvis(numero, nbFoyersFiscaux)} (déclarant ${c.declarant}) alors que la famille l’a déclaré(e) dans l’autre foyer fiscal : les numéros fiscaux ont peut-être été intervertis.`,
        );
      }
      for (const n of declarantsNonReconnus) {
        problemes.push(
          `Le déclarant ${n} ${deAvis(numero, nbFoyersFiscaux)}, ${nomDeclarant(foyerFiscal.declarants[n - 1] as DeclarantLu)}, n’est aucun des parents déclarés : ses revenus comptent dans ce foyer fiscal.`,
        );
      }
      if (ambigu)
        problemes.push(
          `Plusieurs déclarants ${deAvis(numero, nbFoyersFiscaux)} correspondent aussi bien aux parents déclarés : impossible de choisir sans examen.`,
        );
      verdict = problemes.length === 0 ? 'concordant' : 'a_verifier';
      raisons.push(...(verdict === 'concordant' ? [`Les parents attendus ${surAvis(numero, nbFoyersFiscaux)} y ont tous été reconnus.`] : problemes));
    }
    resultatsFoyersFiscaux.push({ foyer: numero, verdict, parentsAttendus: [...foyerFiscal.parentsAttendus], correspondances, declarantsNonReconnus, raisons });
  });

  const raisonsGlobales: string[] = [];
  const resultatsParents: ResultatParent[] = parents.map((parent, p) => {
    const correspondances = resultatsFoyersFiscaux.flatMap((f) => f.correspondances.filter((c) => c.role === parent.role));
    const attenduDans = foyerFiscalAttendu.get(parent.role);
    const raisons: string[] = [];
    for (const c of correspondances) {
      const d = foyersFiscaux[c.foyer - 1]?.declarants[c.declarant - 1] as DeclarantLu;
      const comp = comparaisonsParFoyerFiscal[c.foyer - 1]?.[p]?.[c.declarant - 1] as Comparaison;
      const lien = c.verdict === 'concordant' ? 'correspond au' : 'correspond peut-être, à vérifier, au';
      raisons.push(
        `${quiParent(parent)} ${lien} déclarant ${c.declarant} ${deAvis(c.foyer, nbFoyersFiscaux)} (${nomDeclarant(d)}) : ${phraseComparaison(comp, parent, d)}.`,
      );
    }
    let verdict: VerdictIdentite | 'non_concerne';
    const ici = correspondances.find((c) => c.foyer === attenduDans);
    if (attenduDans === undefined) {
      verdict = correspondances.length === 0 ? 'non_concerne' : 'a_verifier';
    } else if (!ici) {
      verdict = correspondances.length === 0 ? 'discordant' : 'a_verifier';
      const foyerFiscal = foyersFiscaux[attenduDans - 1] as z.output<typeof foyerFiscalSchema>;
      // The closest declarant, when only the birth date parts them, tells the instructor why.
      const comps = comparaisonsParFoyerFiscal[attenduDans - 1]?.[p] ?? [];
      const proche = comps
        .map((c, d) => ({ c, d }))
        .filter((x) => x.c.verdict === 'discordant')
        .sort((a, b) => b.c.score - a.c.score)[0];
      raisons.push(`Aucun déclarant ${deAvis(attenduDans, nbFoyersFiscaux)} n’a été reconnu comme ${quiParent(parent)}.`);
      if (proche) {
        const d = foyerFiscal.declarants[proche.d] as DeclarantLu;
        raisons.push(
          `Le déclarant ${proche.d + 1} (${nomDeclarant(d)}) a les mêmes nom et prénom, mais une ${phraseDate('differente', parent)} : ce n’est pas la même personne, ou la date déclarée est erronée.`,
        );
      }
    } else if (correspondances.length > 1) {
      verdict = 'a_verifier';
    } else {
      verdict = ici.verdict;
    }
    if (correspondances.length > 1) {
      const phrase = `${quiParent(parent)} figure sur les deux avis : le même foyer fiscal a peut-être été interrogé deux fois, et ses revenus ne doivent pas être comptés deux fois.`;
      raisons.push(phrase);
      raisonsGlobales.push(phrase);
    }
    if (attenduDans === undefined && correspondances.length === 0) {
      raisons.push(`${quiParent(parent)} n’était attendu(e) sur aucun avis : rien à contrôler.`);
    }
    return { role: parent.role, verdict, correspondances, raisons };
  });

  // Foyers decide discordance; a parent missing or uncertain only ever asks for a review.
  const verdict = pire([
    ...resultatsFoyersFiscaux.map((f) => f.verdict),
    ...resultatsParents.map((r): VerdictIdentite => (r.verdict === 'a_verifier' || r.verdict === 'discordant' ? 'a_verifier' : 'concordant')),
  ]);
  const resume: Record<VerdictIdentite, string> = {
    concordant: 'L’identité des déclarants concorde avec celle des parents déclarés.',
    a_verifier: 'Le contrôle d’identité n’est pas concluant : un instructeur doit examiner la demande.',
    discordant: 'Le contrôle d’identité a échoué : au moins un avis ne concerne aucun des parents déclarés.',
  };
  return deepFreeze({ verdict, parents: resultatsParents, foyers: resultatsFoyersFiscaux, raisons: [resume[verdict], ...raisonsGlobales] });
}

/**
 * Every sentence of a result, once each, in reading order: the summary and what concerns several
 * avis, then each avis, then each parent. For a request's history, where one list is enough.
 */
export function motifsControleIdentite(resultat: ResultatControleIdentite): string[] {
  const tous = [...resultat.raisons, ...resultat.foyers.flatMap((f) => f.raisons), ...resultat.parents.flatMap((p) => p.raisons)];
  return [...new Set(tous)];
}
