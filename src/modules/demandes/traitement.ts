import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import type { DemandesService } from './demandes-service.ts';

const HEARTBEAT_MS = 15_000;
/** A process not seen for this long is gone, and with it the numéros fiscaux it held. */
const DEAD_AFTER_MS = 60_000;
const IDLE_POLL_MS = 1_000;

/**
 * The processing loop of one process: it announces itself (heartbeat), turns the requests of
 * processes that died into `a_ressaisir`, and works through its own queue in order. The quota slot
 * shared through the database paces every process together.
 */
export class Traitement {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private lastBeat = 0;

  constructor(
    private readonly deps: { service: DemandesService; db: Kysely<Schema>; instanceId: string; logger: Logger; clock?: () => number },
  ) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  async start(): Promise<void> {
    const { db, instanceId } = this.deps;
    const at = new Date(this.now()).toISOString();
    await db.insertInto('instances').values({ id: instanceId, demarree_le: at, vue_le: at }).execute();
    this.lastBeat = this.now();
    await this.recover();
    this.running = true;
    this.loop = this.run();
  }

  /** A request was just queued: no need to wait for the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /**
   * Stops taking work, lets the request in progress finish, then hands back what this process
   * held: without their numéros fiscaux, its queued requests become `a_ressaisir` at once rather
   * than after the heartbeat times out.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wakeUp?.();
    await this.loop;
    await this.deps.service.relacher();
    await this.deps.db.deleteFrom('instances').where('id', '=', this.deps.instanceId).execute();
  }

  private async liveInstances(): Promise<string[]> {
    const since = new Date(this.now() - DEAD_AFTER_MS).toISOString();
    const rows = await this.deps.db.selectFrom('instances').select('id').where('vue_le', '>=', since).execute();
    return rows.map((r) => r.id);
  }

  private async recover(): Promise<void> {
    const lost = await this.deps.service.recupererOrphelines(await this.liveInstances());
    if (lost > 0) this.deps.logger.warn({ demandes: lost }, 'demandes à ressaisir après l’arrêt d’un processus');
    const stale = new Date(this.now() - 24 * 3600_000).toISOString();
    await this.deps.db.deleteFrom('instances').where('vue_le', '<', stale).execute();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (this.now() - this.lastBeat >= HEARTBEAT_MS) {
          await this.deps.db.updateTable('instances').set({ vue_le: new Date(this.now()).toISOString() }).where('id', '=', this.deps.instanceId).execute();
          this.lastBeat = this.now();
          await this.recover();
        }
        const due = await this.deps.service.prochaines(5);
        for (const id of due) {
          if (!this.running) break;
          await this.deps.service.traiter(id);
        }
        if (due.length > 0) continue;
      } catch (error) {
        this.deps.logger.error({ err: error }, 'erreur dans la boucle de traitement des demandes');
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        void sleep(IDLE_POLL_MS).then(resolve);
      });
      this.wakeUp = undefined;
    }
  }
}
