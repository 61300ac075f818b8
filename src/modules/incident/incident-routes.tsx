import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ErrorDetail } from '../../domain/errors.ts';
import type { AgentConnecte } from '../../http/acces/controle-acces.ts';
import { acteurAgent, requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { lireChamps, refusDe, texte, valeursAReafficher } from '../../http/formulaire.ts';
import { takeFlash } from '../../http/session.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { GardeIntegrite } from './garde-integrite.ts';
import type { CibleRevocation, IncidentService, Operateur } from './incident-service.ts';
import { INTERRUPTEURS, LIBELLES_INTERRUPTEURS, type CacheIncidents, type CodeInterrupteur } from './interrupteurs.ts';
import { IncidentPage, PAGE_INCIDENT, type FormulaireIncident } from './incident-views.tsx';

export interface IncidentRoutesDeps {
  readonly commune: CommuneConfig;
  readonly incidents: IncidentService;
  readonly cache: CacheIncidents;
  readonly integrite: Pick<GardeIntegrite, 'etat'>;
}

/** The forms' fields as typed; the service checks the reason (length, one line, nothing shaped like a numéro fiscal). */
const BASCULE = z.object({ interrupteur: texte(), etat: texte(), motif: texte() });
const REVOCATION = z.object({ cible: texte(), famille: texte(), agent: texte(), motif: texte() });

const operateur = (agent: AgentConnecte): Operateur => ({ acteur: acteurAgent(agent), libelle: `${agent.prenom} ${agent.nom}` });

/** Errors a person can fix come back on their form, under the form's own field ids. */
function erreursDe(error: unknown, ids: Readonly<Record<string, string>>): ErrorDetail[] {
  return refusDe(error, { kinds: ['invalid', 'not_found'], champ: (d) => ({ path: ids[d.path] ?? d.path, message: d.message }) }).errors;
}

/** The administrators' incident page: the switches and the revocation of sessions (policy: ADMINISTRATEUR). */
export function registerIncidentRoutes(app: FastifyInstance, deps: IncidentRoutesDeps): void {
  const { commune, incidents, cache, integrite } = deps;
  const page = async (request: FastifyRequest, reply: FastifyReply, echec: FormulaireIncident | null) =>
    sendAgentPage(
      request,
      reply,
      commune,
      echec ? 'Erreur : mesures d’incident' : 'Mesures d’incident',
      <IncidentPage
        csrf={reply.generateCsrf()}
        etat={await cache.etat()}
        integrite={integrite.etat()}
        flash={echec ? null : (takeFlash(request) ?? null)}
        echec={echec}
      />,
      echec ? 400 : 200,
    );

  app.get(PAGE_INCIDENT, async (request, reply) => {
    requireAgent(request);
    return page(request, reply, null);
  });

  app.post(`${PAGE_INCIDENT}/interrupteurs`, async (request, reply) => {
    const agent = requireAgent(request);
    const { interrupteur: code, etat, motif } = lireChamps(BASCULE, request.body);
    if (!(INTERRUPTEURS as readonly string[]).includes(code) || (etat !== 'on' && etat !== 'off')) {
      return page(request, reply, {
        formulaire: 'sessions',
        errors: [{ path: '', message: 'Mesure inconnue : rechargez la page et recommencez.' }],
        valeurs: {},
      });
    }
    const interrupteur = code as CodeInterrupteur;
    try {
      const { change } = await incidents.basculer(interrupteur, etat === 'on', motif, operateur(agent));
      const l = LIBELLES_INTERRUPTEURS[interrupteur];
      request.session.flash = `${l.nom} : ${etat === 'on' ? l.actif : l.inactif}${change ? '. La mesure prend effet sur toutes les instances en quelques secondes.' : ' (c’était déjà le cas : rien n’a changé).'}`;
      return reply.redirect(PAGE_INCIDENT, 303);
    } catch (error) {
      return page(request, reply, {
        formulaire: interrupteur,
        errors: erreursDe(error, { motif: `motif-${interrupteur}` }),
        valeurs: valeursAReafficher({ motif }),
      });
    }
  });

  app.post(`${PAGE_INCIDENT}/sessions`, async (request, reply) => {
    const agent = requireAgent(request);
    const valeurs = lireChamps(REVOCATION, request.body);
    let cible: CibleRevocation;
    if (valeurs.cible === 'famille') cible = { famille: valeurs.famille };
    else if (valeurs.cible === 'agent') cible = { agent: valeurs.agent };
    else if (valeurs.cible === 'tous') cible = { tous: true };
    else
      return page(request, reply, {
        formulaire: 'sessions',
        errors: [{ path: 'cible-famille', message: 'Indiquez de qui les sessions doivent être révoquées.' }],
        valeurs: valeursAReafficher(valeurs),
      });
    try {
      const { sessions, libelle } = await incidents.revoquerSessions(cible, valeurs.motif, operateur(agent));
      request.session.flash = `${sessions === 0 ? 'Aucune session ouverte' : sessions === 1 ? '1 session révoquée' : `${sessions} sessions révoquées`} ${libelle}.`;
      return reply.redirect(PAGE_INCIDENT, 303);
    } catch (error) {
      return page(request, reply, { formulaire: 'sessions', errors: erreursDe(error, { motif: 'motif-sessions' }), valeurs: valeursAReafficher(valeurs) });
    }
  });
}
