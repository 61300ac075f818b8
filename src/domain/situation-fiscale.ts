import { z } from 'zod';
import { isIsoDate } from './dates.ts';
import { invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The situation fiscale: what one avis says about one foyer fiscal for one income year, whatever
 * the source (API Impôt particulier, SFiP, legacy API Particulier, or an agent keying a paper avis).
 * It holds only what the QF and the identity control need (minimisation, ARCHITECTURE §3.3):
 * never the numéro fiscal, never categorical incomes.
 */

/** `sitFam`: marié, pacsé (O), célibataire, divorcé, veuf. */
export const SITUATIONS_FAMILLE = ['M', 'O', 'C', 'D', 'V'] as const;
export type SituationFamille = (typeof SITUATIONS_FAMILLE)[number];

export const LIBELLES_SITUATION_FAMILLE: Record<SituationFamille, string> = {
  M: 'marié(e)s',
  O: 'pacsé(e)s',
  C: 'célibataire',
  D: 'divorcé(e)',
  V: 'veuf(ve)',
};

export const SOURCES_SITUATION = ['impot-particulier', 'sfip', 'api-particulier', 'saisie-agent'] as const;
export type SourceSituation = (typeof SOURCES_SITUATION)[number];

/**
 * What the source says about the avis itself, for the instructor: a correction issued since
 * (`erreurCorrectif`), or one of the partial-year avis of a year with a death (`situationPartielle`).
 */
export const AVERTISSEMENTS_AVIS = ['avis_corrige', 'situation_partielle'] as const;
export type AvertissementAvis = (typeof AVERTISSEMENTS_AVIS)[number];

export const LIBELLES_AVERTISSEMENTS_AVIS: Record<AvertissementAvis, string> = {
  avis_corrige: 'un avis correctif plus récent existe : ce document n’est pas la situation la plus récente',
  situation_partielle: 'avis partiel : une partie de l’année seulement (décès d’un des déclarants)',
};

/** Upper bounds that no real avis reaches; they keep every later computation exact in cents. */
export const RFR_MAX = 100_000_000_000;
export const NB_PARTS_MAX = 100;
export const NB_PAC_MAX = 50;

/**
 * The detail of persons at charge, when the habilitation grants it (`pac.nbPac*`). Letters are the
 * boxes of the déclaration. The two "dont" counts are subsets, not extra persons.
 */
export interface DetailPersonnesACharge {
  /** Box F: minor (or disabled) children living only in this foyer. */
  readonly enfantsResidenceExclusive: number;
  /** Box G: of the above, holding a disability card. */
  readonly dontInvalidesResidenceExclusive: number;
  /** Boxes H (and P for grand-children): children in alternating residence (garde alternée). */
  readonly enfantsResidenceAlternee: number;
  /** Box I: of the above, holding a disability card. */
  readonly dontInvalidesResidenceAlternee: number;
  /** Boxes J and N: adult children attached to the foyer (with their own family for N). */
  readonly adultesRattaches: number;
  /** Box R: other disabled persons living in the foyer. */
  readonly autresInvalides: number;
}

export interface Declarant {
  /** Upper case in DGFiP data; kept as received, trimmed. */
  readonly nomNaissance: string;
  readonly nomUsage: string | null;
  /** Several first names separated by spaces. */
  readonly prenoms: string;
  /** `AAAA-MM-JJ`, or null when the source did not give it. */
  readonly dateNaissance: string | null;
}

export interface SituationFiscale {
  /** The income year (`annrev`); the avis is of the following year. */
  readonly anneeRevenus: number;
  /** Revenu fiscal de référence, integer euros, never negative. */
  readonly rfr: number;
  /** Nombre de parts: a positive multiple of 0.25. */
  readonly nbParts: number;
  readonly situationFamille: SituationFamille;
  readonly nbPac: number;
  readonly detailPac: DetailPersonnesACharge | null;
  /** Box T (parent isolé), when the source gives it. */
  readonly parentIsole: boolean | null;
  /** One or two declarants, in the order of the avis. */
  readonly declarants: readonly Declarant[];
  /** Tax address on 1 January of the year after `anneeRevenus`, on one line. */
  readonly adresse: string | null;
  /** Date the avis was established (`datEtab`), `AAAA-MM-JJ`. */
  readonly dateEtablissement: string | null;
  readonly source: SourceSituation;
  /** Empty for an ordinary avis. */
  readonly avertissements: readonly AvertissementAvis[];
  /** Derived: persons of the foyer, declarants by `situationFamille` plus persons at charge. */
  readonly nbPersonnes: number;
}

const count = (max: number) => z.number().int().min(0).max(max);
const isoDate = z.string().refine(isIsoDate, { message: 'date attendue au format AAAA-MM-JJ (date réelle du calendrier)' });
const name = z.string().trim().min(1).max(200);

const detailSchema = z
  .strictObject({
    enfantsResidenceExclusive: count(NB_PAC_MAX),
    dontInvalidesResidenceExclusive: count(NB_PAC_MAX),
    enfantsResidenceAlternee: count(NB_PAC_MAX),
    dontInvalidesResidenceAlternee: count(NB_PAC_MAX),
    adultesRattaches: count(NB_PAC_MAX),
    autresInvalides: count(NB_PAC_MAX),
  })
  .superRefine((d, ctx) => {
    if (d.dontInvalidesResidenceExclusive > d.enfantsResidenceExclusive) {
      ctx.addIssue({ code: 'custom', path: ['dontInvalidesResidenceExclusive'], message: 'ne peut pas dépasser le nombre d’enfants en résidence exclusive' });
    }
    if (d.dontInvalidesResidenceAlternee > d.enfantsResidenceAlternee) {
      ctx.addIssue({ code: 'custom', path: ['dontInvalidesResidenceAlternee'], message: 'ne peut pas dépasser le nombre d’enfants en résidence alternée' });
    }
  });

export const situationFiscaleSchema = z
  .strictObject({
    anneeRevenus: z.number().int().min(1990).max(2100),
    rfr: z.number().int().min(0, 'le revenu fiscal de référence ne peut pas être négatif').max(RFR_MAX),
    nbParts: z
      .number()
      .gt(0, 'le nombre de parts doit être supérieur à 0')
      .max(NB_PARTS_MAX)
      .refine((n) => Number.isInteger(n * 4), { message: 'le nombre de parts est un multiple de 0,25 (1 ; 1,25 ; 1,5…)' }),
    situationFamille: z.enum(SITUATIONS_FAMILLE),
    nbPac: count(NB_PAC_MAX),
    detailPac: detailSchema.nullable().default(null),
    parentIsole: z.boolean().nullable().default(null),
    declarants: z
      .array(
        z.strictObject({
          nomNaissance: name,
          nomUsage: z
            .string()
            .trim()
            .max(200)
            .nullable()
            .default(null)
            .transform((v) => (v === '' ? null : v)),
          prenoms: name,
          dateNaissance: isoDate.nullable().default(null),
        }),
      )
      .min(1, 'au moins un déclarant')
      .max(2, 'au plus deux déclarants'),
    adresse: z
      .string()
      .trim()
      .max(500)
      .nullable()
      .default(null)
      .transform((v) => (v === '' ? null : v)),
    dateEtablissement: isoDate.nullable().default(null),
    source: z.enum(SOURCES_SITUATION),
    avertissements: z.array(z.enum(AVERTISSEMENTS_AVIS)).max(AVERTISSEMENTS_AVIS.length).default([]),
    // Derived: accepted so that a stored situation reads back, then recomputed, never trusted.
    nbPersonnes: z.number().optional(),
  })
  .superRefine((s, ctx) => {
    const d = s.detailPac;
    if (d && d.enfantsResidenceExclusive + d.enfantsResidenceAlternee + d.adultesRattaches + d.autresInvalides !== s.nbPac) {
      ctx.addIssue({ code: 'custom', path: ['detailPac'], message: `le détail des personnes à charge ne totalise pas ${s.nbPac} (nbPac)` });
    }
  });

export type SituationFiscaleInput = z.input<typeof situationFiscaleSchema>;

/** Declarants of the foyer as the DGFiP counts them: two for a married or pacsed couple. */
export function nbDeclarantsFoyerFiscal(situationFamille: SituationFamille): 1 | 2 {
  return situationFamille === 'M' || situationFamille === 'O' ? 2 : 1;
}

/** Household size as the DGFiP documents it: declarants by `sitFam` plus `pac.nbPac`. */
export function nbPersonnesFoyerFiscal(s: Pick<SituationFiscale, 'situationFamille' | 'nbPac'>): number {
  return nbDeclarantsFoyerFiscal(s.situationFamille) + s.nbPac;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates and normalises a situation from any source. Throws a `QuotientError` (`invalid`,
 * `situation_fiscale_invalide`) naming each faulty field. The result is frozen.
 */
export function createSituationFiscale(input: unknown): SituationFiscale {
  const result = situationFiscaleSchema.safeParse(input, parseOptions);
  if (!result.success) {
    throw invalidInput('situation_fiscale_invalide', 'Les données de l’avis d’imposition sont incomplètes ou incohérentes.', result.error.issues);
  }
  const { nbPersonnes: _ignored, ...s } = result.data;
  return deepFreeze({ ...s, nbPersonnes: nbPersonnesFoyerFiscal(s) });
}
