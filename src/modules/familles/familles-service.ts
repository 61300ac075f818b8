import type { Acteur } from '../audit/index.ts';
import { CompositionsFamilles } from './familles-composition.ts';
import { ExportsFamilles, type ExportFamille } from './familles-export.ts';
import type { CompositionFamille, IdentiteFranceConnect } from './familles-modele.ts';
import { RechercheFamilles, type CriteresRecherche, type ResultatRecherche } from './familles-recherche.ts';
import type { FamillesDeps } from './familles-repo.ts';
import type { QuotientFamille } from './familles-quotients.ts';
import {
  SuiviFamilles,
  type AccordEnCours,
  type ContestationFamille,
  type DonneesUtilisees,
  type HistoriqueDemande,
  type JointAContestation,
} from './familles-suivi.ts';

export { familleSchema, type CompositionFamille, type FamilleSaisie, type IdentiteFranceConnect } from './familles-modele.ts';
export { type ExportFamille } from './familles-export.ts';
export { type QuotientFamille } from './familles-quotients.ts';
export {
  RECHERCHE_GROSSIERE_MAX,
  RECHERCHE_MAX,
  motsDuNom,
  type CriteresRecherche,
  type FamilleTrouvee,
  type ResultatRecherche,
} from './familles-recherche.ts';
export {
  CONTESTATIONS_PAR_JOUR,
  type AccordEnCours,
  type ContestationFamille,
  type DonneesUtilisees,
  type HistoriqueDemande,
  type JointAContestation,
} from './familles-suivi.ts';

/**
 * The one door callers use to the families' capability; each job lives in its own file
 * (composition, agents' search, export, the family's follow-up), this only delegates.
 */
export class FamillesService {
  private readonly compositions: CompositionsFamilles;
  private readonly recherche: RechercheFamilles;
  private readonly exports: ExportsFamilles;
  private readonly suivi: SuiviFamilles;

  constructor(deps: FamillesDeps) {
    this.compositions = new CompositionsFamilles(deps);
    this.recherche = new RechercheFamilles(deps);
    this.exports = new ExportsFamilles(deps);
    this.suivi = new SuiviFamilles(deps);
  }

  creer(input: unknown, acteur: Acteur, options: { referenceExterne?: string } = {}): Promise<{ id: string; reference: string }> {
    return this.compositions.creer(input, acteur, options);
  }

  composition(familleId: string): Promise<CompositionFamille> {
    return this.compositions.composition(familleId);
  }

  mettreAJour(familleId: string, input: unknown, acteur: Acteur, options: { parent1FranceConnect?: boolean } = {}): Promise<void> {
    return this.compositions.mettreAJour(familleId, input, acteur, options);
  }

  reprendreIdentiteFranceConnect(familleId: string, identite: IdentiteFranceConnect, acteur: Acteur): Promise<void> {
    return this.compositions.reprendreIdentiteFranceConnect(familleId, identite, acteur);
  }

  rechercher(criteres: CriteresRecherche, acteur: Acteur): Promise<ResultatRecherche> {
    return this.recherche.rechercher(criteres, acteur);
  }

  exporter(familleId: string, acteur: Acteur): Promise<ExportFamille> {
    return this.exports.exporter(familleId, acteur);
  }

  historique(familleId: string): Promise<HistoriqueDemande[]> {
    return this.suivi.historique(familleId);
  }

  /** The family's QFs, newest first, each marked in force, replaced, expired or to come. */
  quotients(familleId: string): Promise<QuotientFamille[]> {
    return this.suivi.quotients(familleId);
  }

  accordsEnCours(familleId: string): Promise<AccordEnCours[]> {
    return this.suivi.accordsEnCours(familleId);
  }

  contestations(familleId: string): Promise<ContestationFamille[]> {
    return this.suivi.contestations(familleId);
  }

  donneesUtilisees(familleId: string, demandeId: string, acteur: Acteur): Promise<DonneesUtilisees> {
    return this.suivi.donneesUtilisees(familleId, demandeId, acteur);
  }

  retirerConsentements(familleId: string, acteur: Acteur): Promise<number> {
    return this.suivi.retirerConsentements(familleId, acteur);
  }

  /** A contestation, with what is joined to it in the same transaction (a document, `JointAContestation`). */
  contester(familleId: string, demandeId: string | null, motif: string, acteur: Acteur, joindre?: JointAContestation): Promise<string> {
    return this.suivi.contester(familleId, demandeId, motif, acteur, joindre);
  }
}
