import type { DetectionConfig } from '../../infra/config/securite-config.ts';
import type { Constat } from './alertes-store.ts';

/**
 * What a campaign (issue 14) reports to rule 10, as it progresses and at its end. Campaigns do not
 * exist yet: this is the documented input they will call `DetectionService.bilanCampagne` with.
 */
export interface BilanCampagne {
  /** The campaign's id (letters, digits, `-`). */
  readonly campagneId: string;
  /** Items already processed, and how many of them ended in an error (upstream failure, refusal). */
  readonly traites: number;
  readonly echecs: number;
}

/**
 * Rule 10: a campaign whose error rate reaches the threshold, once enough items were processed for
 * the rate to mean something. Pure: the store decides whether it is news.
 */
export function constatCampagne(bilan: BilanCampagne, reglage: DetectionConfig['campagne']): Constat | null {
  const { traites, echecs } = bilan;
  if (!Number.isInteger(traites) || !Number.isInteger(echecs) || traites < 0 || echecs < 0 || echecs > traites) return null;
  if (traites < reglage.minimum) return null;
  const pourcentage = Math.floor((echecs * 100) / traites);
  if (pourcentage < reglage.pourcentage) return null;
  const id = bilan.campagneId.replace(/[^A-Za-z0-9-]/g, '').slice(0, 64);
  return {
    regle: 'campagne.taux_erreur',
    cle: `campagne:${id}`,
    gravite: 'avertissement',
    titre: 'Une campagne échoue en nombre',
    message: `La campagne ${id} compte ${pourcentage} % d’échecs (${echecs} sur ${traites} ; seuil : ${reglage.pourcentage} % dès ${reglage.minimum} éléments). Arrêtez-la (mesure d’incident « campagnes ») et regardez la cause avant de la reprendre.`,
    details: { campagne: id, traites, echecs, pourcentage },
  };
}
