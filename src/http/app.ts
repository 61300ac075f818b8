import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Services } from '../app/compose.ts';
import { ressembleANumeroFiscal } from '../domain/numero-fiscal.ts';
import type { AppConfig } from '../infra/config/config.ts';
import type { Database } from '../infra/db/database.ts';
import { CompteursPartages } from '../infra/limites/compteurs.ts';
import type { Logger } from '../infra/log/logger.ts';
import { chargerCle } from '../infra/secrets/cle-fichier.ts';
import { registerAccueilRoutes } from '../modules/accueil/accueil-routes.tsx';
import { registerVerificationRoutes } from '../modules/attestations/verification-routes.tsx';
import { registerComptesRoutes } from '../modules/comptes/comptes-routes.tsx';
import { contenuMonEspace } from '../modules/portail/mon-espace.tsx';
import { echecConnexion } from './detection-connexion.ts';
import { registerInformationsRoutes } from '../modules/informations/informations-routes.tsx';
import { registerPortailRoutes } from '../modules/portail/portail-routes.tsx';
import { registerAvisRoutes } from '../modules/avis/avis-routes.tsx';
import { registerSimulateurRoutes } from '../modules/simulateur/simulateur-routes.tsx';
import { registerControleAcces } from './acces/controle-acces.ts';
import type { Principal } from './acces/principal.ts';
import { registerBackOffice } from './back-office.ts';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandling } from './errors.tsx';
import { registerHealthRoutes } from './health.ts';
import { lireJetonMetriques, registerMetriques } from './metriques.ts';
import { registerIncidents } from './incidents.tsx';
import { registerMultipart } from './multipart.ts';
import { registerSecurity } from './security.ts';
import { mandataires } from './mandataire.ts';
import { registerSessions, type SessionPolicy } from './session.ts';
import { fichierCleSessions } from './session-chiffrement.ts';

/** How the pages behave, beyond the services (tests tune them). */
export interface WebOptions {
  readonly sessionPolicy?: SessionPolicy;
  /** Entries added to the access policy (tests that register routes of their own). */
  readonly politiqueAcces?: Readonly<Record<string, readonly Principal[]>>;
  /** Sign-in attempts per IP address and minute (default 20). */
  readonly signInPerMinute?: number;
  /** How long the portal's submission waits for the answer before showing the queue (default 8 s). */
  readonly attenteMs?: number;
  /** Checks of an attestation's code per IP address and minute, on the public page (default 30). */
  readonly verificationsPerMinute?: number;
}

export interface AppDependencies {
  readonly config: Pick<AppConfig, 'commune' | 'politique' | 'publicUrl' | 'trustProxy' | 'mode' | 'dataDir' | 'sessionKeyFile'> &
    Partial<Pick<AppConfig, 'metricsTokenFile' | 'metricsAddress'>>;
  readonly database: Database;
  readonly logger: Logger;
  /** Composed by `composeServices` (src/app/compose.ts); nothing is built here. */
  readonly services: Services;
  readonly web?: WebOptions;
}

export interface RouteConnue {
  readonly method: string;
  readonly url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    readonly routesConnues: readonly RouteConnue[];
  }
}

const ASSETS_DIR = new URL('./assets/', import.meta.url).pathname;
/**
 * A request id chosen by a trusted proxy is kept so that traces join up; from anyone else, or odd,
 * it is replaced. It is written in the journal: never a value the journal's guard would refuse
 * (shaped like a numéro fiscal), or a client could keep its own traces out of it.
 */
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;
const requestIdRecevable = (id: unknown): id is string => typeof id === 'string' && INCOMING_REQUEST_ID.test(id) && !ressembleANumeroFiscal(id);

/**
 * The web application: security, sessions, access control, then the routes of every capability on
 * the composed services. The sign-in pages and the portal exist only with family accounts, the
 * back-office and the API only with the agents' identity provider.
 */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config, services } = deps;
  const web = deps.web ?? {};
  const proxies = mandataires(config.trustProxy);
  const httpsPublicUrl = config.publicUrl.startsWith('https://');
  const comptes = services.comptes;
  const agentsOidc = services.agentsOidc;
  // The sign-in buttons are forms whose answer redirects to the identity provider.
  const formActionOrigins = [comptes?.franceConnect?.issuerOrigin, agentsOidc?.issuerOrigin].filter((o): o is string => o !== undefined);
  const securite = { httpsPublicUrl, formActionOrigins };
  // The throttles count in the database: every instance behind the load balancer shares one allowance.
  const compteurs = new CompteursPartages(deps.database.db, services.clock ?? Date.now);
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: proxies.fastify,
    bodyLimit: 1024 * 1024,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return proxies.depuisMandataire(req.socket.remoteAddress) && requestIdRecevable(incoming) ? incoming : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Requests refused before routing: French answers with the security headers, like the others.
    frameworkErrors: frameworkErrorHandler(config.commune, securite),
    clientErrorHandler: clientErrorHandler(securite),
  });

  // Every route as the router knows it: the authorisation-matrix test walks them all.
  const routes: RouteConnue[] = [];
  app.decorate('routesConnues', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  registerMetriques(app, { metriques: services.metriques, jeton: lireJetonMetriques(config.metricsTokenFile), interne: config.metricsAddress !== undefined });
  registerErrorHandling(app, config.commune);
  await registerSecurity(app, securite);
  // The incident measures, before the body and the session are read: a portal in maintenance stops here.
  registerIncidents(app, {
    commune: config.commune,
    avis: async () => ({
      appels: await services.incident.suspensionAppels(),
      incidents: services.incident.cache.dernier(),
      integrite: services.incident.integrite.etat(),
    }),
  });
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  // A form with a file (a campaign's CSV, 5 MiB at most, an avis up to its configured size, and their fields).
  registerMultipart(app, Math.max(6 * 1024 * 1024, config.commune.avisDepose.tailleMaxKo * 1024 + 256 * 1024));
  await registerSessions(app, {
    db: deps.database.db,
    key: chargerCle(fichierCleSessions(config)),
    httpsPublicUrl,
    ...(web.sessionPolicy ? { policy: web.sessionPolicy } : {}),
    ...(services.clock ? { clock: services.clock } : {}),
  });
  registerControleAcces(app, {
    journal: services.journal,
    origine: new URL(config.publicUrl).origin,
    ...(agentsOidc ? { agentActif: (id: string) => services.agents.actif(id), cleApi: (secret: string) => services.clesApi.verifier(secret) } : {}),
    ...(web.politiqueAcces ? { politique: web.politiqueAcces } : {}),
  });
  await app.register(fastifyStatic, {
    root: ASSETS_DIR,
    prefix: '/static/',
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: 60 * 60 * 1000,
  });

  registerHealthRoutes(app, { database: deps.database });
  registerAccueilRoutes(app, { commune: config.commune });
  registerInformationsRoutes(app, { commune: config.commune });
  // Public pages follow the version an administrator activated (there are administrators only
  // with the back-office); the configuration file's otherwise.
  const politique = agentsOidc ? () => services.politiques.enVigueur() : () => config.politique;
  registerSimulateurRoutes(app, { commune: config.commune, politique });
  if (comptes) {
    await registerComptesRoutes(app, {
      commune: config.commune,
      comptes: comptes.service,
      httpsPublicUrl,
      monEspace: contenuMonEspace(services.familles),
      echecConnexion: echecConnexion(services),
      publicUrl: config.publicUrl,
      compteurs,
      ...(comptes.franceConnect ? { franceConnect: comptes.franceConnect } : {}),
      ...(comptes.outbox ? { outbox: comptes.outbox } : {}),
      ...(web.signInPerMinute ? { signInPerMinute: web.signInPerMinute } : {}),
    });
    registerPortailRoutes(app, {
      demandes: services.demandes,
      familles: services.familles,
      attestations: services.attestations,
      journal: services.journal,
      wake: services.wake,
      renouvellement: services.renouvellement,
      avis: services.avis,
      commune: config.commune,
      politique,
      publicUrl: config.publicUrl,
      ...(comptes.franceConnect ? { franceConnect: comptes.franceConnect } : {}),
      voieEtatCivil: services.dgfip.clients.source.voie,
      ...(web.attenteMs !== undefined ? { attenteMs: web.attenteMs } : {}),
    });
    registerAvisRoutes(app, { commune: config.commune, avis: services.avis, demandes: services.demandes });
  }
  // The public check of an attestation's code: open to anyone, whatever else this instance serves.
  await registerVerificationRoutes(app, {
    attestations: services.attestations,
    commune: config.commune,
    ...(web.verificationsPerMinute ? { parMinute: web.verificationsPerMinute } : {}),
    ...(services.clock ? { clock: services.clock } : {}),
    limiteAtteinte: (request) => {
      services.journal
        .append({
          actor: { type: 'anonyme', id: String(request.id) },
          action: 'attestation.verification_limitee',
          outcome: 'refus',
          correlationId: String(request.id),
        })
        .catch((error: unknown) => request.log.error({ err: error }, 'limite des vérifications non journalisée'));
    },
  });
  if (agentsOidc) registerBackOffice(app, { commune: config.commune, politique, publicUrl: config.publicUrl, oidc: agentsOidc, services, compteurs });

  return app;
}
