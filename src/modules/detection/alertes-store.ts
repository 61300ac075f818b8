import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Gravite } from '../../infra/alertes/index.ts';
import type { AlerteTable, Schema, StatutAlerte } from '../../infra/db/schema.ts';
import type { Acteur, AuditDetailValue, AuditEntry, JournalAudit } from '../audit/index.ts';
import type { Alerteur } from '../incident/alerter.ts';
import { lireMotif } from '../incident/incident-service.ts';

/** What stands behind a detection: a journal entry, or an in-process event (`detection_evenements`). */
export type Preuve = { readonly journalSeq: number } | { readonly evenement: string };

/** What a rule found: one rule, one key (an account, an address, an agent...), its evidence. */
export interface Constat {
  /** The alert's code, also the rule's: `connexion.echecs_rafale`. */
  readonly regle: string;
  /** What the rule counts by: `compte:<id>`, `adresse:<ip>`, `agent:<id>`, `dgfip`. */
  readonly cle: string;
  readonly gravite: Gravite;
  readonly titre: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, AuditDetailValue>>;
  /**
   * Without evidence, a state (quota, silence): one open alert while it lasts. With evidence, a
   * detection whose every piece is already behind an alert of the same rule and key is no news.
   */
  readonly preuves?: readonly Preuve[];
}

/** `nouvelle` and `relance` were sent; `cumulee` counted on the open alert; `ignoree` was nothing new. */
export type Issue = 'nouvelle' | 'relance' | 'cumulee' | 'ignoree';

export interface AlerteStockee {
  readonly id: string;
  readonly regle: string;
  readonly cle: string;
  readonly gravite: Gravite;
  readonly titre: string;
  readonly message: string;
  readonly details: Readonly<Record<string, AuditDetailValue>>;
  readonly statut: StatutAlerte;
  readonly occurrences: number;
  readonly notifications: number;
  readonly premiereLe: string;
  readonly derniereLe: string;
  readonly acquittement: { readonly par: string; readonly le: string; readonly motif: string } | null;
  readonly cloture: { readonly par: string; readonly le: string; readonly motif: string } | null;
}

export interface DetailAlerte {
  readonly alerte: AlerteStockee;
  /** The journal entries behind it, newest first (at most 200 shown). */
  readonly entrees: readonly AuditEntry[];
  /** How many in-process events (sign-in failures by address) stand behind it. */
  readonly evenements: number;
}

export const STATUTS_ALERTE: readonly StatutAlerte[] = ['ouverte', 'acquittee', 'cloturee'];
/** Evidence kept per detection: enough to investigate, bounded so that a flood stays small. */
export const MAX_PREUVES = 200;

const SYSTEME: Acteur = { type: 'systeme', id: 'quotient' };
const preuveDe = (p: Preuve) => ('journalSeq' in p ? `j${p.journalSeq}` : `e${p.evenement}`);
const parDe = (acteur: Acteur) => `${acteur.type}:${acteur.id}`;

function versAlerte(row: AlerteTable): AlerteStockee {
  let details: Record<string, AuditDetailValue> = {};
  try {
    details = JSON.parse(row.details) as Record<string, AuditDetailValue>;
  } catch {
    // Written by us as JSON; an unreadable value shows as no details rather than an error page.
  }
  return {
    id: row.id,
    regle: row.regle,
    cle: row.cle,
    gravite: row.gravite as Gravite,
    titre: row.titre,
    message: row.message,
    details,
    statut: row.statut,
    occurrences: Number(row.occurrences),
    notifications: Number(row.notifications),
    premiereLe: row.premiere_le,
    derniereLe: row.derniere_le,
    acquittement: row.acquittee_par && row.acquittee_le ? { par: row.acquittee_par, le: row.acquittee_le, motif: row.acquittement_motif ?? '' } : null,
    cloture: row.cloturee_par && row.cloturee_le ? { par: row.cloturee_par, le: row.cloturee_le, motif: row.cloture_motif ?? '' } : null,
  };
}

export const alerteIntrouvable = () => new QuotientError('not_found', 'alerte_introuvable', 'Cette alerte n’existe pas.');

export interface AlertesStoreDeps {
  readonly db: Kysely<Schema>;
  readonly journal: Pick<JournalAudit, 'append' | 'inTransaction' | 'query'>;
  readonly alerteur: Alerteur;
  /** An open alert with new evidence is sent again once its last sending is this old. */
  readonly relanceMs: number;
  readonly clock?: () => number;
}

/**
 * The security alerts, stored: every alert raised goes through here, then through the `Alerteur`
 * (channels, `alerte.envoyee`). One rule and key has at most one alert not closed, across every
 * instance (a unique index, `cle_ouverte`): a burst that goes on adds to it instead of raising a
 * new one, and is sent again at most once per `relanceMs` while nobody acknowledged it.
 */
export class AlertesStore {
  private readonly clock: () => number;

  constructor(private readonly deps: AlertesStoreDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  /** Stores what a rule found and sends it when it is news; never sends twice for one detection. */
  async signaler(constat: Constat): Promise<{ issue: Issue; id: string | null }> {
    const { db, journal } = this.deps;
    const le = this.now();
    const preuves = [...new Map((constat.preuves ?? []).slice(-MAX_PREUVES).map((p) => [preuveDe(p), p])).entries()];
    const details = { ...constat.details };
    const resultat = await journal.inTransaction(async (trx) => {
      // A write first: on SQLite it takes the write lock, so that two processes never both read
      // then both try to write (which SQLite refuses at once rather than waits).
      const id = randomBytes(15).toString('base64url');
      const inseree = await trx
        .insertInto('alertes')
        .values({
          id,
          regle: constat.regle,
          cle: constat.cle,
          cle_ouverte: `${constat.regle}|${constat.cle}`,
          gravite: constat.gravite,
          titre: constat.titre,
          message: constat.message,
          details: JSON.stringify(details),
          statut: 'ouverte',
          occurrences: 1,
          notifications: 1,
          premiere_le: le,
          derniere_le: le,
          notifiee_le: le,
        })
        .onConflict((oc) => oc.column('cle_ouverte').doNothing())
        .executeTakeFirst();
      const nouvelles = await this.nouvellesPreuves(trx, constat, preuves);
      if (preuves.length > 0 && nouvelles.length === 0) {
        // Evidence already behind an alert of this rule and key (maybe a closed one): no news.
        await trx.deleteFrom('alertes').where('id', '=', id).execute();
        return { issue: 'ignoree' as const, id: null };
      }
      if (Number(inseree.numInsertedOrUpdatedRows ?? 0n) === 1) {
        await this.lier(trx, id, constat, nouvelles);
        await journal.append(
          {
            actor: SYSTEME,
            action: 'alerte.levee',
            target: { type: 'alerte', id },
            outcome: 'succes',
            details: { regle: constat.regle, cle: constat.cle, gravite: constat.gravite, preuves: nouvelles.length },
          },
          trx,
        );
        return { issue: 'nouvelle' as const, id };
      }
      // Another detection (maybe on another instance) holds the open alert: add to it.
      const ouverte = await trx.selectFrom('alertes').selectAll().where('cle_ouverte', '=', `${constat.regle}|${constat.cle}`).executeTakeFirst();
      if (!ouverte || nouvelles.length === 0) return { issue: 'ignoree' as const, id: ouverte?.id ?? null };
      const liees = await this.lier(trx, ouverte.id, constat, nouvelles);
      if (liees === 0) return { issue: 'ignoree' as const, id: ouverte.id };
      const seuilRelance = new Date(this.clock() - this.deps.relanceMs).toISOString();
      const relance = ouverte.statut === 'ouverte' && ouverte.notifiee_le <= seuilRelance;
      await trx
        .updateTable('alertes')
        .set((eb) => ({
          occurrences: eb('occurrences', '+', 1),
          derniere_le: le,
          details: JSON.stringify(details),
          ...(relance ? { notifiee_le: le, notifications: eb('notifications', '+', 1) } : {}),
        }))
        .where('id', '=', ouverte.id)
        .execute();
      return { issue: relance ? ('relance' as const) : ('cumulee' as const), id: ouverte.id };
    });
    if ((resultat.issue === 'nouvelle' || resultat.issue === 'relance') && resultat.id !== null) {
      const occurrences = resultat.issue === 'relance' ? (await this.trouver(db, resultat.id))?.occurrences : 1;
      this.deps.alerteur.lever({
        id: resultat.id,
        code: constat.regle,
        gravite: constat.gravite,
        titre: constat.titre,
        message: constat.message,
        details: { ...details, cle: constat.cle.slice(0, 500), occurrences: occurrences ?? 1 },
      });
    }
    return resultat;
  }

  /** The evidence not yet behind an alert of this rule and key (open or closed). */
  private async nouvellesPreuves(trx: Transaction<Schema>, constat: Constat, preuves: ReadonlyArray<[string, Preuve]>): Promise<Array<[string, Preuve]>> {
    if (preuves.length === 0) return [];
    const connues = new Set<string>();
    for (let i = 0; i < preuves.length; i += 100) {
      const lot = preuves.slice(i, i + 100).map(([k]) => k);
      const rows = await trx
        .selectFrom('alerte_preuves')
        .select('preuve')
        .where('regle', '=', constat.regle)
        .where('cle', '=', constat.cle)
        .where('preuve', 'in', lot)
        .execute();
      for (const r of rows) connues.add(r.preuve);
    }
    return preuves.filter(([k]) => !connues.has(k));
  }

  /** Links the evidence; how many were new (another instance may have linked some meanwhile). */
  private async lier(trx: Transaction<Schema>, alerteId: string, constat: Constat, preuves: ReadonlyArray<[string, Preuve]>): Promise<number> {
    if (preuves.length === 0) return 0;
    const res = await trx
      .insertInto('alerte_preuves')
      .values(
        preuves.map(([preuve, p]) => ({
          alerte_id: alerteId,
          regle: constat.regle,
          cle: constat.cle,
          preuve,
          journal_seq: 'journalSeq' in p ? p.journalSeq : null,
        })),
      )
      .onConflict((oc) => oc.columns(['regle', 'cle', 'preuve']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n);
  }

  private async trouver(db: Kysely<Schema>, id: string): Promise<AlerteStockee | undefined> {
    const row = await db.selectFrom('alertes').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? versAlerte(row) : undefined;
  }

  /** Newest first; `statut` omitted: all. */
  async lister(statut?: StatutAlerte, limite = 200): Promise<AlerteStockee[]> {
    let q = this.deps.db.selectFrom('alertes').selectAll();
    if (statut) q = q.where('statut', '=', statut);
    const rows = await q.orderBy('derniere_le', 'desc').orderBy('id').limit(limite).execute();
    return rows.map(versAlerte);
  }

  /** How many alerts in each status. */
  async compter(): Promise<Record<StatutAlerte, number>> {
    const rows = await this.deps.db
      .selectFrom('alertes')
      .select(['statut'])
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .groupBy('statut')
      .execute();
    const compte: Record<StatutAlerte, number> = { ouverte: 0, acquittee: 0, cloturee: 0 };
    for (const r of rows) compte[r.statut] = Number(r.n);
    return compte;
  }

  async detail(id: string): Promise<DetailAlerte> {
    const alerte = await this.trouver(this.deps.db, id);
    if (!alerte) throw alerteIntrouvable();
    const preuves = await this.deps.db.selectFrom('alerte_preuves').select(['preuve', 'journal_seq']).where('alerte_id', '=', id).execute();
    const seqs = preuves.flatMap((p) => (p.journal_seq === null ? [] : [Number(p.journal_seq)]));
    const entrees = seqs.length === 0 ? [] : (await this.deps.journal.query({ seqs }, { limit: MAX_PREUVES })).entries;
    return { alerte, entrees, evenements: preuves.length - seqs.length };
  }

  /** Someone is on it: no more sending for it; new evidence still adds to it. */
  acquitter(id: string, par: Acteur, motifSaisi: unknown): Promise<AlerteStockee> {
    return this.changer(id, par, motifSaisi, 'acquittee');
  }

  /** Done with it: the next detection for the same rule and key raises a new alert. */
  cloturer(id: string, par: Acteur, motifSaisi: unknown): Promise<AlerteStockee> {
    return this.changer(id, par, motifSaisi, 'cloturee');
  }

  private async changer(id: string, par: Acteur, motifSaisi: unknown, vers: 'acquittee' | 'cloturee'): Promise<AlerteStockee> {
    const motif = lireMotif(motifSaisi);
    const le = this.now();
    const de: StatutAlerte[] = vers === 'acquittee' ? ['ouverte'] : ['ouverte', 'acquittee'];
    const { journal } = this.deps;
    await journal.inTransaction(async (trx) => {
      const row = await trx.selectFrom('alertes').select(['statut', 'regle']).where('id', '=', id).executeTakeFirst();
      if (!row) throw alerteIntrouvable();
      const res = await trx
        .updateTable('alertes')
        .set(
          vers === 'acquittee'
            ? { statut: vers, acquittee_par: parDe(par), acquittee_le: le, acquittement_motif: motif }
            : { statut: vers, cloturee_par: parDe(par), cloturee_le: le, cloture_motif: motif, cle_ouverte: null },
        )
        .where('id', '=', id)
        .where('statut', 'in', de)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0)
        throw new QuotientError(
          'conflict',
          'alerte_deja_traitee',
          row.statut === 'cloturee' ? 'Cette alerte est déjà close.' : 'Cette alerte est déjà acquittée : vous pouvez la clore.',
        );
      await journal.append(
        { actor: par, action: `alerte.${vers}`, target: { type: 'alerte', id }, outcome: 'succes', details: { regle: row.regle, de: row.statut, motif } },
        trx,
      );
    });
    return (await this.trouver(this.deps.db, id)) as AlerteStockee;
  }
}
