import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { PARAMS_ID, lireChamps, lireParams, refusDe, texte } from '../../http/formulaire.ts';
import { estEnvoiFichier } from '../../http/multipart.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { AgentsService } from '../agents/agents-service.ts';
import type { CampagnesService, RapportImport } from './campagnes-service.ts';
import { CampagnePage, CampagnesPage, ImportPage, PAGE_CAMPAGNES } from './campagnes-views.tsx';
import { modeleImport } from './import-csv.ts';

export interface CampagnesRoutesDeps {
  readonly commune: CommuneConfig;
  readonly campagnes: CampagnesService;
  readonly agents: Pick<AgentsService, 'lister'>;
  /** The incident switch `campagnes` when it is on (`CacheIncidents.campagnesArretees`), else null. */
  readonly campagnesArretees: () => Promise<{ motif: string | null; le: string | null } | null>;
  /** Tells this process's campaign worker that a campaign was started or resumed. */
  readonly wake?: () => void;
}

const IMPORT = z.object({ libelle: texte(), action: texte() });
const MOTIF = z.object({ motif: texte() });
const ACTIONS = ['demarrer', 'pause', 'reprendre', 'annuler'] as const;
const PARAMS_ACTION = z.object({ id: z.guid(), action: z.enum(ACTIONS) });
const introuvable = () => new QuotientError('not_found', 'campagne_introuvable', 'Campagne introuvable.');

const FLASH: Record<(typeof ACTIONS)[number], string> = {
  demarrer: 'La campagne est démarrée : les familles sont traitées dans l’ordre du fichier, après les demandes en ligne.',
  pause: 'La campagne est en pause : les éléments en cours se terminent, aucun autre n’est pris.',
  reprendre: 'La campagne reprend là où elle s’était arrêtée.',
  annuler: 'La campagne est annulée : les familles qui n’ont pas été traitées ne le seront pas.',
};

/**
 * The campaigns' pages in the administration (administrators only, by the access policy): the
 * list, the import of a CSV (dry run or import), a campaign's progress and its actions, the report.
 * An upload that is not a CSV is a report of errors, never a 500.
 */
export function registerCampagnesRoutes(app: FastifyInstance, deps: CampagnesRoutesDeps): void {
  const { commune, campagnes } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, content: ComponentChildren, status = 200) =>
    sendAgentPage(request, reply, commune, title, content, status);
  const noms = async () => new Map((await deps.agents.lister()).map((a) => [a.id, `${a.prenom} ${a.nom}`]));

  app.get(PAGE_CAMPAGNES, async (request, reply) => {
    requireAgent(request);
    const [liste, arret] = await Promise.all([campagnes.lister(), deps.campagnesArretees()]);
    return page(request, reply, 'Campagnes', <CampagnesPage campagnes={liste} flash={takeFlash(request)} arret={arret} />);
  });

  app.get(`${PAGE_CAMPAGNES}/modele.csv`, (request, reply) => {
    requireAgent(request);
    return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="modele-campagne.csv"').send(modeleImport());
  });

  app.get(`${PAGE_CAMPAGNES}/import`, (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Importer une liste de familles', <ImportPage csrf={reply.generateCsrf()} libelle="" errors={[]} />);
  });

  app.post(`${PAGE_CAMPAGNES}/import`, async (request, reply) => {
    const agent = requireAgent(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { libelle, action } = lireChamps(IMPORT, body);
    const fichier = body.fichier;
    const reafficher = (errors: ErrorDetail[], rapport?: RapportImport, status = 400) =>
      page(
        request,
        reply,
        'Erreur : Importer une liste de familles',
        <ImportPage csrf={reply.generateCsrf()} libelle={libelle} errors={errors} rapport={rapport} />,
        status,
      );
    if (!estEnvoiFichier(fichier) || fichier.octets.length === 0) return reafficher([{ path: 'fichier', message: 'Choisissez le fichier CSV à importer.' }]);
    try {
      if (action !== 'importer') {
        const rapport = await campagnes.essayerImport(fichier.octets, fichier.nom, acteurAgent(agent));
        const titre = rapport.erreurs.length === 0 ? 'Vérification du fichier' : 'Erreur : Vérification du fichier';
        return page(request, reply, titre, <ImportPage csrf={reply.generateCsrf()} libelle={libelle} errors={[]} rapport={rapport} />, 200);
      }
      const { rapport, campagne } = await campagnes.importer(fichier.octets, fichier.nom, libelle, { type: 'agent', id: agent.id });
      if (!campagne) {
        const message =
          rapport.erreurs.length > 0
            ? 'Le fichier contient des erreurs : rien n’a été importé. Corrigez-les et envoyez-le de nouveau.'
            : 'Le fichier ne contient aucune famille.';
        return reafficher([{ path: 'fichier', message }], rapport);
      }
      request.session.flash = `La campagne ${campagne.reference} est créée avec ${rapport.valides} famille(s). Vérifiez-la, puis démarrez-la.`;
      return reply.redirect(`${PAGE_CAMPAGNES}/${campagne.id}`, 303);
    } catch (error) {
      const refus = refusDe(error, {
        kinds: ['invalid', 'forbidden'],
        champ: (d) => ({ path: d.path === 'libelle' ? 'libelle' : 'fichier', message: d.message }),
      });
      return reafficher(refus.errors, undefined, refus.status === 400 ? 400 : refus.status);
    }
  });

  app.get(`${PAGE_CAMPAGNES}/:id`, async (request, reply) => {
    requireAgent(request);
    const { id } = lireParams(PARAMS_ID, request, introuvable);
    const [campagne, arret, n] = await Promise.all([campagnes.etat(id), deps.campagnesArretees(), noms()]);
    // Live progress without script: the browser asks again while the campaign runs.
    if (campagne.statut === 'en_cours') reply.header('refresh', '15');
    return page(
      request,
      reply,
      `Campagne ${campagne.reference}`,
      <CampagnePage csrf={reply.generateCsrf()} campagne={campagne} noms={n} flash={takeFlash(request)} arret={arret} errors={[]} />,
    );
  });

  app.post(`${PAGE_CAMPAGNES}/:id/:action`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id, action } = lireParams(PARAMS_ACTION, request, introuvable);
    const { motif } = lireChamps(MOTIF, request.body);
    try {
      await campagnes.agir(id, action, { type: 'agent', id: agent.id }, motif);
    } catch (error) {
      const refus = refusDe(error, { kinds: ['invalid', 'conflict'], champ: (d) => ({ path: d.path === '' ? '' : `motif-${action}`, message: d.message }) });
      const [campagne, arret, n] = await Promise.all([campagnes.etat(id), deps.campagnesArretees(), noms()]);
      return page(
        request,
        reply,
        `Erreur : Campagne ${campagne.reference}`,
        <CampagnePage csrf={reply.generateCsrf()} campagne={campagne} noms={n} arret={arret} errors={refus.errors} />,
        refus.status,
      );
    }
    if (action === 'demarrer' || action === 'reprendre') deps.wake?.();
    request.session.flash = FLASH[action];
    return reply.redirect(`${PAGE_CAMPAGNES}/${id}`, 303);
  });

  app.get(`${PAGE_CAMPAGNES}/:id/rapport.csv`, async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = lireParams(PARAMS_ID, request, introuvable);
    const { nom, lignes } = await campagnes.rapport(id, acteurAgent(agent));
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${nom}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(lignes));
  });
}
