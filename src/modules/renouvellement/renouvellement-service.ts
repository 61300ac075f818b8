import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Consentement } from '../../domain/consentement.ts';
import {
  etatRenouvellement,
  renouvellementDe,
  type ConsentementRenouvellement,
  type EtatRenouvellement,
  type ModeRenouvellement,
} from '../../domain/consentement-renouvellement.ts';
import { roleParent, type ResultatControleIdentite } from '../../domain/controle-identite.ts';
import { QuotientError } from '../../domain/errors.ts';
import { etatCivilAConserver, type EtatCivilSaisi } from '../../domain/etat-civil-conserve.ts';
import type { Habilitation } from '../../domain/habilitation.ts';
import type { Declarant } from '../../domain/situation-fiscale.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Coffre } from '../../infra/silo/coffre.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import { renouvellementsDus, type CriteresRenouvellement, type RenouvellementDu } from './renouvellements-dus.ts';
import {
  COFFRE_ETAT_CIVIL,
  effacerEtatCivil,
  ecrireEtatCivil,
  enVigueurQuery,
  ligneConsentement,
  lireConsentement,
  lireEtatCivil,
} from './renouvellement-repo.ts';

export interface RenouvellementDeps {
  readonly db: Kysely<Schema>;
  readonly coffre: Coffre;
  readonly journal: JournalAudit;
  readonly habilitation: Habilitation;
  /**
   * The commune's maximum duration (`renouvellement.dureeMaxAns`), or null when the standing consent
   * is not offered: no `renouvellement` section, or no état civil route in the habilitation.
   */
  readonly dureeMaxAns: number | null;
  readonly clock?: () => number;
}

/** A standing consent as the family reads it in « Mes données », and the counter on the family's page. */
export interface RenouvellementFamille {
  readonly id: string;
  readonly parent: 1 | 2;
  readonly mode: ModeRenouvellement;
  readonly piece: string | null;
  readonly recueilliLe: string;
  readonly expireLe: string;
  readonly retireLe: string | null;
  /** `retrait` or `remplacement` once ended that way. */
  readonly finMotif: string | null;
  readonly etat: EtatRenouvellement;
  readonly dureeAns: number;
  readonly versionTexte: string;
  readonly ressources: readonly string[];
  readonly donnees: readonly string[];
  readonly finalite: string;
  /** Whether an état civil is kept for it now (never the état civil itself here). */
  readonly etatCivilConserve: boolean;
}

/** A foyer fiscal of a request that was just matched: its declarant's rank, the avis's declarants, what was typed for the call. */
export interface FoyerRecu {
  readonly rang: 1 | 2;
  readonly declarants: readonly Declarant[];
  readonly saisi?: EtatCivilSaisi;
}

/**
 * The standing consents for renewal (issue 14): recorded with a request (portal or counter), shown
 * and withdrawn in « Mes données », their état civil kept in the silo only while one is in force,
 * purged at expiry, and listed for the renewal campaign (`renouvellementsDus`).
 */
export class RenouvellementService {
  private readonly clock: () => number;

  constructor(private readonly deps: RenouvellementDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  /** Whether families are offered the standing consent, and for how long at most. */
  get dureeMaxAns(): number | null {
    return this.deps.dureeMaxAns;
  }

  /**
   * The standing consent that goes with `consentement`, for the commune's maximum duration, checked
   * before anything is written. Refused (`invalid`) when the commune does not offer it, or for a
   * consent by e-mail (the standing consent is ticked online or signed on a form).
   */
  preparer(consentement: Consentement): ConsentementRenouvellement {
    const duree = this.deps.dureeMaxAns;
    if (duree === null) {
      throw new QuotientError(
        'invalid',
        'renouvellement_non_propose',
        'La commune ne propose pas l’accord de renouvellement : il faut que sa configuration le prévoie et que l’état civil puisse être utilisé.',
      );
    }
    if (consentement.mode === 'courriel') {
      throw new QuotientError(
        'invalid',
        'renouvellement_invalide',
        'L’accord de renouvellement se donne en ligne ou sur un formulaire signé, pas par courriel : faites signer le formulaire à la famille.',
      );
    }
    return renouvellementDe(consentement, { ressources: this.deps.habilitation.scopes, dureeAns: duree }, { dureeMaxAns: duree });
  }

  /**
   * Records a standing consent in the caller's transaction (the request's submission), journaled.
   * The one it replaces for the same declarant ends (`remplacement`), and the état civil kept for
   * it moves to the new one: it names the same person, until the new request's avis refreshes it.
   */
  async enregistrer(
    trx: Transaction<Schema>,
    entree: { familleId: string; demandeId: string | null; rang: 1 | 2; renouvellement: ConsentementRenouvellement; acteur: Acteur },
  ): Promise<string> {
    const { coffre, journal } = this.deps;
    const id = randomUUID();
    // The family's row locked first (a write that changes nothing, in both dialects): two submissions
    // at once for the same declarant replace one another in turn instead of colliding on the unique index.
    await trx
      .updateTable('familles')
      .set((eb) => ({ modifiee_le: eb.ref('modifiee_le') }))
      .where('id', '=', entree.familleId)
      .execute();
    const anciens = await trx
      .selectFrom('consentements_renouvellement')
      .select(['id', 'expire_le'])
      .where('famille_id', '=', entree.familleId)
      .where('parent_rang', '=', entree.rang)
      .where('retire_le', 'is', null)
      .execute();
    let repris = undefined;
    for (const ancien of anciens) {
      const garde = ancien.expire_le > this.now() ? await lireEtatCivil(coffre, ancien.id, trx).catch(() => undefined) : undefined;
      repris ??= garde;
      await effacerEtatCivil(coffre, trx, ancien.id);
      await trx.updateTable('consentements_renouvellement').set({ retire_le: this.now(), fin_motif: 'remplacement' }).where('id', '=', ancien.id).execute();
    }
    await trx
      .insertInto('consentements_renouvellement')
      .values(ligneConsentement(id, entree.familleId, entree.rang, entree.demandeId, entree.renouvellement))
      .execute();
    if (repris) await ecrireEtatCivil(coffre, trx, id, repris, this.now());
    const c = entree.renouvellement;
    await journal.append(
      {
        actor: entree.acteur,
        action: 'consentement_renouvellement.recueilli',
        target: { type: 'famille', id: entree.familleId },
        outcome: 'succes',
        details: {
          consentement: id,
          parent: entree.rang,
          mode: c.mode,
          versionTexte: c.versionTexte,
          voie: c.voie,
          dureeAns: c.dureeAns,
          expireLe: c.expireLe,
          ...(entree.demandeId ? { demande: entree.demandeId } : {}),
          ...(anciens.length > 0 ? { remplace: anciens.length } : {}),
        },
      },
      trx,
    );
    return id;
  }

  /**
   * After a request's avis were matched (in the processing's transaction): for each declarant with a
   * standing consent in force, keeps (or refreshes) the état civil an état civil call needs, from the
   * avis the identity control matched without doubt. Nothing for anyone else; nothing if not matched.
   */
  async conserverEtatCivil(
    trx: Transaction<Schema>,
    entree: {
      familleId: string;
      demandeId: string;
      controle: ResultatControleIdentite;
      foyers: readonly FoyerRecu[];
      parents: ReadonlyArray<{ rang: number; dateNaissance: string | null }>;
    },
  ): Promise<number> {
    const { coffre, journal } = this.deps;
    const le = this.now();
    const enVigueur = await enVigueurQuery(trx, le).where('famille_id', '=', entree.familleId).execute();
    let conserves = 0;
    for (const row of enVigueur) {
      const rang = row.parent_rang === 2 ? 2 : 1;
      const precedent = await lireEtatCivil(coffre, row.id, trx).catch(() => undefined);
      const saisi = entree.foyers.find((f) => f.rang === rang)?.saisi;
      const etatCivil = etatCivilAConserver({
        role: roleParent(rang),
        controle: entree.controle,
        foyers: entree.foyers.map((f) => ({ declarants: f.declarants })),
        ...(saisi ? { saisi } : {}),
        ...(precedent ? { precedent } : {}),
        dateNaissanceDeclaree: entree.parents.find((p) => p.rang === rang)?.dateNaissance ?? null,
      });
      if (!etatCivil) continue;
      await ecrireEtatCivil(coffre, trx, row.id, etatCivil, le);
      await journal.append(
        {
          actor: { type: 'systeme', id: 'quotient' },
          action: 'renouvellement.etat_civil_conserve',
          target: { type: 'famille', id: entree.familleId },
          outcome: 'succes',
          details: {
            consentement: row.id,
            parent: rang,
            demande: entree.demandeId,
            sexe: etatCivil.sexe !== undefined,
            lieu: etatCivil.naisCodePays !== undefined,
          },
        },
        trx,
      );
      conserves++;
    }
    return conserves;
  }

  /** Every standing consent of the family, newest first, with where it stands now. */
  async consentements(familleId: string): Promise<RenouvellementFamille[]> {
    const rows = await this.deps.db
      .selectFrom('consentements_renouvellement')
      .selectAll()
      .where('famille_id', '=', familleId)
      .orderBy('recueilli_le', 'desc')
      .orderBy('id')
      .execute();
    const le = this.now();
    return rows.map((row) => {
      const c = lireConsentement(row);
      return {
        id: row.id,
        parent: row.parent_rang === 2 ? 2 : 1,
        mode: c.mode,
        piece: c.piece,
        recueilliLe: c.recueilliLe,
        expireLe: c.expireLe,
        retireLe: c.retireLe,
        finMotif: row.fin_motif,
        etat: etatRenouvellement(c, le),
        dureeAns: c.dureeAns,
        versionTexte: c.versionTexte,
        ressources: c.ressources,
        donnees: c.donnees.map((d) => d.libelle),
        finalite: c.finalite,
        etatCivilConserve: row.etat_civil_le !== null,
      };
    });
  }

  /**
   * Withdraws one standing consent of the family (RGPD art. 7.3), in one click: it covers nothing from
   * now on, and the état civil kept for it is deleted in the same transaction. Journaled. Another
   * family's consent gets the same answer as one that does not exist. Withdrawing one already ended
   * changes nothing (`dejaTermine`).
   */
  async retirer(familleId: string, id: string, acteur: Acteur): Promise<{ parent: 1 | 2; dejaTermine: boolean }> {
    const { coffre, journal } = this.deps;
    const introuvable = () => new QuotientError('not_found', 'renouvellement_introuvable', 'Accord de renouvellement introuvable.');
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw introuvable();
    return journal.inTransaction(async (trx) => {
      const row = await trx.selectFrom('consentements_renouvellement').selectAll().where('id', '=', id).where('famille_id', '=', familleId).executeTakeFirst();
      if (!row) throw introuvable();
      const parent = row.parent_rang === 2 ? 2 : 1;
      const le = this.now();
      const etat = etatRenouvellement(lireConsentement(row), le);
      // Already over (withdrawn, replaced, expired): nothing to withdraw; whatever état civil is left goes all the same.
      if (etat === 'retire' || etat === 'expire') {
        await effacerEtatCivil(coffre, trx, id);
        return { parent, dejaTermine: true };
      }
      const efface = await effacerEtatCivil(coffre, trx, id);
      await trx.updateTable('consentements_renouvellement').set({ retire_le: le, fin_motif: 'retrait' }).where('id', '=', id).execute();
      await journal.append(
        {
          actor: acteur,
          action: 'consentement_renouvellement.retire',
          target: { type: 'famille', id: familleId },
          outcome: 'succes',
          details: { consentement: id, parent, etatCivilEfface: efface },
        },
        trx,
      );
      return { parent, dejaTermine: false };
    });
  }

  /**
   * Retention: the état civil of every standing consent no longer in force (withdrawn, replaced,
   * expired) leaves the silo; the record of a consent ended more than `moisApresFin` months ago goes
   * too (the proof of consent is kept as long as the requests are). Idempotent; each removal journaled.
   */
  async purger(acteur: Acteur, moisApresFin: number): Promise<{ etatsCivils: number; consentements: number }> {
    const { db, coffre, journal } = this.deps;
    const le = this.now();
    const termines = await db
      .selectFrom('consentements_renouvellement')
      .select(['id', 'famille_id', 'parent_rang'])
      .where('etat_civil_le', 'is not', null)
      .where((eb) => eb.or([eb('retire_le', 'is not', null), eb('expire_le', '<=', le)]))
      .execute();
    let etatsCivils = 0;
    for (const row of termines) {
      await journal.inTransaction(async (trx) => {
        if (await effacerEtatCivil(coffre, trx, row.id)) etatsCivils++;
        await journal.append(
          {
            actor: acteur,
            action: 'retention.etat_civil_renouvellement_purge',
            target: { type: 'famille', id: row.famille_id },
            outcome: 'succes',
            details: { consentement: row.id, parent: row.parent_rang },
          },
          trx,
        );
      });
    }
    const limite = new Date(this.clock());
    limite.setUTCMonth(limite.getUTCMonth() - moisApresFin);
    const avant = limite.toISOString();
    const anciens = await db
      .selectFrom('consentements_renouvellement')
      .select(['id', 'famille_id'])
      .where((eb) => eb.or([eb('retire_le', '<', avant), eb('expire_le', '<', avant)]))
      .execute();
    for (const row of anciens) {
      await journal.inTransaction(async (trx) => {
        await coffre.delete(COFFRE_ETAT_CIVIL, row.id, trx);
        await trx.deleteFrom('consentements_renouvellement').where('id', '=', row.id).execute();
        await journal.append(
          {
            actor: acteur,
            action: 'retention.consentement_renouvellement_purge',
            target: { type: 'famille', id: row.famille_id },
            outcome: 'succes',
            details: { consentement: row.id },
          },
          trx,
        );
      });
    }
    return { etatsCivils, consentements: anciens.length };
  }

  /**
   * The standing consents of a family in force at `le` (ISO instant), by declarant, as recorded:
   * what an imported campaign line leans on when it has no signed form.
   */
  async enVigueurPour(familleId: string, le: string): Promise<Array<{ id: string; rang: 1 | 2; consentement: ConsentementRenouvellement }>> {
    const rows = await enVigueurQuery(this.deps.db, le).where('famille_id', '=', familleId).orderBy('parent_rang').execute();
    return rows.map((row) => ({ id: row.id, rang: row.parent_rang === 2 ? 2 : 1, consentement: lireConsentement(row) }));
  }

  /** True while this standing consent is in force at `le`: read again from the database, so a withdrawal a second ago counts. */
  async estEnVigueur(id: string, le: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
    const row = await this.deps.db.selectFrom('consentements_renouvellement').selectAll().where('id', '=', id).executeTakeFirst();
    return row !== undefined && etatRenouvellement(lireConsentement(row), le) === 'en_vigueur';
  }

  /**
   * The input of the renewal campaign: families with a standing consent in force at `le` whose QF
   * ends before `quotientAvant` (or who have none), or who have no QF from the avis of income year
   * `sansAvisDe`, each declarant with their standing consent and kept état civil, decrypted in memory
   * only. One journal entry per family read, in `acteur`'s name (the robot and the agent who started
   * the campaign). See docs/renouvellement.md.
   */
  renouvellementsDus(criteres: CriteresRenouvellement, acteur: Acteur): Promise<RenouvellementDu[]> {
    return renouvellementsDus(this.deps, { le: this.now(), ...criteres }, acteur);
  }
}
