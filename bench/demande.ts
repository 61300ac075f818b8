/**
 * What Quotient adds to one online request over the DGFiP's own answer (target: median ≤ 50 ms).
 *
 *   node --import tsx bench/demande.ts [--runs 9] [--profil DIR]
 *
 * Quotient: the production build (dist/, plain node, `serve --role web`, SQLite), its gateway the
 * sandbox started here. Each run is a new family (signed up, household complete, consent given: not
 * timed) whose numéro fiscal is posted at step 4 of the form; timed from the post until the result
 * page with the quotient is read, as the browser follows the redirect. Against it, alternately, the
 * sandbox's own answer to the same question asked directly by a warm DGFiP client (token cached,
 * connection kept, as the server's are after its first call). Figures are medians, printed, never asserted.
 */
import { parseArgs } from 'node:util';
import { NumeroFiscal } from '../src/domain/numero-fiscal.ts';
import { createLogger } from '../src/infra/log/logger.ts';
import { sandboxConnection } from '../src/sandbox/connection.ts';
import { createDgfipClients } from '../src/sources/dgfip.ts';
import { calculer, demarrerQuotientConstruit, median, SPI_FAMILLE } from './quotient-construit.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, profil: { type: 'string' } } });
const runs = Math.max(1, Number(values.runs));
const n = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1 });

const quotient = await demarrerQuotientConstruit(values.profil ? { profilDir: values.profil } : {});
const direct = createDgfipClients(sandboxConnection(quotient.sandbox), { logger: createLogger({ level: 'silent' }) });
try {
  const spi = NumeroFiscal.parse(SPI_FAMILLE);
  // Warm-up of both sides: the server's first call fetches its token and opens its connection.
  await calculer(await quotient.famille(0));
  await direct.impotParticulier.parNumeroFiscal(spi);
  const q: number[] = [];
  const envoi: number[] = [];
  const avantAppel: number[] = [];
  const d: number[] = [];
  const appels: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const famille = await quotient.famille(i);
    const steps = [
      async () => {
        const before = quotient.sandbox.admin.calls().length;
        const debut = Date.now();
        const r = await calculer(famille);
        const appel = quotient.sandbox.admin.calls()[before];
        if (appel) avantAppel.push(appel.at - debut);
        q.push(r.ms);
        envoi.push(r.envoiMs);
        appels.push(quotient.sandbox.admin.calls().length - before);
      },
      async () => {
        const t0 = performance.now();
        await direct.impotParticulier.parNumeroFiscal(spi);
        d.push(performance.now() - t0);
      },
    ];
    if (i % 2 === 0) steps.reverse();
    for (const step of steps) await step();
  }
  const added = q.map((ms, i) => ms - (d[i] ?? 0));
  console.log(`Une demande en ligne (${runs} essais alternés, médianes) ; Quotient : dist/ (construction de production), node ${process.version}`);
  console.log(`  Quotient, de l’envoi du numéro fiscal à la page du résultat  ${n.format(median(q))} ms (${appels.join(', ')} appels au bac à sable)`);
  console.log(
    `    dont l’envoi (demande, appel, calcul, jusqu’à la redirection)  ${n.format(median(envoi))} ms, la page du résultat ${n.format(median(q.map((ms, i) => ms - envoi[i]!)))} ms`,
  );
  console.log(`    l’appel à la DGFiP reçu par le bac à sable ${n.format(median(avantAppel))} ms après l’envoi (médiane)`);
  console.log(`  le bac à sable seul, même question, client chaud             ${n.format(median(d))} ms`);
  console.log(
    `  ajouté par Quotient                                          ${n.format(median(added))} ms (objectif ≤ 50 ms ; essais : ${added.map((x) => n.format(x)).join(' ; ')})`,
  );
} finally {
  await direct.close();
  await quotient.close();
}
