/**
 * The composition root: every service, client and adapter of a running Quotient is built here and
 * only here. `quotient serve`, `quotient demo`, the one-shot commands and the tests call the same
 * `composeServices`; what differs between them (the DGFiP to call, the mailer, the identity
 * providers, a clock, whether the background jobs run) is passed in as options, and whatever is not
 * passed comes from the configuration. The web application (`buildApp`) only registers routes on
 * what this returns.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatutDemande } from '../domain/demande.ts';
import { porteesFranceConnect, type Habilitation } from '../domain/habilitation.ts';
import type { PolitiqueTarifaire } from '../domain/politique-tarifaire.ts';
import { canauxDepuisConfig, creerCircuitAlerte, type CanalAlerte, type CircuitAlerte, type NouvelleAlerte } from '../infra/alertes/index.ts';
import type { AgentsOidcConfig, AppConfig, FranceConnectConfig } from '../infra/config/config.ts';
import { reglagesDetection } from '../infra/config/securite-config.ts';
import type { Database } from '../infra/db/database.ts';
import type { Logger } from '../infra/log/logger.ts';
import { Metriques } from '../infra/metriques/metriques.ts';
import { createSmtpMailer, mailerGarde, type CapturedCourriel, type Mailer } from '../infra/mail/mailer.ts';
import { QuotaSlot } from '../infra/queue/quota-slot.ts';
import { Coffre } from '../infra/silo/coffre.ts';
import { openKeyringFile } from '../infra/silo/keyring.ts';
import { PolitiquesService } from '../modules/administration/politiques-service.ts';
import { AgentsOidcClient } from '../modules/agents/agents-client.ts';
import { AgentsService } from '../modules/agents/agents-service.ts';
import { ClesApiService } from '../modules/api/cles-api-service.ts';
import { AttestationsService } from '../modules/attestations/attestations-service.ts';
import { auditFilesFor, cibleSyslog, copieSyslogAncre, JournalAudit, type AuditAlert } from '../modules/audit/index.ts';
import { ComptesService } from '../modules/comptes/comptes-service.ts';
import { FC_RETOUR_CONNEXION, FranceConnectClient } from '../modules/comptes/franceconnect-client.ts';
import { ControleService } from '../modules/controle/controle-service.ts';
import { AlertesStore } from '../modules/detection/alertes-store.ts';
import { DetectionService } from '../modules/detection/detection-service.ts';
import { DemandesService } from '../modules/demandes/demandes-service.ts';
import { LimitesNumeroFiscal } from '../modules/demandes/limites-numero-fiscal.ts';
import { notifierFamilles } from '../modules/demandes/notifications.ts';
import { Quotients } from '../modules/demandes/quotients.ts';
import { SpiVault } from '../modules/demandes/spi-vault.ts';
import { Transitions } from '../modules/demandes/transitions.ts';
import { FacturationService } from '../modules/facturation/facturation-service.ts';
import { FamillesService } from '../modules/familles/familles-service.ts';
import { GuichetService } from '../modules/guichet/guichet-service.ts';
import { creerAlerteur, type Alerteur } from '../modules/incident/alerter.ts';
import { GardeIntegrite } from '../modules/incident/garde-integrite.ts';
import { IncidentService } from '../modules/incident/incident-service.ts';
import { CacheIncidents, suspensionDe, type SuspensionAppels } from '../modules/incident/interrupteurs.ts';
import { AvisService } from '../modules/avis/avis-service.ts';
import { DecisionsService } from '../modules/instruction/decisions-service.ts';
import { InstructionService } from '../modules/instruction/instruction-service.ts';
import { RenouvellementService } from '../modules/renouvellement/renouvellement-service.ts';
import { RetentionService } from '../modules/retention/retention-service.ts';
import { TableauDeBordService } from '../modules/tableau-de-bord/tableau-de-bord-service.ts';
import { BoucleTraitement } from '../modules/traitement/boucle.ts';
import { enLigneEnAttente, positionEnFile } from '../modules/traitement/file-repo.ts';
import { TraitementService } from '../modules/traitement/traitement-service.ts';
import { sandboxConnection } from '../sandbox/connection.ts';
import type { SandboxHandle } from '../sandbox/server.ts';
import { connectionFromSettings, createDgfipClients, type DgfipClients, type DgfipConnection } from '../sources/dgfip.ts';
import { ApiParticulierSource } from '../sources/api-particulier/api-particulier-source.ts';
import { createCafClient, type CafClient, type CafSource } from '../sources/caf/caf-source.ts';
import { UpstreamHttp } from '../sources/http/upstream-http.ts';
import { MigrationService } from '../modules/migration/migration-service.ts';
import type { CampagnesService } from '../modules/campagnes/campagnes-service.ts';
import type { ExecuteurCampagnes } from '../modules/campagnes/execution.ts';
import type { SourceRenouvellements } from '../modules/campagnes/renouvellements.ts';
import { composeCampagnes } from './compose-campagnes.ts';
import { sourcesMetriques } from './compose-metriques.ts';
import type { Planificateur } from './planificateur.ts';

/** What every composition starts from: the configuration, the logger and the open database. */
export interface Runtime {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly database: Database;
}

type StatusObserver = (demandeId: string, statut: StatutDemande) => void;

/** What a caller chooses instead of the configuration's defaults (tests, the demo, one-shot commands). */
export interface CompositionOptions {
  /**
   * The DGFiP to call, started and closed by the caller: a running sandbox or a connection. By
   * default, the gateway of the DGFIP_* variables, else the built-in sandbox (started and closed here).
   */
  readonly dgfip?: SandboxHandle | DgfipConnection;
  /** Deadline, retries and backoff of the upstream calls (tests shorten them). */
  readonly upstreamHttp?: NonNullable<Parameters<typeof createDgfipClients>[1]['http']>;
  /** This process in `instances` (default: a fresh UUID). */
  readonly instanceId?: string;
  /** Where the numéros fiscaux wait in memory (a test's restart brings an empty one). */
  readonly vault?: SpiVault;
  /** The clock of sign-in (accounts, sessions); tests move it forward. */
  readonly clock?: () => number;
  /**
   * E-mail: family accounts (verification, reset) and the family's notice when a request ends.
   * Default: the SMTP relay of QUOTIENT_SMTP_*; without any, no family space.
   */
  readonly mailer?: Mailer;
  /** Demo and tests: the e-mails a local SMTP server captured, shown at /dev/courriels. */
  readonly outbox?: readonly CapturedCourriel[];
  /** The FranceConnect client (default QUOTIENT_FC_*); redirect URIs follow the public URL. */
  readonly franceConnect?: FranceConnectConfig;
  /** The agents' provider (default QUOTIENT_AGENTS_OIDC_*); without any, no back-office nor API. */
  readonly agentsOidc?: AgentsOidcConfig;
  /**
   * The processing loop, the reload of the policy versions and the daily purge (default: on).
   * One-shot commands, and tests that drive requests by hand, leave them off.
   */
  readonly background?: boolean;
  /** Tests: a fixed tariff policy instead of the version in force (administrators' or the file's). */
  readonly politique?: (dateDemande: string) => PolitiqueTarifaire;
  /** Tests: an habilitation instead of the commune file's. */
  readonly habilitation?: Habilitation;
  /** Told of every status a family must hear about, besides the e-mail (tests watch it). */
  readonly onChange?: StatusObserver;
  /** Where the journal's integrity alerts go (default: the error log). */
  readonly onAlert?: (alert: AuditAlert) => void;
  /** Tests: the security alerts' channels instead of the configuration's (`securite.alertes`). */
  readonly canauxAlerte?: readonly CanalAlerte[];
  /** How soon a switch turned elsewhere is seen here (default 2 s; tests shorten it). */
  readonly incidentRefreshMs?: number;
  /** How often the background checks the journal (default QUOTIENT_AUDIT_VERIFY_MINUTES). */
  readonly integrityCheckMs?: number;
  /** How often the background evaluates the detection rules (default `securite.detection.intervalleSecondes`). */
  readonly detectionMs?: number;
  /**
   * What the background of this process runs (default `all`): `web` the online requests it receives
   * (their numbers are in its memory) and its own checks; `worker` the campaigns' items and, under
   * one leader among the workers, the scheduled singleton jobs; `all` both.
   */
  readonly role?: RoleProcessus;
  /** The source of the renewal campaigns (default: the standing consents recorded with requests). */
  readonly renouvellements?: SourceRenouvellements;
  /** Campaign workers: lease, items at once, idle poll, wait after a technical fault (tests shorten them). */
  readonly campagnes?: { readonly bailMs?: number; readonly concurrence?: number; readonly attenteMs?: number; readonly reessaiMs?: number };
  /** The leader's lease renewal (default 10 s; the lease lasts three times that). */
  readonly planificateurTickMs?: number;
  /** The registry of this composition's metrics (default: a fresh one, never prom-client's global). */
  readonly metriques?: Metriques;
  /** Benchmarks and crash tests: a compressed quota window (e.g. 50 calls per 2 s) instead of the minute and its 1 s margin. */
  readonly quotaFenetre?: { readonly windowMs: number; readonly marginMs: number };
}

export const ROLES_PROCESSUS = ['web', 'worker', 'all'] as const;
export type RoleProcessus = (typeof ROLES_PROCESSUS)[number];

/**
 * Incident response: the journal, the switches every instance reads, the integrity halt, and the
 * security alerts on the circuit of the configuration. Also composed alone by `quotient incident`.
 */
export interface IncidentServices {
  readonly journal: JournalAudit;
  readonly cache: CacheIncidents;
  readonly incidents: IncidentService;
  readonly integrite: GardeIntegrite;
  /** The alert circuit of `securite.alertes`. */
  readonly alertes: CircuitAlerte;
  readonly alerteur: Alerteur;
  /** Every alert raised, stored (deduplicated by rule and key), then sent through the alerteur. */
  readonly alertesStore: AlertesStore;
  /** Why DGFiP calls are held now (the integrity halt first, then the switch), or null. */
  suspensionAppels(): Promise<SuspensionAppels | null>;
  /** The same without waiting, from the last state read (the DGFiP transport asks before each call). */
  appelsSuspendus(): boolean;
  close(): Promise<void>;
}

/** The DGFiP as this process reaches it. */
export interface DgfipRuntime {
  readonly connection: DgfipConnection;
  readonly clients: DgfipClients;
  readonly quota: QuotaSlot;
  /** The sandbox in use, built-in or the caller's; undefined against a real gateway. */
  readonly sandbox: SandboxHandle | undefined;
  /** The legacy API Particulier v2 during the transition (API_PARTICULIER_*; with a sandbox, its own). */
  readonly apiParticulier: ApiParticulierSource | undefined;
  /** The CAF/MSA quotient (API Particulier v3, CAF_QF_*; with a sandbox, its own), with its own quota bucket `caf`. */
  readonly caf: CafSource | undefined;
  close(): Promise<void>;
}

/** Family sign-in: there only with a mailer, since local accounts need e-mail. */
export interface ComptesServices {
  readonly service: ComptesService;
  readonly franceConnect: FranceConnectClient | undefined;
  readonly outbox: readonly CapturedCourriel[] | undefined;
}

/** Everything a running Quotient uses beyond the database. */
export interface Services {
  readonly instanceId: string;
  /** What `/metrics` exposes. */
  readonly metriques: Metriques;
  readonly dgfip: DgfipRuntime;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly vault: SpiVault;
  /** Every change of a request's status, and its effects once committed. */
  readonly transitions: Transitions;
  readonly politiques: PolitiquesService;
  readonly demandes: DemandesService;
  readonly familles: FamillesService;
  /** The attestations of QF (family and counter alike) and the public check of their codes. */
  readonly attestations: AttestationsService;
  readonly traitement: TraitementService;
  /** The processing loop of this process. */
  readonly boucle: BoucleTraitement;
  readonly retention: RetentionService;
  /** The standing consents for renewal, and the campaign's input (`renouvellementsDus`). */
  readonly renouvellement: RenouvellementService;
  readonly guichet: GuichetService;
  readonly agents: AgentsService;
  readonly clesApi: ClesApiService;
  readonly instruction: InstructionService;
  readonly decisions: DecisionsService;
  /** Avis uploaded by families (issue 15): encrypted in the silo, destroyed at the decision or after their delay. */
  readonly avis: AvisService;
  readonly facturation: FacturationService;
  readonly controle: ControleService;
  readonly tableauDeBord: TableauDeBordService;
  /** The report comparing the legacy API Particulier with the new sources (`quotient migration rapport`). */
  readonly migration: MigrationService;
  readonly incident: IncidentServices;
  /** The detection rules (`securite.detection`), evaluated on a schedule; their alerts are in `incident.alertesStore`. */
  readonly detection: DetectionService;
  /** Campaigns as administrators run them (import, dry run, start, pause, report). */
  readonly campagnes: CampagnesService;
  /** This process's campaign worker (running only for the `worker` and `all` roles). */
  readonly executeurCampagnes: ExecuteurCampagnes;
  /** The singleton jobs under one leader (running only for the `worker` and `all` roles). */
  readonly planificateur: Planificateur;
  readonly comptes: ComptesServices | undefined;
  /** The agents' relying party: the back-office and the API exist only with it. */
  readonly agentsOidc: AgentsOidcClient | undefined;
  /** The clock of sign-in, when a test set one. */
  readonly clock: (() => number) | undefined;
  /** Tells the processing loop a request was just queued. */
  wake(): void;
  /** Stops the background jobs (queued requests become `a_ressaisir`), then the DGFiP clients. */
  stop(): Promise<void>;
}

/** The built-in sandbox, on loopback with its test PKI kept in the data folder (client certificate required, as at the gateway). */
export async function startBuiltInSandbox(config: Pick<AppConfig, 'dataDir'>): Promise<SandboxHandle> {
  // Loaded only when used: the sandbox brings the test PKI (@peculiar/x509) that production never needs.
  const { startSandbox } = await import('../sandbox/server.ts');
  return startSandbox({ dataDir: join(config.dataDir, 'sandbox-pki') });
}

/** Every call takes a slot of the quota shared through the database, and none is made while calls are held. */
async function openDgfip(
  runtime: Runtime,
  habilitation: Habilitation,
  options: CompositionOptions,
  suspendu: () => boolean,
  metriques: Metriques,
): Promise<DgfipRuntime> {
  const { config, logger, database } = runtime;
  const scope = habilitation.scopes.join(' ');
  let sandbox: SandboxHandle | undefined;
  let owned: SandboxHandle | undefined;
  let connection: DgfipConnection | undefined;
  if (options.dgfip === undefined) {
    connection = connectionFromSettings(config.dgfip, scope);
    if (connection === undefined) {
      sandbox = owned = await startBuiltInSandbox(config);
      connection = sandboxConnection(sandbox, scope);
    }
  } else if ('admin' in options.dgfip) {
    sandbox = options.dgfip;
    connection = sandboxConnection(sandbox, scope);
  } else {
    connection = options.dgfip;
  }
  // Online first: a campaign's call gets a slot only while no online request waits, on any instance.
  const quota = new QuotaSlot(database.db, { bucket: 'dgfip', limit: config.dgfip.quotaPerMinute, enLigneEnAttente, ...options.quotaFenetre });
  const clients = createDgfipClients(connection, {
    logger,
    quota,
    anneesAutorisees: habilitation.annees,
    tokensInQuota: config.dgfip.quotaJetons,
    scopes: habilitation.scopes,
    http: { ...options.upstreamHttp, suspendu, onAppel: (issue) => metriques.appelAmont('dgfip', issue) },
  });
  const legacy = legacyApiParticulier(config, sandbox, logger, suspendu, metriques);
  const caf = cafClient(runtime, sandbox);
  return {
    connection,
    clients,
    quota,
    sandbox,
    apiParticulier: legacy?.source,
    caf: caf?.source,
    async close() {
      await clients.close();
      await legacy?.http.close();
      await caf?.close();
      await owned?.close();
    },
  };
}

/**
 * API Particulier v2 has its own limits and no client certificate: its own HTTP layer, outside the
 * DGFiP's quota; its key is read from the file API_PARTICULIER_KEY_FILE names, like other secrets.
 */
function legacyApiParticulier(
  config: Runtime['config'],
  sandbox: SandboxHandle | undefined,
  logger: Runtime['logger'],
  suspendu: () => boolean,
  metriques: Metriques,
): { source: ApiParticulierSource; http: UpstreamHttp } | undefined {
  const target = config.apiParticulier
    ? { url: config.apiParticulier.url, key: readFileSync(config.apiParticulier.keyFile, 'utf8').trim(), ca: undefined }
    : sandbox && sandbox.apiParticulierKeys[0] !== undefined
      ? { url: sandbox.apiParticulierUrl, key: sandbox.apiParticulierKeys[0], ca: sandbox.pki.caCertPem }
      : undefined;
  if (!target) return undefined;
  const http = new UpstreamHttp({
    tls: target.ca ? { ca: target.ca } : {},
    logger,
    suspendu,
    onAppel: (issue) => metriques.appelAmont('api_particulier', issue),
  });
  return { source: new ApiParticulierSource({ http, baseUrl: target.url, apiKey: target.key }), http };
}

/** The demo's SIRET for the sandbox's `recipient` (fictitious: the sandbox checks only its shape). */
const SIRET_BAC_A_SABLE = '21999999900019';

/**
 * The CAF/MSA quotient through API Particulier v3: its own HTTP layer and its own quota bucket
 * (`caf`, CAF_QF_QUOTA_PER_MINUTE), not held by the DGFiP's incident switch (it is not a DGFiP
 * call); its token is read from the file CAF_QF_TOKEN_FILE names.
 */
function cafClient(runtime: Runtime, sandbox: SandboxHandle | undefined): CafClient | undefined {
  const { config, logger, database } = runtime;
  const target =
    config.caf.url && config.caf.tokenFile && config.caf.recipient
      ? { baseUrl: config.caf.url, token: readFileSync(config.caf.tokenFile, 'utf8').trim(), recipient: config.caf.recipient }
      : sandbox && sandbox.apiParticulierKeys[0] !== undefined
        ? { baseUrl: sandbox.apiParticulierUrl, token: sandbox.apiParticulierKeys[0], recipient: SIRET_BAC_A_SABLE, caPem: sandbox.pki.caCertPem }
        : undefined;
  if (!target) return undefined;
  const quota = new QuotaSlot(database.db, { bucket: 'caf', limit: config.caf.quotaPerMinute });
  return createCafClient(target, { logger, quota });
}

/** Both observers of a status change, either of which may be absent. */
function bothObservers(a: StatusObserver | undefined, b: StatusObserver | undefined): StatusObserver | undefined {
  if (!a || !b) return a ?? b;
  return (id, statut) => {
    a(id, statut);
    b(id, statut);
  };
}

/**
 * Opens the journal (checked at once unless `verifier` is false), reads the switches, and builds
 * the integrity guard and the alert circuit on them.
 */
export async function composeIncidents(
  runtime: Runtime,
  options: Pick<CompositionOptions, 'onAlert' | 'canauxAlerte' | 'incidentRefreshMs' | 'metriques'> & { readonly verifier?: boolean } = {},
): Promise<IncidentServices> {
  const { config, database, logger } = runtime;
  const { db } = database;
  const cache = new CacheIncidents({ db, logger, ...(options.incidentRefreshMs !== undefined ? { rafraichissementMs: options.incidentRefreshMs } : {}) });
  const report = options.onAlert ?? ((alert: AuditAlert) => logger.error({ code: alert.code }, alert.message));
  // The guard needs the journal, whose alerts it hears: it is plugged in once built.
  const ecoute: { garde?: GardeIntegrite } = {};
  const journal = await JournalAudit.open({
    db,
    dialect: database.dialect,
    files: auditFilesFor(config),
    // An anchor that cannot move is a sign of tampering: the guard checks the journal at once.
    onAlert: (alert) => {
      report(alert);
      ecoute.garde?.anomalie(alert);
    },
    // Group commit: a burst of appends costs one anchor write (the window is in docs/exploitation.md).
    ...(config.auditAnchor.delaiMs > 0 ? { ancrageGroupe: { delaiMs: config.auditAnchor.delaiMs, entreesMax: config.auditAnchor.entreesMax } } : {}),
    onError: (error) => logger.error({ err: error }, 'journal d’audit : l’ancre n’a pas pu être avancée ; nouvel essai au prochain lot'),
    ...(config.auditAnchor.syslog === undefined
      ? {}
      : {
          onAnchored: copieSyslogAncre(cibleSyslog(config.auditAnchor.syslog), (error) =>
            logger.warn({ err: error }, 'journal d’audit : copie syslog de l’ancre non transmise'),
          ),
        }),
  });
  const alertes = creerCircuitAlerte({ canaux: options.canauxAlerte ?? canauxDepuisConfig(config), logger });
  const alerteurSeul = creerAlerteur({ circuit: alertes, journal, logger });
  // Every alert sent, whichever way it came (detection store, integrity guard), is counted once.
  const alerteur: Alerteur = {
    lever: (alerte) => {
      options.metriques?.alerteLevee(alerte.code, alerte.gravite);
      alerteurSeul.lever(alerte);
    },
    enAttente: () => alerteurSeul.enAttente(),
  };
  const detection = reglagesDetection(config.commune.securite);
  const alertesStore = new AlertesStore({ db, journal, alerteur, relanceMs: detection.relanceMinutes * 60_000 });
  // The integrity break goes through the store like every alert; if the store cannot take it (the
  // database is what is failing), it is still sent.
  const enregistrements = new Set<Promise<unknown>>();
  const alerterIntegrite = (alerte: NouvelleAlerte) => {
    // One alert per break (the guard announces each once): a new break after an acknowledged one is news.
    const cle = `journal:${String(alerte.details?.raison ?? 'inconnue')}:${String(alerte.details?.sequenceRompue ?? '-')}`;
    const enCours = alertesStore.signaler({ ...alerte, regle: alerte.code, cle }).catch((error: unknown) => {
      logger.error({ err: error }, 'alerte d’intégrité non enregistrée : envoyée sans être gardée');
      alerteur.lever(alerte);
    });
    enregistrements.add(enCours);
    void enCours.finally(() => enregistrements.delete(enCours));
  };
  // Waiting for the alerts under way includes those still being stored.
  const alerteurComplet: Alerteur = {
    lever: (alerte) => alerteur.lever(alerte),
    async enAttente() {
      await Promise.all([...enregistrements]);
      await alerteur.enAttente();
    },
  };
  const etat = await cache.lire();
  const garde = new GardeIntegrite({ db, journal, alerter: alerterIntegrite, logger }, etat.integrite);
  ecoute.garde = garde;
  cache.observer((e) => garde.surSignal(e.integrite));
  if (options.verifier ?? true) await garde.verifier('demarrage');
  return {
    journal,
    cache,
    incidents: new IncidentService({ db, journal, cache }),
    integrite: garde,
    alertes,
    alerteur: alerteurComplet,
    alertesStore,
    async suspensionAppels() {
      // Read first, even while halted: the notice that lifts the halt comes with the switches.
      const etatCourant = await cache.etat();
      return garde.arret() ?? suspensionDe(etatCourant);
    },
    appelsSuspendus: () => garde.arret() !== null || suspensionDe(cache.dernier()) !== null,
    async close() {
      // Shutdown flushes: the last entries are anchored before the database closes.
      await journal.close();
      await alerteurComplet.enAttente();
      await alertes.fermer();
    },
  };
}

/**
 * Opens the journal, the silo and the DGFiP clients, builds every service on them, and (unless
 * `background` is off) starts the processing loop and the periodic jobs. `stop()` undoes it all.
 */
export async function composeServices(runtime: Runtime, options: CompositionOptions = {}): Promise<Services> {
  const { config, database, logger } = runtime;
  const { db } = database;
  const habilitation = options.habilitation ?? config.commune.habilitation;
  const background = options.background ?? true;
  const metriques = options.metriques ?? new Metriques();
  const incident = await composeIncidents(runtime, { ...options, metriques });
  const { journal } = incident;
  const suspension = () => incident.suspensionAppels();
  // The tariff policy versions deposited by administrators; the configuration file's is the fallback.
  const politiques = await PolitiquesService.ouvrir({
    db,
    journal,
    initiale: { politique: config.politique, contenu: readFileSync(config.politiqueFile, 'utf8'), fichier: config.politiqueFile },
  });
  const coffre = new Coffre({ db, dialect: database.dialect, keyring: openKeyringFile(config) });
  const dgfip = await openDgfip(runtime, habilitation, options, incident.appelsSuspendus, metriques);
  metriques.brancher(sourcesMetriques(db, dgfip.quota));
  const instanceId = options.instanceId ?? randomUUID();
  const vault = options.vault ?? new SpiVault();
  const mailerBrut = options.mailer ?? (config.smtp ? createSmtpMailer(config.smtp) : undefined);
  // Whatever the mailer, nothing shaped like a numéro fiscal or an amount leaves by e-mail.
  const mailer = mailerBrut ? mailerGarde(mailerBrut, logger) : undefined;
  // With a mailer, the family hears by e-mail when its request ends or needs it.
  const notifier = mailer ? notifierFamilles({ db, mailer, publicUrl: config.publicUrl, communeNom: config.commune.commune.nom, logger }) : undefined;
  const onChange = bothObservers(notifier, options.onChange);
  // Every change of a request's status goes through `transitions`, which carries out its effects.
  const transitions = new Transitions({ db, journal, vault, ...(onChange ? { onChange } : {}) });
  const quotients = new Quotients({ db, coffre, politique: options.politique ?? ((dateDemande) => politiques.enVigueur(dateDemande)) });
  // Anti-fishing: numéros fiscaux counted per account, family, address and agent (`securite.numeroFiscal`).
  const limitesNumeroFiscal = new LimitesNumeroFiscal({
    db,
    journal,
    limites: config.commune.securite?.numeroFiscal,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  // Offered only with the commune's `renouvellement` section and an état civil route: a renewal asks by état civil.
  const etatCivilOuvert = habilitation.modalites.includes('etat-civil') && dgfip.clients.source.voie !== 'aucune';
  const renouvellement = new RenouvellementService({
    db,
    coffre,
    journal,
    habilitation,
    dureeMaxAns: etatCivilOuvert ? (config.commune.renouvellement?.dureeMaxAns ?? null) : null,
  });
  const demandes = new DemandesService({
    db,
    transitions,
    habilitation,
    vault,
    instanceId,
    quotaPerMinute: config.dgfip.quotaPerMinute,
    positionEnFile,
    suspension,
    limites: limitesNumeroFiscal,
    renouvellement,
  });
  const traitement = new TraitementService({
    db,
    journal,
    transitions,
    quotients,
    coffre,
    source: dgfip.clients.source,
    habilitation,
    vault,
    instanceId,
    logger,
    suspension,
    renouvellement,
    ...(dgfip.caf ? { caf: dgfip.caf } : {}),
  });
  const familles = new FamillesService({ db, journal, coffre });
  const attestations = new AttestationsService({
    db,
    journal,
    familles,
    commune: config.commune,
    publicUrl: config.publicUrl,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const boucle = new BoucleTraitement({ service: traitement, db, instanceId, logger, suspension });
  const wake = () => boucle.wake();
  const agents = new AgentsService({ db, journal });
  const avis = new AvisService({ db, coffre, journal, transitions, reglages: config.commune.avisDepose });
  const retention = new RetentionService({ db, coffre, journal, conservation: config.commune.conservation, renouvellement, avis });
  const reglages = reglagesDetection(config.commune.securite);
  const detection = new DetectionService({ db, store: incident.alertesStore, config: reglages, logger, quota: dgfip.quota });

  const franceConnect = options.franceConnect ?? config.franceConnect;
  const comptes: ComptesServices | undefined = mailer
    ? {
        service: new ComptesService({
          db,
          familles,
          journal,
          mailer,
          publicUrl: config.publicUrl,
          communeNom: config.commune.commune.nom,
          logger,
          ...(options.clock ? { clock: options.clock } : {}),
        }),
        franceConnect: franceConnect
          ? new FranceConnectClient({
              ...franceConnect,
              porteesAvis: porteesFranceConnect(habilitation),
              redirectUri: `${config.publicUrl}${FC_RETOUR_CONNEXION}`,
              postLogoutRedirectUri: `${config.publicUrl}/deconnexion/fin`,
            })
          : undefined,
        outbox: options.outbox,
      }
    : undefined;
  const agentsOidc = options.agentsOidc ?? config.agentsOidc;

  const { campagnes, executeurCampagnes, planificateur } = composeCampagnes({
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
    quota: dgfip.quota,
    voie: dgfip.clients.source.voie,
    incident,
    suspension,
  });

  const role = options.role ?? 'all';
  const timers: Array<() => void> = [];
  if (background) {
    try {
      // Every role: the online requests this process receives (a worker receives none, but beats
      // and recovers the requests of processes that died).
      await boucle.start();
    } catch (error) {
      await dgfip.close();
      await incident.close();
      throw error;
    }
    timers.push(incident.integrite.surveiller(options.integrityCheckMs ?? config.auditVerifyMinutes * 60_000));
    // Each process reloads its copy of the versions; only the leader marks a scheduled one in force.
    timers.push(
      politiques.surveiller(60_000, (error: unknown) => logger.error({ err: error }, 'échec du rechargement des versions de la politique tarifaire'), {
        promouvoir: false,
      }),
    );
    if (role !== 'web') {
      executeurCampagnes.start();
      planificateur.start();
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    instanceId,
    metriques,
    dgfip,
    journal,
    coffre,
    vault,
    transitions,
    politiques,
    demandes,
    familles,
    attestations,
    traitement,
    boucle,
    retention,
    renouvellement,
    guichet: new GuichetService({ familles, demandes, journal, wake, attestations, renouvellement }),
    agents,
    clesApi: new ClesApiService({ db, journal }),
    instruction: new InstructionService({ db, journal, coffre }),
    decisions: new DecisionsService({ db, coffre, transitions, quotients, avis }),
    avis,
    facturation: new FacturationService({ db, journal }),
    controle: new ControleService({ db, journal, agents, integrite: incident.integrite }),
    tableauDeBord: new TableauDeBordService({ db, journal, quota: dgfip.quota, campagnes }),
    migration: new MigrationService({ db, coffre, journal }),
    incident,
    detection,
    campagnes,
    executeurCampagnes,
    planificateur,
    comptes,
    agentsOidc: agentsOidc
      ? new AgentsOidcClient({
          ...agentsOidc,
          redirectUri: `${config.publicUrl}/agents/connexion/retour`,
          postLogoutRedirectUri: `${config.publicUrl}/agents/deconnexion/fin`,
        })
      : undefined,
    clock: options.clock,
    wake,
    stop() {
      // Once, whoever asks first (a test's harness and its app may both).
      stopping ??= (async () => {
        for (const stopTimer of timers) stopTimer();
        await executeurCampagnes.stop();
        await planificateur.stop();
        await boucle.stop();
        await dgfip.close();
        await incident.close();
      })();
      return stopping;
    },
  };
}
