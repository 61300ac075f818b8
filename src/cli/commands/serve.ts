import { QuotientError } from '../../domain/errors.ts';
import { pendingMigrations } from '../../infra/db/migrations.ts';
import { EXIT, parseCommandArgs, type CliCommand } from '../io.ts';
import { attendreArret, describeDatabase, openRuntime, ouvrirMetriques, startHttpServer } from '../runtime.ts';
import { composeServices, ROLES_PROCESSUS as ROLES, type RoleProcessus as Role } from '../../app/compose.ts';

export const serveCommand: CliCommand = {
  summary: 'Serveur de production, selon la configuration.',
  usage: [
    'quotient serve [--role web|worker|all] [--sandbox]',
    '',
    '  --role     web : pages et API, et les demandes en ligne reçues par ce processus ;',
    '             worker : les campagnes et, sous un seul meneur parmi les workers, les tâches planifiées',
    '             (purge, politique tarifaire, détection, renouvellement annuel) ; all (défaut) : les deux.',
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
      const { config } = runtime;
      const role = values.role as Role;
      const toutes = config.metricsAddress && ['0.0.0.0', '::'].includes(config.metricsAddress.host);
      if (toutes && config.metricsTokenFile === undefined) {
        io.err(
          'QUOTIENT_METRICS_ADDRESS écoute sur toutes les interfaces, sans jeton : ne publiez ce port que sur un réseau interne, ou ajoutez QUOTIENT_METRICS_TOKEN_FILE.',
        );
      }
      const services = await composeServices(runtime, { role });
      if (role === 'worker') {
        // No HTTP: the campaigns' items and, under one leader among the workers, the scheduled jobs.
        if (!config.smtp) io.err('QUOTIENT_SMTP_URL n’est pas renseignée : les familles ne seront pas prévenues par courriel du résultat des campagnes.');
        const metriques = await ouvrirMetriques(runtime, services).catch(async (error: unknown) => {
          await services.stop();
          throw error;
        });
        io.out(
          `Quotient (${config.commune.commune.nom}) : processus de fond démarré (campagnes et tâches planifiées, instance ${services.instanceId}) ; arrêt par SIGTERM ou Ctrl+C.`,
        );
        if (metriques) io.out(`Métriques : ${metriques.url}`);
        return await attendreArret(runtime, [...(metriques ? [() => metriques.close()] : []), () => services.stop()]);
      }
      if (!config.agentsOidc) io.err('QUOTIENT_AGENTS_OIDC_ISSUER n’est pas renseignée : l’espace agents (/agents) et l’API de facturation sont désactivés.');
      // Family accounts need e-mail (verification, reset): without a relay, the portal stays closed.
      if (!config.smtp) io.err('QUOTIENT_SMTP_URL n’est pas renseignée : l’espace des familles (connexion, calcul du quotient) est désactivé.');
      const server = await startHttpServer(runtime, services, { onStop: [() => services.stop()] }).catch(async (error: unknown) => {
        await services.stop();
        throw error;
      });
      io.out(`Quotient (${runtime.config.commune.commune.nom}) écoute sur ${runtime.config.host}:${server.port} — adresse publique ${server.url}.`);
      if (server.metriques) io.out(`Métriques : ${server.metriques.url}`);
      return await server.stopped;
    } catch (error) {
      await runtime.database.close().catch(() => undefined);
      throw error;
    }
  },
};
