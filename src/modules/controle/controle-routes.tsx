import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { PARAMS_ID, coche, lireChamps, lireParams, pageFormulaire, refusDe, texte, texteBrut, valeursAReafficher } from '../../http/formulaire.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import type { ControleService } from './controle-service.ts';
import { controleIntrouvable } from './controles-periodiques.ts';
import type { ExportSaisi } from './export-journal.ts';
import type { FiltreSaisi } from './lecture-journal.ts';
import { jourFrancais } from './periode.ts';
import { AccueilControle, ControlePage, ControlesPage, ExportsPage, IntegritePage, JournalPage } from './controle-views.tsx';

export interface ControleRoutesDeps {
  readonly commune: CommuneConfig;
  readonly controle: ControleService;
}

/**
 * Criteria typed in a form: a field left empty is no criterion. The service checks each one, a
 * numéro fiscal included, and names the field in its error: read as sent (`texteBrut`).
 */
const criteres = <K extends string>(noms: readonly K[]) =>
  z
    .object(Object.fromEntries(noms.map((k) => [k, texteBrut()])))
    .transform((v) => Object.fromEntries(Object.entries(v).filter(([, x]) => x.trim() !== '')) as Partial<Record<K, string>>);

const FILTRE = criteres(['agent', 'acteurType', 'acteurId', 'action', 'du', 'au', 'famille', 'resultat']);
const EFFACER = z.object({ effacer: coche() });
const EXPORT = criteres(['sujet', 'famille', 'agent', 'du', 'au', 'format']);
const CONTROLE = z.object({ du: texte(), au: texte(), taille: texte() });
// The service refuses observations shaped like a numéro fiscal, on their field: read as sent.
const OBSERVATIONS = z.object({ observations: texteBrut(), clore: coche() });
const VERDICT = z.object({ verdict: texte(), commentaire: texteBrut() });
const PARAMS_VERDICT = z.object({
  id: z.guid(),
  sequence: z
    .string()
    .regex(/^[0-9]{1,12}$/)
    .transform(Number),
});
/** The reason of an acknowledgement: the service checks it (length, one line, nothing shaped like a numéro fiscal). */
const RECONNAISSANCE = z.object({ motif: texte() });
/** The journal's pages: entries before a sequence number. */
const PAGE_JOURNAL = z.object({
  avant: texte(z.string().transform((v) => (/^[0-9]{1,10}$/.test(v) ? Number(v) : undefined))),
  recherche: texte(z.string().transform((v) => (JETON.test(v) ? v : undefined))),
});
/** A search's handle in the address: random, it says nothing of the criteria. */
// Letters only (each half-byte as a to p): a hexadecimal handle would, once in a few hundred
// searches, hold thirteen digits in a row, which every address refuses as shaped like a numéro fiscal.
const JETON = /^[a-p]{16}$/;
export const jetonRecherche = () => Array.from(randomBytes(8), (b) => String.fromCharCode(97 + (b >> 4), 97 + (b & 15))).join('');

declare module 'fastify' {
  interface Session {
    /**
     * The auditor's last search and the export asked for, posted then kept here rather than in the
     * address, which browsers' history and proxies' logs keep; the address carries only the search's
     * random handle. Stored only once checked: nothing shaped like a numéro fiscal. Opening the
     * journal without the handle starts a new search: criteria never carry over to it.
     */
    controleFiltre?: { readonly jeton: string; readonly saisi: FiltreSaisi };
    controleExport?: ExportSaisi;
  }
}

/** Errors a person can fix come back on the form (a criterion that matches nothing too); anything else goes to the one error handler. */
const erreursDe = (error: unknown): ErrorDetail[] => refusDe(error, { kinds: ['invalid', 'not_found'] }).errors;

const titreControle = (detail: { du: string; au: string }) => `Contrôle du ${jourFrancais(detail.du)} au ${jourFrancais(detail.au)}`;

/** The auditor's pages: journal, exports, periodic controls, integrity (policy: AUDITEUR). */
export function registerControleRoutes(app: FastifyInstance, deps: ControleRoutesDeps): void {
  const { commune, controle } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendAgentPage(request, reply, commune, title, body, status);
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
    const { avant, recherche } = lireChamps(PAGE_JOURNAL, request.query);
    const derniere = request.session.controleFiltre;
    const saisi: FiltreSaisi = recherche !== undefined && derniere?.jeton === recherche ? derniere.saisi : {};
    // The journal opened afresh (menu, link) forgets the last search; an older search's handle too.
    if (recherche === undefined || derniere?.jeton !== recherche) request.session.controleFiltre = undefined;
    const perimee = recherche !== undefined && derniere?.jeton !== recherche;
    const agents = await controle.agents();
    try {
      const resultat = await controle.consulterJournal(saisi, avant, acteurAgent(agent));
      return page(
        request,
        reply,
        'Journal d’audit',
        <JournalPage
          csrf={reply.generateCsrf()}
          agents={agents}
          saisi={valeursAReafficher(saisi)}
          errors={[]}
          page={resultat}
          avant={avant}
          recherche={perimee ? undefined : recherche}
          perimee={perimee}
        />,
      );
    } catch (error) {
      // Criteria kept earlier may no longer hold (a family deleted since): shown to be corrected.
      const errors = erreursDe(error);
      return pageFormulaire(
        page,
        request,
        reply,
        'Journal d’audit',
        errors,
        <JournalPage csrf={reply.generateCsrf()} agents={agents} saisi={valeursAReafficher(saisi)} errors={errors} page={null} avant={undefined} />,
      );
    }
  });

  app.post('/agents/controle/journal', async (request, reply) => {
    requireAgent(request);
    if (lireChamps(EFFACER, request.body).effacer) {
      request.session.controleFiltre = undefined;
      return reply.redirect('/agents/controle/journal', 303);
    }
    const saisi: FiltreSaisi = lireChamps(FILTRE, request.body);
    try {
      // Checked before it is kept: a numéro fiscal typed by mistake is refused, never stored.
      await controle.lireFiltre(saisi);
    } catch (error) {
      const errors = erreursDe(error);
      return pageFormulaire(
        page,
        request,
        reply,
        'Journal d’audit',
        errors,
        <JournalPage
          csrf={reply.generateCsrf()}
          agents={await controle.agents()}
          saisi={valeursAReafficher(saisi)}
          errors={errors}
          page={null}
          avant={undefined}
        />,
      );
    }
    const jeton = jetonRecherche();
    request.session.controleFiltre = { jeton, saisi: valeursAReafficher(saisi) };
    return reply.redirect(`/agents/controle/journal?recherche=${jeton}`, 303);
  });

  app.get('/agents/controle/exports', async (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Exports par personne', <ExportsPage csrf={reply.generateCsrf()} agents={await controle.agents()} saisi={{}} errors={[]} />);
  });

  app.post('/agents/controle/exports/fichier', async (request, reply) => {
    requireAgent(request);
    const saisi: ExportSaisi = lireChamps(EXPORT, request.body);
    try {
      request.session.controleExport = await controle.verifierExport(saisi);
      return reply.redirect('/agents/controle/exports/fichier', 303);
    } catch (error) {
      const errors = erreursDe(error);
      return pageFormulaire(
        page,
        request,
        reply,
        'Exports par personne',
        errors,
        <ExportsPage csrf={reply.generateCsrf()} agents={await controle.agents()} saisi={valeursAReafficher(saisi)} errors={errors} />,
      );
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
      return pageFormulaire(
        page,
        request,
        reply,
        'Exports par personne',
        errors,
        <ExportsPage csrf={reply.generateCsrf()} agents={await controle.agents()} saisi={valeursAReafficher(saisi)} errors={errors} />,
      );
    }
  });

  app.get('/agents/controle/controles', async (request, reply) => {
    requireAgent(request);
    return page(
      request,
      reply,
      'Contrôles par échantillon',
      <ControlesPage csrf={reply.generateCsrf()} controles={await controle.listerControles()} saisi={{}} errors={[]} />,
    );
  });

  app.post('/agents/controle/controles', async (request, reply) => {
    const agent = requireAgent(request);
    const saisi = lireChamps(CONTROLE, request.body);
    try {
      const id = await controle.creerControle(saisi, acteurAgent(agent));
      return reply.redirect(`/agents/controle/controles/${id}`, 303);
    } catch (error) {
      const errors = erreursDe(error);
      return pageFormulaire(
        page,
        request,
        reply,
        'Contrôles par échantillon',
        errors,
        <ControlesPage csrf={reply.generateCsrf()} controles={await controle.listerControles()} saisi={valeursAReafficher(saisi)} errors={errors} />,
      );
    }
  });

  app.get('/agents/controle/controles/:id', async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = lireParams(PARAMS_ID, request, controleIntrouvable);
    const detail = await controle.controle(id, acteurAgent(agent));
    const flash = takeFlash(request);
    return page(
      request,
      reply,
      titreControle(detail),
      <ControlePage csrf={reply.generateCsrf()} controle={detail} errors={[]} observations={null} message={flash ?? null} />,
    );
  });

  app.post('/agents/controle/controles/:id/observations', async (request, reply) => {
    const agent = requireAgent(request);
    const { id } = lireParams(PARAMS_ID, request, controleIntrouvable);
    const { observations, clore } = lireChamps(OBSERVATIONS, request.body);
    try {
      await controle.enregistrerObservations(id, observations, clore, acteurAgent(agent));
      request.session.flash = clore ? 'Le contrôle est clos.' : 'Vos observations sont enregistrées.';
      return reply.redirect(`/agents/controle/controles/${id}`, 303);
    } catch (error) {
      // A control that does not exist is not found, whatever was typed.
      const { errors } = refusDe(error);
      const detail = await controle.controle(id, acteurAgent(agent));
      return pageFormulaire(
        page,
        request,
        reply,
        titreControle(detail),
        errors,
        <ControlePage
          csrf={reply.generateCsrf()}
          controle={detail}
          errors={errors}
          observations={valeursAReafficher({ observations }).observations}
          message={null}
        />,
      );
    }
  });

  app.post('/agents/controle/controles/:id/verdicts/:sequence', async (request, reply) => {
    const agent = requireAgent(request);
    const { id, sequence } = lireParams(PARAMS_VERDICT, request, controleIntrouvable);
    const saisi = lireChamps(VERDICT, request.body);
    try {
      await controle.enregistrerVerdict(id, sequence, saisi, acteurAgent(agent));
      request.session.flash = `Verdict enregistré pour l’accès n° ${sequence}.`;
      return reply.redirect(`/agents/controle/controles/${id}#acces-${sequence}`, 303);
    } catch (error) {
      // Each sampled entry has its own form: the fields are named after its sequence number.
      const { errors } = refusDe(error, {
        champ: (d) => (d.path === '' ? d : { ...d, path: d.path === 'verdict' ? `verdict-${sequence}-conforme` : `${d.path}-${sequence}` }),
      });
      const detail = await controle.controle(id, acteurAgent(agent));
      return pageFormulaire(
        page,
        request,
        reply,
        titreControle(detail),
        errors,
        <ControlePage
          csrf={reply.generateCsrf()}
          controle={detail}
          errors={errors}
          observations={null}
          message={null}
          verdictSaisi={{ sequence, ...valeursAReafficher(saisi) }}
        />,
      );
    }
  });

  const integritePage = async (request: FastifyRequest, reply: FastifyReply, reconnaissance: { errors: ErrorDetail[]; motif: string } | null) => {
    const etat = controle.etatIntegrite();
    const par = etat.etat === 'reconnu' ? await controle.nomAgent(etat.reconnaissance.par.id) : null;
    return page(
      request,
      reply,
      reconnaissance ? 'Erreur : intégrité du journal' : 'Intégrité du journal',
      <IntegritePage
        csrf={reply.generateCsrf()}
        derniere={await controle.derniereVerification()}
        integrite={etat}
        reconnuPar={par}
        flash={reconnaissance ? null : (takeFlash(request) ?? null)}
        reconnaissance={reconnaissance ?? { errors: [], motif: '' }}
      />,
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
    const { motif } = lireChamps(RECONNAISSANCE, request.body);
    try {
      await controle.reconnaitreAlteration(motif, acteurAgent(agent));
    } catch (error) {
      // Nothing left to acknowledge (intact, or acknowledged meanwhile): said on the page, not an error page.
      if (error instanceof QuotientError && error.kind === 'conflict') {
        request.session.flash = error.message;
        return reply.redirect('/agents/controle/integrite', 303);
      }
      return integritePage(request, reply, {
        errors: erreursDe(error).map((e) => ({ ...e, path: e.path === 'motif' ? 'motif-reconnaissance' : e.path })),
        motif: valeursAReafficher({ motif }).motif,
      });
    }
    request.session.flash = 'Altération reconnue : les opérations fiscales reprennent. Une nouvelle altération les arrêterait de nouveau.';
    return reply.redirect('/agents/controle/integrite', 303);
  });
}
