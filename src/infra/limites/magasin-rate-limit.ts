import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { CompteursPartages } from './compteurs.ts';

/**
 * A store for @fastify/rate-limit whose counts live in the database (`CompteursPartages`): the
 * allowance is the same whatever the number of instances behind the load balancer, instead of
 * being multiplied by it. Same fixed-window behaviour as the plugin's in-memory store, so the
 * limit, the `x-ratelimit-*` headers and `Retry-After` do not change. `nom` keeps the counts of
 * one limit apart from another's; a route with its own limit gets its own counts, as in memory.
 */
export function magasinPartage(compteurs: CompteursPartages, nom: string): FastifyRateLimitStoreCtor {
  class MagasinPartage implements FastifyRateLimitStore {
    constructor(
      private readonly fenetreMs: number,
      private readonly prefixe: string,
    ) {}

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow?: number): void {
      compteurs.frapper(`${this.prefixe}:${key}`, timeWindow ?? this.fenetreMs).then(
        (frappe) => callback(null, { current: frappe.n, ttl: frappe.resteMs }),
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      const options = routeOptions as unknown as { timeWindow?: unknown; routeInfo?: { method?: unknown; url?: unknown } };
      const route = `${String(options.routeInfo?.method ?? '')}${String(options.routeInfo?.url ?? '')}`;
      return new MagasinPartage(typeof options.timeWindow === 'number' ? options.timeWindow : this.fenetreMs, `${this.prefixe}:${route}`);
    }
  }
  return class extends MagasinPartage {
    constructor(options: FastifyRateLimitOptions) {
      // The plugin hands its settings, the window in milliseconds among them.
      const fenetre = (options as { timeWindow?: unknown }).timeWindow;
      super(typeof fenetre === 'number' ? fenetre : 60_000, nom);
    }
  };
}
