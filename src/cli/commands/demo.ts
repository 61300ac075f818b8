import { relative } from 'node:path';
import { parseCommandArgs, type CliCommand } from '../io.ts';
import { describeDatabase, migrate, openRuntime, startHttpServer } from '../runtime.ts';

export const demoCommand: CliCommand = {
  summary: 'Démonstration complète sur cette machine (base embarquée, bac à sable, comptes de démonstration).',
  usage: 'quotient demo\n\nRien à configurer : base SQLite sous ./data, commune de démonstration. Arrêt : Ctrl+C.',
  async run(argv, io) {
    parseCommandArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
    const runtime = openRuntime(io, 'demo');
    try {
      await migrate(runtime);
      const server = await startHttpServer(runtime);
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
