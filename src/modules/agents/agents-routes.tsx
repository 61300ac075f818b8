import type { FastifyInstance } from 'fastify';
import { isQuotientError } from '../../domain/errors.ts';
import { signInAgent, takeFlash } from '../../http/session.ts';
import { Alert, Csrf, Flash } from '../../http/ui/components.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { sendAgentPage, sectionsOf, requireAgent } from '../../http/espace-agents.tsx';
import type { AgentsOidcClient } from './agents-client.ts';
import type { AgentsService } from './agents-service.ts';
import { LIBELLES_ROLES } from './roles.ts';

export interface AgentsRoutesDeps {
  readonly commune: CommuneConfig;
  readonly agents: AgentsService;
  readonly oidc: AgentsOidcClient;
  /** The callback URL is rebuilt on it: the token request repeats the registered redirect URI. */
  readonly publicUrl: string;
  /** Told of each refused sign-in with the network address it came from (detection counts them); never throws. */
  readonly echecConnexion?: (adresse: string) => void;
}

/** A pending sign-in older than this is refused (the provider's own interaction lasts 10 minutes). */
const PENDING_MAX_MS = 10 * 60_000;

/** Sign-in of agents through the commune's identity provider, sign-out, and the home of the back-office. */
export function registerAgentsRoutes(app: FastifyInstance, deps: AgentsRoutesDeps): void {
  const { commune, oidc } = deps;

  app.get('/agents/connexion', (request, reply) => {
    if (request.session.agentId) return reply.redirect('/agents', 303);
    const flash = takeFlash(request);
    return sendAgentPage(
      request,
      reply,
      commune,
      'Connexion des agents',
      <>
        <h1>Espace agents</h1>
        <Flash message={flash} />
        <p class="lead">Cet espace est réservé aux agents de la commune habilités à traiter les demandes de quotient familial.</p>
        <p>Vous vous connectez avec votre compte professionnel de la commune. Chaque accès et chaque action sont enregistrés dans le journal d’audit.</p>
        <form method="post" action="/agents/connexion">
          <Csrf token={reply.generateCsrf()} />
          <button class="button" type="submit">
            Se connecter avec mon compte professionnel
          </button>
        </form>
        <p class="muted">
          Vous êtes une famille ? <a href="/connexion">Connectez-vous à l’espace des familles</a>.
        </p>
      </>,
    );
  });

  app.post('/agents/connexion', async (request, reply) => {
    const { url, pending } = await oidc.start();
    request.session.agentOidc = { ...pending, startedAt: Date.now() };
    return reply.redirect(url, 303);
  });

  app.get('/agents/connexion/retour', async (request, reply) => {
    const pending = request.session.agentOidc;
    // One try per pending sign-in: a replayed or second callback finds nothing to complete.
    request.session.agentOidc = undefined;
    const fresh = pending && Date.now() - pending.startedAt < PENDING_MAX_MS ? pending : undefined;
    try {
      const identite = await oidc.finish(new URL(request.url, deps.publicUrl), fresh);
      const agent = await deps.agents.connecter(identite);
      await signInAgent(request, agent.id, identite.idToken);
      return reply.redirect('/agents', 303);
    } catch (error) {
      if (!isQuotientError(error) || error.kind === 'unavailable') throw error;
      deps.echecConnexion?.(request.ip);
      // Unknown or disabled agents are traced by the service; a callback that does not verify, here.
      if (error.code !== 'agent_non_autorise') await deps.agents.connexionInvalide(error.code, String(request.id));
      return sendAgentPage(
        request,
        reply,
        commune,
        'Erreur : connexion refusée',
        <>
          <h1>Connexion refusée</h1>
          <Alert kind="error" title={error.message} />
          <p>
            <a class="button" href="/agents/connexion">
              Revenir à la connexion
            </a>
          </p>
        </>,
        403,
      );
    }
  });

  app.post('/agents/deconnexion', async (request, reply) => {
    const idToken = request.session.agentIdToken;
    const agentId = request.session.agentId;
    if (request.session.sessionId) await request.session.destroy();
    if (agentId) await deps.agents.deconnecte(agentId);
    // Also out of the identity provider, so that the next person at this desk signs in as themselves.
    if (idToken) return reply.redirect(await oidc.logoutUrl(idToken), 303);
    return reply.redirect('/agents/deconnexion/fin', 303);
  });

  app.get('/agents/deconnexion/fin', (request, reply) =>
    sendAgentPage(
      request,
      reply,
      commune,
      'Déconnecté',
      <>
        <h1>Vous êtes déconnecté</h1>
        <p>Votre session est fermée sur ce poste.</p>
        <p>
          <a class="button" href="/agents/connexion">
            Se reconnecter
          </a>
        </p>
      </>,
    ),
  );

  app.get('/agents', (request, reply) => {
    const agent = requireAgent(request);
    return sendAgentPage(
      request,
      reply,
      commune,
      'Espace agents',
      <>
        <h1>Bonjour {agent.prenom}</h1>
        <p class="lead">Vos rôles : {agent.roles.map((r) => LIBELLES_ROLES[r]).join(', ')}.</p>
        <ul class="tuiles">
          {sectionsOf(agent).map((s) => (
            <li class="tuile" key={s.href}>
              <h2>
                <a href={s.href}>{s.label}</a>
              </h2>
              <p>{s.description}</p>
            </li>
          ))}
        </ul>
        <p class="muted">Pour votre sécurité, la session se ferme après 15 minutes sans activité et au plus tard 9 heures après la connexion.</p>
      </>,
    );
  });
}
