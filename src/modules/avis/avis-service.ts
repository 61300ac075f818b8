import type { Kysely, Transaction } from 'kysely';
import { verifierAvis, type FormatAvis } from '../../domain/avis-depose.ts';
import { STATUTS, type StatutDemande } from '../../domain/demande.ts';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import { newId } from '../demandes/demandes-repo.ts';
import { motif } from '../demandes/motifs.ts';
import type { Transitions } from '../demandes/transitions.ts';

/**
 * The avis d'imposition a family uploads when the DGFiP could not give it (issue 15), the one
 * narrow exception to invariant 1: the file shows the numéro fiscal. So it is checked by its bytes
 * only (never parsed for what it says), kept encrypted in the silo as it came, its name dropped,
 * given whole only to an instructor with the case open (each view journaled), and destroyed at
 * the decision, or by the purge once its delay is over. Every step is journaled, without content.
 */

/** The silo's kind for uploaded avis; the record's id is the `avis_deposes` row's. */
export const COFFRE_AVIS = 'avis_depose';

/** Where the request may take an avis: waiting for an instructor, or stopped on the DGFiP's side. */
export const STATUTS_AVIS_POSSIBLE: readonly StatutDemande[] = ['a_verifier', 'echouee', 'a_ressaisir'];

export type RaisonDestruction = 'decision' | 'remplace' | 'annulation' | 'delai';

export interface AvisDepose {
  readonly id: string;
  readonly format: FormatAvis;
  readonly taille: number;
  readonly deposeLe: string;
  readonly expireLe: string;
  readonly detruitLe: string | null;
}

export interface AvisDeps {
  readonly db: Kysely<Schema>;
  readonly coffre: Coffre;
  readonly journal: JournalAudit;
  readonly transitions: Transitions;
  /** `avisDepose` of the commune configuration. */
  readonly reglages: { readonly tailleMaxKo: number; readonly conservationJoursMax: number };
  readonly clock?: () => number;
}

const introuvable = () => new QuotientError('not_found', 'avis_introuvable', 'Document introuvable, ou déjà détruit.');

type Cible = { readonly demandeId: string } | { readonly contestationId: string };

export class AvisService {
  constructor(private readonly deps: AvisDeps) {}

  get tailleMaxOctets(): number {
    return this.deps.reglages.tailleMaxKo * 1024;
  }

  private now(): Date {
    return new Date((this.deps.clock ?? Date.now)());
  }

  /**
   * The family's avis for one of its requests: checked, then in one transaction kept in the silo
   * (replacing one sent before), journaled, and the request sent to an instructor when it had
   * stopped on the DGFiP's side. Refused (`avis_non_attendu`) when the request does not wait for one.
   */
  async deposerPourDemande(familleId: string, demandeId: string, octets: Uint8Array, acteur: Acteur): Promise<AvisDepose> {
    const format = verifierAvis(octets, this.tailleMaxOctets);
    const demande = await this.deps.db.selectFrom('demandes').select(['id', 'famille_id', 'statut', 'version']).where('id', '=', demandeId).executeTakeFirst();
    if (!demande || demande.famille_id !== familleId) throw introuvable();
    if (!STATUTS_AVIS_POSSIBLE.includes(demande.statut)) {
      throw new QuotientError(
        'conflict',
        'avis_non_attendu',
        `Cette demande n’attend pas d’avis d’imposition (statut « ${STATUTS[demande.statut].libelle} ») : rien n’a été enregistré.`,
      );
    }
    return this.deps.transitions.executer(async (uow) => {
      await this.detruire(uow.trx, { demandeId }, acteur, 'remplace');
      const avis = await this.enregistrer(uow.trx, familleId, { demandeId }, format, octets, acteur);
      if (demande.statut !== 'a_verifier') await uow.avancer(demande, { type: 'avis_depose' }, acteur, { motif: motif('avis_depose') });
      return avis;
    });
  }

  /** Checks a file as an avis is checked (size, type, content), before anything is written: the French refusal, or its format. */
  verifier(octets: Uint8Array): FormatAvis {
    return verifierAvis(octets, this.tailleMaxOctets);
  }

  /**
   * A document the family joins to the contestation it is sending, in that contestation's
   * transaction (`FamillesService.contester`): kept in the silo like an avis, read by the
   * instructor with the case, destroyed at the answer.
   */
  async joindreAContestation(trx: Transaction<Schema>, familleId: string, contestationId: string, octets: Uint8Array, acteur: Acteur): Promise<AvisDepose> {
    return this.enregistrer(trx, familleId, { contestationId }, this.verifier(octets), octets, acteur);
  }

  /** A document joined to a contestation the family just made (the instructor reads it with the case). */
  async deposerPourContestation(familleId: string, contestationId: string, octets: Uint8Array, acteur: Acteur): Promise<AvisDepose> {
    const format = verifierAvis(octets, this.tailleMaxOctets);
    const c = await this.deps.db.selectFrom('contestations').select(['famille_id', 'statut']).where('id', '=', contestationId).executeTakeFirst();
    if (!c || c.famille_id !== familleId) throw introuvable();
    if (c.statut !== 'ouverte')
      throw new QuotientError('conflict', 'avis_non_attendu', 'Cette contestation a déjà reçu une réponse : rien n’a été enregistré.');
    return this.deps.journal.inTransaction(async (trx) => {
      await this.detruire(trx, { contestationId }, acteur, 'remplace');
      return this.enregistrer(trx, familleId, { contestationId }, format, octets, acteur);
    });
  }

  private async enregistrer(
    trx: Transaction<Schema>,
    familleId: string,
    cible: Cible,
    format: FormatAvis,
    octets: Uint8Array,
    acteur: Acteur,
  ): Promise<AvisDepose> {
    const id = newId();
    const now = this.now();
    const expire = new Date(now.getTime() + this.deps.reglages.conservationJoursMax * 86_400_000);
    const row = {
      id,
      famille_id: familleId,
      demande_id: 'demandeId' in cible ? cible.demandeId : null,
      contestation_id: 'contestationId' in cible ? cible.contestationId : null,
      format,
      taille: octets.length,
      depose_le: now.toISOString(),
      depose_par_type: acteur.type,
      depose_par_id: acteur.id,
      expire_le: expire.toISOString(),
      detruit_le: null,
      destruction: null,
    };
    await trx.insertInto('avis_deposes').values(row).execute();
    await this.deps.coffre.putBytes(COFFRE_AVIS, id, octets, trx);
    await this.deps.journal.append(
      {
        actor: acteur,
        action: 'avis.depose',
        target: { type: 'avis_depose', id },
        outcome: 'succes',
        details: { famille: familleId, format, taille: octets.length, ...cibleEnDetails(cible) },
      },
      trx,
    );
    return toAvis(row);
  }

  /** The avis still kept for a request or a contestation (what it is, never what it says). */
  async enCours(cible: Cible): Promise<AvisDepose[]> {
    let query = this.deps.db.selectFrom('avis_deposes').selectAll().where('detruit_le', 'is', null);
    query = 'demandeId' in cible ? query.where('demande_id', '=', cible.demandeId) : query.where('contestation_id', '=', cible.contestationId);
    return (await query.orderBy('depose_le').execute()).map(toAvis);
  }

  /** Whom an avis is for: the instructor's route checks the case open in the session is this one. */
  async cibleDe(avisId: string): Promise<{ demandeId: string | null; contestationId: string | null }> {
    const row = await this.deps.db
      .selectFrom('avis_deposes')
      .select(['demande_id', 'contestation_id'])
      .where('id', '=', avisId)
      .where('detruit_le', 'is', null)
      .executeTakeFirst();
    if (!row) throw introuvable();
    return { demandeId: row.demande_id, contestationId: row.contestation_id };
  }

  /** The file itself, for the instructor's view: each reading is journaled with the reason the case was opened for. */
  async lire(avisId: string, acteur: Acteur, motifConsultation: string): Promise<{ format: FormatAvis; octets: Buffer }> {
    if (acteur.type !== 'agent') throw new QuotientError('forbidden', 'avis_reserve', 'Seul un agent instructeur peut voir un avis déposé.');
    const row = await this.deps.db.selectFrom('avis_deposes').selectAll().where('id', '=', avisId).where('detruit_le', 'is', null).executeTakeFirst();
    if (!row) throw introuvable();
    const octets = await this.deps.coffre.getBytes(COFFRE_AVIS, avisId);
    if (!octets) throw introuvable();
    await this.deps.journal.append({
      actor: acteur,
      action: 'avis.consulte',
      target: { type: 'avis_depose', id: avisId },
      outcome: 'succes',
      details: {
        famille: row.famille_id,
        motif: motifConsultation,
        ...(row.demande_id ? { demande: row.demande_id } : {}),
        ...(row.contestation_id ? { contestation: row.contestation_id } : {}),
      },
    });
    return { format: row.format as FormatAvis, octets };
  }

  /**
   * Destroys the avis kept for the request or contestation, in the caller's transaction (the
   * decision's): the file leaves the silo, the row says when and why, the journal too.
   */
  async detruire(trx: Transaction<Schema>, cible: Cible, acteur: Acteur, raison: RaisonDestruction): Promise<number> {
    let query = trx.selectFrom('avis_deposes').select(['id', 'famille_id']).where('detruit_le', 'is', null);
    query = 'demandeId' in cible ? query.where('demande_id', '=', cible.demandeId) : query.where('contestation_id', '=', cible.contestationId);
    const rows = await query.execute();
    for (const row of rows) await this.detruireUn(trx, row, acteur, raison, cibleEnDetails(cible));
    return rows.length;
  }

  /** The purge's part (`quotient purge`, the leader's daily job): every avis past its delay, whatever its request became. */
  async purger(acteur: Acteur): Promise<number> {
    const rows = await this.deps.db
      .selectFrom('avis_deposes')
      .select(['id', 'famille_id'])
      .where('detruit_le', 'is', null)
      .where('expire_le', '<=', this.now().toISOString())
      .execute();
    for (const row of rows) await this.deps.journal.inTransaction((trx) => this.detruireUn(trx, row, acteur, 'delai', {}));
    return rows.length;
  }

  private async detruireUn(
    trx: Transaction<Schema>,
    row: { id: string; famille_id: string | null },
    acteur: Acteur,
    raison: RaisonDestruction,
    details: Record<string, string>,
  ): Promise<void> {
    await this.deps.coffre.delete(COFFRE_AVIS, row.id, trx);
    const done = await trx
      .updateTable('avis_deposes')
      .set({ detruit_le: this.now().toISOString(), destruction: raison })
      .where('id', '=', row.id)
      .where('detruit_le', 'is', null)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows) !== 1) return;
    await this.deps.journal.append(
      {
        actor: acteur,
        action: 'avis.detruit',
        target: { type: 'avis_depose', id: row.id },
        outcome: 'succes',
        details: { raison, ...(row.famille_id ? { famille: row.famille_id } : {}), ...details },
      },
      trx,
    );
  }
}

function cibleEnDetails(cible: Cible): Record<string, string> {
  return 'demandeId' in cible ? { demande: cible.demandeId } : { contestation: cible.contestationId };
}

function toAvis(row: { id: string; format: string; taille: number; depose_le: string; expire_le: string; detruit_le: string | null }): AvisDepose {
  return { id: row.id, format: row.format as FormatAvis, taille: row.taille, deposeLe: row.depose_le, expireLe: row.expire_le, detruitLe: row.detruit_le };
}
