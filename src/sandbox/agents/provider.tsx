import { createHmac, randomBytes } from 'node:crypto';
import { sameSecret, startLocalOidcProvider, type LocalOidcProvider, type ProviderClient } from '../oidc/local-provider.tsx';

/**
 * The agents' identity provider of the demo and the tests, shaped like ProConnect (the State's
 * provider for public agents, also what a city's own provider usually offers): OpenID Connect
 * code flow with PKCE, claims `email`, `given_name`, `usual_name`, `uid`. It authenticates only:
 * roles are Quotient's business, given by the commune's administrators.
 */

export const AGENTS_SCOPES = ['openid', 'email', 'given_name', 'usual_name', 'uid'] as const;
export const AGENTS_ACR = 'eidas1';
export const DEMO_AGENT_PASSWORD = 'demo';

export interface DemoAgent {
  readonly email: string;
  readonly prenom: string;
  readonly nom: string;
  /** What the demo seeds in Quotient's agents table; the provider itself knows no role. */
  readonly roles: readonly ('guichet' | 'instructeur' | 'administrateur' | 'auditeur')[];
}

/** One agent per role, and the fictitious commune's domain. */
export const DEMO_AGENTS: readonly DemoAgent[] = [
  { email: 'accueil@demo.quotient.fr', prenom: 'Camille', nom: 'Martin', roles: ['guichet'] },
  { email: 'instruction@demo.quotient.fr', prenom: 'Louis', nom: 'Bernard', roles: ['instructeur'] },
  { email: 'administration@demo.quotient.fr', prenom: 'Sophie', nom: 'Durand', roles: ['administrateur'] },
  { email: 'dpo@demo.quotient.fr', prenom: 'Nadia', nom: 'Petit', roles: ['auditeur'] },
];

export interface LocalAgentsProviderOptions {
  readonly clients: readonly ProviderClient[];
  readonly agents?: readonly Pick<DemoAgent, 'email' | 'prenom' | 'nom'>[];
  readonly port?: number;
  /** Key of the pseudonymous `sub`; random when absent (then `sub` changes at each start). */
  readonly subjectKey?: Buffer;
}

export async function startLocalAgentsProvider(options: LocalAgentsProviderOptions): Promise<LocalOidcProvider> {
  const key = options.subjectKey ?? randomBytes(32);
  const accountOf = (email: string) => createHmac('sha256', key).update(`agent:${email.trim().toLowerCase()}`).digest('base64url');
  const accounts = new Map((options.agents ?? DEMO_AGENTS).map((a) => [accountOf(a.email), a]));
  return startLocalOidcProvider({
    clients: options.clients,
    ...(options.port !== undefined ? { port: options.port } : {}),
    scopes: AGENTS_SCOPES,
    acr: AGENTS_ACR,
    brand: { name: 'Identité des agents', subtitle: 'Fournisseur d’identité de démonstration de la commune (comptes fictifs)' },
    loginInputMode: 'email',
    loginHelp: (
      <p>
        L’identifiant est l’adresse électronique d’un agent de démonstration (par exemple accueil@demo.quotient.fr), le mot de passe est « {DEMO_AGENT_PASSWORD}{' '}
        ».
      </p>
    ),
    directory: {
      authenticate(login, password) {
        const id = accountOf(login);
        return accounts.has(id) && sameSecret(password, DEMO_AGENT_PASSWORD) ? id : undefined;
      },
      claims(id) {
        const agent = accounts.get(id);
        return agent ? { sub: id, email: agent.email, given_name: agent.prenom, usual_name: agent.nom, uid: id.slice(0, 12) } : undefined;
      },
    },
  });
}
