import type { Kysely } from 'kysely';
import type { Schema } from '../db/schema.ts';

/**
 * A lease in the database (`baux`): one holder at a time for a name, until it lapses. The holder
 * renews it well before it lapses; another process takes it over only once it has. One statement
 * decides (an upsert whose update only applies to a lapsed lease or to its own holder), so two
 * processes never both believe they hold it — on SQLite as on PostgreSQL.
 */
export class Bail {
  private readonly clock: () => number;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly options: { readonly nom: string; readonly detenteur: string; readonly dureeMs: number; readonly clock?: () => number },
  ) {
    this.clock = options.clock ?? Date.now;
  }

  /** Takes or renews the lease; true while this process holds it. */
  async prendre(): Promise<boolean> {
    const now = this.clock();
    const iso = (ms: number) => new Date(ms).toISOString();
    const row = await this.db
      .insertInto('baux')
      .values({ nom: this.options.nom, detenteur: this.options.detenteur, expire_le: iso(now + this.options.dureeMs), pris_le: iso(now) })
      .onConflict((oc) =>
        oc
          .column('nom')
          .doUpdateSet((eb) => ({
            detenteur: eb.ref('excluded.detenteur'),
            expire_le: eb.ref('excluded.expire_le'),
            // Kept while the same holder renews; a takeover starts a new tenure.
            pris_le: eb.case().when('baux.detenteur', '=', this.options.detenteur).then(eb.ref('baux.pris_le')).else(eb.ref('excluded.pris_le')).end(),
          }))
          .where((eb) => eb.or([eb('baux.detenteur', '=', this.options.detenteur), eb('baux.expire_le', '<', iso(now))])),
      )
      .returning('detenteur')
      .executeTakeFirst();
    return row?.detenteur === this.options.detenteur;
  }

  /** Gives it back (a clean stop): another process may take it at once. */
  async rendre(): Promise<void> {
    await this.db.deleteFrom('baux').where('nom', '=', this.options.nom).where('detenteur', '=', this.options.detenteur).execute();
  }

  /** Who holds it now, and until when (for the dashboard); null when nobody does. */
  async detenteur(): Promise<{ detenteur: string; expireLe: string } | null> {
    const row = await this.db.selectFrom('baux').select(['detenteur', 'expire_le']).where('nom', '=', this.options.nom).executeTakeFirst();
    if (!row || Date.parse(row.expire_le) < this.clock()) return null;
    return { detenteur: row.detenteur, expireLe: row.expire_le };
  }
}
