import { EXIT, parseCommandArgs, type CliCommand } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

export const migrateCommand: CliCommand = {
  summary: 'Applique les migrations de la base de données.',
  usage: 'quotient migrate\n\nLa base est désignée par QUOTIENT_DATABASE_URL (sqlite:CHEMIN ou postgres://…).',
  async run(argv, io) {
    parseCommandArgs({ args: argv, options: {}, strict: true, allowPositionals: false });
    // The commune file is read (and validated) only when named: migrating needs just the database.
    const runtime = openRuntime(io, io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production');
    try {
      const report = await migrate(runtime);
      const where = describeDatabase(runtime.config.databaseUrl);
      if (report.applied.length === 0) io.out(`Base ${where} : déjà à jour (${report.alreadyApplied} migration(s) appliquée(s)).`);
      else io.out(`Base ${where} : ${report.applied.length} migration(s) appliquée(s) : ${report.applied.join(', ')}.`);
      return EXIT.ok;
    } finally {
      await runtime.database.close();
    }
  },
};
