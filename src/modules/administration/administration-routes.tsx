import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { formatDateCourte } from '../../domain/dates.ts';
import { isQuotientError, QuotientError, type ErrorDetail, type ErrorKind } from '../../domain/errors.ts';
import { formatEuros } from '../../domain/money.ts';
import { CODE_POLITIQUE_NUMERO_FISCAL } from '../../domain/politique-tarifaire.ts';
import {
  PARAMS_ID,
  coche,
  liste,
  lireChamps,
  lireParams,
  pageFormulaire,
  refusDe,
  texte,
  texteBrut,
  texteOptionnel,
  valeursAReafficher,
} from '../../http/formulaire.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import type { AgentsService } from '../agents/agents-service.ts';
import { cleIntrouvable, type ClesApiService } from '../api/cles-api-service.ts';
import { AccueilPage, AgentPage, AgentsPage, ClesApiPage, CleCreeePage, HabilitationPage, NouvelAgentPage } from './administration-views.tsx';
import { calculerApercu, FOYERS_FISCAUX_FICTIFS, QUOTIENTS_PAR_DEFAUT, type CasTest } from './apercu.ts';
import { comparerPolitiques, diffLignes } from './politique-diff.ts';
import { ID_CONFIGURATION, versionIntrouvable, type PolitiquesService } from './politiques-service.ts';
import { ApercuPage, ComparaisonPage, ConfirmationActivationPage, DepotPage, PolitiquesPage, VersionPage, type Noms } from './politiques-views.tsx';
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

/** The forms and query strings of the administration; what they say is checked by the services. */
// A policy's YAML and a list of quotients are documents checked by their own parsers; a YAML list of amounts (`- 100` per line) would read as digits with separators.
const DEPOT = z.object({ libelle: texte(), texte: texteBrut() });
const COMPARAISON = z.object({ de: texteOptionnel(), a: texteOptionnel() });
const APERCU = z.object({ quotients: texteBrut() });
/** The date of effect; `confirme` once the confirmation step was shown. */
const ACTIVATION = z.object({ effet: texte(), confirme: coche() });
const AGENT = z.object({ email: texte(), prenom: texte(), nom: texte(), roles: liste() });
const ROLES = z.object({ roles: liste() });
const CLE_API = z.object({ libelle: texte(), jeton: texteBrut() });
/** A version of the policy: the configuration file's, or one deposited. */
const PARAMS_VERSION = z.object({ id: z.union([z.literal(ID_CONFIGURATION), z.guid()]) });

const agentIntrouvable = () => new QuotientError('not_found', 'agent_introuvable', 'Agent introuvable.');

/** What a person can act on: bad input, or a state that forbids it (409). */
const REFUS: readonly ErrorKind[] = ['invalid', 'conflict'];

/**
 * The administration of the back-office (issue 7), for administrators only (the access policy):
 * tariff policy versions, the habilitation as configured, agents and roles, API keys. No page
 * here reads a family's data.
 */
export function registerAdministrationRoutes(app: FastifyInstance, deps: AdministrationDeps): void {
  const { commune, politiques, agents, clesApi } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, content: ComponentChildren, status = 200) =>
    sendAgentPage(request, reply, commune, title, content, status);
  const noms = async (): Promise<Noms> => new Map((await agents.lister()).map((a) => [a.id, `${a.prenom} ${a.nom}`]));

  app.get(BASE, async (request, reply) => {
    requireAgent(request);
    const [liste, cles] = await Promise.all([agents.lister(), clesApi.lister()]);
    await politiques.rafraichir();
    const enVigueur = politiques.versionEnVigueur(politiques.aujourdhui());
    return page(
      request,
      reply,
      'Administration',
      <AccueilPage enVigueur={enVigueur} agentsActifs={liste.filter((a) => a.actif).length} clesActives={cles.filter((c) => c.revoqueeLe === null).length} />,
    );
  });

  // Tariff policy versions.

  app.get(`${BASE}/politiques`, async (request, reply) => {
    requireAgent(request);
    const versions = await politiques.lister();
    const enVigueur = politiques.versionEnVigueur(politiques.aujourdhui());
    return page(
      request,
      reply,
      'Politique tarifaire',
      <PolitiquesPage versions={versions} enVigueur={enVigueur} noms={await noms()} flash={takeFlash(request)} />,
    );
  });

  app.get(`${BASE}/politiques/nouvelle`, (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Déposer une nouvelle version', <DepotPage csrf={reply.generateCsrf()} libelle="" contenu="" errors={[]} />);
  });

  app.post(`${BASE}/politiques`, async (request, reply) => {
    const agent = requireAgent(request);
    const { libelle, texte: contenu } = lireChamps(DEPOT, request.body);
    try {
      const v = await politiques.deposer({ libelle, contenu }, acteurAgent(agent), request.id);
      request.session.flash = `La version « ${v.libelle} » est déposée. Essayez-la et comparez-la, puis activez-la.`;
      return reply.redirect(`${BASE}/politiques/${v.id}`, 303);
    } catch (error) {
      const e = refusDe(error, { kinds: REFUS });
      // The policy is a document its parser checks, given back as pasted to the administrator who pasted it (a YAML grid of amounts reads as digits with separators),
      // unless its parser found a text shaped like a numéro fiscal in it: then it is never shown back (invariant 1).
      const numero = isQuotientError(error) && error.code === CODE_POLITIQUE_NUMERO_FISCAL;
      const saisie = { libelle: valeursAReafficher({ libelle }).libelle, contenu: numero ? '' : contenu };
      return pageFormulaire(
        page,
        request,
        reply,
        'Déposer une nouvelle version',
        e.errors,
        <DepotPage csrf={reply.generateCsrf()} libelle={saisie.libelle} contenu={saisie.contenu} errors={e.errors} message={e.message} />,
        e.status,
      );
    }
  });

  app.get(`${BASE}/politiques/comparaison`, async (request, reply) => {
    requireAgent(request);
    const versions = await politiques.lister();
    const q = lireChamps(COMPARAISON, request.query);
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
    const v = await politiques.version(lireParams(PARAMS_VERSION, request, versionIntrouvable).id);
    const aujourdhui = politiques.aujourdhui();
    const proposee = v.politique && v.politique.validite.du > aujourdhui ? v.politique.validite.du : aujourdhui;
    return page(
      request,
      reply,
      v.libelle,
      <VersionPage
        csrf={reply.generateCsrf()}
        version={v}
        enVigueur={politiques.versionEnVigueur(aujourdhui)}
        noms={await noms()}
        aujourdhui={aujourdhui}
        effet={formatDateCourte(proposee)}
        errors={[]}
        flash={takeFlash(request)}
      />,
    );
  });

  app.get(`${BASE}/politiques/:id/apercu`, async (request, reply) => {
    requireAgent(request);
    const v = await politiques.version(lireParams(PARAMS_VERSION, request, versionIntrouvable).id);
    const enVigueur = politiques.versionEnVigueur(politiques.aujourdhui());
    const saisie = lireChamps(APERCU, request.query).quotients.slice(0, 500);
    const { cents, erreurs } = parseQuotients(saisie);
    const choisis = cents.length > 0 ? cents : QUOTIENTS_PAR_DEFAUT;
    const cas: CasTest[] = [
      ...choisis.map((c): CasTest => ({ type: 'quotient', libelle: `Quotient de ${formatEuros(c, { wholeEuros: true })}`, cents: c })),
      ...FOYERS_FISCAUX_FICTIFS,
    ];
    const activites = v.politique && enVigueur.politique ? calculerApercu(enVigueur.politique, v.politique, cas) : [];
    return page(
      request,
      reply,
      `Aperçu : ${v.libelle}`,
      <ApercuPage version={v} enVigueur={enVigueur} activites={activites} quotients={saisie} erreurs={erreurs} />,
    );
  });

  app.post(`${BASE}/politiques/:id/activation`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = lireParams(PARAMS_VERSION, request, versionIntrouvable);
    const { effet, confirme } = lireChamps(ACTIVATION, request.body);
    try {
      if (!confirme) {
        // First the confirmation step: the date checked, what will happen said; nothing changes yet.
        const verifiee = await politiques.verifierActivation(id, effet);
        return page(
          request,
          reply,
          `Confirmer l’activation : ${verifiee.version.libelle}`,
          <ConfirmationActivationPage
            csrf={reply.generateCsrf()}
            version={verifiee.version}
            enVigueur={politiques.versionEnVigueur(politiques.aujourdhui())}
            effet={verifiee.effet}
            saisie={effet}
            statut={verifiee.statut === 'active' ? 'active' : 'programmee'}
          />,
        );
      }
      const v = await politiques.activer(id, effet, acteurAgent(agent), request.id);
      request.session.flash =
        v.statut === 'active'
          ? `La version « ${v.libelle} » est en vigueur : les nouvelles demandes sont calculées avec elle.`
          : `La version « ${v.libelle} » est programmée : elle s’appliquera aux demandes faites à partir du ${formatDateCourte(v.effetLe ?? '')}.`;
      return reply.redirect(`${BASE}/politiques/${id}`, 303);
    } catch (error) {
      const e = refusDe(error, { kinds: REFUS });
      const v = await politiques.version(id);
      const aujourdhui = politiques.aujourdhui();
      return pageFormulaire(
        page,
        request,
        reply,
        v.libelle,
        e.errors,
        <VersionPage
          csrf={reply.generateCsrf()}
          version={v}
          enVigueur={politiques.versionEnVigueur(aujourdhui)}
          noms={await noms()}
          aujourdhui={aujourdhui}
          effet={valeursAReafficher({ effet }).effet}
          errors={e.errors}
        />,
        e.status,
      );
    }
  });

  app.post(`${BASE}/politiques/:id/abandon`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = lireParams(PARAMS_VERSION, request, versionIntrouvable);
    if (id === ID_CONFIGURATION) return reply.redirect(`${BASE}/politiques/${id}`, 303);
    try {
      const v = await politiques.abandonner(id, acteurAgent(agent), request.id);
      request.session.flash = `La version « ${v.libelle} » est abandonnée : elle ne sera jamais appliquée.`;
    } catch (error) {
      const e = refusDe(error, { kinds: REFUS });
      request.session.flash = undefined;
      const v = await politiques.version(id);
      const aujourdhui = politiques.aujourdhui();
      return pageFormulaire(
        page,
        request,
        reply,
        v.libelle,
        e.errors,
        <VersionPage
          csrf={reply.generateCsrf()}
          version={v}
          enVigueur={politiques.versionEnVigueur(aujourdhui)}
          noms={await noms()}
          aujourdhui={aujourdhui}
          effet={formatDateCourte(aujourdhui)}
          errors={e.errors}
        />,
        e.status,
      );
    }
    return reply.redirect(`${BASE}/politiques/${id}`, 303);
  });

  // The habilitation, as the configuration file gives it.

  app.get(`${BASE}/habilitation`, async (request, reply) => {
    requireAgent(request);
    await politiques.rafraichir();
    return page(
      request,
      reply,
      'Habilitation',
      <HabilitationPage
        habilitation={commune.habilitation}
        conservation={commune.conservation}
        enVigueur={politiques.versionEnVigueur(politiques.aujourdhui())}
      />,
    );
  });

  // Agents and roles, through AgentsService (which journals every change).

  app.get(`${BASE}/agents`, async (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Agents et rôles', <AgentsPage agents={await agents.lister()} flash={takeFlash(request)} />);
  });

  app.get(`${BASE}/agents/nouveau`, (request, reply) => {
    requireAgent(request);
    return page(
      request,
      reply,
      'Inscrire un agent',
      <NouvelAgentPage csrf={reply.generateCsrf()} valeurs={{ email: '', prenom: '', nom: '', roles: [] }} errors={[]} />,
    );
  });

  app.post(`${BASE}/agents`, async (request, reply) => {
    const agent = requireAgent(request);
    const valeurs = lireChamps(AGENT, request.body);
    try {
      const cree = await agents.creer(valeurs, acteurAgent(agent));
      request.session.flash = `${cree.prenom} ${cree.nom} est inscrit : il peut se connecter avec son compte professionnel ${cree.email}.`;
      return reply.redirect(`${BASE}/agents`, 303);
    } catch (error) {
      const e = refusDe(error, { kinds: REFUS });
      return pageFormulaire(
        page,
        request,
        reply,
        'Inscrire un agent',
        e.errors,
        <NouvelAgentPage csrf={reply.generateCsrf()} valeurs={valeursAReafficher(valeurs)} errors={e.errors} />,
        e.status,
      );
    }
  });

  const exigerAgent = async (id: string) => {
    const a = await agents.agent(id);
    if (!a) throw agentIntrouvable();
    return a;
  };
  const agentDe = (request: FastifyRequest) => lireParams(PARAMS_ID, request, agentIntrouvable).id;

  app.get(`${BASE}/agents/:id`, async (request, reply) => {
    const moi = requireAgent(request);
    const a = await exigerAgent(agentDe(request));
    return page(
      request,
      reply,
      `${a.prenom} ${a.nom}`,
      <AgentPage csrf={reply.generateCsrf()} agent={a} soiMeme={a.id === moi.id} roles={a.roles} errors={[]} flash={takeFlash(request)} />,
    );
  });

  /** Runs an action on an agent: success → back to their page with a message; refusal → the page with the reason. */
  const actionAgent = async (request: FastifyRequest, reply: FastifyReply, action: (id: string) => Promise<string>, rolesSaisis?: string[]) => {
    const moi = requireAgent(request);
    const id = agentDe(request);
    try {
      request.session.flash = await action(id);
      return reply.redirect(`${BASE}/agents/${id}`, 303);
    } catch (error) {
      const e = refusDe(error, { kinds: REFUS });
      const a = await exigerAgent(id);
      return pageFormulaire(
        page,
        request,
        reply,
        `${a.prenom} ${a.nom}`,
        e.errors,
        <AgentPage csrf={reply.generateCsrf()} agent={a} soiMeme={a.id === moi.id} roles={rolesSaisis ?? a.roles} errors={e.errors} />,
        e.status,
      );
    }
  };

  app.post(`${BASE}/agents/:id/roles`, (request, reply) => {
    const moi = requireAgent(request);
    const { roles } = lireChamps(ROLES, request.body);
    return actionAgent(
      request,
      reply,
      async (id) => {
        const a = await agents.modifierRoles(id, roles, acteurAgent(moi));
        return `Les rôles de ${a.prenom} ${a.nom} sont enregistrés.`;
      },
      roles,
    );
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

  const pageCles = async (request: FastifyRequest, reply: FastifyReply, libelle: string, errors: ErrorDetail[], status?: number, flash?: string) => {
    requireAgent(request);
    const jeton = randomUUID();
    request.session.cleApiJeton = jeton;
    return pageFormulaire(
      page,
      request,
      reply,
      'Clés d’API',
      errors,
      <ClesApiPage
        csrf={reply.generateCsrf()}
        jeton={jeton}
        cles={await clesApi.lister()}
        noms={await noms()}
        libelle={libelle}
        errors={errors}
        {...(flash ? { flash } : {})}
      />,
      status,
    );
  };

  app.get(`${BASE}/cles-api`, (request, reply) => pageCles(request, reply, '', [], undefined, takeFlash(request)));

  app.post(`${BASE}/cles-api`, async (request, reply) => {
    const agent = requireAgent(request);
    const { libelle, jeton } = lireChamps(CLE_API, request.body);
    if (!request.session.cleApiJeton || jeton !== request.session.cleApiJeton) {
      // The form was already used (a reload of the result page): no second key, and the secret is not shown again.
      request.session.flash =
        'Ce formulaire a déjà servi : aucune nouvelle clé n’a été créée. La clé créée n’est plus affichable ; si elle n’a pas été copiée, révoquez-la et créez-en une autre.';
      return reply.redirect(`${BASE}/cles-api`, 303);
    }
    try {
      const { cle, secret } = await clesApi.creer(libelle, acteurAgent(agent));
      request.session.cleApiJeton = undefined;
      // The secret is in this answer only: not in a URL, not in the session, not in a cache.
      reply.header('cache-control', 'no-store');
      return page(request, reply, `Clé créée : ${cle.libelle}`, <CleCreeePage cle={cle} secret={secret} />);
    } catch (error) {
      const e = refusDe(error, { kinds: REFUS });
      return pageCles(request, reply, valeursAReafficher({ libelle }).libelle, e.errors, e.status);
    }
  });

  app.post(`${BASE}/cles-api/:id/revocation`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = lireParams(PARAMS_ID, request, cleIntrouvable);
    const cle = (await clesApi.lister()).find((c) => c.id === id);
    await clesApi.revoquer(id, acteurAgent(agent));
    request.session.flash = `La clé « ${cle?.libelle ?? id} » est révoquée : le logiciel qui l’utilisait n’a plus accès à l’API.`;
    return reply.redirect(`${BASE}/cles-api`, 303);
  });
}
