/** The delivery of security alerts (CGU §8): what detection rules, pages and the CLI use. */
export { creerAlerte, alerteDeTest, AlerteInvalide, CODE_ALERTE_TEST, GRAVITES, type Alerte, type Gravite, type NouvelleAlerte } from './alerte.ts';
export { EchecCanal, NOMS_CANAUX, type CanalAlerte, type Emetteur, type NomCanal } from './canal.ts';
export {
  creerCircuitAlerte,
  detailsDuRapport,
  DELAI_MAX_CIRCUIT_MS,
  type CircuitAlerte,
  type JournalTechnique,
  type RapportAlerte,
  type ResultatCanal,
} from './circuit.ts';
export { canalCourriel, courrielAlerte, type CourrielOptions } from './courriel.ts';
export {
  canalWebhook,
  corpsWebhook,
  signerWebhook,
  verifierSignatureWebhook,
  SIGNATURE_HEADER,
  TOLERANCE_SIGNATURE_S,
  type VerificationSignature,
  type WebhookOptions,
} from './webhook.ts';
export { canalSyslog, formaterSyslog, encadrer, SEVERITES, type SyslogOptions } from './syslog.ts';
export { canauxDepuisConfig, destinatairesAlertes, emetteurDe, type ConfigAlertes } from './depuis-config.ts';
