import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { QuotientError, isQuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { pageContext, sendPage } from '../../http/render.tsx';
import { signIn, signOut } from '../../http/session.ts';
import { Layout } from '../../http/ui/layout.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { CapturedCourriel } from '../../infra/mail/mailer.ts';
import type { ComptesService } from './comptes-service.ts';
import type { FranceConnectClient } from './franceconnect-client.ts';
import { ConfirmationPage, ConnexionPage, DeconnexionPage, InscriptionPage, MessagePage, MonEspacePage, NouveauMotDePassePage, OubliPage, OutboxPage } from './comptes-views.tsx';

export interface ComptesRoutesDeps {
  readonly commune: CommuneConfig;
  readonly comptes: ComptesService;
  readonly franceConnect?: FranceConnectClient;
  readonly httpsPublicUrl: boolean;
  readonly publicUrl: string;
  /** Demo only: the messages captured by the local SMTP server, shown at /dev/courriels. */
  readonly outbox?: readonly CapturedCourriel[];
  /** Sign-in attempts per address IP and minute (default 20). */
  readonly signInPerMinute?: number;
}

type Body = Record<string, string | undefined>;
const field = (body: unknown, name: string) => {
  const v = (body as Body | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

/** French pages of sign-in, sign-up, verification, reset and sign-out. */
export async function registerComptesRoutes(app: FastifyInstance, deps: ComptesRoutesDeps): Promise<void> {
  const { comptes, franceConnect } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: VNode, status = 200) =>
    sendPage(reply, <Layout ctx={pageContext(request, reply, deps.commune)} title={title}>{body}</Layout>, status);
  const csrf = (reply: FastifyReply) => reply.generateCsrf();
  const detailsOf = (error: unknown): ErrorDetail[] | undefined => {
    if (!isQuotientError(error) || !['invalid', 'unauthenticated', 'rate_limited', 'forbidden'].includes(error.kind)) return undefined;
    return error.details.length > 0 ? [...error.details] : [{ path: '', message: error.message }];
  };

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
    errorResponseBuilder: () => new QuotientError('rate_limited', 'trop_de_tentatives', 'Trop de tentatives en peu de temps depuis votre connexion : patientez une minute avant de réessayer.'),
  });
  const throttled = { config: { rateLimit: { max: deps.signInPerMinute ?? 20, timeWindow: 60_000 } } };

  app.get('/connexion', (request, reply) => {
    if (request.compte) return reply.redirect('/mon-espace', 303);
    return page(request, reply, 'Se connecter', <ConnexionPage csrf={csrf(reply)} franceConnect={franceConnect !== undefined} errors={[]} />);
  });

  app.post('/connexion', throttled, async (request, reply) => {
    const email = field(request.body, 'email');
    try {
      const compteId = await comptes.connecterLocal(email, field(request.body, 'password'));
      await signIn(request, compteId, 'local');
      return reply.redirect('/mon-espace', 303);
    } catch (error) {
      const errors = detailsOf(error);
      if (!errors) throw error;
      const status = isQuotientError(error) && error.kind === 'rate_limited' ? 429 : 400;
      return page(request, reply, 'Erreur : se connecter', <ConnexionPage csrf={csrf(reply)} franceConnect={franceConnect !== undefined} errors={errors} email={email} />, status);
    }
  });

  if (franceConnect) {
    app.post('/connexion/franceconnect', throttled, async (request, reply) => {
      const { url, pending } = await franceConnect.start();
      request.session.oidc = { ...pending, startedAt: Date.now() };
      return reply.redirect(url, 303);
    });

    app.get('/connexion/franceconnect/retour', throttled, async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      // The pending request is used once, whatever the outcome: a second return cannot reuse it.
      const pending = request.session.oidc;
      delete request.session.oidc;
      if (typeof query.error === 'string') {
        return page(request, reply, 'Connexion annulée', <MessagePage title="Connexion annulée"><p>La connexion avec FranceConnect n’a pas abouti. <a href="/connexion">Revenir à la page de connexion</a>.</p></MessagePage>, 400);
      }
      const identity = await franceConnect.finish(new URL(request.url, deps.publicUrl), pending && Date.now() - pending.startedAt < 10 * 60_000 ? pending : undefined);
      const compteId = await comptes.connecterFranceConnect(identity);
      await signIn(request, compteId, 'franceconnect', { idToken: identity.idToken, fcAccessToken: identity.accessToken });
      return reply.redirect('/mon-espace', 303);
    });
  }

  app.get('/mon-espace', (request, reply) => {
    if (!request.compte) return reply.redirect('/connexion', 303);
    return page(request, reply, 'Mon espace', <MonEspacePage compte={request.compte} csrf={csrf(reply)} />);
  });

  app.get('/deconnexion', (request, reply) => page(request, reply, request.compte ? 'Se déconnecter' : 'Déconnecté', <DeconnexionPage csrf={csrf(reply)} signedIn={request.compte !== null} />));
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
    const values = { prenoms: field(request.body, 'prenoms'), nom: field(request.body, 'nom'), email: field(request.body, 'email') };
    try {
      await comptes.inscrire({ ...values, password: field(request.body, 'password') });
    } catch (error) {
      const errors = detailsOf(error);
      if (!errors) throw error;
      return page(request, reply, 'Erreur : créer un compte', <InscriptionPage csrf={csrf(reply)} errors={errors} values={values} />, 400);
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
    const token = String((request.query as Record<string, unknown>).jeton ?? '');
    const valid = await comptes.jetonValide(token, 'verification');
    return page(request, reply, valid ? 'Confirmer votre adresse' : 'Lien expiré', <ConfirmationPage csrf={csrf(reply)} token={token} valid={valid} />, valid ? 200 : 400);
  });

  app.post('/inscription/confirmation', async (request, reply) => {
    await comptes.confirmerCourriel(field(request.body, 'jeton'));
    return page(request, reply, 'Adresse confirmée', <ConnexionPage csrf={csrf(reply)} franceConnect={franceConnect !== undefined} errors={[]} message="Votre adresse est confirmée : vous pouvez vous connecter." />);
  });

  app.get('/mot-de-passe-oublie', (request, reply) => page(request, reply, 'Mot de passe oublié', <OubliPage csrf={csrf(reply)} errors={[]} />));

  app.post('/mot-de-passe-oublie', throttled, async (request, reply) => {
    const email = field(request.body, 'email');
    try {
      await comptes.demanderReinitialisation(email);
    } catch (error) {
      const errors = detailsOf(error);
      if (!errors) throw error;
      return page(request, reply, 'Erreur : mot de passe oublié', <OubliPage csrf={csrf(reply)} errors={errors} email={email} />, 400);
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
    const token = String((request.query as Record<string, unknown>).jeton ?? '');
    if (!(await comptes.jetonValide(token, 'reinitialisation'))) {
      return page(request, reply, 'Lien expiré', <MessagePage title="Lien expiré"><p>Ce lien n’est plus valable : il a déjà servi ou a expiré. <a href="/mot-de-passe-oublie">Demander un nouveau lien</a>.</p></MessagePage>, 400);
    }
    return page(request, reply, 'Nouveau mot de passe', <NouveauMotDePassePage csrf={csrf(reply)} token={token} errors={[]} />);
  });

  app.post('/mot-de-passe/nouveau', throttled, async (request, reply) => {
    const token = field(request.body, 'jeton');
    try {
      await comptes.reinitialiser(token, field(request.body, 'password'));
    } catch (error) {
      const errors = detailsOf(error);
      if (!errors) throw error;
      return page(request, reply, 'Erreur : nouveau mot de passe', <NouveauMotDePassePage csrf={csrf(reply)} token={token} errors={errors} />, 400);
    }
    return page(request, reply, 'Mot de passe enregistré', <ConnexionPage csrf={csrf(reply)} franceConnect={franceConnect !== undefined} errors={[]} message="Votre nouveau mot de passe est enregistré : connectez-vous." />);
  });

  if (deps.outbox) {
    const outbox = deps.outbox;
    app.get('/dev/courriels', (request, reply) => page(request, reply, 'Courriels envoyés', <OutboxPage messages={outbox} />));
  }
}
