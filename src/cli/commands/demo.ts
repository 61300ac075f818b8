import { relative } from 'node:path';
import { parseCommandArgs, type CliCommand } from '../io.ts';
import { seedDemo } from '../demo-seed.ts';
import { openServices } from '../services.ts';
import { describeDatabase, migrate, openRuntime, startHttpServer } from '../runtime.ts';

export const demoCommand: CliCommand = {
  summary: 'Démonstration complète sur cette machine (base embarquée, bac à sable, comptes de démonstration).',
  usage: 'quotient demo\n\nRien à configurer : base SQLite sous ./data, commune de démonstration. Arrêt : Ctrl+C.',
  async run(argv, io) {
    parseCommandArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
    const runtime = openRuntime(io, 'demo');
    try {
      await migrate(runtime);
      // The built-in DGFiP sandbox (unless the DGFIP_* variables name a gateway), the journal, the
      // silo and the processing loop; then a few families so that every screen has something.
      const services = await openServices(runtime);
      const server = await startHttpServer(runtime, { onStop: [() => services.stop()] }).catch(async (error: unknown) => {
        await services.stop();
        throw error;
      });
      const seeded = await seedDemo(services, runtime.database.db, runtime.logger);
      const dgfip = services.dgfip;
      const base = server.url;
      const dataDir = relative(io.cwd, runtime.config.dataDir) || '.';
      io.out(
        [
          '',
          `  Quotient — démonstration (${runtime.config.commune.commune.nom})`,
          '',
          `  Portail des familles   ${base}/`,
          `  État du service        ${base}/healthz  ·  ${base}/readyz`,
          `  Base de données        ${describeDatabase(runtime.config.databaseUrl)}`,
          dgfip.sandbox
            ? `  Bac à sable DGFiP      ${dgfip.sandbox.baseUrl}  (certificats : ${relative(io.cwd, dgfip.sandbox.pki.dir) || '.'}/)`
            : `  DGFiP                  ${dgfip.connection.baseUrl}`,
          `  Données locales        ${dataDir}/`,
          seeded > 0 ? `  Familles de démo       ${seeded} demandes traitées avec le bac à sable` : '  Familles de démo       déjà présentes',
          '',
          '  Arrêt : Ctrl+C',
          '',
        ].join('\n'),
      );
      return await server.stopped;
    } catch (error) {
      await runtime.database.close().catch(() => undefined);
      throw error;
    }
  },
};
