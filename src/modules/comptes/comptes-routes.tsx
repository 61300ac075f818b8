import { sendFamilyPage } from '../../http/page-famille.tsx';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { isQuotientError, QuotientError, type ErrorKind } from '../../domain/errors.ts';
import { lireChamps, pageFormulaire, refusDe, saisieAReafficher, texte, texteBrut, texteOptionnel } from '../../http/formulaire.ts';
import { signIn, signOut } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { CompteursPartages } from '../../infra/limites/compteurs.ts';
import { magasinPartage } from '../../infra/limites/magasin-rate-limit.ts';
import type { CapturedCourriel } from '../../infra/mail/mailer.ts';
import type { CompteConnecte, ComptesService } from './comptes-service.ts';
import type { FranceConnectClient } from './franceconnect-client.ts';
import {
  ConfirmationPage,
  ConnexionPage,
  DeconnexionPage,
  InscriptionPage,
  MessagePage,
  MonEspacePage,
  NouveauMotDePassePage,
  OubliPage,
  OutboxPage,
} from './comptes-views.tsx';

export interface ComptesRoutesDeps {
  readonly commune: CommuneConfig;
  readonly comptes: ComptesService;
  readonly franceConnect?: FranceConnectClient;
  readonly httpsPublicUrl: boolean;
  /** What « Mon espace » shows of the family's file (its QF in force, what to do next), from the portal. */
  readonly monEspace?: (compte: CompteConnecte) => Promise<ComponentChildren>;
  /** Told of each failed sign-in with the network address it came from (detection counts them); never throws. */
  readonly echecConnexion?: (adresse: string) => void;
  readonly publicUrl: string;
  /** Demo only: the messages captured by the local SMTP server, shown at /dev/courriels. */
  readonly outbox?: readonly CapturedCourriel[];
  /** Sign-in attempts per address IP and minute (default 20). */
  readonly signInPerMinute?: number;
  /** Where the attempts are counted: the database, shared by every instance (in this process's memory without). */
  readonly compteurs?: CompteursPartages;
}

/** The forms of this module: every field is checked by the accounts service, with its own messages. */
// Passwords and one-time tokens are read as sent (`texteBrut`): never kept nor shown, and refusing one would lock its owner out.
const CONNEXION = z.object({ email: texte(), password: texteBrut() });
const INSCRIPTION = z.object({ prenoms: texte(), nom: texte(), email: texte(), password: texteBrut() });
const OUBLI = z.object({ email: texte() });
const JETON = z.object({ jeton: texteBrut() });
const NOUVEAU_MOT_DE_PASSE = z.object({ jeton: texteBrut(), password: texteBrut() });
const RETOUR_FRANCECONNECT = z.object({ error: texteOptionnel() });
/** Never shown again. */
const SECRETS = ['password'];
/** What the person can correct: a wrong input, wrong credentials, an address not confirmed, too many tries. */
const REFUS: readonly ErrorKind[] = ['invalid', 'unauthenticated', 'rate_limited', 'forbidden'];

/** French pages of sign-in, sign-up, verification, reset and sign-out. */
export async function registerComptesRoutes(app: FastifyInstance, deps: ComptesRoutesDeps): Promise<void> {
  const { comptes, franceConnect } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendFamilyPage(request, reply, deps.commune, title, body, status);
  const csrf = (reply: FastifyReply) => reply.generateCsrf();

  app.decorateRequest('compte', null);
  app.addHook('preHandler', async (request) => {
    const id = request.session?.compteId;
    if (typeof id !== 'string') return;
    const compte = await comptes.compte(id);
    if (compte) request.compte = compte;
    else await request.session.destroy();
  });

  await app.register(rateLimit, {
    global: false,
    ...(deps.compteurs ? { store: magasinPartage(deps.compteurs, 'connexion') } : {}),
    errorResponseBuilder: () =>
      new QuotientError(
        'rate_limited',
        'trop_de_tentatives',
        'Trop de tentatives en peu de temps depuis votre connexion : patientez une minute avant de réessayer.',
      ),
  });
  const throttled = { config: { rateLimit: { max: deps.signInPerMinute ?? 20, timeWindow: 60_000 } } };

  app.get('/connexion', (request, reply) => {
    if (request.compte) return reply.redirect('/mon-espace', 303);
    return page(request, reply, 'Se connecter', <ConnexionPage csrf={csrf(reply)} franceConnect={franceConnect !== undefined} errors={[]} />);
  });

  app.post('/connexion', throttled, async (request, reply) => {
    const { email, password } = lireChamps(CONNEXION, request.body);
    try {
      const compteId = await comptes.connecterLocal(email, password);
      await signIn(request, compteId, 'local');
      return reply.redirect('/mon-espace', 303);
    } catch (error) {
      if (isQuotientError(error) && (error.code === 'identifiants_incorrects' || error.code === 'connexion_suspendue')) deps.echecConnexion?.(request.ip);
      const { errors, status } = refusDe(error, { kinds: REFUS });
      const saisie = saisieAReafficher(request.body, SECRETS);
      return pageFormulaire(
        page,
        request,
        reply,
        'Se connecter',
        errors,
        <ConnexionPage csrf={csrf(reply)} franceConnect={franceConnect !== undefined} errors={errors} email={saisie.email ?? ''} />,
        status,
      );
    }
  });

  if (franceConnect) {
    app.post('/connexion/franceconnect', throttled, async (request, reply) => {
      const { url, pending } = await franceConnect.start();
      request.session.oidc = { ...pending, startedAt: Date.now() };
      return reply.redirect(url, 303);
    });

    app.get('/connexion/franceconnect/retour', throttled, async (request, reply) => {
      const query = lireChamps(RETOUR_FRANCECONNECT, request.query);
      // The pending request is used once, whatever the outcome: a second return cannot reuse it.
      const pending = request.session.oidc;
      delete request.session.oidc;
      if (query.error !== undefined) {
        return page(
          request,
          reply,
          'Connexion annulée',
          <MessagePage title="Connexion annulée">
            <p>
              La connexion avec FranceConnect n’a pas abouti. <a href="/connexion">Revenir à la page de connexion</a>.
            </p>
          </MessagePage>,
          400,
        );
      }
      const identity = await franceConnect.finish(
        new URL(request.url, deps.publicUrl),
        pending && Date.now() - pending.startedAt < 10 * 60_000 ? pending : undefined,
      );
      const compteId = await comptes.connecterFranceConnect(identity);
      // The access token is not kept: the DGFiP is asked with the one of the sign-in made, after the consent, for the avis.
      await signIn(request, compteId, 'franceconnect', { idToken: identity.idToken });
      return reply.redirect('/mon-espace', 303);
    });
  }

  app.get('/mon-espace', async (request, reply) => {
    if (!request.compte) return reply.redirect('/connexion', 303);
    const dossier = deps.monEspace ? await deps.monEspace(request.compte) : null;
    return page(request, reply, 'Mon espace', <MonEspacePage compte={request.compte} csrf={csrf(reply)} dossier={dossier} />);
  });

  app.get('/deconnexion', (request, reply) =>
    page(request, reply, request.compte ? 'Se déconnecter' : 'Déconnecté', <DeconnexionPage csrf={csrf(reply)} signedIn={request.compte !== null} />),
  );
  app.get('/deconnexion/fin', (request, reply) => page(request, reply, 'Déconnecté', <DeconnexionPage csrf="" signedIn={false} />));

  app.post('/deconnexion', async (request, reply) => {
    const idToken = request.session.method === 'franceconnect' ? request.session.idToken : undefined;
    await signOut(request, reply, deps.httpsPublicUrl);
    if (idToken && franceConnect) {
      const url = await franceConnect.logoutUrl(idToken).catch(() => undefined);
      if (url) return reply.redirect(url, 303);
    }
    return reply.redirect('/deconnexion/fin', 303);
  });

  app.get('/inscription', (request, reply) => page(request, reply, 'Créer un compte', <InscriptionPage csrf={csrf(reply)} errors={[]} values={{}} />));

  app.post('/inscription', throttled, async (request, reply) => {
    try {
      await comptes.inscrire(lireChamps(INSCRIPTION, request.body));
    } catch (error) {
      const { errors, status } = refusDe(error, { kinds: REFUS });
      return pageFormulaire(
        page,
        request,
        reply,
        'Créer un compte',
        errors,
        <InscriptionPage csrf={csrf(reply)} errors={errors} values={saisieAReafficher(request.body, SECRETS)} />,
        status,
      );
    }
    return page(
      request,
      reply,
      'Vérifiez votre messagerie',
      <MessagePage title="Vérifiez votre messagerie">
        <p class="lead">Un courriel a été envoyé à l’adresse indiquée. Ouvrez le lien qu’il contient pour activer votre compte (il est valable 48 heures).</p>
        <p>Rien reçu ? Regardez dans les indésirables, ou contactez {deps.commune.contact.service}.</p>
      </MessagePage>,
    );
  });

  app.get('/inscription/confirmation', async (request, reply) => {
    const token = lireChamps(JETON, request.query).jeton;
    const valid = await comptes.jetonValide(token, 'verification');
    return page(
      request,
      reply,
      valid ? 'Confirmer votre adresse' : 'Lien expiré',
      <ConfirmationPage csrf={csrf(reply)} token={token} valid={valid} />,
      valid ? 200 : 400,
    );
  });

  app.post('/inscription/confirmation', async (request, reply) => {
    await comptes.confirmerCourriel(lireChamps(JETON, request.body).jeton);
    return page(
      request,
      reply,
      'Adresse confirmée',
      <ConnexionPage
        csrf={csrf(reply)}
        franceConnect={franceConnect !== undefined}
        errors={[]}
        message="Votre adresse est confirmée : vous pouvez vous connecter."
      />,
    );
  });

  app.get('/mot-de-passe-oublie', (request, reply) => page(request, reply, 'Mot de passe oublié', <OubliPage csrf={csrf(reply)} errors={[]} />));

  app.post('/mot-de-passe-oublie', throttled, async (request, reply) => {
    try {
      await comptes.demanderReinitialisation(lireChamps(OUBLI, request.body).email);
    } catch (error) {
      const { errors, status } = refusDe(error, { kinds: REFUS });
      return pageFormulaire(
        page,
        request,
        reply,
        'Mot de passe oublié',
        errors,
        <OubliPage csrf={csrf(reply)} errors={errors} email={saisieAReafficher(request.body, SECRETS).email ?? ''} />,
        status,
      );
    }
    return page(
      request,
      reply,
      'Vérifiez votre messagerie',
      <MessagePage title="Vérifiez votre messagerie">
        <p class="lead">Si un compte existe pour cette adresse, un courriel vient d’y être envoyé avec un lien valable 1 heure.</p>
      </MessagePage>,
    );
  });

  app.get('/mot-de-passe/nouveau', async (request, reply) => {
    const token = lireChamps(JETON, request.query).jeton;
    if (!(await comptes.jetonValide(token, 'reinitialisation'))) {
      return page(
        request,
        reply,
        'Lien expiré',
        <MessagePage title="Lien expiré">
          <p>
            Ce lien n’est plus valable : il a déjà servi ou a expiré. <a href="/mot-de-passe-oublie">Demander un nouveau lien</a>.
          </p>
        </MessagePage>,
        400,
      );
    }
    return page(request, reply, 'Nouveau mot de passe', <NouveauMotDePassePage csrf={csrf(reply)} token={token} errors={[]} />);
  });

  app.post('/mot-de-passe/nouveau', throttled, async (request, reply) => {
    const { jeton, password } = lireChamps(NOUVEAU_MOT_DE_PASSE, request.body);
    try {
      await comptes.reinitialiser(jeton, password);
    } catch (error) {
      const { errors, status } = refusDe(error, { kinds: REFUS });
      // The token goes back in its hidden field: without it the form could not be sent again.
      return pageFormulaire(
        page,
        request,
        reply,
        'Nouveau mot de passe',
        errors,
        <NouveauMotDePassePage csrf={csrf(reply)} token={jeton} errors={errors} />,
        status,
      );
    }
    return page(
      request,
      reply,
      'Mot de passe enregistré',
      <ConnexionPage
        csrf={csrf(reply)}
        franceConnect={franceConnect !== undefined}
        errors={[]}
        message="Votre nouveau mot de passe est enregistré : connectez-vous."
      />,
    );
  });

  if (deps.outbox) {
    const outbox = deps.outbox;
    app.get('/dev/courriels', (request, reply) => page(request, reply, 'Courriels envoyés', <OutboxPage messages={outbox} />));
  }
}
