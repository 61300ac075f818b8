import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { lireEtatsCivils, valeursEtatCivil, type LectureEtatCivil } from '../../http/etat-civil-formulaire.ts';
import { requireFamille } from '../../http/espace-famille.ts';
import { pageFormulaire, refusDe, saisieAReafficher } from '../../http/formulaire.ts';
import { pageContext, sendPage } from '../../http/render.tsx';
import { Layout } from '../../http/ui/layout.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import type { DemandesService, FoyerFiscalSoumis } from '../demandes/demandes-service.ts';
import type { CompositionFamille, FamillesService } from '../familles/familles-service.ts';
import { EtatCivilPage } from './etat-civil-views.tsx';
import type { NumeroAttendu } from './portail-views.tsx';

export interface EtatCivilRoutesDeps {
  readonly demandes: Pick<DemandesService, 'soumettre' | 'attendre'>;
  readonly familles: Pick<FamillesService, 'composition'>;
  readonly wake: () => void;
  readonly commune: CommuneConfig;
  readonly voie: VoieEtatCivil;
  readonly attendus: (compte: CompteConnecte, composition: CompositionFamille, rangs: ReadonlyArray<1 | 2>) => NumeroAttendu[];
  readonly attenteMs?: number;
}

/** True when the commune may ask by état civil: the habilitation names the route and grants SFiP or R2P. */
export function etatCivilOuvert(commune: CommuneConfig, voie: VoieEtatCivil): boolean {
  return voie !== 'aucune' && commune.habilitation.modalites.includes('etat-civil');
}

/**
 * « Je n'ai pas mon numéro fiscal »: step 3 by état civil. The état civil typed goes from the form
 * to the request service's memory, like a numéro fiscal: never into the session, a URL or a log.
 */
export function registerEtatCivilRoutes(app: FastifyInstance, deps: EtatCivilRoutesDeps): void {
  const { commune } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendPage(
      reply,
      <Layout ctx={pageContext(request, reply, commune)} title={title}>
        {body}
      </Layout>,
      status,
    );
  const parcoursDe = (request: FastifyRequest, compte: CompteConnecte) => {
    const p = request.session.parcours;
    return p && p.familleId === compte.familleId ? p : undefined;
  };
  const titre = 'Sans numéro fiscal : votre état civil';

  app.get('/mon-quotient/etat-civil', async (request, reply) => {
    const compte = request.compte;
    if (!compte) return reply.redirect('/connexion', 303);
    const parcours = parcoursDe(request, compte);
    if (!parcours || !etatCivilOuvert(commune, deps.voie)) return reply.redirect(parcours ? '/mon-quotient/numero' : '/mon-quotient/accord', 303);
    const composition = await deps.familles.composition(compte.familleId);
    const attendus = deps.attendus(compte, composition, parcours.rangs);
    const valeurs = Object.assign(
      {},
      ...attendus.map((a) =>
        valeursEtatCivil(
          a.rang,
          composition.parents.find((p) => p.rang === a.rang),
        ),
      ),
    ) as Record<string, string>;
    return page(
      request,
      reply,
      titre,
      <EtatCivilPage csrf={reply.generateCsrf()} attendus={attendus} voie={deps.voie} valeurs={valeurs} errors={[]} candidats={new Map()} />,
    );
  });

  app.post('/mon-quotient/etat-civil', async (request, reply) => {
    const compte = requireFamille(request);
    const parcours = parcoursDe(request, compte);
    if (!parcours || !etatCivilOuvert(commune, deps.voie)) return reply.redirect(parcours ? '/mon-quotient/numero' : '/mon-quotient/accord', 303);
    const composition = await deps.familles.composition(compte.familleId);
    const attendus = deps.attendus(compte, composition, parcours.rangs);
    const lecture: LectureEtatCivil = lireEtatsCivils(
      attendus.map((a) => a.rang),
      request.body,
      parisDate(Date.now()),
      { accord: true },
    );
    if (!lecture.etatsCivils) {
      const body = (
        <EtatCivilPage
          csrf={reply.generateCsrf()}
          attendus={attendus}
          voie={deps.voie}
          valeurs={saisieAReafficher(request.body)}
          errors={lecture.errors}
          candidats={lecture.candidats}
        />
      );
      return pageFormulaire(page, request, reply, titre, lecture.recherche ? [] : lecture.errors, body);
    }
    const etatsCivils = lecture.etatsCivils;
    const consentement = { mode: 'en_ligne' as const, donnePar: { type: 'famille' as const, id: compte.familleId } };
    const foyersFiscaux: FoyerFiscalSoumis[] = attendus.flatMap((a): FoyerFiscalSoumis[] => {
      const etatCivil = etatsCivils.get(a.rang);
      return etatCivil ? [{ parentRang: a.rang, identifiant: { etatCivil }, consentement }] : [];
    });
    let id: string;
    try {
      ({ id } = await deps.demandes.soumettre({
        familleId: compte.familleId,
        canal: 'en_ligne',
        acteur: { type: 'famille', id: compte.compteId },
        foyersFiscaux,
        correlationId: request.id,
        // An état civil typed is a try like a number, against the account and the address too.
        essai: { compte: compte.compteId, adresse: request.ip },
        ...(parcours.renouvellement ? { renouvellement: parcours.renouvellement } : {}),
      }));
    } catch (error) {
      // Too many tries (anti-fishing): the same form, 429, with when to try again.
      const refus = refusDe(error, { kinds: ['rate_limited'], champ: () => null });
      const body = (
        <EtatCivilPage
          csrf={reply.generateCsrf()}
          attendus={attendus}
          voie={deps.voie}
          valeurs={saisieAReafficher(request.body)}
          errors={refus.errors}
          candidats={new Map()}
        />
      );
      return pageFormulaire(page, request, reply, titre, refus.errors, body, refus.status);
    }
    delete request.session.parcours;
    deps.wake();
    await deps.demandes.attendre(id, deps.attenteMs ?? 8_000);
    return reply.redirect(`/mon-quotient/demandes/${id}`, 303);
  });
}
