import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { formatDateCourte } from '../../domain/dates.ts';
import { isQuotientError, QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { formatEuros } from '../../domain/money.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import type { AgentsService } from '../agents/agents-service.ts';
import type { ClesApiService } from '../api/cles-api-service.ts';
import { AccueilPage, AgentPage, AgentsPage, ClesApiPage, CleCreeePage, HabilitationPage, NouvelAgentPage } from './administration-views.tsx';
import { calculerApercu, FOYERS_FICTIFS, QUOTIENTS_PAR_DEFAUT, type CasTest } from './apercu.ts';
import { comparerPolitiques, diffLignes } from './politique-diff.ts';
import { ID_CONFIGURATION, type PolitiquesService } from './politiques-service.ts';
import { ApercuPage, ComparaisonPage, DepotPage, PolitiquesPage, VersionPage, type Noms } from './politiques-views.tsx';
import { parseQuotients } from './saisies.ts';
import { BASE } from './ui.tsx';

export interface AdministrationDeps {
  readonly commune: CommuneConfig;
  readonly agents: AgentsService;
  readonly clesApi: ClesApiService;
  readonly politiques: PolitiquesService;
}

declare module 'fastify' {
  interface Session {
    /** One creation of an API key per form shown: reloading the result page does not make a second key. */
    cleApiJeton?: string;
  }
}

type Body = Record<string, string | string[] | undefined>;
const body = (request: FastifyRequest): Body => (request.body ?? {}) as Body;
const texte = (b: Body, name: string): string => {
  const v = b[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? (v[0] ?? '') : '';
};
const liste = (b: Body, name: string): string[] => {
  const v = b[name];
  return typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
};
const params = (request: FastifyRequest) => request.params as { id: string };
/** Query parameters as single texts (a repeated parameter keeps its first value). */
const query = (request: FastifyRequest): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries((request.query ?? {}) as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined]));

/** The details of a typed error the person can act on (bad input, a state that forbids it). */
function erreursDe(error: unknown): { errors: ErrorDetail[]; status: number; message: string } | null {
  if (!isQuotientError(error) || (error.kind !== 'invalid' && error.kind !== 'conflict')) return null;
  const errors = error.details.length > 0 ? [...error.details] : [{ path: '', message: error.message }];
  return { errors, status: error.kind === 'invalid' ? 400 : 409, message: error.message };
}

/**
 * The administration of the back-office (issue 7), for administrators only (the access policy):
 * tariff policy versions, the habilitation as configured, agents and roles, API keys. No page
 * here reads a family's data.
 */
export function registerAdministrationRoutes(app: FastifyInstance, deps: AdministrationDeps): void {
  const { commune, politiques, agents, clesApi } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, content: ComponentChildren, status = 200) => sendAgentPage(request, reply, commune, title, content, status);
  const noms = async (): Promise<Noms> => new Map((await agents.lister()).map((a) => [a.id, `${a.prenom} ${a.nom}`]));

  app.get(BASE, async (request, reply) => {
    requireAgent(request);
    const [liste, cles] = await Promise.all([agents.lister(), clesApi.lister()]);
    await politiques.rafraichir();
    const enVigueur = politiques.versionEnVigueur(politiques.aujourdhui());
    return page(request, reply, 'Administration', <AccueilPage enVigueur={enVigueur} agentsActifs={liste.filter((a) => a.actif).length} clesActives={cles.filter((c) => c.revoqueeLe === null).length} />);
  });

  // Tariff policy versions.

  app.get(`${BASE}/politiques`, async (request, reply) => {
    requireAgent(request);
    const versions = await politiques.lister();
    const enVigueur = politiques.versionEnVigueur(politiques.aujourdhui());
    return page(request, reply, 'Politique tarifaire', <PolitiquesPage versions={versions} enVigueur={enVigueur} noms={await noms()} flash={takeFlash(request)} />);
  });

  app.get(`${BASE}/politiques/nouvelle`, (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Déposer une nouvelle version', <DepotPage csrf={reply.generateCsrf()} libelle="" contenu="" errors={[]} />);
  });

  app.post(`${BASE}/politiques`, async (request, reply) => {
    const agent = requireAgent(request);
    const b = body(request);
    const libelle = texte(b, 'libelle');
    const contenu = texte(b, 'texte');
    try {
      const v = await politiques.deposer({ libelle, contenu }, acteurAgent(agent), request.id);
      request.session.flash = `La version « ${v.libelle} » est déposée. Essayez-la et comparez-la, puis activez-la.`;
      return reply.redirect(`${BASE}/politiques/${v.id}`, 303);
    } catch (error) {
      const e = erreursDe(error);
      if (!e) throw error;
      return page(request, reply, 'Erreur : déposer une nouvelle version', <DepotPage csrf={reply.generateCsrf()} libelle={libelle} contenu={contenu} errors={e.errors} message={e.message} />, e.status);
    }
  });

  app.get(`${BASE}/politiques/comparaison`, async (request, reply) => {
    requireAgent(request);
    const versions = await politiques.lister();
    const q = query(request);
    const enVigueur = politiques.versionEnVigueur(politiques.aujourdhui());
    const trouver = (id: string | undefined) => (id ? (versions.find((v) => v.id === id) ?? null) : null);
    const de = trouver(q.de) ?? enVigueur;
    const a = trouver(q.a) ?? versions.find((v) => v.id !== de.id && v.statut !== 'abandonnee') ?? de;
    const comparables = de.id !== a.id && de.politique && a.politique;
    const sections = comparables && de.politique && a.politique ? comparerPolitiques(de.politique, a.politique) : null;
    const lignes = comparables ? diffLignes(de.contenu, a.contenu) : null;
    return page(request, reply, 'Comparer deux versions', <ComparaisonPage versions={versions} de={de} a={a} sections={sections} lignes={lignes} />);
  });

  app.get(`${BASE}/politiques/:id`, async (request, reply) => {
    requireAgent(request);
    const v = await politiques.version(params(request).id);
    const aujourdhui = politiques.aujourdhui();
    const proposee = v.politique && v.politique.validite.du > aujourdhui ? v.politique.validite.du : aujourdhui;
    return page(
      request,
      reply,
      v.libelle,
      <VersionPage csrf={reply.generateCsrf()} version={v} enVigueur={politiques.versionEnVigueur(aujourdhui)} noms={await noms()} aujourdhui={aujourdhui} effet={formatDateCourte(proposee)} errors={[]} flash={takeFlash(request)} />,
    );
  });

  app.get(`${BASE}/politiques/:id/apercu`, async (request, reply) => {
    requireAgent(request);
    const v = await politiques.version(params(request).id);
    const enVigueur = politiques.versionEnVigueur(politiques.aujourdhui());
    const saisie = (query(request).quotients ?? '').slice(0, 500);
    const { cents, erreurs } = parseQuotients(saisie);
    const choisis = cents.length > 0 ? cents : QUOTIENTS_PAR_DEFAUT;
    const cas: CasTest[] = [...choisis.map((c): CasTest => ({ type: 'quotient', libelle: `Quotient de ${formatEuros(c, { wholeEuros: true })}`, cents: c })), ...FOYERS_FICTIFS];
    const activites = v.politique && enVigueur.politique ? calculerApercu(enVigueur.politique, v.politique, cas) : [];
    return page(request, reply, `Aperçu : ${v.libelle}`, <ApercuPage version={v} enVigueur={enVigueur} activites={activites} quotients={saisie} erreurs={erreurs} />);
  });

  app.post(`${BASE}/politiques/:id/activation`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = params(request);
    const effet = texte(body(request), 'effet');
    try {
      const v = await politiques.activer(id, effet, acteurAgent(agent), request.id);
      request.session.flash =
        v.statut === 'active' ? `La version « ${v.libelle} » est en vigueur : les nouvelles demandes sont calculées avec elle.` : `La version « ${v.libelle} » est programmée : elle s’appliquera aux demandes faites à partir du ${formatDateCourte(v.effetLe ?? '')}.`;
      return reply.redirect(`${BASE}/politiques/${id}`, 303);
    } catch (error) {
      const e = erreursDe(error);
      if (!e) throw error;
      const v = await politiques.version(id);
      const aujourdhui = politiques.aujourdhui();
      return page(
        request,
        reply,
        `Erreur : ${v.libelle}`,
        <VersionPage csrf={reply.generateCsrf()} version={v} enVigueur={politiques.versionEnVigueur(aujourdhui)} noms={await noms()} aujourdhui={aujourdhui} effet={effet} errors={e.errors} />,
        e.status,
      );
    }
  });

  app.post(`${BASE}/politiques/:id/abandon`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = params(request);
    if (id === ID_CONFIGURATION) return reply.redirect(`${BASE}/politiques/${id}`, 303);
    try {
      const v = await politiques.abandonner(id, acteurAgent(agent), request.id);
      request.session.flash = `La version « ${v.libelle} » est abandonnée : elle ne sera jamais appliquée.`;
    } catch (error) {
      const e = erreursDe(error);
      if (!e) throw error;
      request.session.flash = undefined;
      const v = await politiques.version(id);
      const aujourdhui = politiques.aujourdhui();
      return page(request, reply, `Erreur : ${v.libelle}`, <VersionPage csrf={reply.generateCsrf()} version={v} enVigueur={politiques.versionEnVigueur(aujourdhui)} noms={await noms()} aujourdhui={aujourdhui} effet={formatDateCourte(aujourdhui)} errors={e.errors} />, e.status);
    }
    return reply.redirect(`${BASE}/politiques/${id}`, 303);
  });

  // The habilitation, as the configuration file gives it.

  app.get(`${BASE}/habilitation`, async (request, reply) => {
    requireAgent(request);
    await politiques.rafraichir();
    return page(request, reply, 'Habilitation', <HabilitationPage habilitation={commune.habilitation} conservation={commune.conservation} enVigueur={politiques.versionEnVigueur(politiques.aujourdhui())} />);
  });

  // Agents and roles, through AgentsService (which journals every change).

  app.get(`${BASE}/agents`, async (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Agents et rôles', <AgentsPage agents={await agents.lister()} flash={takeFlash(request)} />);
  });

  app.get(`${BASE}/agents/nouveau`, (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Inscrire un agent', <NouvelAgentPage csrf={reply.generateCsrf()} valeurs={{ email: '', prenom: '', nom: '', roles: [] }} errors={[]} />);
  });

  app.post(`${BASE}/agents`, async (request, reply) => {
    const agent = requireAgent(request);
    const b = body(request);
    const valeurs = { email: texte(b, 'email'), prenom: texte(b, 'prenom'), nom: texte(b, 'nom'), roles: liste(b, 'roles') };
    try {
      const cree = await agents.creer(valeurs, acteurAgent(agent));
      request.session.flash = `${cree.prenom} ${cree.nom} est inscrit : il peut se connecter avec son compte professionnel ${cree.email}.`;
      return reply.redirect(`${BASE}/agents`, 303);
    } catch (error) {
      const e = erreursDe(error);
      if (!e) throw error;
      return page(request, reply, 'Erreur : inscrire un agent', <NouvelAgentPage csrf={reply.generateCsrf()} valeurs={valeurs} errors={e.errors} />, e.status);
    }
  });

  const exigerAgent = async (id: string) => {
    const a = await agents.agent(id);
    if (!a) throw new QuotientError('not_found', 'agent_introuvable', 'Agent introuvable.');
    return a;
  };

  app.get(`${BASE}/agents/:id`, async (request, reply) => {
    const moi = requireAgent(request);
    const a = await exigerAgent(params(request).id);
    return page(request, reply, `${a.prenom} ${a.nom}`, <AgentPage csrf={reply.generateCsrf()} agent={a} soiMeme={a.id === moi.id} roles={a.roles} errors={[]} flash={takeFlash(request)} />);
  });

  /** Runs an action on an agent: success → back to their page with a message; refusal → the page with the reason. */
  const actionAgent = async (request: FastifyRequest, reply: FastifyReply, action: (id: string) => Promise<string>, rolesSaisis?: string[]) => {
    const moi = requireAgent(request);
    const { id } = params(request);
    try {
      request.session.flash = await action(id);
      return reply.redirect(`${BASE}/agents/${id}`, 303);
    } catch (error) {
      const e = erreursDe(error);
      if (!e) throw error;
      const a = await exigerAgent(id);
      return page(request, reply, `Erreur : ${a.prenom} ${a.nom}`, <AgentPage csrf={reply.generateCsrf()} agent={a} soiMeme={a.id === moi.id} roles={rolesSaisis ?? a.roles} errors={e.errors} />, e.status);
    }
  };

  app.post(`${BASE}/agents/:id/roles`, (request, reply) => {
    const moi = requireAgent(request);
    const roles = liste(body(request), 'roles');
    return actionAgent(request, reply, async (id) => {
      const a = await agents.modifierRoles(id, roles, acteurAgent(moi));
      return `Les rôles de ${a.prenom} ${a.nom} sont enregistrés.`;
    }, roles);
  });

  app.post(`${BASE}/agents/:id/desactivation`, (request, reply) => {
    const moi = requireAgent(request);
    return actionAgent(request, reply, async (id) => {
      const a = await agents.desactiver(id, acteurAgent(moi));
      return `${a.prenom} ${a.nom} est désactivé : ses sessions sont fermées et il ne peut plus se connecter.`;
    });
  });

  app.post(`${BASE}/agents/:id/reactivation`, (request, reply) => {
    const moi = requireAgent(request);
    return actionAgent(request, reply, async (id) => {
      const a = await agents.reactiver(id, acteurAgent(moi));
      return `${a.prenom} ${a.nom} est réactivé : il peut de nouveau se connecter.`;
    });
  });

  // API keys of the billing software, through ClesApiService (which journals them).

  const pageCles = async (request: FastifyRequest, reply: FastifyReply, libelle: string, errors: ErrorDetail[], status = 200, flash?: string) => {
    requireAgent(request);
    const jeton = randomUUID();
    request.session.cleApiJeton = jeton;
    return page(request, reply, errors.length > 0 ? 'Erreur : clés d’API' : 'Clés d’API', <ClesApiPage csrf={reply.generateCsrf()} jeton={jeton} cles={await clesApi.lister()} noms={await noms()} libelle={libelle} errors={errors} {...(flash ? { flash } : {})} />, status);
  };

  app.get(`${BASE}/cles-api`, (request, reply) => pageCles(request, reply, '', [], 200, takeFlash(request)));

  app.post(`${BASE}/cles-api`, async (request, reply) => {
    const agent = requireAgent(request);
    const b = body(request);
    const libelle = texte(b, 'libelle');
    const jeton = texte(b, 'jeton');
    if (!request.session.cleApiJeton || jeton !== request.session.cleApiJeton) {
      // The form was already used (a reload of the result page): no second key, and the secret is not shown again.
      request.session.flash = 'Ce formulaire a déjà servi : aucune nouvelle clé n’a été créée. La clé créée n’est plus affichable ; si elle n’a pas été copiée, révoquez-la et créez-en une autre.';
      return reply.redirect(`${BASE}/cles-api`, 303);
    }
    try {
      const { cle, secret } = await clesApi.creer(libelle, acteurAgent(agent));
      request.session.cleApiJeton = undefined;
      // The secret is in this answer only: not in a URL, not in the session, not in a cache.
      reply.header('cache-control', 'no-store');
      return page(request, reply, `Clé créée : ${cle.libelle}`, <CleCreeePage cle={cle} secret={secret} />);
    } catch (error) {
      const e = erreursDe(error);
      if (!e) throw error;
      return pageCles(request, reply, libelle, e.errors, e.status);
    }
  });

  app.post(`${BASE}/cles-api/:id/revocation`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = params(request);
    const cle = (await clesApi.lister()).find((c) => c.id === id);
    await clesApi.revoquer(id, acteurAgent(agent));
    request.session.flash = `La clé « ${cle?.libelle ?? id} » est révoquée : le logiciel qui l’utilisait n’a plus accès à l’API.`;
    return reply.redirect(`${BASE}/cles-api`, 303);
  });
}
