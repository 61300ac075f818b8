import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Coffre } from '../infra/silo/coffre.ts';
import { openKeyringFile } from '../infra/silo/keyring.ts';
import { auditFilesFor, JournalAudit } from '../modules/audit/index.ts';
import { DemandesService } from '../modules/demandes/demandes-service.ts';
import { notifierFamilles } from '../modules/demandes/notifications.ts';
import { SpiVault } from '../modules/demandes/spi-vault.ts';
import { Traitement } from '../modules/demandes/traitement.ts';
import { FamillesService } from '../modules/familles/familles-service.ts';
import { RetentionService } from '../modules/retention/retention-service.ts';
import { openDgfip, type DgfipRuntime } from './dgfip-runtime.ts';
import type { AppDependencies } from '../http/app.ts';
import type { CapturedCourriel, Mailer } from '../infra/mail/mailer.ts';
import type { FranceConnectSettings } from '../modules/comptes/franceconnect-client.ts';
import type { PortailServices } from '../modules/portail/portail-routes.tsx';
import { AgentsService } from '../modules/agents/agents-service.ts';
import type { BackOfficeServices } from '../modules/agents/back-office.ts';
import { ClesApiService } from '../modules/api/cles-api-service.ts';
import { InstructionService } from '../modules/instruction/instruction-service.ts';
import { FacturationService } from '../modules/facturation/facturation-service.ts';
import { ControleService } from '../modules/controle/controle-service.ts';
import { TableauDeBordService } from '../modules/tableau-de-bord/tableau-de-bord-service.ts';
import { PolitiquesService } from '../modules/administration/politiques-service.ts';
import type { AgentsOidcConfig } from '../infra/config/config.ts';
import type { Runtime } from './runtime.ts';

/** Everything a running Quotient uses beyond the database: the composition root of the services. */
export interface Services {
  readonly instanceId: string;
  readonly dgfip: DgfipRuntime;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly demandes: DemandesService;
  readonly familles: FamillesService;
  readonly traitement: Traitement;
  readonly agents: AgentsService;
  readonly clesApi: ClesApiService;
  readonly instruction: InstructionService;
  readonly facturation: FacturationService;
  readonly politiques: PolitiquesService;
  readonly controle: ControleService;
  readonly tableauDeBord: TableauDeBordService;
  /** Stops the processing loop (queued requests become `a_ressaisir`), then the DGFiP clients. */
  stop(): Promise<void>;
}

/**
 * With a mailer, the family hears by e-mail when its request ends or needs it (calculated, to be
 * checked, number to type again, failed, refused).
 */
export async function openServices(runtime: Runtime, options: { mailer?: Mailer } = {}): Promise<Services> {
  const { config, database, logger } = runtime;
  const journal = await JournalAudit.open({
    db: database.db,
    dialect: database.dialect,
    files: auditFilesFor(config),
    onAlert: (alert) => logger.error({ code: alert.code }, alert.message),
  });
  // The tariff policy versions deposited by administrators; the configuration file's is the fallback.
  const politiques = await PolitiquesService.ouvrir({ db: database.db, journal, initiale: { politique: config.politique, contenu: readFileSync(config.politiqueFile, 'utf8'), fichier: config.politiqueFile } });
  const stopPolitiques = politiques.surveiller(60_000, (error: unknown) => logger.error({ err: error }, 'échec du rechargement des versions de la politique tarifaire'));
  const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: openKeyringFile(config) });
  const dgfip = await openDgfip(runtime);
  const instanceId = randomUUID();
  const vault = new SpiVault();
  const demandes = new DemandesService({
    db: database.db,
    journal,
    coffre,
    source: dgfip.clients.impotParticulier,
    politique: (dateDemande) => politiques.enVigueur(dateDemande),
    habilitation: config.commune.habilitation,
    vault,
    instanceId,
    quotaPerMinute: config.dgfip.quotaPerMinute,
    logger,
    ...(options.mailer
      ? { onChange: notifierFamilles({ db: database.db, mailer: options.mailer, publicUrl: config.publicUrl, communeNom: config.commune.commune.nom, logger }) }
      : {}),
  });
  const familles = new FamillesService({ db: database.db, journal, coffre });
  const traitement = new Traitement({ service: demandes, db: database.db, instanceId, logger });
  const agents = new AgentsService({ db: database.db, journal });
  const clesApi = new ClesApiService({ db: database.db, journal });
  await traitement.start();
  // Retention runs every day in each process; it is idempotent, so several processes may run it.
  const retention = new RetentionService({ db: database.db, coffre, journal, conservation: config.commune.conservation });
  const purgeDaily = setInterval(() => {
    retention.purger().then(
      (rapport) => logger.info({ ...rapport }, 'purge quotidienne'),
      (error: unknown) => logger.error({ err: error }, 'échec de la purge quotidienne'),
    );
  }, 24 * 3600_000);
  purgeDaily.unref();
  return {
    instanceId,
    dgfip,
    journal,
    coffre,
    demandes,
    familles,
    traitement,
    agents,
    clesApi,
    instruction: new InstructionService({ db: database.db, journal, coffre, demandes }),
    facturation: new FacturationService({ db: database.db, journal }),
    politiques,
    controle: new ControleService({ db: database.db, journal, agents }),
    tableauDeBord: new TableauDeBordService({ db: database.db, journal, quota: dgfip.quota }),
    async stop() {
      clearInterval(purgeDaily);
      stopPolitiques();
      await traitement.stop();
      await dgfip.close();
    },
  };
}

/** What the sign-in pages need from the services: families are created through FamillesService. */
export function comptesDeps(
  services: Services,
  options: { mailer: Mailer; outbox?: readonly CapturedCourriel[]; franceConnect?: FranceConnectSettings },
): NonNullable<AppDependencies['comptes']> {
  return {
    familles: { creer: (input, acteur) => services.familles.creer(input, acteur) },
    journal: services.journal,
    mailer: options.mailer,
    ...(options.outbox ? { outbox: options.outbox } : {}),
    ...(options.franceConnect ? { franceConnect: options.franceConnect } : {}),
  };
}

/** What the family portal needs: requests, families, and a nudge to the processing loop. */
export function portailServices(services: Services): PortailServices {
  return { demandes: services.demandes, familles: services.familles, wake: () => services.traitement.wake() };
}

/** What the back-office and the API need; the agents sign in through `oidc`. */
export function backOfficeServices(services: Services, oidc: AgentsOidcConfig, publicUrl: string): BackOfficeServices {
  return {
    agents: services.agents,
    clesApi: services.clesApi,
    journal: services.journal,
    demandes: services.demandes,
    familles: services.familles,
    instruction: services.instruction,
    facturation: services.facturation,
    politiques: services.politiques,
    controle: services.controle,
    tableauDeBord: services.tableauDeBord,
    wake: () => services.traitement.wake(),
    oidc: { ...oidc, redirectUri: `${publicUrl}/agents/connexion/retour`, postLogoutRedirectUri: `${publicUrl}/agents/deconnexion/fin` },
  };
}
