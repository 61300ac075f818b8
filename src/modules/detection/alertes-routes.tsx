import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { lireChamps, lireParams, refusDe, texte, valeursAReafficher } from '../../http/formulaire.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { StatutAlerte } from '../../infra/db/schema.ts';
import type { AuditEntry } from '../audit/index.ts';
import type { EntreeLisible } from '../controle/lecture-journal.ts';
import { alerteIntrouvable, STATUTS_ALERTE, type AlertesStore } from './alertes-store.ts';
import { AlertePage, AlertesPage, type FormulaireMotif } from './alertes-views.tsx';

export interface AlertesRoutesDeps {
  readonly commune: CommuneConfig;
  readonly alertes: AlertesStore;
  /** An agent's name for the page, by id. */
  readonly nomAgent: (id: string) => Promise<string>;
  /** The entries as the journal's page shows them (labels, names, references). */
  readonly lisibles: (entrees: readonly AuditEntry[]) => Promise<readonly EntreeLisible[]>;
}

const PARAMS_ALERTE = z.object({ id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/) });
/** An unknown status is the default one, not an error: the tabs are links anyone can edit. */
const FILTRE = z.object({
  statut: texte(z.string().transform((v): StatutAlerte => ((STATUTS_ALERTE as readonly string[]).includes(v) ? (v as StatutAlerte) : 'ouverte'))),
});
/** The reason: the store checks it (length, one line, nothing shaped like a numéro fiscal). */
const MOTIF = z.object({ motif: texte() });

/** The auditor's « Alertes » page (policy: AUDITEUR): list, detail with the journal entries behind it, acknowledge and close. */
export function registerAlertesRoutes(app: FastifyInstance, deps: AlertesRoutesDeps): void {
  const { commune, alertes } = deps;
  /** Names of the agents among these journal ids (`agent:<id>`): who an alert concerns, who moved it. */
  const nomsDe = async (ids: readonly string[]) => {
    const noms: Record<string, string> = {};
    for (const p of new Set(ids)) if (p.startsWith('agent:')) noms[p] = await deps.nomAgent(p.slice('agent:'.length));
    return noms;
  };
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendAgentPage(request, reply, commune, title, body, status);

  app.get('/agents/controle/alertes', async (request, reply) => {
    requireAgent(request);
    const { statut } = lireChamps(FILTRE, request.query);
    const choisi = statut ?? 'ouverte';
    const liste = await alertes.lister(choisi);
    return page(
      request,
      reply,
      'Alertes de sécurité',
      <AlertesPage
        statut={choisi}
        alertes={liste}
        comptes={await alertes.compter()}
        noms={await nomsDe(liste.map((a) => a.cle))}
        flash={takeFlash(request) ?? null}
      />,
    );
  });

  const detailPage = async (request: FastifyRequest, reply: FastifyReply, id: string, formulaire: FormulaireMotif | null) => {
    const detail = await alertes.detail(id);
    const { alerte } = detail;
    const noms = await nomsDe([alerte.cle, alerte.acquittement?.par, alerte.cloture?.par].filter((p): p is string => p !== undefined));
    const enErreur = formulaire !== null && formulaire.errors.length > 0;
    return page(
      request,
      reply,
      `${enErreur ? 'Erreur : ' : ''}Alerte : ${detail.alerte.titre}`,
      <AlertePage
        csrf={reply.generateCsrf()}
        detail={detail}
        entrees={await deps.lisibles(detail.entrees)}
        noms={noms}
        formulaire={formulaire}
        flash={enErreur ? null : (takeFlash(request) ?? null)}
      />,
      enErreur ? 400 : 200,
    );
  };

  app.get('/agents/controle/alertes/:id', async (request, reply) => {
    requireAgent(request);
    const { id } = lireParams(PARAMS_ALERTE, request, alerteIntrouvable);
    return detailPage(request, reply, id, null);
  });

  const changer = (action: FormulaireMotif['action']) => async (request: FastifyRequest, reply: FastifyReply) => {
    const agent = requireAgent(request);
    const { id } = lireParams(PARAMS_ALERTE, request, alerteIntrouvable);
    const { motif } = lireChamps(MOTIF, request.body);
    try {
      if (action === 'acquittement') await alertes.acquitter(id, acteurAgent(agent), motif);
      else await alertes.cloturer(id, acteurAgent(agent), motif);
    } catch (error) {
      // Moved meanwhile by someone else: said on the page, not an error page.
      if (error instanceof QuotientError && error.kind === 'conflict') {
        request.session.flash = error.message;
        return reply.redirect(`/agents/controle/alertes/${id}`, 303);
      }
      const errors: ErrorDetail[] = refusDe(error, { kinds: ['invalid'] }).errors.map((e) => ({ ...e, path: e.path === 'motif' ? `motif-${action}` : e.path }));
      return detailPage(request, reply, id, { action, errors, motif: valeursAReafficher({ motif }).motif ?? '' });
    }
    request.session.flash = action === 'acquittement' ? 'Alerte acquittée : elle ne sera plus renvoyée.' : 'Alerte close.';
    return reply.redirect(`/agents/controle/alertes/${id}`, 303);
  };
  app.post('/agents/controle/alertes/:id/acquittement', changer('acquittement'));
  app.post('/agents/controle/alertes/:id/cloture', changer('cloture'));
}
