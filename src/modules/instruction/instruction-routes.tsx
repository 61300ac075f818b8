import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { lireMontantQf } from '../../domain/decision-instructeur.ts';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { PARAMS_ID, lireChamps, lireParams, pageFormulaire, refusDe, texte, texteBrut, valeursAReafficher } from '../../http/formulaire.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { TYPES_MIME, EXTENSIONS } from '../../domain/avis-depose.ts';
import type { AvisService } from '../avis/avis-service.ts';
import type { DecisionsService } from './decisions-service.ts';
import {
  TYPES_DOSSIER,
  lireMotifConsultation,
  type CodeMotifConsultation,
  type InstructionService,
  type MotifConsultation,
  type TypeDossier,
} from './instruction-service.ts';
import {
  BASE,
  CHAMPS_DECISION,
  DossierContestationPage,
  DossierDemandePage,
  FilePage,
  ResumeContestationPage,
  ResumeDemandePage,
  type ValeursConsultation,
  type ValeursDecision,
  type ValeursReponse,
} from './instruction-views.tsx';

/**
 * The reason given for the case being viewed, held in the agent's session: each display of the
 * case writes one journal entry with it (the first view, a reload, a form sent back with errors),
 * and a decision clears it. Only the reason's words are kept, never a fiscal value.
 */
interface ConsultationOuverte {
  readonly cible: 'demande' | 'contestation';
  readonly id: string;
  readonly code: CodeMotifConsultation;
  readonly texte: string;
  readonly le: number;
}

declare module 'fastify' {
  interface Session {
    instruction?: ConsultationOuverte;
  }
}

/** A reason given stands for the work on one case, not for the whole day. */
const CONSULTATION_MAX_MS = 30 * 60_000;

export interface InstructionRoutesDeps {
  readonly commune: CommuneConfig;
  readonly instruction: InstructionService;
  readonly decisions: DecisionsService;
  /** The avis families uploaded (issue 15): listed on their case, opened only with the case open. */
  readonly avis?: AvisService;
  /** The policy in force today (a manual QF is per month or per year as it says). */
  readonly politique: () => PolitiqueTarifaire;
  readonly clock?: () => number;
}

/** The queue's filter, and the forms of a case: what they say is checked by the services. */
const FILE = z.object({ type: texte(z.string().transform((v) => ((TYPES_DOSSIER as readonly string[]).includes(v) ? (v as TypeDossier) : undefined))) });
// Read as typed: the instructor's texts are checked with the others by the service (`decision-instructeur`,
// `instruction-service`), the numéro fiscal's shape by the same `ressembleANumeroFiscal`, each message on its field.
const CONSULTATION = z.object({ motif: texte(), precision: texteBrut() });
const DECISION = z.object({ decision: texte(), justification: texteBrut(), qf: texteBrut(), piece: texteBrut() });
const REPONSE = z.object({ reponse: texte(), suite: texte(), justification: texteBrut(), qf: texteBrut(), piece: texteBrut() });

const introuvable = () => new QuotientError('not_found', 'dossier_introuvable', 'Dossier introuvable.');

/** Parameters of the routes are checked before any query: an unknown shape is simply not found. */
const idDe = (request: FastifyRequest): string => lireParams(PARAMS_ID, request, introuvable).id;

/**
 * The service's refusal of a decision, its messages placed on the form's fields (a message of no
 * field on the decision's choice); the amount's own message (from the parser) replaces the
 * service's generic one when the amount could not be read.
 */
function erreursDeSaisie(error: unknown, champs: Record<string, string>, montant: ReturnType<typeof lireMontantQf> | undefined): ErrorDetail[] {
  return refusDe(error, {
    champ: (e) => {
      const path = e.path === '' ? 'decision' : e.path;
      return { path: champs[path] ?? path, message: path === 'qf' && montant && !montant.ok ? montant.message : e.message };
    },
  }).errors;
}

/** The instructor's review section: the queue, the cases (each view journaled with its reason), decisions and answers. */
export function registerInstructionRoutes(app: FastifyInstance, deps: InstructionRoutesDeps): void {
  const { commune, instruction, decisions } = deps;
  const now = deps.clock ?? Date.now;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendAgentPage(request, reply, commune, title, body, status);
  const periode = () => (deps.politique().quotient.periode === 'annuelle' ? 'par an' : 'par mois');

  const consultationDe = (request: FastifyRequest, cible: ConsultationOuverte['cible'], id: string): MotifConsultation | undefined => {
    const c = request.session.instruction;
    if (!c || c.cible !== cible || c.id !== id || now() - c.le > CONSULTATION_MAX_MS) return undefined;
    return { code: c.code, texte: c.texte };
  };

  app.get(BASE, async (request, reply) => {
    const agent = requireAgent(request);
    const { type } = lireChamps(FILE, request.query);
    const elements = await instruction.consulterFile(acteurAgent(agent), type);
    return page(request, reply, 'Instruction', <FilePage elements={elements} type={type} flash={takeFlash(request)} maintenant={now()} />);
  });

  // -----------------------------------------------------------------------------------------
  // A request

  async function pageDemande(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    form: { consultation?: { values: ValeursConsultation; errors: ErrorDetail[] }; decision?: { values: ValeursDecision; errors: ErrorDetail[] } } = {},
  ) {
    const agent = requireAgent(request);
    const motif = form.consultation ? undefined : consultationDe(request, 'demande', id);
    if (!motif) {
      const d = await instruction.apercu(id, acteurAgent(agent));
      const errors = form.consultation?.errors ?? [];
      return pageFormulaire(
        page,
        request,
        reply,
        `Demande ${d.reference}`,
        errors,
        <ResumeDemandePage d={d} csrf={reply.generateCsrf()} flash={takeFlash(request)} values={form.consultation?.values ?? null} errors={errors} />,
      );
    }
    const d = await instruction.dossier(id, acteurAgent(agent), motif);
    const errors = form.decision?.errors ?? [];
    return pageFormulaire(
      page,
      request,
      reply,
      `Dossier de la demande ${d.reference}`,
      errors,
      <DossierDemandePage
        d={d}
        csrf={reply.generateCsrf()}
        motif={motif.texte}
        values={form.decision?.values ?? null}
        errors={errors}
        periode={periode()}
        avis={(await deps.avis?.enCours({ demandeId: id })) ?? []}
      />,
    );
  }

  app.get(`${BASE}/demandes/:id`, (request, reply) => pageDemande(request, reply, idDe(request)));

  // The avis a family uploaded: only to an instructor who opened its case with a reason (that
  // reason is journaled with the view), never cached, never run as a page of ours.
  app.get(`${BASE}/avis/:id`, async (request, reply) => {
    const agent = requireAgent(request);
    if (!deps.avis) throw introuvable();
    const avisId = idDe(request);
    const cible = await deps.avis.cibleDe(avisId);
    const motif =
      (cible.demandeId ? consultationDe(request, 'demande', cible.demandeId) : undefined) ??
      (cible.contestationId ? consultationDe(request, 'contestation', cible.contestationId) : undefined);
    if (!motif) {
      request.session.flash = 'Indiquez d’abord le motif de la consultation pour ouvrir le dossier, puis le document.';
      return reply.redirect(cible.demandeId ? `${BASE}/demandes/${cible.demandeId}` : `${BASE}/contestations/${cible.contestationId ?? ''}`, 303);
    }
    const { format, octets } = await deps.avis.lire(avisId, acteurAgent(agent), motif.texte);
    return reply
      .header('content-type', TYPES_MIME[format])
      .header('content-disposition', `inline; filename="avis-imposition.${EXTENSIONS[format]}"`)
      .header('cache-control', 'no-store, private')
      .header('pragma', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'")
      .send(octets);
  });

  app.post(`${BASE}/demandes/:id/consultation`, async (request, reply) => {
    requireAgent(request);
    const id = idDe(request);
    await instruction.resume(id);
    const values = lireChamps(CONSULTATION, request.body);
    try {
      const motif = lireMotifConsultation(values);
      request.session.instruction = { cible: 'demande', id, code: motif.code, texte: motif.texte, le: now() };
    } catch (error) {
      return pageDemande(request, reply, id, { consultation: { values: valeursAReafficher(values), errors: refusDe(error).errors } });
    }
    return reply.redirect(`${BASE}/demandes/${id}`, 303);
  });

  app.post(`${BASE}/demandes/:id/decision`, async (request, reply) => {
    const agent = requireAgent(request);
    const id = idDe(request);
    // Deciding means having looked: without a reason given for this case, back to its page.
    if (!consultationDe(request, 'demande', id)) {
      request.session.flash = 'Indiquez d’abord le motif de la consultation pour ouvrir le dossier, puis décidez.';
      return reply.redirect(`${BASE}/demandes/${id}`, 303);
    }
    const values: ValeursDecision = lireChamps(DECISION, request.body);
    // A wrong amount leaves `qfCents` undefined, which the service refuses before writing anything:
    // its messages for the other fields come back with the amount's own.
    const montant = values.decision === 'qf_manuel' ? lireMontantQf(values.qf) : undefined;
    try {
      const { statut } = await decisions.decider(id, acteurAgent(agent), {
        decision: values.decision,
        justification: values.justification,
        piece: values.piece,
        qfCents: montant?.ok ? montant.cents : undefined,
      });
      request.session.instruction = undefined;
      request.session.flash =
        statut === 'refusee'
          ? 'Décision enregistrée : la demande est refusée, la famille en est informée.'
          : 'Décision enregistrée : le quotient familial est calculé, la famille en est informée.';
      return reply.redirect(`${BASE}/demandes/${id}`, 303);
    } catch (error) {
      const errors = erreursDeSaisie(error, CHAMPS_DECISION[values.decision] ?? {}, montant);
      return pageDemande(request, reply, id, { decision: { values: valeursAReafficher(values), errors } });
    }
  });

  // -----------------------------------------------------------------------------------------
  // A contestation

  async function pageContestation(
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    form: { consultation?: { values: ValeursConsultation; errors: ErrorDetail[] }; reponse?: { values: ValeursReponse; errors: ErrorDetail[] } } = {},
  ) {
    const agent = requireAgent(request);
    const motif = form.consultation ? undefined : consultationDe(request, 'contestation', id);
    if (!motif) {
      const c = await instruction.apercuContestation(id, acteurAgent(agent));
      const errors = form.consultation?.errors ?? [];
      return pageFormulaire(
        page,
        request,
        reply,
        `Contestation ${c.reference}`,
        errors,
        <ResumeContestationPage c={c} csrf={reply.generateCsrf()} flash={takeFlash(request)} values={form.consultation?.values ?? null} errors={errors} />,
      );
    }
    const c = await instruction.dossierContestation(id, acteurAgent(agent), motif);
    const errors = form.reponse?.errors ?? [];
    return pageFormulaire(
      page,
      request,
      reply,
      `Contestation ${c.reference}`,
      errors,
      <DossierContestationPage
        c={c}
        csrf={reply.generateCsrf()}
        motif={motif.texte}
        values={form.reponse?.values ?? null}
        errors={errors}
        periode={periode()}
        avis={(await deps.avis?.enCours({ contestationId: id })) ?? []}
      />,
    );
  }

  app.get(`${BASE}/contestations/:id`, (request, reply) => pageContestation(request, reply, idDe(request)));

  app.post(`${BASE}/contestations/:id/consultation`, async (request, reply) => {
    requireAgent(request);
    const id = idDe(request);
    await instruction.resumeContestation(id);
    const values = lireChamps(CONSULTATION, request.body);
    try {
      const motif = lireMotifConsultation(values);
      request.session.instruction = { cible: 'contestation', id, code: motif.code, texte: motif.texte, le: now() };
    } catch (error) {
      return pageContestation(request, reply, id, { consultation: { values: valeursAReafficher(values), errors: refusDe(error).errors } });
    }
    return reply.redirect(`${BASE}/contestations/${id}`, 303);
  });

  app.post(`${BASE}/contestations/:id/reponse`, async (request, reply) => {
    const agent = requireAgent(request);
    const id = idDe(request);
    if (!consultationDe(request, 'contestation', id)) {
      request.session.flash = 'Indiquez d’abord le motif de la consultation pour ouvrir le dossier, puis répondez.';
      return reply.redirect(`${BASE}/contestations/${id}`, 303);
    }
    const values: ValeursReponse = { ...lireChamps(REPONSE, request.body), decision: 'qf_manuel' };
    const montant = values.suite === 'qf_manuel' ? lireMontantQf(values.qf) : undefined;
    try {
      const result = await decisions.repondre(id, acteurAgent(agent), {
        reponse: values.reponse,
        suite: values.suite,
        justification: values.justification,
        piece: values.piece,
        qfCents: montant?.ok ? montant.cents : undefined,
      });
      request.session.instruction = undefined;
      request.session.flash = result.demande
        ? `Réponse envoyée : nouveau quotient enregistré (demande ${result.demande.reference}).`
        : 'Réponse envoyée : le quotient est maintenu.';
      return reply.redirect(BASE, 303);
    } catch (error) {
      const errors = erreursDeSaisie(error, CHAMPS_DECISION.qf_manuel as Record<string, string>, montant);
      return pageContestation(request, reply, id, { reponse: { values: valeursAReafficher(values), errors } });
    }
  });
}
