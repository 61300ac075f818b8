/** The household as entered (the form's schema) and as read back: shared by every part of the familles service. */
import { z } from 'zod';
import { isIsoDate } from '../../domain/dates.ts';

const nom = z.string().trim().min(1, 'obligatoire').max(100);
const dateNaissance = z.string().refine(isIsoDate, { message: 'date au format AAAA-MM-JJ' });

const parentSchema = z.strictObject({
  nomNaissance: nom,
  nomUsage: z
    .string()
    .trim()
    .max(100)
    .nullish()
    .transform((v) => (v ? v : null)),
  prenoms: nom,
  dateNaissance: dateNaissance.nullish().transform((v) => v ?? null),
  /** False for the other parent of a separated family, who lives elsewhere. */
  cohabite: z.boolean().default(true),
});

export const familleSchema = z.strictObject({
  parents: z.array(parentSchema).min(1, 'au moins un parent').max(2, 'au plus deux parents'),
  enfants: z
    .array(
      z.strictObject({
        prenoms: nom,
        nom,
        dateNaissance: dateNaissance.nullish().transform((v) => v ?? null),
        residence: z.enum(['exclusive', 'alternee']).default('exclusive'),
      }),
    )
    .max(20)
    .default([]),
  resident: z.boolean().default(true),
  courriel: z
    .email('adresse électronique invalide')
    .nullish()
    .transform((v) => v ?? null),
});

export type FamilleSaisie = z.input<typeof familleSchema>;
export type FamilleSaisieLue = z.output<typeof familleSchema>;

/** Parent 1's identity as FranceConnect gives it (its claims given_name, family_name, birthdate, email). */
export interface IdentiteFranceConnect {
  readonly prenoms: string;
  readonly nomNaissance: string;
  /** `AAAA-MM-JJ`, or null when FranceConnect gave none in that form. */
  readonly dateNaissance: string | null;
  /** The `email` claim: the family's address when it has none yet (never over one it set). */
  readonly courriel?: string | null;
}

export interface CompositionFamille {
  readonly reference: string;
  readonly resident: boolean;
  readonly courriel: string | null;
  /** True while the family has not yet completed the household its account started with. */
  readonly aCompleter: boolean;
  readonly parents: ReadonlyArray<{
    rang: 1 | 2;
    nomNaissance: string;
    nomUsage: string | null;
    prenoms: string;
    dateNaissance: string | null;
    cohabite: boolean;
  }>;
  readonly enfants: ReadonlyArray<{ prenoms: string; nom: string; dateNaissance: string | null; residence: 'exclusive' | 'alternee' }>;
}
