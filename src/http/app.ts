import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { AppConfig } from '../infra/config/config.ts';
import type { Database } from '../infra/db/database.ts';
import type { Logger } from '../infra/log/logger.ts';
import type { CapturedCourriel, Mailer } from '../infra/mail/mailer.ts';
import { ComptesService, type FamillesPort, type JournalPort } from '../modules/comptes/comptes-service.ts';
import { registerComptesRoutes } from '../modules/comptes/comptes-routes.tsx';
import { FranceConnectClient, type FranceConnectSettings } from '../modules/comptes/franceconnect-client.ts';
import { registerPortailRoutes, type PortailServices } from '../modules/portail/portail-routes.tsx';
import { registerAccueilRoutes } from '../modules/accueil/accueil-routes.tsx';
import { registerInformationsRoutes } from '../modules/informations/informations-routes.tsx';
import { registerSimulateurRoutes } from '../modules/simulateur/simulateur-routes.tsx';
import { registerBackOffice, type BackOfficeServices } from '../modules/agents/back-office.ts';
import { registerControleAcces } from './acces/controle-acces.ts';
import type { Principal } from './acces/principal.ts';
import { registerErrorHandling } from './errors.tsx';
import { registerHealthRoutes } from './health.ts';
import { registerSecurity } from './security.ts';
import { registerSessions, type SessionPolicy } from './session.ts';

export interface AppDependencies {
  readonly config: Pick<AppConfig, 'commune' | 'politique' | 'publicUrl' | 'trustProxy'>;
  readonly database: Database;
  readonly logger: Logger;
  /** The server's clock (sessions, tokens); tests move it forward. */
  readonly clock?: () => number;
  readonly sessionPolicy?: SessionPolicy;
  /** Family sign-in (FranceConnect and local accounts); without it, no sign-in pages. */
  readonly comptes?: {
    readonly familles: FamillesPort;
    readonly journal?: JournalPort;
    readonly mailer: Mailer;
    readonly franceConnect?: FranceConnectSettings;
    /** Demo only: captured e-mails, shown at /dev/courriels. */
    readonly outbox?: readonly CapturedCourriel[];
    readonly signInPerMinute?: number;
  };
  /** The family portal (compute my quotient, history, rights); needs `comptes` for sign-in. */
  readonly portail?: PortailServices;
  /** The back-office at /agents and the API at /api/v1. */
  readonly backOffice?: BackOfficeServices;
  /** Entries added to the access policy (tests that register routes of their own). */
  readonly politiqueAcces?: Readonly<Record<string, readonly Principal[]>>;
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
/** A request id chosen by a trusted proxy is kept so that traces join up; anything odd is replaced. */
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** The composition root of the web application: every capability is registered here and only here. */
export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  // Every route as the router knows it: the authorisation-matrix test walks them all.
  const routes: RouteConnue[] = [];
  app.decorate('routesConnues', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  registerErrorHandling(app, config.commune);
  const httpsPublicUrl = config.publicUrl.startsWith('https://');
  const franceConnect = deps.comptes?.franceConnect ? new FranceConnectClient(deps.comptes.franceConnect) : undefined;
  // The sign-in buttons are forms whose answer redirects to the identity provider.
  const formActionOrigins = [franceConnect?.issuerOrigin, deps.backOffice ? new URL(deps.backOffice.oidc.issuer).origin : undefined].filter((o): o is string => o !== undefined);
  await registerSecurity(app, { httpsPublicUrl, formActionOrigins });
  await app.register(formbody, { bodyLimit: 256 * 1024 });
  await registerSessions(app, {
    db: deps.database.db,
    httpsPublicUrl,
    ...(deps.sessionPolicy ? { policy: deps.sessionPolicy } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const backOffice = deps.backOffice;
  const journal = backOffice?.journal ?? deps.comptes?.journal;
  registerControleAcces(app, {
    ...(journal ? { journal } : {}),
    ...(backOffice ? { agentActif: (id: string) => backOffice.agents.actif(id), cleApi: (secret: string) => backOffice.clesApi.verifier(secret) } : {}),
    ...(deps.politiqueAcces ? { politique: deps.politiqueAcces } : {}),
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
  // Public pages follow the version an administrator activated; the configuration file's otherwise.
  const politique = backOffice ? () => backOffice.politiques.enVigueur() : () => config.politique;
  registerSimulateurRoutes(app, { commune: config.commune, politique });
  if (deps.comptes) {
    const c = deps.comptes;
    const comptes = new ComptesService({ db: deps.database.db, familles: c.familles, mailer: c.mailer, publicUrl: config.publicUrl, communeNom: config.commune.commune.nom, ...(c.journal ? { journal: c.journal } : {}), ...(deps.clock ? { clock: deps.clock } : {}) });
    await registerComptesRoutes(app, {
      commune: config.commune,
      comptes,
      httpsPublicUrl,
      publicUrl: config.publicUrl,
      ...(franceConnect ? { franceConnect } : {}),
      ...(c.outbox ? { outbox: c.outbox } : {}),
      ...(c.signInPerMinute ? { signInPerMinute: c.signInPerMinute } : {}),
    });
    if (deps.portail) {
      registerPortailRoutes(app, {
        ...deps.portail,
        commune: config.commune,
        politique,
        franceConnect: franceConnect !== undefined,
      });
    }
  }
  if (backOffice) registerBackOffice(app, { ...backOffice, commune: config.commune, politique, publicUrl: config.publicUrl });

  return app;
}
