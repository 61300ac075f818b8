import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { DialectName } from '../../infra/db/database.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import type { SlotAnswer } from '../../infra/queue/quota-slot.ts';
import { prolonger, reclamer, type ElementReclame } from './campagnes-repo.ts';
import type { Devenir, TraitementElement } from './traitement-element.ts';

export interface ExecuteurDeps {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly element: Pick<TraitementElement, 'traiter'>;
  /** Online first: whether the quota has a slot families leave, asked before each claim. */
  readonly quota: { librePourCampagne(): Promise<SlotAnswer> };
  /** The incident switch `campagnes` (`CacheIncidents.campagnesArretees`): nothing is claimed while it is on. */
  readonly campagnesArretees: () => Promise<unknown>;
  /** DGFiP calls held (the switch `appels_dgfip`, the integrity halt): nothing is claimed either. */
  readonly suspension: () => Promise<unknown>;
  /** How long a claim holds an item without renewal; renewed every third of it while the item is worked on. */
  readonly bailMs?: number;
  /** Items this process works on at once (default 2: one waits for its slot while another calls). */
  readonly concurrence?: number;
  /** Pause when nothing is to be claimed (default 1 s). */
  readonly attenteMs?: number;
  readonly clock?: () => number;
}

/** What one pass did: nothing to claim, claims held back (switch, suspension, quota), or one item processed. */
export type Passe =
  | { readonly type: 'aucun' }
  | { readonly type: 'arrete' }
  | { readonly type: 'quota'; readonly retryAt: number }
  | { readonly type: 'element'; readonly devenir: Devenir };

/**
 * The campaign worker of one process: it claims the items of running campaigns one by one, with
 * a lease renewed while it works on each, as long as the `campagnes` switch is off, DGFiP calls are
 * not held and the quota has a slot that online requests leave. A worker killed with `kill -9`
 * loses nothing: its items are claimed again once their lease lapses, and resume from what their
 * request recorded.
 */
export class ExecuteurCampagnes {
  private running = false;
  private boucles: Array<Promise<void>> = [];
  private reveils = new Set<() => void>();
  private readonly bailMs: number;
  private readonly clock: () => number;

  constructor(private readonly deps: ExecuteurDeps) {
    this.bailMs = deps.bailMs ?? 120_000;
    this.clock = deps.clock ?? Date.now;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const n = Math.max(1, this.deps.concurrence ?? 2);
    this.boucles = Array.from({ length: n }, () => this.boucle());
  }

  /** Lets the items in progress finish (their result recorded, or given back), then stops. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await Promise.all(this.boucles);
  }

  /** A campaign was just started or resumed: no need to wait for the next poll. */
  wake(): void {
    for (const r of [...this.reveils]) r();
  }

  /** One claim and its processing (the loops call it; tests drive it by hand). */
  async passe(): Promise<Passe> {
    if ((await this.deps.campagnesArretees()) || (await this.deps.suspension())) return { type: 'arrete' };
    const libre = await this.deps.quota.librePourCampagne();
    if (!libre.granted) return { type: 'quota', retryAt: libre.retryAt };
    const el = await reclamer(this.deps.db, this.deps.dialect, this.deps.instanceId, this.iso(this.clock()), this.iso(this.clock() + this.bailMs));
    if (!el) return { type: 'aucun' };
    return { type: 'element', devenir: await this.avecBail(el) };
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /** The lease is renewed while the item is worked on (a slow call, a wait for a slot). */
  private async avecBail(el: ElementReclame): Promise<Devenir> {
    const renouveler = setInterval(
      () => {
        prolonger(this.deps.db, el, this.iso(this.clock() + this.bailMs)).then(
          (garde) => {
            if (!garde) this.deps.logger.warn({ element: el.id }, 'bail d’un élément de campagne perdu : un autre processus le reprend');
          },
          (error: unknown) => this.deps.logger.error({ err: error }, 'bail d’un élément de campagne non prolongé'),
        );
      },
      Math.max(this.bailMs / 3, 50),
    );
    renouveler.unref();
    try {
      return await this.deps.element.traiter(el);
    } finally {
      clearInterval(renouveler);
    }
  }

  private async boucle(): Promise<void> {
    const attente = this.deps.attenteMs ?? 1_000;
    while (this.running) {
      let pause = 0;
      try {
        const p = await this.passe();
        if (p.type === 'aucun' || p.type === 'arrete') pause = attente;
        else if (p.type === 'quota') pause = Math.min(Math.max(p.retryAt - this.clock(), 20), attente * 5);
      } catch (error) {
        this.deps.logger.error({ err: error }, 'erreur dans la boucle des campagnes');
        pause = attente;
      }
      if (pause > 0 && this.running) await this.dormir(pause);
    }
  }

  private dormir(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const ac = new AbortController();
      const reveil = () => ac.abort();
      this.reveils.add(reveil);
      void sleep(ms, undefined, { signal: ac.signal })
        .catch(() => undefined)
        .finally(() => {
          this.reveils.delete(reveil);
          resolve();
        });
    });
  }
}
