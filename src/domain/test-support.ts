/**
 * Builders shared by the domain tests: a small valid policy and avis, which each test bends to
 * the case it checks. Not used by the product.
 */
import type { PolitiqueTarifaireInput } from './politique-tarifaire.ts';
import type { SituationFiscaleInput } from './situation-fiscale.ts';

type DeepPartial<T> = T extends readonly (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** A policy with the Boulogne canteen rule and a bracket activity (Strasbourg's first brackets). */
export function politiqueInput(): PolitiqueTarifaireInput {
  return {
    format: 1,
    commune: { nom: 'Ville de Test', codeInsee: '99999' },
    deliberation: { numero: '2024-42', date: '2024-06-20' },
    validite: { du: '2024-09-01' },
    quotient: {
      formule: 'rfr-parts',
      periode: 'mensuelle',
      arrondi: { unite: 'centime', mode: 'inferieur' },
      anneeRevenus: { ecart: 1, repliAnneePrecedente: false },
      plusieursFoyers: 'somme-rfr-somme-parts',
      residenceAlternee: { poidsEnfant: 0.5 },
      dureeValidite: 'annee-scolaire',
      priseEffet: 'date-de-la-demande',
      retroactivite: false,
    },
    arrondiPrix: 'plus-proche',
    activites: [
      {
        id: 'restauration',
        libelle: 'Restauration scolaire',
        unite: 'repas',
        grille: { type: 'taux-effort', taux: 0.36, plancher: 0.5, plafond: 7.2 },
        prixNonResident: 8.05,
      },
      {
        id: 'accueil-soir',
        libelle: 'Accueil du soir',
        unite: 'mois',
        grille: {
          type: 'tranches',
          borneIncluse: 'min',
          tranches: [
            { code: 'A', min: 0, max: 100, prix: 11.85 },
            { code: 'B', min: 100, max: 300, prix: 16.16 },
            { code: 'C', min: 300, prix: 20.46 },
          ],
        },
      },
    ],
  };
}

/** Deep merge where arrays and scalars replace, objects merge and `undefined` keeps the base value. */
export function withChanges<T>(base: T, changes: DeepPartial<T>): T {
  if (changes === undefined) return base;
  if (Array.isArray(changes) || typeof changes !== 'object' || changes === null || typeof base !== 'object' || base === null) return changes as T;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(changes as Record<string, unknown>)) {
    out[k] = withChanges((base as Record<string, unknown>)[k], v as never);
  }
  return out as T;
}

export function avisInput(changes: Partial<SituationFiscaleInput> = {}): SituationFiscaleInput {
  return {
    anneeRevenus: 2023,
    rfr: 48_000,
    nbParts: 3,
    situationFamille: 'M',
    nbPac: 2,
    declarants: [
      { nomNaissance: 'MARTIN', prenoms: 'JEANNE', dateNaissance: '1985-03-02' },
      { nomNaissance: 'DURAND', prenoms: 'PAUL', dateNaissance: '1983-07-14' },
    ],
    source: 'impot-particulier',
    ...changes,
  };
}
