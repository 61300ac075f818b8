import { createSmtpMailer, type Courriel, type Mailer } from '../mail/mailer.ts';
import type { Alerte, Gravite } from './alerte.ts';
import { EchecCanal, raisonReseau, type CanalAlerte, type Emetteur } from './canal.ts';

const LIBELLES_GRAVITE: Readonly<Record<Gravite, string>> = { critique: 'critique', avertissement: 'avertissement', info: 'information' };

const horodatage = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'full', timeStyle: 'medium' });

/** The e-mail of one alert: plain French text, nothing fiscal (the mailer refuses it anyway). */
export function courrielAlerte(alerte: Alerte, emetteur: Emetteur, to: string): Courriel {
  const details = Object.entries(alerte.details);
  return {
    to,
    subject: `[Quotient – ${emetteur.commune}] Alerte ${LIBELLES_GRAVITE[alerte.gravite]} : ${alerte.titre}`,
    text: [
      'Bonjour,',
      '',
      `Quotient (${emetteur.commune}, serveur ${emetteur.hote}) signale un événement de sécurité.`,
      '',
      `${alerte.titre}`,
      `${alerte.message}`,
      '',
      `Gravité      : ${LIBELLES_GRAVITE[alerte.gravite]}`,
      `Survenu le   : ${horodatage.format(new Date(alerte.survenueLe))} (heure de Paris)`,
      `Code         : ${alerte.code}`,
      `Référence    : ${alerte.id}`,
      ...(details.length === 0 ? [] : ['', 'Détails :', ...details.map(([k, v]) => `  - ${k} : ${v === null ? '(vide)' : String(v)}`)]),
      '',
      'Ce message est adressé au RSSI et au délégué à la protection des données déclarés dans la',
      'configuration de la commune. Il ne contient aucune donnée fiscale. Le journal d’audit de Quotient',
      'garde la trace de cette alerte.',
    ].join('\n'),
  };
}

/**
 * nodemailer's defaults wait minutes for a silent relay; an alert must not. Its connection URL
 * takes transport options as query parameters, a value already in the URL being kept.
 */
export function urlSmtpBornee(url: string, delaiMs: number): string {
  const parsed = new URL(url);
  for (const name of ['connectionTimeout', 'greetingTimeout', 'socketTimeout']) {
    if (!parsed.searchParams.has(name)) parsed.searchParams.set(name, String(delaiMs));
  }
  return parsed.toString();
}

export interface CourrielOptions {
  readonly destinataires: readonly string[];
  readonly emetteur: Emetteur;
  /** Default: SMTP at `smtp.url` with bounded timeouts. */
  readonly mailer?: Mailer;
  readonly smtp?: { readonly url: string; readonly from: string };
  readonly delaiMs?: number;
}

/** One message per recipient, so that a refused address does not hide a delivered one. */
export function canalCourriel(options: CourrielOptions): CanalAlerte {
  const destinataires = [...new Set(options.destinataires.map((d) => d.trim().toLowerCase()))];
  if (destinataires.length === 0) throw new EchecCanal('aucun destinataire (RSSI ou DPO) déclaré');
  const mailer =
    options.mailer ??
    (options.smtp ? createSmtpMailer({ url: urlSmtpBornee(options.smtp.url, options.delaiMs ?? 10_000), from: options.smtp.from }) : undefined);
  if (!mailer) throw new EchecCanal('aucun relais SMTP (QUOTIENT_SMTP_URL)');
  return {
    nom: 'courriel',
    destination: destinataires.join(', '),
    async envoyer(alerte) {
      const outcomes = await Promise.allSettled(destinataires.map((to) => mailer.send(courrielAlerte(alerte, options.emetteur, to))));
      const sent = destinataires.filter((_, i) => outcomes[i]?.status === 'fulfilled');
      const failed = destinataires.flatMap((to, i) => {
        const outcome = outcomes[i];
        return outcome?.status === 'rejected' ? [`${to} : ${describe(outcome.reason)}`] : [];
      });
      if (failed.length === 0) return `envoyé à ${sent.join(', ')}`;
      throw new EchecCanal(`échec pour ${failed.join(' ; ')}${sent.length > 0 ? ` (envoyé à ${sent.join(', ')})` : ''}`);
    },
  };
}

function describe(error: unknown): string {
  // The mailer's own refusal (a numéro fiscal or an amount in the text) is already a French sentence.
  if ((error as { code?: unknown }).code === 'courriel_refuse') return 'refusé avant l’envoi (donnée interdite dans un courriel)';
  return raisonReseau(error);
}
