import { sendFamilyPage } from '../../http/page-famille.tsx';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import type { ErrorDetail } from '../../domain/errors.ts';
import { lireEtatsCivils, valeursEtatCivil } from '../../http/etat-civil-formulaire.ts';
import { requireFamille } from '../../http/espace-famille.ts';
import { CLE_FAMILLE, lireChamps, lireFormulaire, numerosFiscaux, pageFormulaire, refusDe, saisieAReafficher, texteOptionnel } from '../../http/formulaire.ts';
import type { Commune } from '../../infra/communes/communes.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import type { DemandesService, EtatDemande, FoyerFiscalSoumis } from '../demandes/demandes-service.ts';
import type { CompositionFamille, FamillesService } from '../familles/familles-service.ts';
import type { Attente, Saisie } from './avis-franceconnect.tsx';
import { EtatCivilPage } from './etat-civil-views.tsx';
import type { NumeroAttendu } from './portail-views.tsx';

export interface EtatCivilRoutesDeps {
  readonly demandes: Pick<DemandesService, 'soumettre' | 'attendre' | 'ressaisir'>;
  readonly familles: Pick<FamillesService, 'composition'>;
  readonly wake: () => void;
  readonly commune: CommuneConfig;
  readonly voie: VoieEtatCivil;
  readonly attendus: (compte: CompteConnecte, composition: CompositionFamille, rangs: ReadonlyArray<1 | 2>) => NumeroAttendu[];
  /** The request of the route, only if it belongs to this family (the portal's one answer otherwise). */
  readonly demandeDe: (compte: CompteConnecte, request: FastifyRequest) => Promise<EtatDemande>;
  /** The declarants of a request whose avis is still to obtain, when it waits for a new entry. */
  readonly ressaisieAttendus: (compte: CompteConnecte, etat: EtatDemande) => Promise<readonly NumeroAttendu[]>;
  /** Sends a declarant to FranceConnect, what was typed for the others waiting in memory (when FranceConnect is offered). */
  readonly lancer?: (request: FastifyRequest, reply: FastifyReply, attente: Attente) => Promise<FastifyReply>;
  readonly attenteMs?: number;
}

/** True when the commune may ask by état civil: the habilitation names the route and grants SFiP or R2P. */
export function etatCivilOuvert(commune: CommuneConfig, voie: VoieEtatCivil): boolean {
  return voie !== 'aucune' && commune.habilitation.modalites.includes('etat-civil');
}

type Voie = 'etat_civil' | 'numero' | 'franceconnect';
const VOIES = z.object({ 'voie-1': texteOptionnel(), 'voie-2': texteOptionnel(), action: texteOptionnel() });

interface LectureSaisies {
  /** What each declarant gives, when nothing is to correct and no search was asked. */
  readonly saisies?: ReadonlyMap<1 | 2, Saisie>;
  /** The declarants who sign in with FranceConnect. */
  readonly franceConnect: Array<1 | 2>;
  readonly errors: ErrorDetail[];
  readonly candidats: ReadonlyMap<1 | 2, readonly Commune[]>;
  readonly recherche: boolean;
}

/**
 * « Je n'ai pas mon numéro fiscal »: step 3 by état civil, and the re-entry of a request by état
 * civil. Each declarant may be asked another way on the same page (état civil, numéro fiscal,
 * FranceConnect), so that one request mixes them. The état civil typed goes from the form to the
 * request service's memory, like a numéro fiscal: never into the session, a URL or a log.
 */
export function registerEtatCivilRoutes(app: FastifyInstance, deps: EtatCivilRoutesDeps): void {
  const { commune } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendFamilyPage(request, reply, commune, title, body, status);
  const parcoursDe = (request: FastifyRequest, compte: CompteConnecte) => {
    const p = request.session.parcours;
    return p && p.familleId === compte.familleId ? p : undefined;
  };
  const titre = 'Sans numéro fiscal : votre état civil';
  const ouvert = etatCivilOuvert(commune, deps.voie);
  // Another way than the état civil is offered when there are two declarants, or FranceConnect for one.
  const avecChoix = (attendus: readonly NumeroAttendu[]) => attendus.length > 1 || (deps.lancer !== undefined && attendus.some((a) => a.franceConnect));

  /** The way each declarant is asked on this page: as posted when offered, the état civil otherwise. */
  function voiesDe(attendus: readonly NumeroAttendu[], body: unknown): NumeroAttendu[] {
    const posted = lireChamps(VOIES, body ?? {});
    const choix = avecChoix(attendus);
    return attendus.map((a) => {
      const v = choix ? posted[`voie-${a.rang}`] : undefined;
      const voie: Voie = v === 'numero' || (v === 'franceconnect' && a.franceConnect && deps.lancer) ? v : 'etat_civil';
      return { ...a, voie };
    });
  }

  /** Each declarant's entry, by the way chosen: the état civil, the numéro fiscal, or FranceConnect to come. */
  function lireSaisies(attendus: readonly NumeroAttendu[], body: unknown): LectureSaisies {
    const aujourdhui = parisDate(Date.now());
    const recherche = (lireChamps(VOIES, body ?? {}).action ?? '').startsWith('rechercher-');
    const parEtatCivil = attendus.filter((a) => a.voie === 'etat_civil').map((a) => a.rang);
    const ec = lireEtatsCivils(recherche ? attendus.map((a) => a.rang) : parEtatCivil, body, aujourdhui, { accord: parEtatCivil.length > 0 });
    const parNumero = attendus.filter((a) => a.voie === 'numero');
    const numeros = parNumero.length > 0 && !recherche ? lireFormulaire(numerosFiscaux(parNumero, CLE_FAMILLE), body) : undefined;
    const errors = [...ec.errors, ...(numeros && !numeros.ok ? numeros.errors : [])];
    const franceConnect = attendus.filter((a) => a.voie === 'franceconnect').map((a) => a.rang);
    if (recherche || errors.length > 0 || !ec.etatsCivils) return { franceConnect, errors, candidats: ec.candidats, recherche };
    const saisies = new Map<1 | 2, Saisie>();
    for (const [rang, etatCivil] of ec.etatsCivils) saisies.set(rang, { etatCivil });
    if (numeros?.ok) for (const [rang, spi] of numeros.values) saisies.set(rang, { spi });
    return { saisies, franceConnect, errors, candidats: ec.candidats, recherche };
  }

  const vue = (
    request: FastifyRequest,
    reply: FastifyReply,
    action: string,
    attendus: readonly NumeroAttendu[],
    valeurs: Record<string, string>,
    errors: readonly ErrorDetail[],
    candidats: ReadonlyMap<1 | 2, readonly Commune[]>,
    retour: string,
  ) => (
    <EtatCivilPage
      csrf={reply.generateCsrf()}
      action={action}
      attendus={attendus}
      choix={avecChoix(attendus)}
      voie={deps.voie}
      valeurs={valeurs}
      errors={errors}
      candidats={candidats}
      retour={retour}
    />
  );

  /** The form pre-filled from the household: names and birth dates are already known. */
  const prerempli = (composition: CompositionFamille, attendus: readonly NumeroAttendu[]) =>
    Object.assign(
      {},
      ...attendus.map((a) =>
        valeursEtatCivil(
          a.rang,
          composition.parents.find((p) => p.rang === a.rang),
        ),
      ),
    ) as Record<string, string>;

  /**
   * Reads the page and sends it on: to FranceConnect for the declarant who signs in, or to the
   * request service (a new request, or the entries of one asked again). Shows the form again with
   * what to correct, the search's communes, or the service's refusal (429 above the limits).
   */
  async function envoyer(request: FastifyRequest, reply: FastifyReply, compte: CompteConnecte, base: readonly NumeroAttendu[], demandeId?: string) {
    const action = demandeId ? `/mon-quotient/demandes/${demandeId}/etat-civil` : '/mon-quotient/etat-civil';
    const retour = demandeId ? `/mon-quotient/demandes/${demandeId}?voie=numero` : '/mon-quotient/numero?voie=numero';
    const attendus = voiesDe(base, request.body);
    const lecture = lireSaisies(attendus, request.body);
    const montrer = (errors: readonly ErrorDetail[], status?: number) =>
      pageFormulaire(
        page,
        request,
        reply,
        titre,
        lecture.recherche ? [] : errors,
        vue(request, reply, action, attendus, saisieAReafficher(request.body), errors, lecture.candidats, retour),
        status,
      );
    const saisies = lecture.saisies;
    if (!saisies) return montrer(lecture.errors);
    if (lecture.franceConnect.length > 0 && deps.lancer) {
      return deps.lancer(request, reply, { familleId: compte.familleId, ...(demandeId ? { demandeId } : {}), saisies, franceConnect: lecture.franceConnect });
    }
    // An état civil typed is a try like a number, against the account and the address too.
    const essai = { compte: compte.compteId, adresse: request.ip };
    const acteur = { type: 'famille' as const, id: compte.compteId };
    let id = demandeId;
    try {
      if (id) {
        await deps.demandes.ressaisir(
          id,
          acteur,
          [...saisies].map(([parentRang, identifiant]) => ({ parentRang, identifiant })),
          essai,
        );
      } else {
        const consentement = { mode: 'en_ligne' as const, donnePar: { type: 'famille' as const, id: compte.familleId } };
        const foyersFiscaux: FoyerFiscalSoumis[] = [...saisies].map(([parentRang, identifiant]) => ({ parentRang, identifiant, consentement }));
        // The standing consent for renewal ticked at the consent step, if any.
        const renouvellement = parcoursDe(request, compte)?.renouvellement;
        ({ id } = await deps.demandes.soumettre({
          familleId: compte.familleId,
          canal: 'en_ligne',
          acteur,
          foyersFiscaux,
          correlationId: request.id,
          essai,
          ...(renouvellement ? { renouvellement } : {}),
        }));
        delete request.session.parcours;
      }
    } catch (error) {
      // Too many tries (anti-fishing): the same form, 429, with when to try again.
      const refus = refusDe(error, { kinds: ['rate_limited', 'invalid'], champ: () => null });
      return montrer(refus.errors, refus.status);
    }
    deps.wake();
    await deps.demandes.attendre(id, deps.attenteMs ?? 8_000);
    return reply.redirect(`/mon-quotient/demandes/${id}`, 303);
  }

  app.get('/mon-quotient/etat-civil', async (request, reply) => {
    const compte = request.compte;
    if (!compte) return reply.redirect('/connexion', 303);
    const parcours = parcoursDe(request, compte);
    if (!parcours || !ouvert) return reply.redirect(parcours ? '/mon-quotient/numero' : '/mon-quotient/accord', 303);
    const composition = await deps.familles.composition(compte.familleId);
    const attendus = voiesDe(deps.attendus(compte, composition, parcours.rangs), {});
    return page(
      request,
      reply,
      titre,
      vue(request, reply, '/mon-quotient/etat-civil', attendus, prerempli(composition, attendus), [], new Map(), '/mon-quotient/numero?voie=numero'),
    );
  });

  app.post('/mon-quotient/etat-civil', async (request, reply) => {
    const compte = requireFamille(request);
    const parcours = parcoursDe(request, compte);
    if (!parcours || !ouvert) return reply.redirect(parcours ? '/mon-quotient/numero' : '/mon-quotient/accord', 303);
    const composition = await deps.familles.composition(compte.familleId);
    return envoyer(request, reply, compte, deps.attendus(compte, composition, parcours.rangs));
  });

  // A request asked again (a FranceConnect sign-in that failed, an état civil to correct, one typed elsewhere).

  app.get('/mon-quotient/demandes/:id/etat-civil', async (request, reply) => {
    const compte = request.compte;
    if (!compte) return reply.redirect('/connexion', 303);
    const etat = await deps.demandeDe(compte, request);
    const base = ouvert ? await deps.ressaisieAttendus(compte, etat) : [];
    if (base.length === 0) return reply.redirect(`/mon-quotient/demandes/${etat.id}`, 303);
    const composition = await deps.familles.composition(compte.familleId);
    const attendus = voiesDe(base, {});
    const action = `/mon-quotient/demandes/${etat.id}/etat-civil`;
    return page(
      request,
      reply,
      titre,
      vue(request, reply, action, attendus, prerempli(composition, attendus), [], new Map(), `/mon-quotient/demandes/${etat.id}?voie=numero`),
    );
  });

  app.post('/mon-quotient/demandes/:id/etat-civil', async (request, reply) => {
    const compte = requireFamille(request);
    const etat = await deps.demandeDe(compte, request);
    const base = ouvert ? await deps.ressaisieAttendus(compte, etat) : [];
    // Nothing to give again (already relaunched, or calculated): back to the request's page.
    if (base.length === 0) return reply.redirect(`/mon-quotient/demandes/${etat.id}`, 303);
    return envoyer(request, reply, compte, base, etat.id);
  });
}
