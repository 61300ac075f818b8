import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  codeDepuisOctets,
  libelleTranche,
  normaliserCode,
  prixAuTauxEffort,
  remplacant,
  sourceAttestation,
  statutAttestation,
  trancheEnMots,
  type Attestation,
  type AttestationHorsVigueur,
  type Verification,
} from '../../domain/attestation.ts';
import { QuotientError } from '../../domain/errors.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { Schema } from '../../infra/db/schema.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import type { FamillesService } from '../familles/familles-service.ts';
import { anneesRevenus, attestationDeDemande, attestationParCode, autresQuotients, insererAttestation, quotientDeDemande } from './attestations-repo.ts';

export interface AttestationsDeps {
  readonly db: Kysely<Schema>;
  readonly journal: Pick<JournalAudit, 'append' | 'inTransaction'>;
  readonly familles: Pick<FamillesService, 'composition'>;
  readonly commune: CommuneConfig;
  /** The public base URL, without a trailing slash: the QR code and the printed address point there. */
  readonly publicUrl: string;
  readonly clock?: () => number;
  /** Random bytes (tests may fix them). */
  readonly aleas?: (n: number) => Uint8Array;
}

export const attestationIndisponible = () =>
  new QuotientError('not_found', 'attestation_indisponible', 'Pas d’attestation : cette demande n’a pas de quotient familial calculé.');

/**
 * The attestation of a request's QF, the same for the family and the counter, and the public check
 * of its code. Issued once per request (printed again, it keeps its code) and only while its QF
 * holds; the check tells only whether it holds, the tranche and the period. Both are journaled.
 */
export class AttestationsService {
  private readonly clock: () => number;
  private readonly aleas: (n: number) => Uint8Array;

  constructor(private readonly deps: AttestationsDeps) {
    this.clock = deps.clock ?? Date.now;
    this.aleas = deps.aleas ?? ((n) => randomBytes(n));
  }

  private aujourdhui(): string {
    return parisDate(this.clock());
  }

  /** `/verifier/7KQ4-M2XH-9TRC` on the public URL. */
  urlVerification(code: string): string {
    return `${this.deps.publicUrl}/verifier/${code}`;
  }

  /**
   * The attestation of this request's QF, issued on first call; or, when the QF no longer holds
   * (period over, replaced by a later one), why, and which request replaced it. The caller has
   * checked that the actor may read this request.
   */
  async attestation(demandeId: string, acteur: Acteur): Promise<Attestation | AttestationHorsVigueur> {
    const { db, familles, commune } = this.deps;
    const q = await quotientDeDemande(db, demandeId);
    if (!q) throw attestationIndisponible();
    const suivant = remplacant(q, await autresQuotients(db, q.familleId, q.demandeId), this.aujourdhui());
    const statut = statutAttestation(q, suivant !== undefined, this.aujourdhui());
    const validite = { du: q.valideDu, au: q.valideAu };
    if (statut !== 'valable') {
      return {
        statut,
        demandeId: q.demandeId,
        demandeReference: q.demandeReference,
        validite,
        ...(suivant ? { remplacePar: { demandeId: suivant.demandeId, reference: suivant.reference } } : {}),
      };
    }
    const ligne = (await attestationDeDemande(db, demandeId)) ?? (await this.emettre(q.demandeId, q.familleId, validite, acteur));
    const [composition, annees] = await Promise.all([familles.composition(q.familleId), anneesRevenus(db, demandeId)]);
    return {
      statut: 'valable',
      id: ligne.id,
      code: ligne.code,
      urlVerification: this.urlVerification(ligne.code),
      urlVerifier: `${this.deps.publicUrl}/verifier`,
      commune: commune.commune.nom,
      familleReference: composition.reference,
      demandeReference: q.demandeReference,
      demandeId: q.demandeId,
      titulaires: composition.parents.map((p) => `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}`),
      quotient: { cents: q.cents, periode: q.periode },
      validite,
      lignes: q.prix.map((prix) => ({ prix, tranche: libelleTranche(prix) })),
      source: sourceAttestation(q.origine, annees, q),
      etablieLe: this.aujourdhui(),
      contact: { service: commune.contact.service, email: commune.contact.email, telephone: commune.contact.telephone ?? null },
    };
  }

  /** A new attestation with a fresh code, journaled with it; when another call issued one first, that one. */
  private async emettre(demandeId: string, familleId: string, validite: { du: string; au: string }, acteur: Acteur) {
    const { db, journal } = this.deps;
    for (let essai = 0; essai < 5; essai++) {
      const ligne = {
        id: randomUUID(),
        code: this.nouveauCode(),
        demande_id: demandeId,
        famille_id: familleId,
        valide_du: validite.du,
        valide_au: validite.au,
        emise_le: new Date(this.clock()).toISOString(),
        emise_par_type: acteur.type,
        emise_par_id: acteur.id,
      };
      try {
        const inseree = await journal.inTransaction(async (trx) => {
          if (!(await insererAttestation(trx, ligne))) return false;
          await journal.append(
            {
              actor: acteur,
              action: 'attestation.emise',
              target: { type: 'attestation', id: ligne.id },
              outcome: 'succes',
              details: { demande: demandeId, famille: familleId },
            },
            trx,
          );
          return true;
        });
        if (inseree) return ligne;
        const existante = await attestationDeDemande(db, demandeId);
        if (existante) return existante;
      } catch (error) {
        // The one other unique column: a code drawn twice (about 2⁻⁵⁹ a draw). Another draw.
        if (!(await codeDejaPris(db, ligne.code))) throw error;
      }
    }
    throw new QuotientError('unavailable', 'attestation_non_emise', 'L’attestation n’a pas pu être établie : réessayez dans un instant.');
  }

  private nouveauCode(): string {
    for (;;) {
      const code = codeDepuisOctets(this.aleas(32));
      if (code) return code;
    }
  }

  /**
   * What the public page says of a code typed or scanned: only whether it holds, and while it does
   * the tranche of each activity and the period (the QF itself only when a price follows it, at a
   * taux d'effort). Each check is one journal entry; the code typed is never written anywhere.
   */
  async verifier(saisie: unknown, acteur: Acteur, correlationId?: string): Promise<Verification & { readonly codeMalforme?: true }> {
    const code = normaliserCode(saisie);
    const ligne = code ? await attestationParCode(this.deps.db, code) : undefined;
    const resultat: Verification & { readonly codeMalforme?: true } = !code
      ? { statut: 'inconnue', codeMalforme: true }
      : ligne
        ? await this.etatDe(ligne)
        : { statut: 'inconnue' };
    await this.deps.journal.append({
      actor: acteur,
      action: 'attestation.verifiee',
      ...(ligne ? { target: { type: 'attestation', id: ligne.id } } : {}),
      outcome: resultat.statut === 'inconnue' ? 'echec' : 'succes',
      ...(correlationId ? { correlationId } : {}),
      details: { resultat: code ? resultat.statut : 'code_mal_forme' },
    });
    return resultat;
  }

  private async etatDe(ligne: { demande_id: string | null; valide_du: string; valide_au: string }): Promise<Verification> {
    const commune = this.deps.commune.commune.nom;
    // The request purged (retention): its period is over, and nothing else is kept to say.
    const q = ligne.demande_id ? await quotientDeDemande(this.deps.db, ligne.demande_id) : undefined;
    if (!q) return { statut: 'expiree', commune, validite: { du: ligne.valide_du, au: ligne.valide_au } };
    const suivant = remplacant(q, await autresQuotients(this.deps.db, q.familleId, q.demandeId), this.aujourdhui());
    const statut = statutAttestation(q, suivant !== undefined, this.aujourdhui());
    const validite = { du: q.valideDu, au: q.valideAu };
    if (statut !== 'valable') return { statut, commune, validite };
    return {
      statut,
      commune,
      validite,
      tranches: q.prix.map((p) => ({ activite: p.libelle, tranche: trancheEnMots(p) })),
      ...(q.prix.some(prixAuTauxEffort) ? { quotient: { cents: q.cents, periode: q.periode } } : {}),
    };
  }
}

async function codeDejaPris(db: Kysely<Schema>, code: string): Promise<boolean> {
  return (await attestationParCode(db, code).catch(() => undefined)) !== undefined;
}
