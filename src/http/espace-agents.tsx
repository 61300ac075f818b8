/**
 * The back-office's shell, shared by every module under /agents: the sections by role, the
 * signed-in agent, and the frame of its pages.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren, VNode } from 'preact';
import { QuotientError } from '../domain/errors.ts';
import type { CommuneConfig } from '../infra/config/commune-config.ts';
import type { RoleAgent } from '../modules/agents/roles.ts';
import type { Acteur } from '../modules/audit/audit-entry.ts';
import type { AgentConnecte } from './acces/controle-acces.ts';
import { pageContext, sendPage } from './render.tsx';
import { Layout } from './ui/layout.tsx';
import { Csrf } from './ui/components.tsx';

/** The sections of the back-office, each shown to the roles that may open it. */
export const SECTIONS: ReadonlyArray<{ href: string; label: string; roles: readonly RoleAgent[]; description: string }> = [
  {
    href: '/agents/guichet',
    label: 'Accueil des familles',
    roles: ['guichet'],
    description: 'Trouver ou créer une famille, saisir une demande reçue sur papier ou par courriel, voir le quotient obtenu.',
  },
  {
    href: '/agents/instruction',
    label: 'Instruction',
    roles: ['instructeur'],
    description: 'Les demandes à vérifier et les contestations : confirmer, refuser ou fixer le quotient.',
  },
  {
    href: '/agents/administration',
    label: 'Administration',
    roles: ['administrateur'],
    description: 'Politique tarifaire, habilitation, agents et rôles, clés d’API, mesures d’incident.',
  },
  {
    href: '/agents/controle',
    label: 'Contrôle',
    roles: ['auditeur'],
    description: 'Journal d’audit, exports par personne, contrôles par échantillon, intégrité, alertes de sécurité.',
  },
  {
    href: '/agents/facturation',
    label: 'Facturation',
    roles: ['guichet', 'administrateur'],
    description: 'Exporter les quotients en vigueur à une date pour le logiciel de facturation (fichier CSV).',
  },
  {
    href: '/agents/tableau-de-bord',
    label: 'Tableau de bord',
    roles: ['guichet', 'instructeur', 'administrateur', 'auditeur'],
    description: 'Demandes par statut et par canal, quotients par tranche, quota et état de la connexion à la DGFiP.',
  },
];

/**
 * The pages of « Contrôle », whose modules differ (controle, detection): one list, one
 * sub-navigation, so that a page added to one module shows on the others'.
 */
export const PAGES_CONTROLE = [
  { href: '/agents/controle/journal', label: 'Journal d’audit' },
  { href: '/agents/controle/exports', label: 'Exports par personne' },
  { href: '/agents/controle/controles', label: 'Contrôles par échantillon' },
  { href: '/agents/controle/integrite', label: 'Intégrité du journal' },
  { href: '/agents/controle/alertes', label: 'Alertes' },
] as const;

export type PageControle = (typeof PAGES_CONTROLE)[number]['href'];

/** The sub-navigation at the top of each page of « Contrôle »; `courant` is the page (or the list a detail belongs to). */
export function SousNavControle({ courant }: { courant: PageControle }) {
  return (
    <nav class="controle-nav" aria-label="Contrôle">
      <ul>
        {PAGES_CONTROLE.map((l) => (
          <li key={l.href}>
            <a href={l.href} aria-current={courant === l.href ? 'page' : undefined}>
              {l.label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export const sectionsOf = (agent: AgentConnecte) => SECTIONS.filter((s) => s.roles.some((r) => agent.roles.includes(r)));

/** The signed-in agent; the access policy has already checked the role of the route. */
export function requireAgent(request: FastifyRequest): AgentConnecte {
  if (!request.agent) throw new QuotientError('unauthenticated', 'connexion_requise', 'Connectez-vous pour accéder à cette page.');
  return request.agent;
}

export const acteurAgent = (agent: AgentConnecte): Acteur => ({ type: 'agent', id: agent.id });

function Barre({ agent, csrf, currentPath }: { agent: AgentConnecte | null; csrf: string | undefined; currentPath: string }) {
  if (!agent) return null;
  return (
    <>
      <nav class="espace-nav" aria-label="Espace agents">
        <ul>
          {sectionsOf(agent).map((s) => (
            <li key={s.href}>
              <a href={s.href} aria-current={currentPath === s.href || currentPath.startsWith(`${s.href}/`) ? 'page' : undefined}>
                {s.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <p class="espace-agent">
        <span>
          {agent.prenom} {agent.nom}
        </span>
        {csrf ? (
          <form method="post" action="/agents/deconnexion">
            <Csrf token={csrf} />
            <button class="button button--secondary button--small" type="submit">
              Se déconnecter
            </button>
          </form>
        ) : null}
      </p>
    </>
  );
}

/** Renders a back-office page: the frame, the sections of the agent's roles, the sign-out button. */
export function sendAgentPage(
  request: FastifyRequest,
  reply: FastifyReply,
  commune: CommuneConfig,
  title: string,
  body: ComponentChildren,
  status = 200,
): FastifyReply {
  const ctx = pageContext(request, reply, commune);
  const csrf = request.agent ? reply.generateCsrf() : undefined;
  const page: VNode = (
    <Layout
      ctx={ctx}
      title={title}
      espace={{
        accueil: '/agents',
        nom: 'Quotient familial – espace agents',
        barre: <Barre agent={request.agent} csrf={csrf} currentPath={ctx.currentPath} />,
      }}
    >
      {body}
    </Layout>
  );
  return sendPage(reply, page, status);
}
