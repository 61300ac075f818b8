import { z } from 'zod';

/** Syslog facilities a commune may pick (RFC 5424 §6.2.1): the security ones and the local ones. */
export const SYSLOG_FACILITIES = {
  user: 1,
  daemon: 3,
  auth: 4,
  authpriv: 10,
  security: 13,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;

export const SYSLOG_TRANSPORTS = ['udp', 'tcp', 'tls'] as const;

/** Loopback only: the one place plain HTTP is allowed for a webhook (tests, demo). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(?:\.[0-9]{1,3}){3}$/.test(host);
}

const text = (max: number) => z.string().trim().min(1, 'ne doit pas être vide').max(max);
const filePath = z.string().trim().min(1, 'chemin de fichier attendu').max(1000);

const webhookUrl = z
  .url({ protocol: /^https?$/, error: 'adresse web complète attendue, ex. https://siem.ville.fr/alertes' })
  .refine((value) => new URL(value).protocol === 'https:' || isLoopbackHost(new URL(value).hostname), {
    message: 'https:// attendu (http:// seulement vers cette machine : 127.0.0.1, localhost ou [::1])',
  });

const syslogSchema = z
  .strictObject({
    hote: z
      .string()
      .trim()
      .regex(
        /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*$/,
        'nom d’hôte ou adresse IP attendu, ex. syslog.ville.fr ou 10.0.0.5',
      ),
    /** Default: 514 (UDP, TCP), 6514 (TLS, RFC 5425). */
    port: z.number().int('numéro de port attendu').min(1, 'port entre 1 et 65535').max(65535, 'port entre 1 et 65535').optional(),
    transport: z.enum(SYSLOG_TRANSPORTS),
    facility: z.enum(Object.keys(SYSLOG_FACILITIES) as [SyslogFacility, ...SyslogFacility[]]).default('auth'),
    /** TLS only: a PEM file of the authority that signed the collector's certificate, when it is not a public one. */
    ca: filePath.optional(),
  })
  .refine((s) => s.ca === undefined || s.transport === 'tls', { message: '« ca » ne sert qu’avec « transport: tls »', path: ['ca'] });

const entier = (min: number, max: number) => z.number().int('nombre entier attendu').min(min, `au moins ${min}`).max(max, `au plus ${max}`);
/** A count reached within a window of minutes. */
const seuilFenetre = (seuil: number, fenetreMinutes: number) =>
  z.strictObject({ seuil: entier(1, 100_000).default(seuil), fenetreMinutes: entier(1, 24 * 60).default(fenetreMinutes) }).prefault({});

/**
 * The detection rules' thresholds (`securite.detection`), each with a default fit for a commune's
 * ordinary day: the browser tests' journeys stay below every one (see docs/alertes.md).
 */
const detectionObjet = z.strictObject({
  /** How often each instance evaluates the rules: the longest delay before an alert is raised. */
  intervalleSecondes: entier(5, 3600).default(60),
  /** An open alert that gathers new evidence is sent again when its last sending is this old. */
  relanceMinutes: entier(1, 7 * 24 * 60).default(60),
  connexionEchecsCompte: seuilFenetre(10, 15),
  connexionEchecsAdresse: seuilFenetre(20, 15),
  refusSession: seuilFenetre(15, 10),
  soumissionsNumeroFiscal: seuilFenetre(8, 60),
  /** An agent at the counter types numbers for many families: a higher bar. */
  soumissionsGuichet: seuilFenetre(60, 60),
  reponsesNegatives: seuilFenetre(4, 60),
  lecturesAgent: seuilFenetre(60, 60),
  exports: seuilFenetre(10, 60),
  refusDgfip: seuilFenetre(1, 15),
  quota: z.strictObject({ pourcentage: entier(1, 100).default(90), dureeMinutes: entier(1, 24 * 60).default(10) }).prefault({}),
  silence: z.strictObject({ dureeMinutes: entier(1, 24 * 60).default(5) }).prefault({}),
  campagne: z.strictObject({ pourcentage: entier(1, 100).default(20), minimum: entier(1, 1_000_000).default(20) }).prefault({}),
});
export const detectionSchema = detectionObjet.prefault({});

export type DetectionConfig = z.infer<typeof detectionSchema>;

/** The thresholds in force: the commune's, each missing one at its default. */
export function reglagesDetection(securite: { readonly detection?: DetectionConfig } | undefined): DetectionConfig {
  return securite?.detection ?? detectionSchema.parse(undefined);
}
/** A limit per window: at most `heure` numéros fiscaux in one clock hour, `jour` in one day (UTC). */
const seuils = z.strictObject({
  heure: z.number().int('nombre entier attendu').min(1, 'au moins 1').max(100_000, 'au plus 100 000'),
  jour: z.number().int('nombre entier attendu').min(1, 'au moins 1').max(1_000_000, 'au plus 1 000 000'),
});
export type Seuils = z.infer<typeof seuils>;

/**
 * Anti-fishing defaults: a household types two numbers, maybe again after a typo; a shared
 * address (a library, the town hall's terminal) several households; an agent at the counter a
 * day's queue. Each try (each number submitted) counts.
 */
export const LIMITES_NUMERO_FISCAL_DEFAUT = {
  parCompte: { heure: 6, jour: 12 },
  parFamille: { heure: 6, jour: 12 },
  parAdresse: { heure: 30, jour: 100 },
  parAgent: { heure: 120, jour: 600 },
} as const satisfies Record<string, Seuils>;

/**
 * The `securite` section of the commune file: who hears about security events (the RSSI, and the
 * DPO declared in `dpo`) and through which channels. Every channel is optional. The webhook's
 * secret is never written here: `secretFile` names the file that holds it.
 */
export const securiteSchema = z.strictObject({
  rssi: z.strictObject({ nom: text(200).optional(), email: z.email('adresse électronique invalide') }).optional(),
  alertes: z
    .strictObject({
      /** To the RSSI and the DPO. Unset: on when an SMTP relay is configured (QUOTIENT_SMTP_URL). */
      courriel: z.boolean().optional(),
      webhook: z.strictObject({ url: webhookUrl, secretFile: filePath }).optional(),
      syslog: syslogSchema.optional(),
    })
    .optional(),
  /** Absent: every threshold at its default (`reglagesDetection`). */
  detection: detectionObjet.optional(),
  /** Numéros fiscaux submitted (portal and counter), each key optional: the defaults above otherwise. */
  numeroFiscal: z
    .strictObject({ parCompte: seuils.optional(), parFamille: seuils.optional(), parAdresse: seuils.optional(), parAgent: seuils.optional() })
    .optional(),
});

export type SecuriteConfig = z.infer<typeof securiteSchema>;
