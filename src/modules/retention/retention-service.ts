import type { Kysely } from 'kysely';
import type { StatutDemande } from '../../domain/demande.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import { MIN_RETENTION_DAYS, type Acteur, type JournalAudit } from '../audit/index.ts';
import { COFFRE } from '../demandes/demandes-repo.ts';
import type { AvisService } from '../avis/avis-service.ts';
import type { RenouvellementService } from '../renouvellement/renouvellement-service.ts';

export interface Conservation {
  readonly donneesFiscalesMoisApresValidite: number;
  readonly demandesMois: number;
  readonly journalMois: number;
}

export interface RapportPurge {
  /** Requests whose fiscal data (situations, identity control, computation detail) left the silo. */
  readonly donneesFiscales: number;
  /** Requests removed with their consents, results and decisions. */
  readonly demandes: number;
  /** Audit entries removed (the chain stays verifiable from its checkpoint). */
  readonly journal: number;
  /** Expired sessions and used or expired account tokens (already unusable; this keeps the tables small). */
  readonly sessions: number;
  /** États civils kept for standing consents no longer in force (withdrawn, replaced, expired), removed from the silo. */
  readonly etatsCivilsRenouvellement: number;
  /** Avis uploaded by families and still kept past their delay (no decision destroyed them first). */
  readonly avisDeposes: number;
}

const TERMINAUX_SANS_QF: readonly StatutDemande[] = ['refusee', 'echouee', 'annulee', 'expiree', 'a_verifier', 'a_ressaisir'];

function monthsBefore(now: Date, months: number): Date {
  const d = new Date(now);
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
}

/**
 * Retention (CGU, RGPD art. 5-1-e): fiscal data leave the silo once the QF they gave is no longer
 * in force plus the window to contest it; requests go after their own period; the journal after
 * its year, through the journal's checkpointed purge. Idempotent: running it twice removes nothing
 * more. Every purge is journaled.
 */
export class RetentionService {
  constructor(
    private readonly deps: {
      db: Kysely<Schema>;
      coffre: Coffre;
      journal: JournalAudit;
      conservation: Conservation;
      clock?: () => Date;
      /** The standing consents for renewal: their état civil goes when they end, their record after `demandesMois`. */
      renouvellement?: Pick<RenouvellementService, 'purger'>;
      /** Uploaded avis: destroyed after `avisDepose.conservationJoursMax` days at the latest. */
      avis?: Pick<AvisService, 'purger'>;
    },
  ) {}

  async purger(acteur: Acteur = { type: 'systeme', id: 'quotient' }): Promise<RapportPurge> {
    const { db, coffre, journal, conservation } = this.deps;
    const now = (this.deps.clock ?? (() => new Date()))();

    // 0. Uploaded avis past their delay: they show the numéro fiscal, they go first.
    const avisDeposes = (await this.deps.avis?.purger(acteur)) ?? 0;

    // 1. Fiscal data: the QF's validity ended before the limit, or the request ended without QF.
    const limiteFiscale = monthsBefore(now, conservation.donneesFiscalesMoisApresValidite).toISOString();
    const expirees = await db
      .selectFrom('demandes')
      .leftJoin('quotients', 'quotients.demande_id', 'demandes.id')
      .select('demandes.id')
      .where((eb) =>
        eb.or([
          eb('quotients.valide_au', '<', limiteFiscale.slice(0, 10)),
          eb.and([eb('quotients.id', 'is', null), eb('demandes.statut', 'in', TERMINAUX_SANS_QF), eb('demandes.modifiee_le', '<', limiteFiscale)]),
        ]),
      )
      .execute();
    let donneesFiscales = 0;
    for (const { id } of expirees) {
      const foyersFiscaux = await db.selectFrom('demande_foyers').select('id').where('demande_id', '=', id).execute();
      let removed = false;
      await journal.inTransaction(async (trx) => {
        for (const f of foyersFiscaux) removed = (await coffre.delete(COFFRE.situation, f.id, trx)) || removed;
        removed = (await coffre.delete(COFFRE.controleIdentite, id, trx)) || removed;
        removed = (await coffre.delete(COFFRE.calcul, id, trx)) || removed;
        if (removed)
          await journal.append({ actor: acteur, action: 'retention.donnees_fiscales_purgees', target: { type: 'demande', id }, outcome: 'succes' }, trx);
      });
      if (removed) donneesFiscales++;
    }

    // 2. Requests themselves, with everything hanging from them.
    const limiteDemandes = monthsBefore(now, conservation.demandesMois).toISOString();
    const anciennes = await db
      .selectFrom('demandes')
      .leftJoin('quotients', 'quotients.demande_id', 'demandes.id')
      .select('demandes.id')
      .where((eb) =>
        eb.or([
          eb('quotients.valide_au', '<', limiteDemandes.slice(0, 10)),
          eb.and([eb('quotients.id', 'is', null), eb('demandes.statut', 'in', TERMINAUX_SANS_QF), eb('demandes.modifiee_le', '<', limiteDemandes)]),
        ]),
      )
      .execute();
    for (const { id } of anciennes) {
      const foyersFiscaux = await db.selectFrom('demande_foyers').select('id').where('demande_id', '=', id).execute();
      await journal.inTransaction(async (trx) => {
        for (const f of foyersFiscaux) await coffre.delete(COFFRE.situation, f.id, trx);
        await coffre.delete(COFFRE.controleIdentite, id, trx);
        await coffre.delete(COFFRE.calcul, id, trx);
        await trx.deleteFrom('demandes').where('id', '=', id).execute();
        await journal.append({ actor: acteur, action: 'retention.demande_purgee', target: { type: 'demande', id }, outcome: 'succes' }, trx);
      });
    }

    // 3. The état civil kept for standing consents that ended, and the records of those ended long ago.
    const renouvellement = (await this.deps.renouvellement?.purger(acteur, conservation.demandesMois)) ?? { etatsCivils: 0 };

    // 4. The journal, by its own clock, never under the CNIL's six-month floor.
    const report = await journal.purgeExpired(Math.max(Math.round(conservation.journalMois * 30.44), MIN_RETENTION_DAYS), acteur);

    // 5. Sessions past their deadline and account tokens past theirs: reads ignore them already.
    const nowIso = now.toISOString();
    const sessions = await db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('idle_expires_at', '<=', nowIso), eb('absolute_expires_at', '<=', nowIso)]))
      .executeTakeFirst();
    const jetons = await db
      .deleteFrom('compte_jetons')
      .where((eb) => eb.or([eb('expires_at', '<=', nowIso), eb('used_at', 'is not', null)]))
      .executeTakeFirst();
    return {
      donneesFiscales,
      demandes: anciennes.length,
      journal: report.purged,
      sessions: Number(sessions.numDeletedRows) + Number(jetons.numDeletedRows),
      etatsCivilsRenouvellement: renouvellement.etatsCivils,
      avisDeposes,
    };
  }
}
