import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CommuneConfig } from '../config/commune-config.ts';
import { ConfigurationInvalide, type SmtpConfig } from '../config/config.ts';
import { EchecCanal, type CanalAlerte, type Emetteur } from './canal.ts';
import { canalCourriel } from './courriel.ts';
import { canalSyslog } from './syslog.ts';
import { canalWebhook } from './webhook.ts';

/** What the channels are built from: the commune file (and where it is) and the SMTP relay. */
export interface ConfigAlertes {
  readonly commune: CommuneConfig;
  readonly configFile: string;
  readonly smtp?: SmtpConfig;
}

/** A webhook secret shorter than this is refused: it would be guessable. */
export const MIN_SECRET_OCTETS = 32;

export function emetteurDe(config: ConfigAlertes): Emetteur {
  return { commune: config.commune.commune.nom, codeInsee: config.commune.commune.codeInsee, hote: hostname() };
}

/** The RSSI (when declared) and the DPO: the people the CGU's alert circuit must reach. */
export function destinatairesAlertes(commune: CommuneConfig): string[] {
  return [...(commune.securite?.rssi ? [commune.securite.rssi.email] : []), commune.dpo.email];
}

/**
 * The channels of `securite.alertes`, built once at start: a missing secret or CA file is a
 * configuration error then (exit 2), not a failed alert later.
 */
export function canauxDepuisConfig(config: ConfigAlertes): CanalAlerte[] {
  const alertes = config.commune.securite?.alertes;
  const emetteur = emetteurDe(config);
  const fromConfig = (path: string) => (isAbsolute(path) ? path : resolve(dirname(config.configFile), path));
  const canaux: CanalAlerte[] = [];

  if (alertes?.courriel ?? config.smtp !== undefined) {
    if (config.smtp === undefined) {
      throw new ConfigurationInvalide(`Configuration des alertes invalide dans ${config.configFile} :`, [
        {
          path: 'securite.alertes.courriel',
          message: 'les alertes par courriel demandent un relais SMTP : renseignez QUOTIENT_SMTP_URL, ou indiquez « courriel: false »',
        },
      ]);
    }
    canaux.push(canalCourriel({ destinataires: destinatairesAlertes(config.commune), emetteur, smtp: config.smtp }));
  }
  if (alertes?.webhook) {
    const file = fromConfig(alertes.webhook.secretFile);
    const secret = readSecret(file, 'securite.alertes.webhook.secretFile', config.configFile);
    try {
      canaux.push(canalWebhook({ url: alertes.webhook.url, secret, emetteur }));
    } catch (error) {
      if (!(error instanceof EchecCanal)) throw error;
      throw new ConfigurationInvalide(`Configuration des alertes invalide dans ${config.configFile} :`, [
        { path: 'securite.alertes.webhook.url', message: error.message },
      ]);
    }
  }
  if (alertes?.syslog) {
    const { ca, ...syslog } = alertes.syslog;
    canaux.push(canalSyslog({ ...syslog, emetteur, ...(ca ? { ca: readFile(fromConfig(ca), 'securite.alertes.syslog.ca', config.configFile) } : {}) }));
  }
  return canaux;
}

function readFile(file: string, path: string, configFile: string): Buffer {
  try {
    return readFileSync(file);
  } catch {
    throw new ConfigurationInvalide(`Configuration des alertes invalide dans ${configFile} :`, [
      { path, message: `fichier introuvable ou illisible : ${file}` },
    ]);
  }
}

/** The secret is the file's text without surrounding blanks, as the receiver reads the same file. */
function readSecret(file: string, path: string, configFile: string): Buffer {
  const secret = Buffer.from(readFile(file, path, configFile).toString('utf8').trim(), 'utf8');
  if (secret.length < MIN_SECRET_OCTETS) {
    throw new ConfigurationInvalide(`Configuration des alertes invalide dans ${configFile} :`, [
      { path, message: `le secret de ${file} doit compter au moins ${MIN_SECRET_OCTETS} caractères aléatoires (par exemple : openssl rand -hex 32)` },
    ]);
  }
  return secret;
}
