import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { isQuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { sansNumeroFiscal } from '../../domain/numero-fiscal.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import type { ControleService, ExportSaisi, FiltreSaisi } from './controle-service.ts';
import { jourFrancais } from './periode.ts';
import { AccueilControle, ControlePage, ControlesPage, ExportsPage, IntegritePage, JournalPage } from './controle-views.tsx';

export interface ControleRoutesDeps {
  readonly commune: CommuneConfig;
  readonly controle: ControleService;
}

type Champs = Record<string, string | string[] | undefined>;
const champ = (source: unknown, name: string): string | undefined => {
  const v = (source as Champs | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
};

const CHAMPS_FILTRE = ['agent', 'acteurType', 'acteurId', 'action', 'du', 'au', 'famille', 'resultat'] as const;
const CHAMPS_EXPORT = ['sujet', 'famille', 'agent', 'du', 'au', 'format'] as const;

declare module 'fastify' {
  interface Session {
    /**
     * The auditor's journal criteria and the export asked for, posted then kept here rather than in
     * the address, which browsers' history and proxies' logs keep. Stored only once checked: nothing
     * shaped like a numéro fiscal.
     */
    controleFiltre?: FiltreSaisi;
    controleExport?: ExportSaisi;
  }
}

/** The fields of a posted form, those typed only. */
const champs = <K extends string>(body: unknown, noms: readonly K[]): Partial<Record<K, string>> =>
  Object.fromEntries(noms.map((k) => [k, champ(body, k)]).filter(([, v]) => v !== undefined && v.trim() !== '')) as Partial<Record<K, string>>;

/** Errors a person can fix come back on the form; anything else goes to the one error handler. */
function erreursDe(error: unknown): ErrorDetail[] {
  if (isQuotientError(error) && (error.kind === 'invalid' || error.kind === 'not_found') && error.details.length > 0) return [...error.details];
  throw error;
}

/** The auditor's pages: journal, exports, periodic controls, integrity (policy: AUDITEUR). */
export function registerControleRoutes(app: FastifyInstance, deps: ControleRoutesDeps): void {
  const { commune, controle } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) => sendAgentPage(request, reply, commune, title, body, status);
  // What an auditor reads is never cached (shared computers, back button).
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/agents/controle') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  app.get('/agents/controle', async (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Contrôle', <AccueilControle derniere={await controle.derniereVerification()} />);
  });

  app.get('/agents/controle/journal', async (request, reply) => {
    const agent = requireAgent(request);
    const saisi: FiltreSaisi = request.session.controleFiltre ?? {};
    const avantTexte = champ(request.query, 'avant');
    const avant = avantTexte !== undefined && /^[0-9]{1,10}$/.test(avantTexte) ? Number(avantTexte) : undefined;
    const agents = await controle.agents();
    try {
      const resultat = await controle.consulterJournal(saisi, avant, acteurAgent(agent));
      return page(request, reply, 'Journal d’audit', <JournalPage csrf={reply.generateCsrf()} agents={agents} saisi={sansNumeroFiscal(saisi)} errors={[]} page={resultat} avant={avant} />);
    } catch (error) {
      // Criteria kept earlier may no longer hold (a family deleted since): shown to be corrected.
      const errors = erreursDe(error);
      return page(request, reply, 'Erreur : journal d’audit', <JournalPage csrf={reply.generateCsrf()} agents={agents} saisi={sansNumeroFiscal(saisi)} errors={errors} page={null} avant={undefined} />, 400);
    }
  });

  app.post('/agents/controle/journal', async (request, reply) => {
    requireAgent(request);
    if (champ(request.body, 'effacer') === 'oui') {
      request.session.controleFiltre = undefined;
      return reply.redirect('/agents/controle/journal', 303);
    }
    const saisi: FiltreSaisi = champs(request.body, CHAMPS_FILTRE);
    try {
      // Checked before it is kept: a numéro fiscal typed by mistake is refused, never stored.
      await controle.lireFiltre(saisi);
    } catch (error) {
      const errors = erreursDe(error);
      return page(request, reply, 'Erreur : journal d’audit', <JournalPage csrf={reply.generateCsrf()} agents={await controle.agents()} saisi={sansNumeroFiscal(saisi)} errors={errors} page={null} avant={undefined} />, 400);
    }
    request.session.controleFiltre = sansNumeroFiscal(saisi);
    return reply.redirect('/agents/controle/journal', 303);
  });

  app.get('/agents/controle/exports', async (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Exports par personne', <ExportsPage csrf={reply.generateCsrf()} agents={await controle.agents()} saisi={{}} errors={[]} />);
  });

  app.post('/agents/controle/exports/fichier', async (request, reply) => {
    requireAgent(request);
    const saisi: ExportSaisi = champs(request.body, CHAMPS_EXPORT);
    try {
      request.session.controleExport = await controle.verifierExport(saisi);
      return reply.redirect('/agents/controle/exports/fichier', 303);
    } catch (error) {
      const errors = erreursDe(error);
      return page(request, reply, 'Erreur : exports par personne', <ExportsPage csrf={reply.generateCsrf()} agents={await controle.agents()} saisi={sansNumeroFiscal(saisi)} errors={errors} />, 400);
    }
  });

  app.get('/agents/controle/exports/fichier', async (request, reply) => {
    const agent = requireAgent(request);
    const saisi = request.session.controleExport;
    if (!saisi) return reply.redirect('/agents/controle/exports', 303);
    // One download per form sent: the request does not linger in the session.
    request.session.controleExport = undefined;
    try {
      const fichier = await controle.exporter(saisi, acteurAgent(agent));
      return reply
        .header('content-type', fichier.type)
        .header('content-disposition', `attachment; filename="${fichier.nom}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(fichier.corps));
    } catch (error) {
      const errors = erreursDe(error);
      return page(request, reply, 'Erreur : exports par personne', <ExportsPage csrf={reply.generateCsrf()} agents={await controle.agents()} saisi={sansNumeroFiscal(saisi)} errors={errors} />, 400);
    }
  });

  app.get('/agents/controle/controles', async (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Contrôles par échantillon', <ControlesPage csrf={reply.generateCsrf()} controles={await controle.listerControles()} saisi={{}} errors={[]} />);
  });

  app.post('/agents/controle/controles', async (request, reply) => {
    const agent = requireAgent(request);
    const saisi = { du: champ(request.body, 'du') ?? '', au: champ(request.body, 'au') ?? '', taille: champ(request.body, 'taille') ?? '' };
    try {
      const id = await controle.creerControle(saisi, acteurAgent(agent));
      return reply.redirect(`/agents/controle/controles/${id}`, 303);
    } catch (error) {
      const errors = erreursDe(error);
      return page(request, reply, 'Erreur : contrôles par échantillon', <ControlesPage csrf={reply.generateCsrf()} controles={await controle.listerControles()} saisi={sansNumeroFiscal(saisi)} errors={errors} />, 400);
    }
  });

  app.get('/agents/controle/controles/:id', async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = request.params as { id: string };
    const detail = await controle.controle(id, acteurAgent(agent));
    const flash = takeFlash(request);
    return page(request, reply, `Contrôle du ${jourFrancais(detail.du)} au ${jourFrancais(detail.au)}`, <ControlePage csrf={reply.generateCsrf()} controle={detail} errors={[]} observations={null} message={flash ?? null} />);
  });

  app.post('/agents/controle/controles/:id/observations', async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = request.params as { id: string };
    const observations = champ(request.body, 'observations') ?? '';
    const clore = champ(request.body, 'clore') === 'oui';
    try {
      await controle.enregistrerObservations(id, observations, clore, acteurAgent(agent));
      request.session.flash = clore ? 'Le contrôle est clos.' : 'Vos observations sont enregistrées.';
      return reply.redirect(`/agents/controle/controles/${id}`, 303);
    } catch (error) {
      if (isQuotientError(error) && error.kind === 'not_found') throw error;
      const errors = erreursDe(error);
      const detail = await controle.controle(id, acteurAgent(agent));
      return page(request, reply, 'Erreur : contrôle par échantillon', <ControlePage csrf={reply.generateCsrf()} controle={detail} errors={errors} observations={sansNumeroFiscal({ observations }).observations} message={null} />, 400);
    }
  });

  const integritePage = async (request: FastifyRequest, reply: FastifyReply, reconnaissance: { errors: ErrorDetail[]; motif: string } | null) => {
    const etat = controle.etatIntegrite();
    const par = etat.etat === 'reconnu' ? await controle.nomAgent(etat.reconnaissance.par.id) : null;
    return page(
      request,
      reply,
      reconnaissance ? 'Erreur : intégrité du journal' : 'Intégrité du journal',
      <IntegritePage csrf={reply.generateCsrf()} derniere={await controle.derniereVerification()} integrite={etat} reconnuPar={par} flash={reconnaissance ? null : (takeFlash(request) ?? null)} reconnaissance={reconnaissance ?? { errors: [], motif: '' }} />,
      reconnaissance ? 400 : 200,
    );
  };

  app.get('/agents/controle/integrite', async (request, reply) => {
    requireAgent(request);
    return integritePage(request, reply, null);
  });

  app.post('/agents/controle/integrite', async (request, reply) => {
    const agent = requireAgent(request);
    await controle.verifier(acteurAgent(agent));
    return reply.redirect('/agents/controle/integrite', 303);
  });

  app.post('/agents/controle/integrite/reconnaissance', async (request, reply) => {
    const agent = requireAgent(request);
    const motif = champ(request.body, 'motif') ?? '';
    try {
      await controle.reconnaitreAlteration(motif, acteurAgent(agent));
    } catch (error) {
      // Nothing left to acknowledge (intact, or acknowledged meanwhile): said on the page, not an error page.
      if (isQuotientError(error) && error.kind === 'conflict') {
        request.session.flash = error.message;
        return reply.redirect('/agents/controle/integrite', 303);
      }
      return integritePage(request, reply, { errors: erreursDe(error).map((e) => ({ ...e, path: e.path === 'motif' ? 'motif-reconnaissance' : e.path })), motif: sansNumeroFiscal({ motif }).motif });
    }
    request.session.flash = 'Altération reconnue : les opérations fiscales reprennent. Une nouvelle altération les arrêterait de nouveau.';
    return reply.redirect('/agents/controle/integrite', 303);
  });
}
