import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { composeServices } from '../../app/compose.ts';
import { QuotientError } from '../../domain/errors.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import { EXIT, argsDeSousCommande, parseCommandArgs, type CliCommand } from '../io.ts';
import { describeDatabase, migrate, openRuntime } from '../runtime.ts';

const USAGE = [
  'quotient migration rapport --sortie FICHIER.csv',
  '',
  'Rapport de migration de l’API Particulier (v2) vers l’API Impôt particulier : pour chaque famille',
  'dont Quotient a reçu un avis par chacune des deux voies, le plus récent de chaque côté et les écarts',
  'nommés champ par champ. Aucun appel n’est fait : le rapport compare ce qui a été reçu et gardé au silo.',
  'Il ne contient aucun numéro fiscal, et ne montre que les valeurs qu’un instructeur peut voir',
  '(année, revenu fiscal de référence, parts, situation de famille, personnes à charge).',
  '',
  '  --sortie   fichier CSV à créer (séparateur « ; », UTF-8) ; un fichier existant n’est pas écrasé',
].join('\n');

export const migrationCommand: CliCommand = {
  summary: 'Rapport de migration API Particulier → API Impôt particulier : quotient migration rapport --sortie rapport.csv.',
  usage: USAGE,
  async run(argv, io) {
    const rest = argsDeSousCommande(argv, 'rapport', USAGE);
    const { values } = parseCommandArgs({ args: rest, options: { sortie: { type: 'string' } }, strict: true, allowPositionals: false });
    if (values.sortie === undefined || values.sortie.trim() === '')
      throw new QuotientError('invalid', 'usage_invalide', 'Indiquez le fichier à créer avec --sortie.');
    const sortie = resolve(io.cwd, values.sortie);

    const mode = io.env.QUOTIENT_CONFIG === undefined ? 'demo' : 'production';
    const runtime = openRuntime(io, mode, { logToStderr: true });
    try {
      if (mode === 'demo') await migrate(runtime);
      else if ((await pendingMigrations(runtime.database.db)).length > 0) {
        io.err(`La base ${describeDatabase(runtime.config.databaseUrl)} n’est pas à jour : lancez « quotient migrate » d’abord.`);
        return EXIT.usage;
      }
      const services = await composeServices(runtime, { background: false, onAlert: (a) => io.err(a.message) });
      try {
        const rapport = await services.migration.rapport({ type: 'systeme', id: `cli:${userInfo().username}` });
        try {
          // Fiscal values: readable by the operator's account only, and never over an existing file.
          writeFileSync(sortie, rapport.csv, { flag: 'wx', mode: 0o600 });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          io.err(code === 'EEXIST' ? `Le fichier ${sortie} existe déjà : choisissez un autre nom.` : `Impossible d’écrire ${sortie} (${code ?? 'erreur'}).`);
          return EXIT.failure;
        }
        io.out(`Rapport écrit dans ${sortie} : ${rapport.familles} famille(s), ${rapport.lignes} avis comparé(s).`);
        return EXIT.ok;
      } finally {
        await services.stop();
      }
    } finally {
      await runtime.database.close();
    }
  },
};
