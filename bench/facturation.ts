/**
 * The billing software's reads at a commune's size: the CSV export of the QFs in force at a date
 * and a full walk of `GET /api/v1/quotients` by pages, over N families (Boulogne-Billancourt: about
 * 6 000 updated each school year), each with last year's QF and this year's.
 *
 *   node --import tsx bench/facturation.ts [--families 6000] [--dialect sqlite|postgres] [--limit 500]
 *
 * Families and QFs are written in bulk (as the request service would leave them), then the reads
 * are timed through FacturationService, the code the routes use. Figures are printed, never asserted.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { migrateToLatest } from '../src/infra/db/migrations.ts';
import { openBenchDatabase } from './bench-database.ts';
import { FacturationService, type Position } from '../src/modules/facturation/facturation-service.ts';

const { values } = parseArgs({
  options: { families: { type: 'string', default: '6000' }, dialect: { type: 'string', default: 'sqlite' }, limit: { type: 'string', default: '500' } },
});
const families = Number(values.families);
const limit = Number(values.limit);
const dir = mkdtempSync(join(tmpdir(), 'quotient-bench-facturation-'));
const n = new Intl.NumberFormat('fr-FR');

const { database, drop } = await openBenchDatabase(values.dialect, dir);

try {
  await migrateToLatest(database.db, database.dialect);
  const prix = JSON.stringify([
    { id: 'restauration-scolaire', libelle: 'Restauration scolaire', unite: 'repas', tranche: 'C', cents: 412, origine: 'grille', explication: '' },
    { id: 'periscolaire-soir', libelle: 'Temps périscolaire du soir', unite: 'seance', tranche: 'C', cents: 310, origine: 'grille', explication: '' },
    { id: 'centre-loisirs', libelle: 'Centre de loisirs', unite: 'journee', tranche: 'C', cents: 700, origine: 'grille', explication: '' },
  ]);
  const started = performance.now();
  const batch = 500;
  for (let first = 0; first < families; first += batch) {
    const count = Math.min(batch, families - first);
    const now = new Date().toISOString();
    const rows = Array.from({ length: count }, (_, k) => ({
      id: randomUUID(),
      reference: `F-${String(first + k).padStart(8, '0')}`,
      resident: 1,
      courriel: null,
      creee_le: now,
      modifiee_le: now,
    }));
    await database.db.insertInto('familles').values(rows).execute();
    const demandes = rows.flatMap((f, k) =>
      ['2025', '2026'].map((annee) => ({
        id: randomUUID(),
        reference: `D-${annee}-${first + k}`,
        famille_id: f.id,
        canal: 'en_ligne',
        statut: 'calculee' as const,
        annee_revenus: Number(annee) - 2,
        motif: null,
        tentatives: 1,
        prochain_essai_le: null,
        acteur_type: 'famille',
        acteur_id: f.id,
        creee_le: `${annee}-09-01T08:00:00.000Z`,
        modifiee_le: `${annee}-09-01T08:00:00.000Z`,
        version: 1,
        detenteur: null,
      })),
    );
    await database.db.insertInto('demandes').values(demandes).execute();
    await database.db
      .insertInto('quotients')
      .values(
        demandes.map((d, k) => ({
          id: randomUUID(),
          demande_id: d.id,
          famille_id: d.famille_id,
          valeur_cents: 40_000 + ((first + k) % 200) * 1_000,
          periode: 'mensuelle',
          formule: 'rfr-parts',
          politique: 'bench',
          prix,
          valide_du: `${d.reference.slice(2, 6)}-09-01`,
          valide_au: `${Number(d.reference.slice(2, 6)) + 1}-08-31`,
          origine: 'calcul',
          calcule_le: d.creee_le,
        })),
      )
      .execute();
  }
  console.log(
    `${n.format(families)} familles, ${n.format(families * 2)} quotients écrits en ${n.format(Math.round(performance.now() - started))} ms (${database.dialect})`,
  );

  const service = new FacturationService({ db: database.db, journal: { append: async () => undefined } });
  let t0 = performance.now();
  const { lignes, csv } = await service.exporterCsv('2026-11-23', { type: 'agent', id: 'bench' });
  const exportMs = performance.now() - t0;
  console.log(`export CSV au 23/11/2026 : ${n.format(lignes)} lignes, ${n.format(Math.round(csv.length / 1024))} Kio, ${n.format(Math.round(exportMs))} ms`);

  t0 = performance.now();
  let pages = 0;
  let total = 0;
  let apres: Position | undefined;
  for (;;) {
    const page = await service.page({ modifiedSince: '2000-01-01T00:00:00.000Z' }, limit, apres);
    pages += 1;
    total += page.quotients.length;
    if (!page.suite) break;
    apres = page.suite;
  }
  const walkMs = performance.now() - t0;
  console.log(
    `API, parcours complet (modifiedSince) : ${n.format(total)} quotients en ${pages} pages de ${limit}, ${n.format(Math.round(walkMs))} ms (${n.format(Math.round(walkMs / pages))} ms par page)`,
  );

  t0 = performance.now();
  pages = 0;
  apres = undefined;
  for (;;) {
    const page = await service.page({ date: '2026-11-23' }, limit, apres);
    pages += 1;
    if (!page.suite) break;
    apres = page.suite;
  }
  console.log(`API, en vigueur à une date : ${pages} pages, ${n.format(Math.round(performance.now() - t0))} ms`);
} finally {
  await database.close();
  await drop();
  rmSync(dir, { recursive: true, force: true });
}
