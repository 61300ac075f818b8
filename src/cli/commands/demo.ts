import { relative } from 'node:path';
import { parseCommandArgs, type CliCommand } from '../io.ts';
import { openDgfip } from '../dgfip-runtime.ts';
import { describeDatabase, migrate, openRuntime, startHttpServer } from '../runtime.ts';

export const demoCommand: CliCommand = {
  summary: 'Démonstration complète sur cette machine (base embarquée, bac à sable, comptes de démonstration).',
  usage: 'quotient demo\n\nRien à configurer : base SQLite sous ./data, commune de démonstration. Arrêt : Ctrl+C.',
  async run(argv, io) {
    parseCommandArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
    const runtime = openRuntime(io, 'demo');
    try {
      await migrate(runtime);
      // The built-in DGFiP sandbox, unless the DGFIP_* variables name a gateway.
      const dgfip = await openDgfip(runtime);
      const server = await startHttpServer(runtime, { onStop: [() => dgfip.close()] }).catch(async (error: unknown) => {
        await dgfip.close();
        throw error;
      });
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
