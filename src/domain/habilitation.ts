import { z } from 'zod';
import { invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The habilitation (DataPass authorisation) of the commune's téléservice: what it may ask of the
 * DGFiP, on which legal basis, and for how long what it receives is kept. Consents list these
 * data in plain words; the sources ask for nothing else (minimisation, ARCHITECTURE §3.3).
 */
export const LIBELLES_CHAMPS_DGFIP: Readonly<Record<string, string>> = {
  rfr: 'le revenu fiscal de référence',
  nbPart: 'le nombre de parts',
  sitFam: 'la situation de famille (marié, pacsé, célibataire, divorcé, veuf)',
  'pac.nbPac': 'le nombre de personnes à charge',
  pac: 'le détail des personnes à charge',
  nmNaiDec1: 'le nom de naissance du premier déclarant',
  nmUsaDec1: 'le nom d’usage du premier déclarant',
  prnmDec1: 'les prénoms du premier déclarant',
  dateNaisDec1: 'la date de naissance du premier déclarant',
  nmNaiDec2: 'le nom de naissance du second déclarant',
  nmUsaDec2: 'le nom d’usage du second déclarant',
  prnmDec2: 'les prénoms du second déclarant',
  dateNaisDec2: 'la date de naissance du second déclarant',
  aft: 'l’adresse fiscale au 1er janvier',
  datEtab: 'la date d’établissement de l’avis',
  sitParIso: 'la case « parent isolé » (T)',
};

export const CHAMPS_QUOTIENT: readonly string[] = [
  'rfr',
  'nbPart',
  'sitFam',
  'pac.nbPac',
  'nmNaiDec1',
  'nmUsaDec1',
  'prnmDec1',
  'dateNaisDec1',
  'nmNaiDec2',
  'nmUsaDec2',
  'prnmDec2',
  'dateNaisDec2',
  'aft',
];

export const habilitationSchema = z.strictObject({
  /** Given by the DGFiP; DGFIP_ID_TELESERVICE overrides it for the connection itself. */
  idTeleservice: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(['RessourceIR', 'RessourceIRDerniere', 'RessourceIRDerniere2', 'api_r2p_resolution_spi', 'sfip_donnees_fiscales_usagers'])).min(1),
  champs: z
    .array(z.string().refine((c) => c in LIBELLES_CHAMPS_DGFIP, { message: 'champ inconnu de l’API Impôt particulier' }))
    .min(1)
    .default([...CHAMPS_QUOTIENT]),
  /** Income years allowed, as offsets from the current year: [1, 2] = N-1, else N-2. */
  annees: z.array(z.number().int().min(1).max(3)).min(1).default([1, 2]),
  modalites: z
    .array(z.enum(['numero-fiscal', 'franceconnect', 'etat-civil']))
    .min(1)
    .default(['numero-fiscal']),
  baseLegale: z.string().trim().min(10).max(1000),
  finalite: z.string().trim().min(10).max(1000),
  /** Version of the consent text families read; a new text gets a new version. */
  versionTexteConsentement: z.string().trim().min(1).max(50),
});

export type Habilitation = z.output<typeof habilitationSchema>;

export function parseHabilitation(input: unknown): Habilitation {
  const result = habilitationSchema.safeParse(input, parseOptions);
  if (!result.success) throw invalidInput('habilitation_invalide', 'L’habilitation du téléservice est invalide.', result.error.issues);
  return result.data;
}

/**
 * The scope a FranceConnect user consents to for each field, when the avis is asked « via
 * FranceConnect »: the DGFiP answers only the data of the scopes the person agreed to at
 * FranceConnect (DataPass scope names; `dgfip_rfr`, `dgfip_nbpart` and `dgfip_aft` are also those of
 * the 2020 Impôt particulier specification). `datEtab` has none in the DataPass list: nothing to ask.
 */
export const PORTEES_FRANCECONNECT_DGFIP: Readonly<Record<string, string | null>> = {
  rfr: 'dgfip_rfr',
  nbPart: 'dgfip_nbpart',
  sitFam: 'dgfip_sitfam',
  'pac.nbPac': 'dgfip_pac_nbPac',
  pac: 'dgfip_pac',
  nmNaiDec1: 'dgfip_nmNaiDec1',
  nmUsaDec1: 'dgfip_nmUsaDec1',
  prnmDec1: 'dgfip_prnmDec1',
  dateNaisDec1: 'dgfip_dateNaisDec1',
  nmNaiDec2: 'dgfip_nmNaiDec2',
  nmUsaDec2: 'dgfip_nmUsaDec2',
  prnmDec2: 'dgfip_prnmDec2',
  dateNaisDec2: 'dgfip_dateNaisDec2',
  aft: 'dgfip_aft',
  datEtab: null,
  sitParIso: 'dgfip_pariso',
};

/** The DGFiP data scopes the FranceConnect sign-in made for an avis asks for: those of the habilitation's fields, sorted. */
export function porteesFranceConnect(habilitation: Pick<Habilitation, 'champs'>): string[] {
  const portees = habilitation.champs.map((c) => PORTEES_FRANCECONNECT_DGFIP[c] ?? null).filter((p): p is string => p !== null);
  return [...new Set(portees)].sort();
}

/** The data a consent lists, in plain French, from the habilitation's fields. */
export function donneesEnClair(habilitation: Pick<Habilitation, 'champs'>): string[] {
  return habilitation.champs.map((c) => LIBELLES_CHAMPS_DGFIP[c] ?? c);
}
