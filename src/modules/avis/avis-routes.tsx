import { sendFamilyPage } from '../../http/page-famille.tsx';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { PARAMS_ID, lireParams, pageFormulaire, refusDe } from '../../http/formulaire.ts';
import { estEnvoiFichier } from '../../http/multipart.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { Acteur } from '../audit/index.ts';
import type { DemandesService } from '../demandes/demandes-service.ts';
import { STATUTS_AVIS_POSSIBLE, type AvisService } from './avis-service.ts';
import { AvisPage, type DemandeAvis } from './avis-views.tsx';

export interface AvisRoutesDeps {
  readonly commune: CommuneConfig;
  readonly avis: AvisService;
  readonly demandes: Pick<DemandesService, 'etat'>;
}

const introuvable = () => new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');

/**
 * The family's side of the avis fallback (issue 15): the page of one request where the avis is
 * sent (multipart), and where the family sees that it was received. Only the family's own
 * requests; the file's name and claimed type are ignored (the bytes decide, `verifierAvis`).
 */
export function registerAvisRoutes(app: FastifyInstance, deps: AvisRoutesDeps): void {
  const { commune, avis } = deps;
  const reglages = commune.avisDepose;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendFamilyPage(request, reply, commune, title, body, status);

  async function demandeDe(request: FastifyRequest): Promise<{ familleId: string; acteur: Acteur; demande: DemandeAvis }> {
    if (!request.compte) throw new QuotientError('unauthenticated', 'connexion_requise', 'Connectez-vous pour accéder à cette page.');
    const { id } = lireParams(PARAMS_ID, request, introuvable);
    const etat = await deps.demandes.etat(id).catch(() => undefined);
    // Another family's request answers as none does.
    if (!etat || etat.familleId !== request.compte.familleId) throw introuvable();
    return {
      familleId: etat.familleId,
      acteur: { type: 'famille', id: request.compte.compteId },
      demande: { id: etat.id, reference: etat.reference, statut: etat.statut },
    };
  }

  const afficher = async (request: FastifyRequest, reply: FastifyReply, demande: DemandeAvis, errors: readonly ErrorDetail[]) =>
    pageFormulaire(
      page,
      request,
      reply,
      'Envoyer mon avis d’imposition',
      errors,
      <AvisPage
        demande={demande}
        enCours={await avis.enCours({ demandeId: demande.id })}
        csrf={reply.generateCsrf()}
        errors={errors}
        tailleMaxKo={reglages.tailleMaxKo}
        joursMax={reglages.conservationJoursMax}
        attendu={STATUTS_AVIS_POSSIBLE.includes(demande.statut)}
      />,
    );

  app.get('/mon-quotient/demandes/:id/avis', async (request, reply) => {
    const { demande } = await demandeDe(request);
    return afficher(request, reply, demande, []);
  });

  app.post('/mon-quotient/demandes/:id/avis', async (request, reply) => {
    const { familleId, acteur, demande } = await demandeDe(request);
    const fichier = (request.body as Record<string, unknown> | undefined)?.avis;
    if (!estEnvoiFichier(fichier) || fichier.octets.length === 0)
      return afficher(request, reply, demande, [{ path: 'avis', message: 'Choisissez le fichier de votre avis d’imposition (PDF, JPEG ou PNG).' }]);
    try {
      await avis.deposerPourDemande(familleId, demande.id, fichier.octets, acteur);
    } catch (error) {
      // A wrong file, or a request that no longer waits for one: said on the field, nothing kept.
      return afficher(request, reply, demande, refusDe(error, { kinds: ['invalid', 'conflict'], champ: (d) => ({ path: 'avis', message: d.message }) }).errors);
    }
    // The page again, by GET: a refresh does not send the file twice.
    return reply.redirect(`/mon-quotient/demandes/${demande.id}/avis`, 303);
  });
}
