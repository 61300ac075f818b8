import { z } from 'zod';
import { normaliserNom, type ResultatControleIdentite, type RoleParent } from './controle-identite.ts';
import { isIsoDate } from './dates.ts';
import { NOM_NAISSANCE_DGFIP_MAX } from './etat-civil.ts';
import { contientUnChiffre } from './numero-fiscal.ts';
import type { Declarant } from './situation-fiscale.ts';
import { invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The état civil Quotient keeps for a declarant who gave a standing consent for renewal, and only
 * for them: what an état civil call (SFiP, or R2P then Impôt particulier) needs to find the person
 * again next year — birth name, first names, sex, birth date and place. Never the numéro fiscal.
 * The shape is the one the état civil sources take (`EtatCivil`), so that a renewal passes it as is.
 */
export interface EtatCivilConserve {
  /** Birth name, as the DGFiP writes it on the avis. */
  readonly nom: string;
  /** First names separated by spaces, as on the avis. */
  readonly prenoms: string;
  readonly sexe?: 'M' | 'F';
  /** `AAAA-MM-JJ`. */
  readonly dateNaissance?: string;
  /** INSEE country code (99100 = France), and for France the département and commune parts. */
  readonly naisCodePays?: string;
  readonly naisCodeDept?: string;
  readonly naisCodeCommune?: string;
}

const nom = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !contientUnChiffre(v), { message: 'un nom ne contient pas de chiffre' });

const schema = z.strictObject({
  nom: nom(NOM_NAISSANCE_DGFIP_MAX),
  prenoms: nom(200),
  sexe: z.enum(['M', 'F']).optional(),
  dateNaissance: z.string().refine(isIsoDate, { message: 'date attendue au format AAAA-MM-JJ' }).optional(),
  naisCodePays: z
    .string()
    .regex(/^99[0-9]{3}$/, { message: 'code pays INSEE à 5 chiffres commençant par 99' })
    .optional(),
  naisCodeDept: z
    .string()
    .regex(/^(?:[0-9]{2,3}|2[AB])$/, { message: 'code département de 2 ou 3 caractères' })
    .optional(),
  naisCodeCommune: z
    .string()
    .regex(/^[0-9]{2,3}$/, { message: 'code commune de 2 ou 3 chiffres' })
    .optional(),
});

/** Validates a kept état civil (as stored in the silo). Throws a `QuotientError` (`invalid`, `etat_civil_conserve_invalide`). */
export function parseEtatCivilConserve(input: unknown): EtatCivilConserve {
  const result = schema.safeParse(input, parseOptions);
  if (!result.success) throw invalidInput('etat_civil_conserve_invalide', 'L’état civil conservé est incomplet ou mal formé.', result.error.issues);
  const e = result.data;
  return Object.freeze({
    nom: e.nom,
    prenoms: e.prenoms,
    ...(e.sexe ? { sexe: e.sexe } : {}),
    ...(e.dateNaissance ? { dateNaissance: e.dateNaissance } : {}),
    ...(e.naisCodePays ? { naisCodePays: e.naisCodePays } : {}),
    ...(e.naisCodeDept ? { naisCodeDept: e.naisCodeDept } : {}),
    ...(e.naisCodeCommune ? { naisCodeCommune: e.naisCodeCommune } : {}),
  });
}

/** What the family typed for the call by état civil, when it went that way. */
export type EtatCivilSaisi = Partial<EtatCivilConserve> & Pick<EtatCivilConserve, 'nom' | 'prenoms'>;

/** True when two états civils name the same person: same birth name and first name, and no birth date that differs. */
function memePersonne(
  a: Pick<EtatCivilConserve, 'nom' | 'prenoms' | 'dateNaissance'>,
  b: Pick<EtatCivilConserve, 'nom' | 'prenoms' | 'dateNaissance'>,
): boolean {
  const premier = (p: string) => normaliserNom(p).split(' ')[0] ?? '';
  return (
    normaliserNom(a.nom) === normaliserNom(b.nom) &&
    premier(a.prenoms) === premier(b.prenoms) &&
    (a.dateNaissance === undefined || b.dateNaissance === undefined || a.dateNaissance === b.dateNaissance)
  );
}

const sexeEtLieu = (e: Partial<EtatCivilConserve>) => ({
  ...(e.sexe ? { sexe: e.sexe } : {}),
  ...(e.naisCodePays ? { naisCodePays: e.naisCodePays } : {}),
  ...(e.naisCodeDept ? { naisCodeDept: e.naisCodeDept } : {}),
  ...(e.naisCodeCommune ? { naisCodeCommune: e.naisCodeCommune } : {}),
});

export interface EntreeEtatCivilConserve {
  readonly role: RoleParent;
  /** The identity control of the request, and the declarants of its avis in the same order. */
  readonly controle: ResultatControleIdentite;
  readonly foyers: ReadonlyArray<{ readonly declarants: readonly Declarant[] }>;
  /** The état civil typed for this declarant's call, if the request went by état civil. */
  readonly saisi?: EtatCivilSaisi;
  /** What was kept before for them (sex and place of birth survive a request that did not give them again). */
  readonly precedent?: EtatCivilConserve;
  /** The birth date the family declared, when the avis does not give one. */
  readonly dateNaissanceDeclaree?: string | null;
}

/**
 * The état civil to keep for a declarant after a request, or null when nothing reliable can be
 * kept. Only from an avis the identity control matched to this parent without doubt (`concordant`):
 * names and birth date as the DGFiP writes them on the avis (the birth date declared when the avis
 * has none); sex and place of birth, which the avis does not give, from the état civil typed for the
 * call when it names the same person, else from what was kept before for the same person.
 */
export function etatCivilAConserver(entree: EntreeEtatCivilConserve): EtatCivilConserve | null {
  if (entree.controle.verdict !== 'concordant') return null;
  const parent = entree.controle.parents.find((p) => p.role === entree.role);
  if (!parent || parent.verdict !== 'concordant') return null;
  const sures = parent.correspondances.filter((c) => c.verdict === 'concordant');
  if (sures.length !== 1) return null;
  const c = sures[0] as (typeof sures)[number];
  const declarant = entree.foyers[c.foyer - 1]?.declarants[c.declarant - 1];
  if (!declarant) return null;
  const dateNaissance = declarant.dateNaissance ?? entree.dateNaissanceDeclaree ?? undefined;
  const base = { nom: declarant.nomNaissance, prenoms: declarant.prenoms, ...(dateNaissance ? { dateNaissance } : {}) };
  const source = [entree.saisi, entree.precedent].find((e) => e !== undefined && memePersonne(e, base));
  try {
    return parseEtatCivilConserve({ ...base, ...(source ? sexeEtLieu(source) : {}) });
  } catch {
    // An avis whose names the DGFiP could not search by (a digit, too long): nothing is kept.
    return null;
  }
}
