import type { SituationFiscale } from '../domain/situation-fiscale.ts';

export interface Difference {
  /** `rfr`, `declarants[0].nomUsage`... */
  readonly champ: string;
  readonly avant: string | number | boolean | null;
  readonly apres: string | number | boolean | null;
}

const COMPARED: ReadonlyArray<keyof SituationFiscale> = [
  'anneeRevenus',
  'rfr',
  'nbParts',
  'situationFamille',
  'nbPac',
  'nbPersonnes',
  'adresse',
  'dateEtablissement',
];
const DECLARANT_FIELDS = ['nomNaissance', 'nomUsage', 'prenoms', 'dateNaissance'] as const;

/**
 * What differs between two situations of the same foyer from two sources (for instance the legacy
 * API Particulier and API Impôt particulier), for the commune's migration report. Text is compared
 * after folding case, accents and spaces, which the two APIs render differently.
 */
export function comparerSituations(avant: SituationFiscale, apres: SituationFiscale): Difference[] {
  const differences: Difference[] = [];
  const fold = (v: unknown) =>
    typeof v === 'string'
      ? v
          .normalize('NFD')
          .replace(/\p{Diacritic}/gu, '')
          .toUpperCase()
          .replace(/\s+/g, ' ')
          .trim()
      : v;
  const push = (champ: string, a: unknown, b: unknown) => {
    if (fold(a ?? null) !== fold(b ?? null)) differences.push({ champ, avant: (a ?? null) as Difference['avant'], apres: (b ?? null) as Difference['apres'] });
  };
  for (const key of COMPARED) push(key, avant[key], apres[key]);
  const count = Math.max(avant.declarants.length, apres.declarants.length);
  for (let i = 0; i < count; i++) {
    for (const field of DECLARANT_FIELDS) push(`declarants[${i}].${field}`, avant.declarants[i]?.[field], apres.declarants[i]?.[field]);
  }
  return differences;
}
