import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import type { SuspensionAppels } from '../incident/interrupteurs.ts';
import { annoncerInstance, instancesVivantes, oublierInstances, retirerInstance, signalerInstance } from './file-repo.ts';
import type { TraitementService } from './traitement-service.ts';

const HEARTBEAT_MS = 15_000;
/** A process not seen for this long is gone, and with it the numéros fiscaux it held. */
const DEAD_AFTER_MS = 60_000;
const IDLE_POLL_MS = 1_000;
/** Waiting for a request of another instance, queued earlier, to be called first: looked at again soon. */
const TOUR_POLL_MS = 100;
/** Another instance holds its requests' turns while it was seen this recently (two heartbeats). */
const TOUR_VIVANTE_MS = 2 * HEARTBEAT_MS;

/**
 * The processing loop of one process: it announces itself (heartbeat), turns the requests of
 * processes that died into `a_ressaisir`, and works through its own queue in order, each request
 * in its turn across instances (one queued earlier on another instance is called first). The quota
 * slot shared through the database paces every process together. While DGFiP calls are held (an
 * incident switch, the integrity halt) it takes nothing: the queue waits, the heartbeat goes on.
 */
export class BoucleTraitement {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private lastBeat = 0;

  constructor(
    private readonly deps: {
      service: TraitementService;
      db: Kysely<Schema>;
      instanceId: string;
      logger: Logger;
      clock?: () => number;
      /** Why DGFiP calls are held now, or null; asked before each batch. */
      suspension?: () => Promise<SuspensionAppels | null>;
    },
  ) {}

  private now(): number {
    return (this.deps.clock ?? Date.now)();
  }

  async start(): Promise<void> {
    const { db, instanceId } = this.deps;
    await annoncerInstance(db, instanceId, new Date(this.now()).toISOString());
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
    await retirerInstance(this.deps.db, this.deps.instanceId);
  }

  private async recover(): Promise<void> {
    const vivantes = await instancesVivantes(this.deps.db, new Date(this.now() - DEAD_AFTER_MS).toISOString());
    const lost = await this.deps.service.recupererOrphelines(vivantes);
    if (lost > 0) this.deps.logger.warn({ demandes: lost }, 'demandes à ressaisir après l’arrêt d’un processus');
    await oublierInstances(this.deps.db, new Date(this.now() - 24 * 3600_000).toISOString());
  }

  private async run(): Promise<void> {
    while (this.running) {
      let enAttenteDuTour = false;
      try {
        if (this.now() - this.lastBeat >= HEARTBEAT_MS) {
          await signalerInstance(this.deps.db, this.deps.instanceId, new Date(this.now()).toISOString());
          this.lastBeat = this.now();
          await this.recover();
        }
        const due = (await this.deps.suspension?.()) ? [] : await this.deps.service.prochaines(5);
        for (const id of due) {
          if (!this.running) break;
          if (!(await this.deps.service.aSonTour(id, TOUR_VIVANTE_MS))) {
            enAttenteDuTour = true;
            break;
          }
          await this.deps.service.traiter(id);
        }
        if (due.length > 0 && !enAttenteDuTour) continue;
      } catch (error) {
        this.deps.logger.error({ err: error }, 'erreur dans la boucle de traitement des demandes');
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        void sleep(enAttenteDuTour ? TOUR_POLL_MS : IDLE_POLL_MS).then(resolve);
      });
      this.wakeUp = undefined;
    }
  }
}
