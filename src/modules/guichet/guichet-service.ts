import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';
import type { ModeConsentement } from '../../domain/consentement.ts';
import { QuotientError, isQuotientError } from '../../domain/errors.ts';
import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { Attestation, AttestationHorsVigueur } from '../../domain/attestation.ts';
import type { AttestationsService } from '../attestations/attestations-service.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import type { DemandesService, EtatDemande } from '../demandes/demandes-service.ts';
import type { CriteresRecherche, FamillesService, CompositionFamille, HistoriqueDemande, ResultatRecherche } from '../familles/familles-service.ts';
import type { RenouvellementFamille, RenouvellementService } from '../renouvellement/renouvellement-service.ts';

/**
 * The counter's use cases, on top of the families and requests services: every read of a family
 * is one journal entry in the agent's name, and nothing here ever carries fiscal detail (the
 * request's state holds the QF, its validity and the prices, never the RFR, the parts or the
 * names read on the avis).
 */
export interface GuichetDeps {
  readonly familles: Pick<FamillesService, 'rechercher' | 'creer' | 'composition' | 'historique' | 'contestations'>;
  readonly demandes: Pick<DemandesService, 'soumettre' | 'etat' | 'attendre' | 'ressaisir' | 'rangsARessaisir'>;
  readonly journal: Pick<JournalAudit, 'append'>;
  /** The attestation of a QF, the family's own (the counter prints the same). */
  readonly attestations: Pick<AttestationsService, 'attestation'>;
  /** Tells the processing loop a request was just queued. */
  readonly wake: () => void;
  readonly clock?: () => number;
  /** The family's standing consents for renewal, shown on its page. */
  readonly renouvellement?: Pick<RenouvellementService, 'consentements'>;
}

/** How one declarant's consent reached the counter, as the agent recorded it. */
export interface AccordRecu {
  readonly rang: 1 | 2;
  readonly mode: Extract<ModeConsentement, 'formulaire_signe' | 'courriel'>;
  /** The day the family gave it, `AAAA-MM-JJ`. */
  readonly date: string;
  /** Reference of the signed form or of the e-mail. */
  readonly piece: string;
  /** The signed form also carries the standing consent for renewal (never by e-mail). */
  readonly renouvellement?: boolean;
}

export interface FicheFamille {
  readonly id: string;
  readonly composition: CompositionFamille;
  readonly demandes: readonly HistoriqueDemande[];
  /** The newest QF still applicable (today or from a coming date), with its prices. */
  readonly quotient: EtatDemande | null;
  /** Standing consents for renewal, newest first. */
  readonly renouvellements: readonly RenouvellementFamille[];
  /** Contestations not yet answered, oldest first: the agent tells the family they are being looked at. */
  readonly contestationsEnCours: ReadonlyArray<{ readonly id: string; readonly demande: string | null; readonly ouverteLe: string }>;
}

export interface DemandeGuichet {
  readonly etat: EtatDemande;
  readonly composition: CompositionFamille;
}

const ID = /^[0-9a-f-]{36}$/i;
export const familleIntrouvable = () => new QuotientError('not_found', 'famille_introuvable', 'Famille introuvable.');
export const demandeIntrouvable = () => new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');

export class GuichetService {
  private readonly clock: () => number;

  constructor(private readonly deps: GuichetDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  rechercher(criteres: CriteresRecherche, acteur: Acteur): Promise<ResultatRecherche> {
    return this.deps.familles.rechercher(criteres, acteur);
  }

  creer(saisie: unknown, acteur: Acteur): Promise<{ id: string; reference: string }> {
    return this.deps.familles.creer(saisie, acteur);
  }

  /** The household, for the forms of a request: a read of the family's data, one journal entry. */
  async composition(familleId: string, acteur: Acteur, vue: 'fiche' | 'saisie'): Promise<CompositionFamille> {
    if (!ID.test(familleId)) throw familleIntrouvable();
    const composition = await this.deps.familles.composition(familleId);
    await this.deps.journal.append({
      actor: acteur,
      action: 'famille.consultee',
      target: { type: 'famille', id: familleId },
      outcome: 'succes',
      details: { vue },
    });
    return composition;
  }

  /** The family's page at the counter: household, requests, the QF that applies. One journal entry. */
  async fiche(familleId: string, acteur: Acteur): Promise<FicheFamille> {
    const composition = await this.composition(familleId, acteur, 'fiche');
    const demandes = await this.deps.familles.historique(familleId);
    const aujourdhui = parisDate(this.clock());
    // Newest first: the first result whose validity has not ended is the one billing uses now or next.
    const retenue = demandes.find((d) => d.statut === 'calculee' && d.quotient !== null && d.quotient.valideAu >= aujourdhui);
    const quotient = retenue ? await this.deps.demandes.etat(retenue.id) : null;
    const renouvellements = (await this.deps.renouvellement?.consentements(familleId)) ?? [];
    // Only what the counter needs to answer the family: which request, since when; the family's
    // own words are read by the instructor who handles it.
    const contestationsEnCours = (await this.deps.familles.contestations(familleId))
      .filter((c) => c.statut === 'ouverte')
      .map((c) => ({ id: c.id, demande: c.demande, ouverteLe: c.ouverteLe }))
      .reverse();
    return { id: familleId, composition, demandes, quotient, renouvellements, contestationsEnCours };
  }

  /** A request's state and its family's household, for its page or its attestation. One journal entry. */
  async demande(demandeId: string, acteur: Acteur, vue: 'suivi' | 'attestation'): Promise<DemandeGuichet> {
    if (!ID.test(demandeId)) throw demandeIntrouvable();
    const etat = await this.deps.demandes.etat(demandeId).catch((error: unknown) => {
      if (isQuotientError(error) && error.kind === 'not_found') throw demandeIntrouvable();
      throw error;
    });
    const composition = await this.deps.familles.composition(etat.familleId);
    await this.deps.journal.append({
      actor: acteur,
      action: 'demande.consultee',
      target: { type: 'demande', id: demandeId },
      outcome: 'succes',
      details: { famille: etat.familleId, vue },
    });
    return { etat, composition };
  }

  /**
   * The attestation of a request's QF for the family in front of the agent: the very one the family
   * prints from its space (same code). The read is journaled as the request's, `vue: attestation`.
   */
  async attestation(demandeId: string, acteur: Acteur): Promise<{ attestation: Attestation | AttestationHorsVigueur; etat: EtatDemande }> {
    const { etat } = await this.demande(demandeId, acteur, 'attestation');
    if (!etat.quotient)
      throw new QuotientError('not_found', 'attestation_indisponible', 'Pas d’attestation : cette demande n’a pas de quotient familial calculé.');
    return { attestation: await this.deps.attestations.attestation(etat.id, acteur), etat };
  }

  /**
   * A request received on paper or by e-mail: the consents as the agent recorded them (the agent
   * is who received them), the numéros fiscaux typed once, kept in memory by the request service.
   * Waits a little for the answer, which the quota usually allows at once.
   */
  async soumettre(
    familleId: string,
    // By numéro fiscal, or by état civil when the paper form has none.
    foyersFiscaux: ReadonlyArray<{ accord: AccordRecu } & ({ spi: NumeroFiscal } | { etatCivil: EtatCivil })>,
    acteur: Acteur & { type: 'agent' },
    options: { correlationId?: string; attenteMs?: number; creee?: (id: string) => Promise<void>; adresse?: string } = {},
  ): Promise<{ id: string; reference: string }> {
    const maintenant = this.clock();
    const { id, reference } = await this.deps.demandes.soumettre({
      familleId,
      canal: 'guichet',
      acteur,
      ...(options.adresse ? { essai: { adresse: options.adresse } } : {}),
      foyersFiscaux: foyersFiscaux.map(({ accord, ...identifiant }) => ({
        parentRang: accord.rang,
        identifiant: 'spi' in identifiant ? { spi: identifiant.spi } : { etatCivil: identifiant.etatCivil },
        consentement: {
          mode: accord.mode,
          donnePar: { type: 'agent', id: acteur.id },
          piece: accord.piece,
          recueilliLe: instantDeLAccord(accord.date, maintenant),
        },
      })),
      ...(options.correlationId ? { correlationId: options.correlationId } : {}),
      ...(foyersFiscaux.some((f) => f.accord.renouvellement)
        ? { renouvellement: foyersFiscaux.filter((f) => f.accord.renouvellement).map((f) => f.accord.rang) }
        : {}),
    });
    await options.creee?.(id);
    this.deps.wake();
    await this.deps.demandes.attendre(id, options.attenteMs ?? 8_000);
    return { id, reference };
  }

  /** The declarants whose numéro fiscal must be typed again (lost at a restart, or the call failed). */
  rangsARessaisir(demandeId: string): Promise<Array<1 | 2>> {
    return this.deps.demandes.rangsARessaisir(demandeId);
  }

  async ressaisir(
    demandeId: string,
    identifiants: ReadonlyArray<{ parentRang: 1 | 2; spi: NumeroFiscal }>,
    acteur: Acteur,
    attenteMs = 8_000,
    adresse?: string,
  ): Promise<void> {
    await this.deps.demandes.ressaisir(
      demandeId,
      acteur,
      identifiants.map((i) => ({ parentRang: i.parentRang, identifiant: { spi: i.spi } })),
      adresse ? { adresse } : undefined,
    );
    this.deps.wake();
    await this.deps.demandes.attendre(demandeId, attenteMs);
  }
}

/**
 * The instant recorded for a consent given on a day: the hour is not known, so noon UTC (the same
 * day in France), or now when that is still to come today.
 */
export function instantDeLAccord(date: string, maintenant: number): string {
  return new Date(Math.min(Date.parse(`${date}T12:00:00Z`), maintenant)).toISOString();
}
