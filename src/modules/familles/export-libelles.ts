import { LIBELLES_CANAL, STATUTS, type CanalDemande, type StatutDemande } from '../../domain/demande.ts';
import { LIBELLES_CHAMPS_DGFIP } from '../../domain/habilitation.ts';
import { LIBELLES_AVERTISSEMENTS_AVIS, LIBELLES_SITUATION_FAMILLE, type AvertissementAvis, type SituationFamille } from '../../domain/situation-fiscale.ts';

/**
 * The family's export speaks French to a person: the codes kept in the database (`calculee`,
 * `formulaire_signe`, `C`, `nmNaiDec1`) become the words the pages use. The JSON and the text read
 * the same values.
 */

const MODES: Record<string, string> = { en_ligne: 'en ligne', formulaire_signe: 'formulaire signé', courriel: 'par courriel' };
const SOURCES: Record<string, string> = {
  'impot-particulier': 'DGFiP, API Impôt particulier',
  impot_particulier: 'DGFiP, API Impôt particulier',
  sfip: 'DGFiP, recherche par état civil',
  'api-particulier': 'API Particulier (ancienne voie)',
  'saisie-agent': 'saisi par un agent de la commune au vu de l’avis',
};

export const statutEnClair = (statut: string) => STATUTS[statut as StatutDemande]?.libelle ?? statut;
export const canalEnClair = (canal: string) => LIBELLES_CANAL[canal as CanalDemande] ?? canal;
export const modeEnClair = (mode: string) => MODES[mode] ?? mode;
export const periodeEnClair = (periode: string) => (periode === 'annuelle' ? 'par an' : 'par mois');

/** The data a consent covered, as the family read them when consenting (stored as `{ champ, libelle }`, or as codes). */
export function donneesEnClair(donnees: unknown): string[] {
  if (!Array.isArray(donnees)) return [];
  return donnees.map((d: unknown) => {
    if (typeof d === 'string') return LIBELLES_CHAMPS_DGFIP[d] ?? d;
    const { champ, libelle } = (d ?? {}) as { champ?: unknown; libelle?: unknown };
    if (typeof libelle === 'string') return libelle;
    return typeof champ === 'string' ? (LIBELLES_CHAMPS_DGFIP[champ] ?? champ) : '';
  });
}

/** A situation fiscale kept in the silo, with French names and values; the numéro fiscal was never in it. */
export function situationEnClair(s: Record<string, unknown>): Record<string, unknown> {
  const declarants = Array.isArray(s.declarants) ? (s.declarants as Array<Record<string, unknown>>) : [];
  const detail = s.detailPac as Record<string, number> | null | undefined;
  return {
    anneeDesRevenus: s.anneeRevenus,
    revenuFiscalDeReference: s.rfr,
    nombreDeParts: s.nbParts,
    situationDeFamille: LIBELLES_SITUATION_FAMILLE[s.situationFamille as SituationFamille] ?? s.situationFamille ?? null,
    personnesACharge: s.nbPac,
    ...(detail
      ? {
          detailDesPersonnesACharge: {
            enfantsEnResidenceExclusive: detail.enfantsResidenceExclusive,
            dontInvalidesEnResidenceExclusive: detail.dontInvalidesResidenceExclusive,
            enfantsEnResidenceAlternee: detail.enfantsResidenceAlternee,
            dontInvalidesEnResidenceAlternee: detail.dontInvalidesResidenceAlternee,
            adultesRattaches: detail.adultesRattaches,
            autresInvalides: detail.autresInvalides,
          },
        }
      : {}),
    parentIsole: s.parentIsole === null || s.parentIsole === undefined ? 'non indiqué' : s.parentIsole ? 'oui' : 'non',
    declarants: declarants.map((d) => ({
      nomDeNaissance: d.nomNaissance,
      nomDUsage: d.nomUsage ?? null,
      prenoms: d.prenoms,
      dateDeNaissance: d.dateNaissance ?? null,
    })),
    adresseFiscale: s.adresse ?? null,
    dateDEtablissementDeLAvis: s.dateEtablissement ?? null,
    source: SOURCES[String(s.source)] ?? s.source ?? null,
    avertissements: (Array.isArray(s.avertissements) ? (s.avertissements as string[]) : []).map(
      (a) => LIBELLES_AVERTISSEMENTS_AVIS[a as AvertissementAvis] ?? a,
    ),
    nombreDePersonnesDuFoyer: s.nbPersonnes,
  };
}
