import type { Logger } from '../infra/log/logger.ts';
import { Bail } from '../infra/queue/bail.ts';
import type { QuotaSlot } from '../infra/queue/quota-slot.ts';
import type { Coffre } from '../infra/silo/coffre.ts';
import { reglagesDetection } from '../infra/config/securite-config.ts';
import type { PolitiquesService } from '../modules/administration/politiques-service.ts';
import type { AgentsService } from '../modules/agents/agents-service.ts';
import type { JournalAudit } from '../modules/audit/index.ts';
import { CampagnesService } from '../modules/campagnes/campagnes-service.ts';
import { ExecuteurCampagnes } from '../modules/campagnes/execution.ts';
import { TraitementElement } from '../modules/campagnes/traitement-element.ts';
import type { DemandesService } from '../modules/demandes/demandes-service.ts';
import type { SpiVault } from '../modules/demandes/spi-vault.ts';
import type { Transitions } from '../modules/demandes/transitions.ts';
import type { DetectionService } from '../modules/detection/detection-service.ts';
import type { FamillesService } from '../modules/familles/familles-service.ts';
import type { SuspensionAppels } from '../modules/incident/interrupteurs.ts';
import type { RenouvellementService } from '../modules/renouvellement/renouvellement-service.ts';
import type { RetentionService } from '../modules/retention/retention-service.ts';
import type { TraitementService } from '../modules/traitement/traitement-service.ts';
import type { VoieEtatCivil } from '../sources/dgfip-source.ts';
import type { CompositionOptions, IncidentServices, Runtime } from './compose.ts';
import { Planificateur, type TachePlanifiee } from './planificateur.ts';
import { tacheRenouvellementAnnuel } from './renouvellement-annuel.ts';
import { renouvellementsPourCampagnes } from './renouvellements-campagnes.ts';

/**
 * The campaigns' part of the composition (issue 14): the service administrators use, this
 * process's campaign worker, and the singleton jobs under one leader. `composeServices` starts the
 * worker and the leader's loop for the `worker` and `all` roles only.
 */
export function composeCampagnes(d: {
  readonly runtime: Runtime;
  readonly options: CompositionOptions;
  readonly instanceId: string;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly transitions: Transitions;
  readonly demandes: DemandesService;
  readonly familles: FamillesService;
  readonly traitement: TraitementService;
  readonly vault: SpiVault;
  readonly agents: AgentsService;
  readonly politiques: PolitiquesService;
  readonly retention: RetentionService;
  readonly renouvellement: RenouvellementService;
  readonly detection: DetectionService;
  readonly quota: QuotaSlot;
  readonly voie: VoieEtatCivil;
  readonly incident: IncidentServices;
  readonly suspension: () => Promise<SuspensionAppels | null>;
}): { campagnes: CampagnesService; executeurCampagnes: ExecuteurCampagnes; planificateur: Planificateur } {
  const {
    runtime,
    options,
    instanceId,
    journal,
    coffre,
    transitions,
    demandes,
    familles,
    traitement,
    vault,
    agents,
    politiques,
    retention,
    renouvellement,
    detection,
    quota,
    voie,
    incident,
    suspension,
  } = d;
  const { config, database } = runtime;
  const { db } = database;
  const logger: Logger = runtime.logger;
  const reglages = reglagesDetection(config.commune.securite);
  // The standing consents feed the renewal campaigns; tests may put another source in their place.
  const renouvellements = options.renouvellements ?? renouvellementsPourCampagnes(renouvellement);
  const campagnes = new CampagnesService({
    db,
    dialect: database.dialect,
    journal,
    coffre,
    renouvellements,
    quotaParMinute: config.dgfip.quotaPerMinute,
    appelsParFoyer: voie === 'sfip' ? 1 : voie === 'r2p' ? 2 : 0,
    quota,
  });
  const executeurCampagnes = new ExecuteurCampagnes({
    db,
    dialect: database.dialect,
    instanceId,
    logger,
    element: new TraitementElement({
      db,
      journal,
      coffre,
      transitions,
      demandes,
      familles,
      traitement,
      vault,
      renouvellements,
      instanceId,
      logger,
      bilan: (b) => detection.bilanCampagne(b),
      ...(options.campagnes?.reessaiMs !== undefined ? { reessaiMs: options.campagnes.reessaiMs } : {}),
    }),
    quota,
    campagnesArretees: () => incident.cache.campagnesArretees(),
    suspension,
    ...options.campagnes,
  });
  const tickMs = options.planificateurTickMs ?? 10_000;
  const taches: TachePlanifiee[] = [
    // The store's unique open key would keep one alert between several evaluators; one is enough.
    { nom: 'detection', intervalleMs: options.detectionMs ?? reglages.intervalleSecondes * 1000, executer: () => detection.evaluer() },
    {
      nom: 'purge',
      intervalleMs: 24 * 3600_000,
      executer: async () => logger.info({ ...(await retention.purger()) }, 'purge quotidienne'),
    },
    // Marks in force the scheduled versions whose day has come (every instance reloads its own copy).
    { nom: 'politiques', intervalleMs: 60_000, executer: () => politiques.rafraichir() },
    tacheRenouvellementAnnuel({ db, config: config.commune.campagnes, campagnes, agents, logger }),
  ];
  const planificateur = new Planificateur({
    bail: new Bail(db, { nom: 'planificateur', detenteur: instanceId, dureeMs: tickMs * 3 }),
    taches,
    logger,
    tickMs,
  });

  return { campagnes, executeurCampagnes, planificateur };
}
