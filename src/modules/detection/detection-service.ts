import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DetectionConfig } from '../../infra/config/securite-config.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import { MAX_PREUVES, type AlertesStore, type Constat, type Issue } from './alertes-store.ts';
import { constatCampagne, type BilanCampagne } from './campagne.ts';
import { appliquer, fenetreMaxMinutes, lireJournal, REGLES_JOURNAL } from './regles.ts';

/** In-process events some rules count, which the journal does not hold (the network address). */
export const EVENEMENTS = {
  /** A sign-in that failed, family or agent, known account or not: counted by network address. */
  connexionEchec: 'connexion.echec',
} as const;
export type TypeEvenement = (typeof EVENEMENTS)[keyof typeof EVENEMENTS];

export interface DetectionDeps {
  readonly db: Kysely<Schema>;
  readonly store: Pick<AlertesStore, 'signaler'>;
  readonly config: DetectionConfig;
  readonly logger: Logger;
  /** The shared DGFiP quota (rule « quota saturé »); absent: the rule does not run. */
  readonly quota?: { usage(): Promise<{ used: number; limit: number }> };
  readonly clock?: () => number;
}

export interface BilanEvaluation {
  readonly constats: number;
  readonly issues: Readonly<Record<Issue, number>>;
}

/**
 * The detection rules, evaluated on a schedule by every instance (`surveiller`) or on demand
 * (`evaluer`, which tests call with their clock): each finding goes to the alert store, whose
 * unique open key makes two instances raise one alert between them.
 */
export class DetectionService {
  private readonly clock: () => number;
  /** Since when this instance has seen the quota at or above its threshold (null: below). */
  private quotaHautDepuis: number | null = null;
  private enCours: Promise<BilanEvaluation> | null = null;

  constructor(private readonly deps: DetectionDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /**
   * Records an in-process event for the rules to count. Never throws: detection must not break
   * the sign-in it watches; a failure is logged.
   */
  async signaler(type: TypeEvenement, cle: string): Promise<void> {
    try {
      await this.deps.db
        .insertInto('detection_evenements')
        .values({ id: randomBytes(12).toString('base64url'), type, cle: cle.slice(0, 200), le: this.iso(this.clock()) })
        .execute();
    } catch (error) {
      this.deps.logger.error({ err: error, type }, 'événement de détection non enregistré');
    }
  }

  /** A finding raised elsewhere (the integrity guard, a campaign's end): stored and sent like the others. */
  async lever(constat: Constat): Promise<Issue> {
    return (await this.deps.store.signaler(constat)).issue;
  }

  /** Rule 10, to be called by campaigns (issue 14) as they progress and at their end. */
  async bilanCampagne(bilan: BilanCampagne): Promise<Issue | null> {
    const constat = constatCampagne(bilan, this.deps.config.campagne);
    return constat ? this.lever(constat) : null;
  }

  /** Every rule once; calls that overlap share one evaluation. */
  evaluer(): Promise<BilanEvaluation> {
    this.enCours ??= this.evaluerMaintenant().finally(() => (this.enCours = null));
    return this.enCours;
  }

  private async evaluerMaintenant(): Promise<BilanEvaluation> {
    const maintenant = this.clock();
    const constats = [...(await this.reglesJournal(maintenant)), ...(await this.echecsParAdresse(maintenant)), ...(await this.etats(maintenant))];
    const issues: Record<Issue, number> = { nouvelle: 0, relance: 0, cumulee: 0, ignoree: 0 };
    for (const c of constats) {
      try {
        issues[(await this.deps.store.signaler(c)).issue]++;
      } catch (error) {
        this.deps.logger.error({ err: error, regle: c.regle }, 'alerte de détection non enregistrée');
      }
    }
    await this.purger(maintenant);
    return { constats: constats.length, issues };
  }

  private async reglesJournal(maintenant: number): Promise<Constat[]> {
    const { config, db } = this.deps;
    const actions = [...new Set(REGLES_JOURNAL.flatMap((r) => r.actions))];
    const lignes = await lireJournal(db, actions, this.iso(maintenant - fenetreMaxMinutes(config) * 60_000));
    return REGLES_JOURNAL.flatMap((r) => appliquer(r, lignes, config, maintenant));
  }

  /** Rule 1, by network address: failures of known and unknown accounts alike. */
  private async echecsParAdresse(maintenant: number): Promise<Constat[]> {
    const r = this.deps.config.connexionEchecsAdresse;
    const rows = await this.deps.db
      .selectFrom('detection_evenements')
      .select(['id', 'cle'])
      .where('type', '=', EVENEMENTS.connexionEchec)
      .where('le', '>=', this.iso(maintenant - r.fenetreMinutes * 60_000))
      .orderBy('le', 'desc')
      .limit(20_000)
      .execute();
    const parCle = new Map<string, string[]>();
    for (const row of rows) parCle.set(row.cle, [...(parCle.get(row.cle) ?? []), row.id]);
    return [...parCle]
      .filter(([, ids]) => ids.length >= r.seuil)
      .map(([cle, ids]) => ({
        regle: 'connexion.echecs_rafale',
        cle,
        gravite: 'avertissement' as const,
        titre: 'Rafale d’échecs de connexion depuis une même adresse',
        message: `${ids.length} échecs de connexion en ${r.fenetreMinutes} minutes depuis ${cle} (seuil : ${r.seuil}). Possible essai de comptes ou de mots de passe : vérifiez l’origine, bloquez-la au pare-feu si besoin.`,
        details: { nombre: ids.length, seuil: r.seuil, fenetreMinutes: r.fenetreMinutes },
        preuves: ids.slice(0, MAX_PREUVES).map((evenement) => ({ evenement })),
      }));
  }

  /** Rules on a state rather than on entries: the quota (7) and the heartbeats (9). */
  private async etats(maintenant: number): Promise<Constat[]> {
    const { config, db, quota } = this.deps;
    const constats: Constat[] = [];
    if (quota) {
      const { used, limit } = await quota.usage();
      const pourcentage = limit > 0 ? Math.round((used / limit) * 100) : 0;
      if (pourcentage >= config.quota.pourcentage) {
        this.quotaHautDepuis ??= maintenant;
        const minutes = Math.floor((maintenant - this.quotaHautDepuis) / 60_000);
        if (maintenant - this.quotaHautDepuis >= config.quota.dureeMinutes * 60_000)
          constats.push({
            regle: 'quota.sature',
            cle: 'dgfip',
            gravite: 'avertissement',
            titre: 'Quota d’appels à la DGFiP presque épuisé',
            message: `Le quota d’appels à la DGFiP est utilisé à ${pourcentage} % depuis ${minutes} minutes (seuil : ${config.quota.pourcentage} % pendant ${config.quota.dureeMinutes} minutes). Les demandes attendent : vérifiez qu’aucune campagne ou aucun robot ne s’emballe.`,
            details: { pourcentage, utilises: used, limite: limit, minutes },
          });
      } else this.quotaHautDepuis = null;
    }
    // A process that stopped beating without saying goodbye (a clean stop removes its row).
    const silencieuses = await db
      .selectFrom('instances')
      .select(['id', 'vue_le'])
      .where('vue_le', '<', this.iso(maintenant - config.silence.dureeMinutes * 60_000))
      .where('vue_le', '>=', this.iso(maintenant - 24 * 3600_000))
      .execute();
    for (const s of silencieuses) {
      const minutes = Math.floor((maintenant - Date.parse(s.vue_le)) / 60_000);
      constats.push({
        regle: 'traitement.silencieux',
        cle: `instance:${s.id}`,
        gravite: 'critique',
        titre: 'Une instance ne donne plus signe de vie',
        message: `La boucle de traitement de l’instance ${s.id} n’a pas battu depuis ${minutes} minutes (seuil : ${config.silence.dureeMinutes}). Ses demandes en cours seront à ressaisir : vérifiez le processus, ses journaux et la base.`,
        details: { instance: s.id, vueLe: s.vue_le, minutes },
      });
    }
    return constats;
  }

  /** The events outlive the longest window twice, then go: they hold network addresses. */
  private async purger(maintenant: number): Promise<void> {
    const avant = this.iso(maintenant - 2 * fenetreMaxMinutes(this.deps.config) * 60_000);
    await this.deps.db.deleteFrom('detection_evenements').where('le', '<', avant).execute();
  }

  /** Evaluates on a schedule (every `intervalleSecondes`); returns what stops it. */
  surveiller(intervalleMs: number = this.deps.config.intervalleSecondes * 1000): () => void {
    const timer = setInterval(() => {
      this.evaluer().catch((error: unknown) => this.deps.logger.error({ err: error }, 'échec de l’évaluation des règles de détection'));
    }, intervalleMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
