import type { Kysely } from 'kysely';
import type { Schema } from '../infra/db/schema.ts';
import type { SourcesMetriques } from '../infra/metriques/metriques.ts';
import type { QuotaSlot } from '../infra/queue/quota-slot.ts';
import { A_APPELER } from '../modules/traitement/file-repo.ts';

/** The shared state the metrics read at each scrape: small aggregate queries on indexed columns. */
export function sourcesMetriques(db: Kysely<Schema>, quota: QuotaSlot): SourcesMetriques {
  return {
    quota: () => quota.usage(),
    async fileAttente() {
      const rows = await db
        .selectFrom('demandes')
        .select(['canal', (eb) => eb.fn.countAll<number>().as('n')])
        .where('statut', 'in', A_APPELER)
        .groupBy('canal')
        .execute();
      return rows.map((r) => ({ canal: r.canal, n: Number(r.n) }));
    },
    async campagnes() {
      const enCours = ['en_cours', 'en_pause'] as const;
      const [campagnes, elements] = await Promise.all([
        db
          .selectFrom('campagnes')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('statut', 'in', enCours)
          .executeTakeFirst(),
        db
          .selectFrom('campagne_elements as e')
          .innerJoin('campagnes as c', 'c.id', 'e.campagne_id')
          .select([(eb) => eb.fn.count<number>('e.traite_le').as('traites'), (eb) => eb.fn.countAll<number>().as('total')])
          .where('c.statut', 'in', enCours)
          .executeTakeFirst(),
      ]);
      const traites = Number(elements?.traites ?? 0);
      return { enCours: Number(campagnes?.n ?? 0), traites, restants: Number(elements?.total ?? 0) - traites };
    },
    async journalSequence() {
      const head = await db.selectFrom('journal_audit_head').select('seq').where('id', '=', 1).executeTakeFirst();
      return Number(head?.seq ?? 0);
    },
  };
}
