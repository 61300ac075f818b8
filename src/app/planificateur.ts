import type { Logger } from '../infra/log/logger.ts';
import type { Bail } from '../infra/queue/bail.ts';

/** A singleton job: run by the leader only, every `intervalleMs`. */
export interface TachePlanifiee {
  readonly nom: string;
  readonly intervalleMs: number;
  executer(): Promise<unknown>;
}

/**
 * The scheduled singleton jobs of the workers (purge, activation of the tariff policy versions,
 * detection, the yearly campaign): among every process that runs them, one leader holds the lease
 * `planificateur` in the database, renewed at each tick; when it stops beating, another takes it
 * over once it lapses, and runs each job at once (a job is idempotent: run twice, it does nothing
 * the second time). Web-only instances do not run them.
 */
export class Planificateur {
  private timer: NodeJS.Timeout | undefined;
  private tour: Promise<void> | undefined;
  private leader = false;
  private readonly derniers = new Map<string, number>();
  private readonly enCours = new Set<Promise<unknown>>();
  private readonly clock: () => number;

  constructor(
    private readonly deps: {
      readonly bail: Bail;
      readonly taches: readonly TachePlanifiee[];
      readonly logger: Logger;
      /** How often the lease is renewed (a third of its duration, at most). */
      readonly tickMs: number;
      readonly clock?: () => number;
    },
  ) {
    this.clock = deps.clock ?? Date.now;
  }

  get estLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (this.timer) return;
    this.tour = this.tick();
    this.timer = setInterval(() => {
      this.tour = (this.tour ?? Promise.resolve()).then(() => this.tick());
    }, this.deps.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.tour;
    await Promise.allSettled([...this.enCours]);
    if (this.leader) await this.deps.bail.rendre().catch(() => undefined);
    this.leader = false;
  }

  /** Renews (or takes) the lease, then starts the jobs that are due; a job still running is not started twice. */
  async tick(): Promise<void> {
    let leader: boolean;
    try {
      leader = await this.deps.bail.prendre();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'bail du planificateur non renouvelé : les tâches planifiées attendent');
      leader = false;
    }
    if (leader !== this.leader) {
      this.deps.logger.info({ leader }, leader ? 'ce processus exécute les tâches planifiées' : 'ce processus n’exécute plus les tâches planifiées');
      // A new tenure runs every job at once: the previous leader's schedule is not known here.
      if (leader) this.derniers.clear();
    }
    this.leader = leader;
    if (!leader) return;
    const now = this.clock();
    for (const t of this.deps.taches) {
      const dernier = this.derniers.get(t.nom);
      if (dernier !== undefined && (dernier < 0 || now - dernier < t.intervalleMs)) continue;
      this.derniers.set(t.nom, -1);
      const run = t
        .executer()
        .catch((error: unknown) => this.deps.logger.error({ err: error, tache: t.nom }, 'échec d’une tâche planifiée'))
        .finally(() => {
          this.derniers.set(t.nom, this.clock());
          this.enCours.delete(run);
        });
      this.enCours.add(run);
    }
  }
}
