import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { QuotientError } from '../../domain/errors.ts';
import { requireFamille } from '../../http/espace-famille.ts';
import { PARAMS_ID, lireParams } from '../../http/formulaire.ts';
import { takeFlash } from '../../http/session.ts';
import type { Acteur } from '../audit/index.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import { exportEnTexte } from '../familles/export-texte.ts';
import type { FamillesService } from '../familles/familles-service.ts';
import type { RenouvellementService } from '../renouvellement/renouvellement-service.ts';
import { ConfirmationRetraitPage, ExportTextePage, MesDonneesPage } from './portail-views.tsx';

export interface MesDonneesDeps {
  readonly familles: Pick<FamillesService, 'accordsEnCours' | 'composition' | 'exporter' | 'retirerConsentements'>;
  readonly renouvellement?: Pick<RenouvellementService, 'dureeMaxAns' | 'consentements' | 'retirer'>;
  readonly page: (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status?: number) => FastifyReply;
  readonly signedIn: (request: FastifyRequest, reply: FastifyReply) => CompteConnecte | undefined;
  readonly acteurDe: (compte: CompteConnecte) => Acteur;
}

const renouvellementIntrouvable = () => new QuotientError('not_found', 'renouvellement_introuvable', 'Accord de renouvellement introuvable.');

/** « Mes données et mes droits »: read and download everything, withdraw consents (all, or one standing consent). */
export function registerMesDonneesRoutes(app: FastifyInstance, deps: MesDonneesDeps): void {
  const { familles, page, signedIn, acteurDe } = deps;

  /** « Mes données », with the message of the action just done (POST, then redirect, then this GET: a refresh re-posts nothing). */
  async function mesDonnees(request: FastifyRequest, reply: FastifyReply, compte: CompteConnecte) {
    const message = takeFlash(request);
    const [accords, composition, renouvellements] = await Promise.all([
      familles.accordsEnCours(compte.familleId),
      familles.composition(compte.familleId),
      deps.renouvellement?.consentements(compte.familleId) ?? [],
    ]);
    return page(
      request,
      reply,
      'Mes données et mes droits',
      <MesDonneesPage
        accords={accords}
        composition={composition}
        renouvellements={renouvellements}
        renouvellementPropose={(deps.renouvellement?.dureeMaxAns ?? null) !== null}
        {...(message ? { message } : {})}
      />,
    );
  }

  app.get('/mes-donnees', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    return mesDonnees(request, reply, compte);
  });

  /** Who a standing consent is for, in words. */
  async function nomDuParent(familleId: string, parent: number): Promise<string> {
    const composition = await familles.composition(familleId);
    const p = composition.parents.find((x) => x.rang === parent);
    return p ? `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}` : `parent ${parent}`;
  }

  // A withdrawal is asked to be confirmed first: the button of « Mes données » leads here, this page's button does it.
  app.get('/mes-donnees/renouvellement/:id/retrait', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const { id } = lireParams(PARAMS_ID, request, renouvellementIntrouvable);
    const accord = (await deps.renouvellement?.consentements(compte.familleId))?.find((r) => r.id === id && r.etat === 'en_vigueur');
    if (!accord) throw renouvellementIntrouvable();
    const qui = await nomDuParent(compte.familleId, accord.parent);
    return page(
      request,
      reply,
      'Retirer l’accord de renouvellement',
      <ConfirmationRetraitPage csrf={reply.generateCsrf()} action={`/mes-donnees/renouvellement/${id}/retrait`} renouvellementDe={qui} />,
    );
  });

  // The standing consent is withdrawn and the état civil kept for it deleted, then « Mes données » says so.
  app.post('/mes-donnees/renouvellement/:id/retrait', async (request, reply) => {
    const compte = requireFamille(request);
    const { id } = lireParams(PARAMS_ID, request, renouvellementIntrouvable);
    if (!deps.renouvellement) throw renouvellementIntrouvable();
    const { parent, dejaTermine } = await deps.renouvellement.retirer(compte.familleId, id, acteurDe(compte));
    const qui = await nomDuParent(compte.familleId, parent);
    request.session.flash = dejaTermine
      ? `L’accord de renouvellement de ${qui} était déjà terminé : rien à retirer.`
      : `L’accord de renouvellement de ${qui} est retiré : la commune ne redemandera plus son avis chaque année, et son état civil gardé pour cela est effacé.`;
    return reply.redirect('/mes-donnees', 303);
  });

  app.get('/mes-donnees/export.json', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const data = await familles.exporter(compte.familleId, acteurDe(compte));
    return reply
      .type('application/json; charset=utf-8')
      .header('content-disposition', 'attachment; filename="mes-donnees-quotient.json"')
      .send(JSON.stringify(data, null, 2));
  });

  app.get('/mes-donnees/export', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const data = await familles.exporter(compte.familleId, acteurDe(compte));
    return page(request, reply, 'Toutes mes données', <ExportTextePage texte={exportEnTexte(data)} />);
  });

  app.get('/mes-donnees/retrait', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    if ((await familles.accordsEnCours(compte.familleId)).length === 0) {
      request.session.flash = 'Aucun accord en cours : rien à retirer.';
      return reply.redirect('/mes-donnees', 303);
    }
    return page(request, reply, 'Retirer mon accord', <ConfirmationRetraitPage csrf={reply.generateCsrf()} action="/mes-donnees/retrait" />);
  });

  app.post('/mes-donnees/retrait', async (request, reply) => {
    const compte = requireFamille(request);
    const n = await familles.retirerConsentements(compte.familleId, acteurDe(compte));
    request.session.flash =
      n > 0 ? 'Votre accord est retiré : aucune nouvelle demande ne sera faite à la DGFiP sans un nouvel accord.' : 'Aucun accord en cours : rien à retirer.';
    return reply.redirect('/mes-donnees', 303);
  });
}
