import { sql, type Kysely } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from '../db/schema.ts';

/**
 * The throttles' counters, kept in the database so that every instance counts against one
 * allowance (table `limites_compteurs`, migration 0015). One row per key; each hit is one atomic
 * upsert that bumps the count or, once the row's window is over, starts a new one. On PostgreSQL
 * the upsert locks the row, on SQLite it takes the write lock: two instances never both see the
 * same count. Rows whose window ended long ago are removed as new hits come.
 */
export interface Frappe {
  /** Hits in the current window, this one included. */
  readonly n: number;
  /** Milliseconds until the window ends (the `Retry-After` of a refusal). */
  readonly resteMs: number;
}

export interface Echec extends Frappe {
  /** `max` failures reached: held back until the end of the hold (`resteMs`). */
  readonly bloque: boolean;
}

/** Old rows go when they are this much past their end. */
const GARDE_MS = 3_600_000;
const MENAGE_TOUS_LES_MS = 60_000;
const MAX_CLE = 400;

export class CompteursPartages {
  private dernierMenage = 0;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * One hit on `cle` in fixed windows of `fenetreMs`: the first hit opens the window, the count
   * grows until it ends, and the next hit after it opens a new one.
   */
  async frapper(cle: string, fenetreMs: number): Promise<Frappe> {
    verifierCle(cle);
    const now = this.clock();
    const maintenant = iso(now);
    const row = await this.executer(() =>
      this.db
        .insertInto('limites_compteurs')
        .values({ cle, n: 1, fin: iso(now + fenetreMs) })
        .onConflict((oc) =>
          oc.column('cle').doUpdateSet({
            n: sql<number>`case when limites_compteurs.fin <= ${maintenant} then 1 else limites_compteurs.n + 1 end`,
            fin: sql<string>`case when limites_compteurs.fin <= ${maintenant} then excluded.fin else limites_compteurs.fin end`,
          }),
        )
        .returning(['n', 'fin'])
        .executeTakeFirstOrThrow(),
    );
    await this.menage(now);
    return { n: Number(row.n), resteMs: Math.max(0, Date.parse(row.fin) - now) };
  }

  /**
   * One failure on `cle`: counted (and forgotten `oubliMs` after the last one) until the `max`-th,
   * which holds the key back for `blocageMs`; during the hold nothing more is counted, after it the
   * count starts afresh.
   */
  async echouer(cle: string, max: number, blocageMs: number, oubliMs: number): Promise<Echec> {
    verifierCle(cle);
    const now = this.clock();
    const maintenant = iso(now);
    const blocage = iso(now + blocageMs);
    const oubli = iso(now + oubliMs);
    const row = await this.executer(() =>
      this.db
        .insertInto('limites_compteurs')
        .values({ cle, n: 1, fin: 1 >= max ? blocage : oubli })
        .onConflict((oc) =>
          oc.column('cle').doUpdateSet({
            n: sql<number>`case when limites_compteurs.fin <= ${maintenant} then 1 when limites_compteurs.n >= ${max} then limites_compteurs.n else limites_compteurs.n + 1 end`,
            fin: sql<string>`case
              when limites_compteurs.fin <= ${maintenant} then excluded.fin
              when limites_compteurs.n >= ${max} then limites_compteurs.fin
              when limites_compteurs.n + 1 >= ${max} then ${blocage}
              else ${oubli} end`,
          }),
        )
        .returning(['n', 'fin'])
        .executeTakeFirstOrThrow(),
    );
    await this.menage(now);
    return { n: Number(row.n), resteMs: Math.max(0, Date.parse(row.fin) - now), bloque: Number(row.n) >= max };
  }

  /** Whether `cle` is held back now (`max` failures reached and the hold not over): the time left, or null. */
  async bloque(cle: string, max: number): Promise<number | null> {
    verifierCle(cle);
    const now = this.clock();
    const row = await this.executer(() =>
      this.db.selectFrom('limites_compteurs').select(['n', 'fin']).where('cle', '=', cle).where('fin', '>', iso(now)).executeTakeFirst(),
    );
    return row !== undefined && Number(row.n) >= max ? Date.parse(row.fin) - now : null;
  }

  private async menage(now: number): Promise<void> {
    if (now - this.dernierMenage < MENAGE_TOUS_LES_MS) return;
    this.dernierMenage = now;
    await this.executer(() =>
      this.db
        .deleteFrom('limites_compteurs')
        .where('fin', '<', iso(now - GARDE_MS))
        .execute(),
    );
  }

  /** A database that does not answer is a typed error (503), never a crash nor a way round the limit. */
  private async executer<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw new QuotientError('unavailable', 'limites_indisponibles', 'Le service est momentanément indisponible : réessayez dans un instant.', {
        cause: error,
      });
    }
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function verifierCle(cle: string): void {
  if (typeof cle !== 'string' || cle.length === 0 || cle.length > MAX_CLE)
    throw new QuotientError('invalid', 'cle_limite_invalide', `Clé de limite invalide (1 à ${MAX_CLE} caractères).`);
}
