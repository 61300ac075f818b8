import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import type { ErrorDetail } from '../../domain/errors.ts';
import { sendAgentPage, requireAgent } from '../../http/espace-agents.tsx';
import { lireEtatsCivils, valeursEtatCivil } from '../../http/etat-civil-formulaire.ts';
import { PARAMS_ID, lireParams, pageFormulaire, refusDe, saisieAReafficher } from '../../http/formulaire.ts';
import { ChampsEtatCivil, texteAccordEtatCivil } from '../../http/ui/etat-civil.tsx';
import { ANCRE_ERREURS, Csrf, Erreurs } from '../../http/ui/components.tsx';
import type { Commune } from '../../infra/communes/communes.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { CompositionFamille } from '../familles/familles-service.ts';
import type { EnvoiUnique } from './envoi-unique.ts';
import { familleIntrouvable, type AccordRecu, type GuichetService } from './guichet-service.ts';
import { EnTeteDemande, nomParent } from './guichet-views.tsx';

/**
 * Step 2 of the counter by état civil: paper forms often give no numéro fiscal. The consents were
 * recorded at step 1 (they stay in the session); the état civil goes from this form to the
 * request service's memory, never into the session.
 */
export function registerGuichetEtatCivilRoutes(
  app: FastifyInstance,
  deps: {
    /** Step 2 sent once, shared with the numéro fiscal's form. */
    readonly envoi: EnvoiUnique;
    /** False when the habilitation gives no état civil route: the pages then send back to the numéro fiscal. */
    readonly ouvert: boolean;
    readonly commune: CommuneConfig;
    readonly guichet: GuichetService;
    readonly voie: VoieEtatCivil;
    readonly attenteMs?: number;
  },
): void {
  const { commune, guichet } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendAgentPage(request, reply, commune, title, body, status);
  const familleDe = (request: FastifyRequest) => lireParams(PARAMS_ID, request, familleIntrouvable).id;
  const saisieDe = (request: FastifyRequest, familleId: string) => {
    const s = request.session.guichetSaisie;
    return s && s.familleId === familleId ? s : undefined;
  };
  const titre = 'État civil';
  const vue = (
    reply: FastifyReply,
    familleId: string,
    composition: CompositionFamille,
    accords: readonly AccordRecu[],
    valeurs: Record<string, string>,
    errors: readonly ErrorDetail[],
    candidats: ReadonlyMap<1 | 2, readonly Commune[]>,
  ) => (
    <>
      <Erreurs errors={errors} />
      <EnTeteDemande composition={composition} familleId={familleId} etape={2} />
      <h2>L’état civil, à la place du numéro fiscal</h2>
      <p>
        Ce que la famille a accepté, et que la demande transmet :{' '}
        {texteAccordEtatCivil(deps.voie).replace('J’accepte que la commune transmette', 'la commune transmet')}
      </p>
      <form method="post" action={`/agents/guichet/familles/${familleId}/demande/etat-civil#${ANCRE_ERREURS}`} novalidate autoComplete="off">
        <Csrf token={reply.generateCsrf()} />
        {accords.map((a) => {
          const p = composition.parents.find((x) => x.rang === a.rang);
          return (
            <ChampsEtatCivil
              key={a.rang}
              rang={a.rang}
              nom={p ? nomParent(p) : `parent ${a.rang}`}
              valeurs={valeurs}
              errors={errors}
              candidats={candidats.get(a.rang)}
            />
          );
        })}
        <button class="button" type="submit" name="action" value="envoyer">
          Envoyer la demande
        </button>
      </form>
      <p>
        <a href={`/agents/guichet/familles/${familleId}/demande/numero`}>Saisir plutôt le numéro fiscal</a>
      </p>
    </>
  );

  app.get('/agents/guichet/familles/:id/demande/etat-civil', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = familleDe(request);
    const saisie = saisieDe(request, familleId);
    if (!saisie) return reply.redirect(`/agents/guichet/familles/${familleId}/demande`, 303);
    if (!deps.ouvert) return reply.redirect(`/agents/guichet/familles/${familleId}/demande/numero`, 303);
    const composition = await guichet.composition(familleId, { type: 'agent', id: agent.id }, 'saisie');
    const valeurs = Object.assign(
      {},
      ...saisie.accords.map((a) =>
        valeursEtatCivil(
          a.rang,
          composition.parents.find((p) => p.rang === a.rang),
        ),
      ),
    ) as Record<string, string>;
    return page(request, reply, titre, vue(reply, familleId, composition, saisie.accords, valeurs, [], new Map()));
  });

  app.post('/agents/guichet/familles/:id/demande/etat-civil', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = familleDe(request);
    await deps.envoi.apresEnvoiEnCours(request, familleId);
    const saisieEnCours = saisieDe(request, familleId);
    // The same form sent twice (double click, reload of the POST): one request, one DGFiP call; to the request created.
    const ailleurs = deps.envoi.dejaEnvoye(request, familleId, saisieEnCours);
    if (ailleurs !== undefined || !saisieEnCours) return reply.redirect(ailleurs ?? `/agents/guichet/familles/${familleId}/demande`, 303);
    const saisie = saisieEnCours;
    if (!deps.ouvert) return reply.redirect(`/agents/guichet/familles/${familleId}/demande/numero`, 303);
    const acteur = { type: 'agent' as const, id: agent.id };
    const composition = await guichet.composition(familleId, acteur, 'saisie');
    const lecture = lireEtatsCivils(
      saisie.accords.map((a) => a.rang),
      request.body,
      parisDate(Date.now()),
    );
    let errors: ErrorDetail[] = lecture.errors;
    let status: number | undefined;
    const etatsCivils = lecture.etatsCivils;
    if (etatsCivils) {
      try {
        const foyersFiscaux = saisie.accords.flatMap((accord) => {
          const etatCivil = etatsCivils.get(accord.rang);
          return etatCivil ? [{ accord, etatCivil }] : [];
        });
        // POST, then 303 to the request's page, as the numéro fiscal's form: a reload shows the page, sends nothing.
        const envoye = await deps.envoi.envoyer(request, saisie, (creee) =>
          guichet.soumettre(familleId, foyersFiscaux, acteur, {
            correlationId: request.id,
            adresse: request.ip,
            creee,
            ...(deps.attenteMs !== undefined ? { attenteMs: deps.attenteMs } : {}),
          }),
        );
        return reply.redirect('ailleurs' in envoye ? envoye.ailleurs : `/agents/guichet/demandes/${envoye.envoye.id}`, 303);
      } catch (error) {
        // Nothing created: the consents are back in the session (`EnvoiUnique`), the form shown again with the refusal.
        const refus = refusDe(error, { kinds: ['invalid', 'rate_limited'], champ: () => null });
        errors = refus.errors;
        status = refus.status;
      }
    }
    return pageFormulaire(
      page,
      request,
      reply,
      titre,
      lecture.recherche ? [] : errors,
      vue(reply, familleId, composition, saisie.accords, saisieAReafficher(request.body), errors, lecture.candidats),
      status,
    );
  });
}
