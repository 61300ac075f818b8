import { QuotientError } from '../../domain/errors.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import { EXIT, parseCommandArgs, type CliCommand } from '../io.ts';
import { describeDatabase, openRuntime, startHttpServer } from '../runtime.ts';
import { composeServices } from '../../app/compose.ts';

const ROLES = ['web', 'worker', 'all'] as const;
type Role = (typeof ROLES)[number];

export const serveCommand: CliCommand = {
  summary: 'Serveur de production, selon la configuration.',
  usage: [
    'quotient serve [--role web|worker|all] [--sandbox]',
    '',
    '  --role     web : pages et API ; worker : tâches de fond ; all (défaut) : les deux.',
    '  --sandbox  accepte le bac à sable de la DGFiP au lieu de la vraie passerelle.',
    '',
    'Réglages : variables QUOTIENT_* et DGFIP_* (voir le README). La base doit être migrée (quotient migrate).',
  ].join('\n'),
  async run(argv, io) {
    const { values } = parseCommandArgs({
      args: argv,
      options: { role: { type: 'string', default: 'all' }, sandbox: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    });
    if (!ROLES.includes(values.role as Role)) {
      throw new QuotientError('invalid', 'usage_invalide', `Rôle inconnu : « ${values.role} ». Valeurs possibles : web, worker, all.`);
    }
    const runtime = openRuntime(io, 'production');
    if (runtime.config.dgfip.baseUrl === undefined && !values.sandbox) {
      await runtime.database.close();
      io.err(
        'DGFIP_BASE_URL n’est pas renseignée : le serveur interrogerait le bac à sable (données fictives). Renseignez les variables DGFIP_* de la passerelle, ou lancez « quotient serve --sandbox » pour une recette.',
      );
      return EXIT.usage;
    }
    try {
      const pending = await pendingMigrations(runtime.database.db);
      if (pending.length > 0) {
        io.err(
          `La base ${describeDatabase(runtime.config.databaseUrl)} n’est pas à jour (${pending.length} migration(s) en attente) : lancez « quotient migrate » puis relancez le serveur.`,
        );
        return EXIT.usage;
      }
      if (values.role === 'worker') {
        // Background jobs (request queue, campaigns, purge) attach here as they are built; until
        // then a worker-only process has nothing to do and says so rather than pretend.
        io.err('Le rôle « worker » n’a encore aucune tâche de fond dans cette version : lancez « quotient serve --role web » ou « all ».');
        await runtime.database.close();
        return EXIT.usage;
      }
      const { config } = runtime;
      const services = await composeServices(runtime);
      if (!config.agentsOidc) io.err('QUOTIENT_AGENTS_OIDC_ISSUER n’est pas renseignée : l’espace agents (/agents) et l’API de facturation sont désactivés.');
      // Family accounts need e-mail (verification, reset): without a relay, the portal stays closed.
      if (!config.smtp) io.err('QUOTIENT_SMTP_URL n’est pas renseignée : l’espace des familles (connexion, calcul du quotient) est désactivé.');
      const server = await startHttpServer(runtime, services, { onStop: [() => services.stop()] }).catch(async (error: unknown) => {
        await services.stop();
        throw error;
      });
      io.out(`Quotient (${runtime.config.commune.commune.nom}) écoute sur ${runtime.config.host}:${server.port} — adresse publique ${server.url}.`);
      return await server.stopped;
    } catch (error) {
      await runtime.database.close().catch(() => undefined);
      throw error;
    }
  },
};
