import type { RoleParent } from './controle-identite.ts';
import { exigerConsentement, type Consentement } from './consentement.ts';
import { QuotientError } from './errors.ts';

/**
 * The family's agreement that the commune asks the CAF or the MSA (through API Particulier) for
 * its quotient familial: a consent of its own, with its own text, version and data, recorded beside
 * the DGFiP one and checked just before the call, as invariant 2 asks of every call.
 */

export const VERSION_TEXTE_CONSENTEMENT_CAF = 'caf-1';

/** The data asked of the caisses (the address, also served, is never asked for nor kept). */
export const CHAMPS_CAF = ['caf.quotient_familial', 'caf.allocataires', 'caf.enfants'] as const;

export const LIBELLES_CHAMPS_CAF: Record<(typeof CHAMPS_CAF)[number], string> = {
  'caf.quotient_familial': 'le quotient familial du mois et la caisse qui l’a calculé (CAF ou MSA)',
  'caf.allocataires': 'les noms, prénoms et dates de naissance des allocataires du dossier',
  'caf.enfants': 'les prénoms et dates de naissance des enfants du dossier',
};

export const FINALITE_CAF =
  'Calculer les tarifs des activités municipales sur le quotient familial de la CAF ou de la MSA, comme le prévoit la politique tarifaire de la commune.';

/** Where the data come from, in the family's words (consent page, « Mes données »). */
export const ORIGINE_CAF = 'la CAF ou la MSA, par l’API Particulier (direction interministérielle du numérique)';

export const TEXTE_CONSENTEMENT_CAF =
  'J’accepte que la commune demande à la CAF ou à la MSA, par l’API Particulier, mon quotient familial et la composition de mon dossier d’allocataire ' +
  '(allocataires et enfants), pour calculer mes tarifs. Mon adresse n’est pas demandée.';

/** The consent's content (who and how come from the submission). */
export function donneesConsentementCaf(): { versionTexte: string; donnees: { champ: string; libelle: string }[]; finalite: string } {
  return {
    versionTexte: VERSION_TEXTE_CONSENTEMENT_CAF,
    donnees: CHAMPS_CAF.map((champ) => ({ champ, libelle: LIBELLES_CHAMPS_CAF[champ] })),
    finalite: FINALITE_CAF,
  };
}

/** True when a consent of `declarant` in force at `le` covers the call to the caisses; never throws for a missing one. */
export function consentementCafEnVigueur(consentements: readonly Consentement[], declarant: RoleParent, le: string): boolean {
  try {
    exigerConsentement(consentements, { declarant, champs: CHAMPS_CAF, le }, { libelles: LIBELLES_CHAMPS_CAF });
    return true;
  } catch (error) {
    if (error instanceof QuotientError && error.kind === 'forbidden') return false;
    throw error;
  }
}
