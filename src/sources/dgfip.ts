import { readFileSync } from 'node:fs';
import type { DgfipSettings } from '../infra/config/config.ts';
import type { Logger } from '../infra/log/logger.ts';
import type { QuotaSlot } from '../infra/queue/quota-slot.ts';
import type { DateTaxation } from '../domain/annee-imposition.ts';
import { TokenCache } from './http/token-cache.ts';
import { UpstreamHttp, type UpstreamHttpOptions } from './http/upstream-http.ts';
import { ImpotParticulierSource } from './impot-particulier/impot-particulier-source.ts';
import { R2pEtatCivilSource } from './etat-civil/r2p-source.ts';
import { SfipSource } from './etat-civil/sfip-source.ts';
import { DgfipSource, voieEtatCivil } from './dgfip-source.ts';

/** Everything needed to reach one DGFiP gateway, whether the real one or the local sandbox. */
export interface DgfipConnection {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
  readonly idTeleservice: string;
  readonly caPem?: string;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  /** R2P and SFiP bases (DGFIP_R2P_URL, DGFIP_SFIP_URL); by default on the gateway's origin (`/r2p/v1`, `/sfip/v1`). */
  readonly r2pUrl?: string;
  readonly sfipUrl?: string;
  /** The day the avis of N-1 exists (DGFIP_TAXATION_DATE); by default 22 July. */
  readonly taxation?: DateTaxation;
  /** True for the built-in sandbox: production refuses it unless told so. */
  readonly sandbox: boolean;
}

export interface DgfipClients {
  readonly impotParticulier: ImpotParticulierSource;
  readonly r2p: R2pEtatCivilSource;
  readonly sfip: SfipSource;
  /** The port over the three: what the processing calls. */
  readonly source: DgfipSource;
  readonly http: UpstreamHttp;
  close(): Promise<void>;
}

export const DEFAULT_SCOPE = 'RessourceIR';

/** The connection described by the DGFIP_* variables (the files are read here, once). */
export function connectionFromSettings(settings: DgfipSettings, defaultScope: string = DEFAULT_SCOPE): DgfipConnection | undefined {
  if (settings.baseUrl === undefined) return undefined;
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file, 'utf8'));
  return {
    baseUrl: settings.baseUrl,
    tokenUrl: settings.tokenUrl as string,
    clientId: settings.clientId as string,
    clientSecret: settings.clientSecret as string,
    scope: settings.scope ?? defaultScope,
    idTeleservice: settings.idTeleservice as string,
    caPem: read(settings.caFile),
    clientCertPem: read(settings.clientCertFile),
    clientKeyPem: read(settings.clientKeyFile),
    ...(settings.r2pUrl ? { r2pUrl: settings.r2pUrl } : {}),
    ...(settings.sfipUrl ? { sfipUrl: settings.sfipUrl } : {}),
    ...(settings.taxation ? { taxation: settings.taxation } : {}),
    sandbox: false,
  };
}

export function createDgfipClients(
  connection: DgfipConnection,
  deps: {
    logger: Logger;
    quota?: QuotaSlot;
    anneesAutorisees?: readonly number[];
    /** Overrides the connection's taxation date (tests). */
    taxation?: DateTaxation;
    /** The scopes of the habilitation, which decide how an état civil is asked (default: the connection's scope). */
    scopes?: readonly string[];
    clock?: () => number;
    /** True when token requests count in the DGFiP's call quota (DGFIP_QUOTA_JETONS); default false. */
    tokensInQuota?: boolean;
    http?: Partial<Omit<UpstreamHttpOptions, 'tls' | 'logger' | 'quota'>>;
  },
): DgfipClients {
  const http = new UpstreamHttp({
    ...deps.http,
    tls: { ca: connection.caPem, cert: connection.clientCertPem, key: connection.clientKeyPem },
    logger: deps.logger,
    ...(deps.quota ? { quota: deps.quota } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const tokens = new TokenCache(
    http,
    { tokenUrl: new URL(connection.tokenUrl), clientId: connection.clientId, clientSecret: connection.clientSecret, scope: connection.scope },
    deps.clock,
    deps.tokensInQuota ?? false,
  );
  const taxation = deps.taxation ?? connection.taxation;
  const impotParticulier = new ImpotParticulierSource({
    http,
    credentials: tokens,
    baseUrl: connection.baseUrl,
    idTeleservice: connection.idTeleservice,
    anneesAutorisees: deps.anneesAutorisees ?? [1, 2],
    ressources: connection.scope.split(/\s+/).filter((s) => s !== ''),
    ...(taxation ? { taxation } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const origin = new URL(connection.baseUrl).origin;
  const r2p = new R2pEtatCivilSource({ http, credentials: tokens, r2pUrl: connection.r2pUrl ?? `${origin}/r2p/v1`, impotParticulier });
  const sfip = new SfipSource({
    http,
    credentials: tokens,
    sfipUrl: connection.sfipUrl ?? `${origin}/sfip/v1`,
    idTeleservice: connection.idTeleservice,
    ...(taxation ? { taxation } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  });
  const source = new DgfipSource({ impotParticulier, sfip, r2p, voie: voieEtatCivil(deps.scopes ?? connection.scope.split(/\s+/)) });
  return { impotParticulier, r2p, sfip, source, http, close: () => http.close() };
}
