import type { Kysely } from 'kysely';
import type { StatutDemande } from '../../domain/demande.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Logger } from '../../infra/log/logger.ts';
import { assertCourrielSansDonneeFiscale, type Courriel, type Mailer } from '../../infra/mail/mailer.ts';

/**
 * What the family is told by e-mail when its request ends or needs it: plain French, the
 * reference and a link to the request's page. Never a numéro fiscal nor an amount: the result
 * itself is read on the portal, after signing in.
 */
const MESSAGES: Partial<Record<StatutDemande, { sujet: string; texte: string }>> = {
  calculee: {
    sujet: 'Votre quotient familial est calculé',
    texte: 'Votre quotient familial est calculé. Vous pouvez le consulter, avec les prix des activités, sur votre espace :',
  },
  a_verifier: {
    sujet: 'Votre demande va être vérifiée par un agent',
    texte:
      'Votre demande ne peut pas être terminée automatiquement : un agent va la vérifier et vous serez prévenu. Vous pouvez suivre votre demande sur votre espace :',
  },
  a_ressaisir: {
    sujet: 'Votre demande attend votre numéro fiscal',
    texte: 'Pour terminer votre demande, le numéro fiscal doit être saisi à nouveau. Votre accord reste valable. Saisissez-le sur votre espace :',
  },
  echouee: { sujet: 'Votre demande n’a pas pu aboutir', texte: 'La DGFiP n’a pas pu répondre à votre demande. Vous pouvez la refaire depuis votre espace :' },
  refusee: {
    sujet: 'Votre demande n’a pas été acceptée',
    texte: 'Votre demande n’a pas été acceptée. Vous trouverez le motif et les suites possibles sur votre espace :',
  },
};

export interface NotificationsDeps {
  readonly db: Kysely<Schema>;
  readonly mailer: Mailer;
  /** QUOTIENT_PUBLIC_URL, without a trailing slash. */
  readonly publicUrl: string;
  readonly communeNom: string;
  readonly logger: Logger;
}

/** The message for one request, or undefined when the status calls for none or nobody can be written to. */
export async function courrielDemande(
  deps: Pick<NotificationsDeps, 'db' | 'publicUrl' | 'communeNom'>,
  demandeId: string,
  statut: StatutDemande,
): Promise<Courriel | undefined> {
  const message = MESSAGES[statut];
  if (!message) return undefined;
  const demande = await deps.db.selectFrom('demandes').select(['id', 'reference', 'famille_id']).where('id', '=', demandeId).executeTakeFirst();
  if (!demande) return undefined;
  const famille = await deps.db.selectFrom('familles').select('courriel').where('id', '=', demande.famille_id).executeTakeFirst();
  const compte = famille?.courriel
    ? undefined
    : await deps.db
        .selectFrom('comptes')
        .select('email')
        .where('famille_id', '=', demande.famille_id)
        .where('email', 'is not', null)
        .where('email_verified_at', 'is not', null)
        .orderBy('created_at')
        .executeTakeFirst();
  const to = famille?.courriel ?? compte?.email ?? undefined;
  if (!to) return undefined;
  const base = deps.publicUrl.replace(/\/+$/, '');
  const ecrire = (lien: string): Courriel => ({
    to,
    subject: `${message.sujet} (demande ${demande.reference})`,
    text: `Bonjour,\n\n${message.texte}\n${lien}\n\nRéférence de votre demande : ${demande.reference}\n\nPour toute question, contactez le service de la mairie en indiquant cette référence.\n\n${deps.communeNom}`,
  });
  // The link holds the request's UUID: the guard below takes UUIDs for the identifiers they are.
  const courriel = ecrire(`${base}/mon-quotient/demandes/${demande.id}`);
  assertCourrielSansDonneeFiscale(courriel);
  return courriel;
}

/**
 * The request service's `onChange`: sends the family its e-mail in the background. A failure is
 * logged (without the address) and never touches the request.
 */
export function notifierFamilles(deps: NotificationsDeps): (demandeId: string, statut: StatutDemande) => void {
  return (demandeId, statut) => {
    void (async () => {
      const courriel = await courrielDemande(deps, demandeId, statut);
      if (!courriel) return;
      await deps.mailer.send(courriel);
      deps.logger.info({ demandeId, statut }, 'courriel de suivi envoyé à la famille');
    })().catch((error: unknown) => {
      // The SMTP error may quote the address: only its kind is logged.
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
      deps.logger.error({ demandeId, statut, code, type: error instanceof Error ? error.name : typeof error }, 'échec de l’envoi du courriel de suivi');
    });
  };
}
