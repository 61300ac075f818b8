import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { isQuotientError, QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import type { DateTaxation } from '../../domain/annee-imposition.ts';
import { daysInMonth } from '../../domain/dates.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { issuesToDetails, parseOptions } from '../../domain/zod-francais.ts';
import { loadPolitiqueFileSync } from '../../modules/tarifs/politique-loader.ts';
import { communeConfigSchema, type CommuneConfig } from './commune-config.ts';
import { lireYaml, YamlRefuse } from './yaml.ts';

/** `demo` fills in everything for `npm start`; `production` requires what an installation must decide. */
export type RunMode = 'demo' | 'production';

const DEMO_COMMUNE_FILE = new URL('../../../examples/commune-demo.yaml', import.meta.url).pathname;

const optionalText = z.string().trim().min(1).optional();
const port = z.coerce
  .number({ error: 'numéro de port attendu' })
  .int('numéro de port attendu')
  .min(0, 'port entre 0 et 65535 (0 : choisi par le système)')
  .max(65535, 'port entre 0 et 65535 (0 : choisi par le système)');

/**
 * Who may tell where a request comes from (X-Forwarded-For, X-Forwarded-Proto, X-Request-Id):
 * nobody (`false`), the N reverse proxies in front of Quotient, or the proxies at these addresses.
 * « Every hop » is not offered: a client would then choose its own address, and with it escape the
 * per-address sign-in throttle.
 */
export type TrustProxy = false | number | readonly string[];

const TRUST_PROXY_ATTENDU =
  'indiquez le nombre de mandataires inverses devant Quotient (par exemple 1) ou leurs adresses (par exemple 10.0.0.5,10.0.0.6 ou 10.0.0.0/24) ; false sans mandataire';

function adresseOuReseau(text: string): boolean {
  const [ip = '', prefix, ...rest] = text.split('/');
  const version = isIP(ip);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

const trustProxy = z.string().transform((value, ctx): TrustProxy => {
  const v = value.trim().toLowerCase();
  if (v === '' || v === 'false' || v === 'non' || v === '0') return false;
  if (v === 'true' || v === 'oui') {
    ctx.addIssue({ code: 'custom', message: `« ${value.trim()} » croirait toute adresse annoncée par le client : ${TRUST_PROXY_ATTENDU}` });
    return z.NEVER;
  }
  if (/^[0-9]+$/.test(v)) {
    if (Number(v) <= 10) return Number(v);
    ctx.addIssue({ code: 'custom', message: `au plus 10 mandataires : ${TRUST_PROXY_ATTENDU}` });
    return z.NEVER;
  }
  const adresses = v.split(',').map((a) => a.trim());
  if (adresses.every(adresseOuReseau)) return adresses;
  ctx.addIssue({ code: 'custom', message: `adresse IP ou réseau non reconnu : ${TRUST_PROXY_ATTENDU}` });
  return z.NEVER;
});

/** A separate listener for `/metrics`: `IP:PORT` (`127.0.0.1:9464`, `[::1]:9464`), an address, never a name. */
export interface AdresseEcoute {
  readonly host: string;
  readonly port: number;
}

const ADRESSE_METRIQUES_ATTENDUE = 'adresse IP et port attendus, par exemple 127.0.0.1:9464 ou [fd00::5]:9464 (une adresse interne, jamais un nom)';

const adresseEcoute = z.string().transform((value, ctx): AdresseEcoute => {
  const m = /^(?:\[([0-9a-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$/i.exec(value.trim());
  const host = m?.[1] ?? m?.[2] ?? '';
  const numero = Number(m?.[3]);
  // IPv6 in brackets only, so that the port cannot be mistaken for the address's last group.
  if (!m || isIP(host) !== (m[1] === undefined ? 4 : 6) || numero > 65535) {
    ctx.addIssue({ code: 'custom', message: ADRESSE_METRIQUES_ATTENDUE });
    return z.NEVER;
  }
  return { host, port: numero };
});

const databaseUrl = z
  .string()
  .trim()
  .refine((v) => /^sqlite:.+/.test(v) || /^postgres(?:ql)?:\/\/.+/.test(v), {
    message: 'attendu « sqlite:CHEMIN » ou « postgres://utilisateur@hôte:port/base »',
  });

/** A yes/no setting, in the words an operator would type. */
const ouiNon = z.string().transform((value, ctx) => {
  const v = value.trim().toLowerCase();
  if (['oui', 'true', '1', 'yes'].includes(v)) return true;
  if (['non', 'false', '0', 'no', ''].includes(v)) return false;
  ctx.addIssue({ code: 'custom', message: 'oui ou non attendu' });
  return z.NEVER;
});

/** `MM-JJ`, the day the avis of N-1 exists (22 July in 2024 and 2025: `07-22`). */
const dateTaxation = z
  .string()
  .trim()
  .transform((value, ctx): DateTaxation => {
    const m = /^([0-9]{2})-([0-9]{2})$/.exec(value);
    const mois = Number(m?.[1]);
    const jour = Number(m?.[2]);
    // A day that exists in every year (no 29 February), so that the rule holds each year.
    if (!m || mois < 1 || mois > 12 || jour < 1 || jour > daysInMonth(2023, mois)) {
      ctx.addIssue({ code: 'custom', message: 'date de taxation attendue au format MM-JJ, par exemple 07-22 pour le 22 juillet' });
      return z.NEVER;
    }
    return { mois, jour };
  });

/** The environment variables of the architecture (§5), validated together. */
const envSchema = z.object({
  QUOTIENT_DATABASE_URL: databaseUrl.default('sqlite:./data/quotient.db'),
  QUOTIENT_PORT: port.default(3000),
  QUOTIENT_HOST: z.string().trim().min(1).optional(),
  QUOTIENT_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'adresse web complète attendue, ex. https://quotient.ville.fr' }).optional(),
  QUOTIENT_CONFIG: optionalText,
  QUOTIENT_DATA_DIR: z.string().trim().min(1).default('./data'),
  QUOTIENT_MASTER_KEY_FILE: optionalText,
  QUOTIENT_AUDIT_KEY_FILE: optionalText,
  QUOTIENT_AUDIT_ANCHOR_FILE: optionalText,
  QUOTIENT_SESSION_KEY_FILE: optionalText,
  QUOTIENT_METRICS_TOKEN_FILE: optionalText,
  QUOTIENT_METRICS_ADDRESS: adresseEcoute.optional(),
  QUOTIENT_AUDIT_VERIFY_MINUTES: z.coerce
    .number({ error: 'nombre de minutes attendu' })
    .int('nombre entier de minutes attendu')
    .min(1, 'au moins 1 minute')
    .max(1440, 'au plus 1 440 minutes (un jour)')
    .default(60),
  // Group commit of the journal's anchor: at most this long (0: every append waits for it) or this many entries.
  QUOTIENT_AUDIT_ANCHOR_MS: z.coerce
    .number({ error: 'nombre de millisecondes attendu' })
    .int('nombre entier de millisecondes attendu')
    .min(0, 'au moins 0 ms')
    .max(60_000, 'au plus 60 000 ms (une minute)')
    .default(1000),
  QUOTIENT_AUDIT_ANCHOR_ENTRIES: z.coerce
    .number({ error: 'nombre d’entrées attendu' })
    .int('nombre entier d’entrées attendu')
    .min(1, 'au moins 1 entrée')
    .max(100_000, 'au plus 100 000 entrées')
    .default(500),
  /** A copy of each anchor sent to a syslog server (RFC 5424), e.g. udp://10.0.0.5:514 or tcp://journal.ville.fr:514. */
  QUOTIENT_AUDIT_ANCHOR_SYSLOG: z.url({ protocol: /^(udp|tcp)$/, error: 'adresse attendue de la forme udp://hôte:port ou tcp://hôte:port' }).optional(),
  QUOTIENT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  QUOTIENT_TRUST_PROXY: trustProxy.default(false),
  DGFIP_BASE_URL: z.url({ protocol: /^https$/, error: 'adresse https:// attendue' }).optional(),
  DGFIP_TOKEN_URL: z.url({ protocol: /^https$/, error: 'adresse https:// attendue' }).optional(),
  DGFIP_CLIENT_ID: optionalText,
  DGFIP_CLIENT_SECRET: optionalText,
  DGFIP_SCOPE: optionalText,
  DGFIP_CLIENT_CERT: optionalText,
  DGFIP_CLIENT_KEY: optionalText,
  DGFIP_CA: optionalText,
  DGFIP_ID_TELESERVICE: optionalText,
  DGFIP_R2P_URL: z.url({ protocol: /^https$/, error: 'adresse https:// attendue' }).optional(),
  DGFIP_SFIP_URL: z.url({ protocol: /^https$/, error: 'adresse https:// attendue' }).optional(),
  DGFIP_TAXATION_DATE: dateTaxation.optional(),
  DGFIP_QUOTA_PER_MINUTE: z.coerce.number().int().min(1, 'au moins 1 appel par minute').max(10_000).default(50),
  DGFIP_QUOTA_JETONS: ouiNon.default(false),
  API_PARTICULIER_URL: z.url({ protocol: /^https$/, error: 'adresse https:// attendue, ex. https://particulier.api.gouv.fr' }).optional(),
  API_PARTICULIER_KEY_FILE: optionalText,
  CAF_QF_URL: z.url({ protocol: /^https$/, error: 'adresse https:// attendue, ex. https://particulier.api.gouv.fr' }).optional(),
  CAF_QF_TOKEN_FILE: optionalText,
  CAF_QF_RECIPIENT: z
    .string()
    .trim()
    .regex(/^[0-9]{14}$/, 'le SIRET de la commune comporte 14 chiffres')
    .optional(),
  CAF_QF_QUOTA_PER_MINUTE: z.coerce.number().int().min(1, 'au moins 1 appel par minute').max(10_000).default(50),
  QUOTIENT_FC_ISSUER: z.url({ protocol: /^https?$/, error: 'adresse web complète attendue, ex. https://auth.franceconnect.gouv.fr/api/v2' }).optional(),
  QUOTIENT_FC_CLIENT_ID: optionalText,
  QUOTIENT_FC_CLIENT_SECRET: optionalText,
  QUOTIENT_AGENTS_OIDC_ISSUER: z.url({ protocol: /^https?$/, error: 'adresse web complète attendue, ex. https://auth.agentconnect.gouv.fr/api/v2' }).optional(),
  QUOTIENT_AGENTS_OIDC_CLIENT_ID: optionalText,
  QUOTIENT_AGENTS_OIDC_CLIENT_SECRET: optionalText,
  QUOTIENT_AGENTS_OIDC_ALG: z.enum(['RS256', 'ES256', 'PS256'], { error: 'RS256 (ProConnect), ES256 ou PS256 attendu' }).default('RS256'),
  QUOTIENT_AGENTS_OIDC_ACR: optionalText,
  QUOTIENT_SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'adresse attendue : smtp://hôte:port ou smtps://utilisateur:mot-de-passe@hôte:port' }).optional(),
  QUOTIENT_SMTP_FROM: z.string().trim().min(3, 'expéditeur attendu, ex. Quotient <ne-pas-repondre@ville.fr>').optional(),
});

export interface DgfipSettings {
  /** Unset in demo: the built-in sandbox is used. */
  readonly baseUrl?: string;
  readonly tokenUrl?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly scope?: string;
  readonly clientCertFile?: string;
  readonly clientKeyFile?: string;
  readonly caFile?: string;
  readonly idTeleservice?: string;
  /** R2P and SFiP bases when they are not on the gateway's origin (`/r2p/v1`, `/sfip/v1`). */
  readonly r2pUrl?: string;
  readonly sfipUrl?: string;
  /** The day the avis of N-1 exists; by default 22 July. */
  readonly taxation?: DateTaxation;
  readonly quotaPerMinute: number;
  /** DGFIP_QUOTA_JETONS: token requests take a slot of the call quota (default: no, only API calls count). */
  readonly quotaJetons: boolean;
}

/** The legacy API Particulier v2 during the transition: its address and the file holding its X-Api-Key. */
export interface ApiParticulierSettings {
  readonly url: string;
  readonly keyFile: string;
}

/** The CAF/MSA quotient through API Particulier v3 (CAF_QF_*): its own token, the commune's SIRET, its own quota. */
export interface CafSettings {
  /** Unset in demo: the built-in sandbox's API Particulier. */
  readonly url?: string;
  readonly tokenFile?: string;
  readonly recipient?: string;
  readonly quotaPerMinute: number;
}

/** The FranceConnect relying party (`serve`); the demo starts its own local provider instead. */
export interface FranceConnectConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

/** The agents' provider (ProConnect or the city's own): redirect URIs are derived from the public URL. */
export interface AgentsOidcConfig extends FranceConnectConfig {
  readonly signingAlg: string;
  readonly acr?: string;
}

export interface SmtpConfig {
  readonly url: string;
  readonly from: string;
}

export interface AppConfig {
  readonly mode: RunMode;
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly masterKeyFile?: string;
  /** HMAC key of the journal d'audit (demo: generated under the data folder). */
  readonly auditKeyFile?: string;
  /** Signed head of the journal d'audit, outside the database (default: under the data folder). */
  readonly auditAnchorFile?: string;
  /** Key of the sessions' data at rest (demo: generated under the data folder). */
  readonly sessionKeyFile?: string;
  /** Bearer token of `/metrics` (unset: `/metrics` answers 404). */
  readonly metricsTokenFile?: string;
  /** QUOTIENT_METRICS_ADDRESS: `/metrics` on its own listener there, and no longer on the public one. */
  readonly metricsAddress?: AdresseEcoute;
  /** How often each server checks the journal's chain and anchor; a failure halts fiscal operations. */
  readonly auditVerifyMinutes: number;
  /** Group commit of the journal's anchor (0 ms: every append waits for the anchor write). */
  readonly auditAnchor: { readonly delaiMs: number; readonly entreesMax: number; readonly syslog?: string };
  readonly logLevel: NonNullable<z.infer<typeof envSchema>['QUOTIENT_LOG_LEVEL']>;
  readonly trustProxy: TrustProxy;
  readonly dgfip: DgfipSettings;
  /** API_PARTICULIER_*: unset, no legacy source (demo: the sandbox's API Particulier). */
  readonly apiParticulier?: ApiParticulierSettings;
  /** CAF_QF_*: unset, no CAF/MSA source outside the sandbox. */
  readonly caf: CafSettings;
  /** QUOTIENT_FC_*: unset, no FranceConnect button (demo: the local provider). */
  readonly franceConnect?: FranceConnectConfig;
  /** QUOTIENT_AGENTS_OIDC_*: the agents' identity provider; unset, no back-office (demo: the local provider). */
  readonly agentsOidc?: AgentsOidcConfig;
  /** QUOTIENT_SMTP_*: unset, no e-mail and no family sign-in in `serve` (demo: the local capture). */
  readonly smtp?: SmtpConfig;
  readonly commune: CommuneConfig;
  /** Absolute path of the tariff policy file named by the commune file. */
  readonly politiqueFile: string;
  /** The commune's tariff policy, validated at start. */
  readonly politique: PolitiqueTarifaire;
}

export class ConfigurationInvalide extends QuotientError {
  constructor(message: string, details: readonly ErrorDetail[] = []) {
    super('invalid', 'configuration_invalide', message, { details });
  }
}

/** Variables that must name files which exist, checked so that the operator learns it at start. */
const FILE_VARIABLES = [
  'QUOTIENT_CONFIG',
  'DGFIP_CLIENT_CERT',
  'DGFIP_CLIENT_KEY',
  'DGFIP_CA',
  'API_PARTICULIER_KEY_FILE',
  'CAF_QF_TOKEN_FILE',
  'QUOTIENT_METRICS_TOKEN_FILE',
] as const;

export function loadConfig(env: NodeJS.ProcessEnv, options: { mode: RunMode; cwd: string }): AppConfig {
  const parsed = envSchema.safeParse(env, parseOptions);
  if (!parsed.success) {
    throw new ConfigurationInvalide(
      'Configuration invalide : corrigez les variables d’environnement ci-dessous.',
      parsed.error.issues.map((issue) => ({ path: String(issue.path[0] ?? '(environnement)'), message: issue.message })),
    );
  }
  const vars = parsed.data;
  const at = (path: string) => (isAbsolute(path) ? path : resolve(options.cwd, path));

  const missing: ErrorDetail[] = [];
  for (const name of FILE_VARIABLES) {
    const value = vars[name];
    if (value !== undefined && !existsSync(at(value))) missing.push({ path: name, message: `fichier introuvable : ${at(value)}` });
  }
  if (options.mode === 'production' && vars.QUOTIENT_CONFIG === undefined) {
    missing.push({ path: 'QUOTIENT_CONFIG', message: 'obligatoire en production : le fichier de configuration de la commune (YAML)' });
  }
  const dgfipUpstream = vars.DGFIP_BASE_URL !== undefined;
  if (dgfipUpstream) {
    for (const name of ['DGFIP_TOKEN_URL', 'DGFIP_CLIENT_ID', 'DGFIP_CLIENT_SECRET', 'DGFIP_ID_TELESERVICE'] as const) {
      if (vars[name] === undefined) missing.push({ path: name, message: 'obligatoire quand DGFIP_BASE_URL est renseignée' });
    }
  }
  // The certificate and its key go together. Without them the gateway refuses the connection,
  // which `quotient dgfip check` reports as such: that is how an operator tests the TLS set-up.
  if ((vars.DGFIP_CLIENT_CERT === undefined) !== (vars.DGFIP_CLIENT_KEY === undefined)) {
    const absent = vars.DGFIP_CLIENT_CERT === undefined ? 'DGFIP_CLIENT_CERT' : 'DGFIP_CLIENT_KEY';
    missing.push({ path: absent, message: 'le certificat client et sa clé privée se renseignent ensemble' });
  }
  const fcSet = (['QUOTIENT_FC_ISSUER', 'QUOTIENT_FC_CLIENT_ID', 'QUOTIENT_FC_CLIENT_SECRET'] as const).filter((name) => vars[name] !== undefined);
  if (fcSet.length > 0 && fcSet.length < 3) {
    for (const name of ['QUOTIENT_FC_ISSUER', 'QUOTIENT_FC_CLIENT_ID', 'QUOTIENT_FC_CLIENT_SECRET'] as const) {
      if (vars[name] === undefined)
        missing.push({ path: name, message: 'l’adresse du fournisseur FranceConnect, l’identifiant et le secret du client se renseignent ensemble' });
    }
  }
  const agentsVars = ['QUOTIENT_AGENTS_OIDC_ISSUER', 'QUOTIENT_AGENTS_OIDC_CLIENT_ID', 'QUOTIENT_AGENTS_OIDC_CLIENT_SECRET'] as const;
  const agentsSet = agentsVars.filter((name) => vars[name] !== undefined);
  if (agentsSet.length > 0 && agentsSet.length < 3) {
    for (const name of agentsVars) {
      if (vars[name] === undefined)
        missing.push({ path: name, message: 'l’adresse du fournisseur d’identité des agents, l’identifiant et le secret du client se renseignent ensemble' });
    }
  }
  if ((vars.API_PARTICULIER_URL === undefined) !== (vars.API_PARTICULIER_KEY_FILE === undefined)) {
    const absent = vars.API_PARTICULIER_URL === undefined ? 'API_PARTICULIER_URL' : 'API_PARTICULIER_KEY_FILE';
    missing.push({ path: absent, message: 'l’adresse de l’API Particulier et le fichier de sa clé (X-Api-Key) se renseignent ensemble' });
  }
  const cafVars = ['CAF_QF_URL', 'CAF_QF_TOKEN_FILE', 'CAF_QF_RECIPIENT'] as const;
  const cafSet = cafVars.filter((name) => vars[name] !== undefined);
  if (cafSet.length > 0 && cafSet.length < cafVars.length) {
    for (const name of cafVars) {
      if (vars[name] === undefined)
        missing.push({ path: name, message: 'l’adresse de l’API Particulier, le fichier de son jeton et le SIRET de la commune se renseignent ensemble' });
    }
  }
  if (vars.QUOTIENT_SMTP_FROM !== undefined && vars.QUOTIENT_SMTP_URL === undefined) {
    missing.push({ path: 'QUOTIENT_SMTP_URL', message: 'obligatoire quand QUOTIENT_SMTP_FROM est renseignée : le relais SMTP de la commune' });
  }
  if (vars.QUOTIENT_METRICS_ADDRESS !== undefined && vars.QUOTIENT_METRICS_ADDRESS.port !== 0 && vars.QUOTIENT_METRICS_ADDRESS.port === vars.QUOTIENT_PORT) {
    missing.push({ path: 'QUOTIENT_METRICS_ADDRESS', message: `les métriques ont leur propre port, différent de QUOTIENT_PORT (${vars.QUOTIENT_PORT})` });
  }
  if (missing.length > 0) throw new ConfigurationInvalide('Configuration invalide : corrigez les réglages ci-dessous.', missing);

  const configFile = vars.QUOTIENT_CONFIG === undefined ? DEMO_COMMUNE_FILE : at(vars.QUOTIENT_CONFIG);
  const commune = loadCommuneConfig(configFile);
  const politiqueFile = isAbsolute(commune.politiqueTarifaire) ? commune.politiqueTarifaire : resolve(dirname(configFile), commune.politiqueTarifaire);
  const politique = loadPolitiqueOfCommune(politiqueFile, configFile);
  const host = vars.QUOTIENT_HOST ?? (options.mode === 'demo' ? '127.0.0.1' : '0.0.0.0');
  return {
    mode: options.mode,
    databaseUrl: resolveSqlitePath(vars.QUOTIENT_DATABASE_URL, options.cwd),
    host,
    port: vars.QUOTIENT_PORT,
    publicUrl: (vars.QUOTIENT_PUBLIC_URL ?? `http://localhost:${vars.QUOTIENT_PORT}`).replace(/\/$/, ''),
    dataDir: at(vars.QUOTIENT_DATA_DIR),
    configFile,
    ...(vars.QUOTIENT_MASTER_KEY_FILE === undefined ? {} : { masterKeyFile: at(vars.QUOTIENT_MASTER_KEY_FILE) }),
    ...(vars.QUOTIENT_AUDIT_KEY_FILE === undefined ? {} : { auditKeyFile: at(vars.QUOTIENT_AUDIT_KEY_FILE) }),
    ...(vars.QUOTIENT_AUDIT_ANCHOR_FILE === undefined ? {} : { auditAnchorFile: at(vars.QUOTIENT_AUDIT_ANCHOR_FILE) }),
    ...(vars.QUOTIENT_SESSION_KEY_FILE === undefined ? {} : { sessionKeyFile: at(vars.QUOTIENT_SESSION_KEY_FILE) }),
    ...(vars.QUOTIENT_METRICS_TOKEN_FILE === undefined ? {} : { metricsTokenFile: at(vars.QUOTIENT_METRICS_TOKEN_FILE) }),
    ...(vars.QUOTIENT_METRICS_ADDRESS === undefined ? {} : { metricsAddress: vars.QUOTIENT_METRICS_ADDRESS }),
    auditVerifyMinutes: vars.QUOTIENT_AUDIT_VERIFY_MINUTES,
    auditAnchor: {
      delaiMs: vars.QUOTIENT_AUDIT_ANCHOR_MS,
      entreesMax: vars.QUOTIENT_AUDIT_ANCHOR_ENTRIES,
      ...(vars.QUOTIENT_AUDIT_ANCHOR_SYSLOG === undefined ? {} : { syslog: vars.QUOTIENT_AUDIT_ANCHOR_SYSLOG }),
    },
    // The demo's terminal is read by a person: only warnings unless asked otherwise.
    logLevel: vars.QUOTIENT_LOG_LEVEL ?? (options.mode === 'demo' ? 'warn' : 'info'),
    trustProxy: vars.QUOTIENT_TRUST_PROXY,
    dgfip: {
      baseUrl: vars.DGFIP_BASE_URL,
      tokenUrl: vars.DGFIP_TOKEN_URL,
      clientId: vars.DGFIP_CLIENT_ID,
      clientSecret: vars.DGFIP_CLIENT_SECRET,
      scope: vars.DGFIP_SCOPE,
      clientCertFile: vars.DGFIP_CLIENT_CERT && at(vars.DGFIP_CLIENT_CERT),
      clientKeyFile: vars.DGFIP_CLIENT_KEY && at(vars.DGFIP_CLIENT_KEY),
      caFile: vars.DGFIP_CA && at(vars.DGFIP_CA),
      idTeleservice: vars.DGFIP_ID_TELESERVICE,
      ...(vars.DGFIP_R2P_URL ? { r2pUrl: vars.DGFIP_R2P_URL } : {}),
      ...(vars.DGFIP_SFIP_URL ? { sfipUrl: vars.DGFIP_SFIP_URL } : {}),
      ...(vars.DGFIP_TAXATION_DATE ? { taxation: vars.DGFIP_TAXATION_DATE } : {}),
      quotaPerMinute: vars.DGFIP_QUOTA_PER_MINUTE,
      quotaJetons: vars.DGFIP_QUOTA_JETONS,
    },
    ...(vars.API_PARTICULIER_URL && vars.API_PARTICULIER_KEY_FILE
      ? { apiParticulier: { url: vars.API_PARTICULIER_URL, keyFile: at(vars.API_PARTICULIER_KEY_FILE) } }
      : {}),
    caf: {
      ...(vars.CAF_QF_URL && vars.CAF_QF_TOKEN_FILE && vars.CAF_QF_RECIPIENT
        ? { url: vars.CAF_QF_URL, tokenFile: at(vars.CAF_QF_TOKEN_FILE), recipient: vars.CAF_QF_RECIPIENT }
        : {}),
      quotaPerMinute: vars.CAF_QF_QUOTA_PER_MINUTE,
    },
    ...(vars.QUOTIENT_FC_ISSUER && vars.QUOTIENT_FC_CLIENT_ID && vars.QUOTIENT_FC_CLIENT_SECRET
      ? { franceConnect: { issuer: vars.QUOTIENT_FC_ISSUER, clientId: vars.QUOTIENT_FC_CLIENT_ID, clientSecret: vars.QUOTIENT_FC_CLIENT_SECRET } }
      : {}),
    ...(vars.QUOTIENT_AGENTS_OIDC_ISSUER && vars.QUOTIENT_AGENTS_OIDC_CLIENT_ID && vars.QUOTIENT_AGENTS_OIDC_CLIENT_SECRET
      ? {
          agentsOidc: {
            issuer: vars.QUOTIENT_AGENTS_OIDC_ISSUER,
            clientId: vars.QUOTIENT_AGENTS_OIDC_CLIENT_ID,
            clientSecret: vars.QUOTIENT_AGENTS_OIDC_CLIENT_SECRET,
            signingAlg: vars.QUOTIENT_AGENTS_OIDC_ALG,
            ...(vars.QUOTIENT_AGENTS_OIDC_ACR ? { acr: vars.QUOTIENT_AGENTS_OIDC_ACR } : {}),
          },
        }
      : {}),
    ...(vars.QUOTIENT_SMTP_URL
      ? {
          smtp: {
            url: vars.QUOTIENT_SMTP_URL,
            from: vars.QUOTIENT_SMTP_FROM ?? `Quotient familial <ne-pas-repondre@${new URL(vars.QUOTIENT_PUBLIC_URL ?? 'http://localhost').hostname}>`,
          },
        }
      : {}),
    commune,
    politiqueFile,
    politique,
  };
}

/**
 * The policy is read at start: a program that would compute prices from a broken policy must not
 * run. Its errors become configuration errors (exit 2) naming the file and each faulty field.
 */
export function loadPolitiqueOfCommune(politiqueFile: string, configFile: string): PolitiqueTarifaire {
  try {
    return loadPolitiqueFileSync(politiqueFile);
  } catch (error) {
    if (!isQuotientError(error)) throw error;
    if (error.code === 'politique_introuvable') {
      throw new ConfigurationInvalide(`La politique tarifaire désignée dans ${configFile} est introuvable ou illisible : ${politiqueFile}`, [
        { path: 'politiqueTarifaire', message: `fichier introuvable ou non lisible : ${politiqueFile}` },
      ]);
    }
    const message =
      error.code === 'politique_tarifaire_invalide'
        ? `La politique tarifaire ${politiqueFile}, désignée dans ${configFile}, est invalide : corrigez les champs indiqués.`
        : `${error.message} (politique tarifaire désignée dans ${configFile})`;
    throw new ConfigurationInvalide(message, error.details);
  }
}

/** Reads and validates the commune file; errors name the file and the field path. */
export function loadCommuneConfig(file: string): CommuneConfig {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    throw new ConfigurationInvalide(`Le fichier de configuration de la commune est illisible : ${file}`, [
      { path: 'QUOTIENT_CONFIG', message: 'fichier introuvable ou non lisible' },
    ]);
  }
  let document: unknown;
  try {
    document = lireYaml(raw);
  } catch (error) {
    if (!(error instanceof YamlRefuse)) throw error;
    const where = error.position ? ` (${error.position})` : '';
    throw new ConfigurationInvalide(`Le fichier ${file} n’est pas un YAML valide${where} : ${error.raison}.`);
  }
  const parsed = communeConfigSchema.safeParse(document ?? {}, parseOptions);
  if (!parsed.success) {
    throw new ConfigurationInvalide(`Configuration de la commune invalide dans ${file} :`, issuesToDetails(parsed.error.issues));
  }
  return parsed.data;
}

/** A relative SQLite path is taken from the working directory, like every other relative path. */
function resolveSqlitePath(url: string, cwd: string): string {
  if (!url.startsWith('sqlite:')) return url;
  const path = url.slice('sqlite:'.length);
  if (path === ':memory:') return url;
  return `sqlite:${isAbsolute(path) ? path : resolve(cwd, path)}`;
}
