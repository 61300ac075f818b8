import { sendFamilyPage } from '../../http/page-famille.tsx';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { QuotientError, isQuotientError, type ErrorDetail } from '../../domain/errors.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { requireFamille } from '../../http/espace-famille.ts';
import {
  CLE_FAMILLE,
  PARAMS_ID,
  champsEnErreur,
  coche,
  libre,
  lireFormulaire,
  lireParams,
  numerosFiscaux,
  pageFormulaire,
  refusDe,
  lireChamps,
  saisieAReafficher,
  texte,
  texteOptionnel,
} from '../../http/formulaire.ts';
import { PageAttestation } from '../../http/ui/attestation.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { etatCivilOuvert, registerEtatCivilRoutes } from './etat-civil-routes.tsx';
import { envoyerPdf, exigerEnVigueur, qrCodeDe } from '../attestations/attestation-pdf.ts';
import type { AttestationsService } from '../attestations/attestations-service.ts';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import type { FranceConnectClient } from '../comptes/franceconnect-client.ts';
import type { DemandesService, EtatDemande, FoyerFiscalSoumis } from '../demandes/demandes-service.ts';
import type { FamillesService, CompositionFamille, JointAContestation } from '../familles/familles-service.ts';
import { CHAMPS_FRANCECONNECT, champDeLaComposition, schemaComposition, valeursDeLaComposition } from '../familles/formulaire-composition.tsx';
import type { RenouvellementService } from '../renouvellement/renouvellement-service.ts';
import { registerAvisFranceConnect, type Saisie } from './avis-franceconnect.tsx';
import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { registerMesDonneesRoutes } from './mes-donnees-routes.tsx';
import { MOTIFS_CONFIDENTIELS } from '../demandes/motifs.ts';
import type { AvisService } from '../avis/avis-service.ts';
import { estEnvoiFichier } from '../../http/multipart.ts';
import { HistoriquePage } from './quotient-views.tsx';
import { registerNouvelleDemande } from './nouvelle-demande.tsx';
import {
  AccordPage,
  AttentePage,
  ContestationPage,
  CompositionPage,
  InformationPage,
  MessagePage,
  NumeroPage,
  ResultatPage,
  StatutPage,
  parentsCohabitants,
  type NumeroAttendu,
  type Ressaisie,
} from './portail-views.tsx';

/** The services the portal uses, composed in src/app/compose.ts. */
export interface PortailServices {
  readonly demandes: Pick<DemandesService, 'soumettre' | 'etat' | 'attendre' | 'ressaisir' | 'foyersARessaisir'>;
  readonly familles: FamillesService;
  /** The attestation of a QF, the same as the counter prints. */
  readonly attestations: Pick<AttestationsService, 'attestation'>;
  /** Where a family's tries on another family's requests are traced. */
  readonly journal: Pick<JournalAudit, 'append'>;
  /** Tells the processing loop a request was just queued. */
  readonly wake: () => void;
  /** The standing consents for renewal: offered on the consent step, shown and withdrawn in « Mes données ». */
  readonly renouvellement?: Pick<RenouvellementService, 'dureeMaxAns' | 'consentements' | 'retirer'>;
  /** The silo of uploaded documents: a contestation may carry one (checked and kept as an avis is). */
  readonly avis?: Pick<AvisService, 'verifier' | 'joindreAContestation'>;
}

export interface PortailRoutesDeps extends PortailServices {
  readonly commune: CommuneConfig;
  /** The policy in force today (it changes when an administrator activates a version). */
  readonly politique: () => PolitiqueTarifaire;
  /** FranceConnect, when set up: families sign in with it, and a declarant's avis may be asked with it. */
  readonly franceConnect?: Pick<FranceConnectClient, 'start' | 'finish' | 'porteesManquantes'>;
  readonly publicUrl: string;
  /** How long the submission waits for the answer before showing the queue (default 8 s). */
  readonly attenteMs?: number;
  /** How an état civil would be asked (SFiP, R2P), or `aucune`: then no « Je n'ai pas mon numéro fiscal ». */
  readonly voieEtatCivil?: VoieEtatCivil;
}

/**
 * Between steps 2 and 3: who consented, and whether one or two avis are asked. Never a numéro
 * fiscal: those go from the form of step 3 straight to the request service's memory.
 */
interface Parcours {
  readonly rangs: Array<1 | 2>;
  readonly accordLe: string;
  readonly familleId: string;
  /** The declarants who also ticked the standing consent for renewal (recorded with the request). */
  readonly renouvellement?: Array<1 | 2>;
}

declare module 'fastify' {
  interface Session {
    parcours?: Parcours;
  }
}

const REFRESH_SECONDS = 10;

/** One answer for « not yours » and « does not exist »: nothing tells another family's request apart. */
const introuvable = () => new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');

/** The family portal: compute my quotient step by step, history and rights. */
export function registerPortailRoutes(app: FastifyInstance, deps: PortailRoutesDeps): void {
  const { demandes, familles, commune } = deps;
  /** The standing consent's maximum duration when the commune offers it, else null. */
  const dureeRenouvellement = deps.renouvellement?.dureeMaxAns ?? null;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendFamilyPage(request, reply, commune, title, body, status);
  const acteurDe = (compte: CompteConnecte): Acteur => ({ type: 'famille', id: compte.compteId });
  // Pages of a signed-in family: an anonymous visitor is sent to sign in first.
  const signedIn = (request: FastifyRequest, reply: FastifyReply): CompteConnecte | undefined => {
    if (request.compte) return request.compte;
    void reply.redirect('/connexion', 303);
    return undefined;
  };
  // Answers that depend on the person are never cached (shared computers, back button).
  app.addHook('onSend', async (request, reply) => {
    if (request.compte && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  /** The request of the route, only if it belongs to this family. */
  async function demandeDe(compte: CompteConnecte, request: FastifyRequest): Promise<EtatDemande> {
    const { id } = lireParams(PARAMS_ID, request, introuvable);
    const etat = await demandes.etat(id).catch((error: unknown) => {
      if (isQuotientError(error) && error.kind === 'not_found') throw introuvable();
      throw error;
    });
    if (etat.familleId !== compte.familleId) {
      // Another family's request: the same answer as for none, and a trace (someone trying ids).
      await deps.journal.append({
        actor: acteurDe(compte),
        action: 'acces.refuse',
        target: { type: 'demande', id },
        outcome: 'refus',
        details: { motif: 'autre_famille' },
      });
      throw introuvable();
    }
    return etat;
  }

  /** FranceConnect may be used for an avis: set up, and allowed by the habilitation. */
  const franceConnect = commune.habilitation.modalites.includes('franceconnect') ? deps.franceConnect : undefined;
  const voie = deps.voieEtatCivil ?? 'aucune';
  const etatCivil = etatCivilOuvert(commune, voie);
  const avisFranceConnect = franceConnect
    ? registerAvisFranceConnect(app, {
        franceConnect,
        demandes,
        publicUrl: deps.publicUrl,
        clock: Date.now,
        wake: deps.wake,
        attenteMs: deps.attenteMs ?? 8_000,
        etatCivil,
        page,
        acteurDe,
        signedIn,
      })
    : undefined;

  /** Who will be asked, and how: FranceConnect offered to each declarant when allowed, chosen for the signed-in first parent. */
  function attendus(compte: CompteConnecte, composition: CompositionFamille, rangs: ReadonlyArray<1 | 2>, voies: Voies = {}): NumeroAttendu[] {
    return rangs.map((rang) => {
      const p = composition.parents.find((x) => x.rang === rang);
      const parDefaut = franceConnect && rang === 1 && compte.kind === 'franceconnect' ? 'franceconnect' : 'numero';
      const v = voies[rang];
      const choisie = v === 'franceconnect' || v === 'numero' || v === 'etat_civil' ? v : parDefaut;
      return {
        rang,
        nom: p ? `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}` : `parent ${rang}`,
        franceConnect: franceConnect !== undefined,
        voie: franceConnect || choisie !== 'franceconnect' ? choisie : 'numero',
      };
    });
  }

  /**
   * Step 3's form, and the re-entry's: the numéro fiscal of each declarant for whom it is chosen. Then
   * the request is submitted (or relaunched) at once, or, when FranceConnect is chosen for someone,
   * the family goes to FranceConnect and the request is made on its return.
   */
  function lireVoies(liste: readonly NumeroAttendu[], body: unknown) {
    const voies = lireChamps(VOIES, body);
    const choisis = attendusAvecVoies(liste, { 1: voies['voie-1'], 2: voies['voie-2'] });
    const lecture = lireFormulaire(
      numerosFiscaux(
        choisis.filter((a) => a.voie === 'numero'),
        CLE_FAMILLE,
      ),
      body,
    );
    return { choisis, lecture, franceConnect: choisis.filter((a) => a.voie === 'franceconnect').map((a) => a.rang) };
  }

  // A QF already in force: why ask again? Asked before any step that leads to a DGFiP call.
  const { detour } = registerNouvelleDemande(app, { familles, journal: deps.journal, page, signedIn, acteurDe });

  // ---------------------------------------------------------------------------------------
  // Step 1

  app.get('/mon-quotient', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const ailleurs = await detour(request, compte);
    if (ailleurs) return reply.redirect(ailleurs, 303);
    const composition = await familles.composition(compte.familleId);
    const fc = attendus(compte, composition, [1])[0]?.voie === 'franceconnect';
    return page(
      request,
      reply,
      'Calculer mon quotient familial',
      <InformationPage commune={commune} politique={deps.politique()} composition={composition} franceConnect={fc} />,
    );
  });

  // ---------------------------------------------------------------------------------------
  // Step 2

  app.get('/mon-quotient/accord', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const ailleurs = await detour(request, compte);
    if (ailleurs) return reply.redirect(ailleurs, 303);
    const composition = await familles.composition(compte.familleId);
    if (composition.aCompleter) return reply.redirect('/mon-foyer', 303);
    // Nothing is ticked beforehand, the standing consent least of all.
    return page(
      request,
      reply,
      'Votre accord',
      <AccordPage csrf={reply.generateCsrf()} commune={commune} composition={composition} errors={[]} values={{}} renouvellement={dureeRenouvellement} />,
    );
  });

  app.post('/mon-quotient/accord', async (request, reply) => {
    const compte = requireFamille(request);
    const ailleurs = await detour(request, compte);
    if (ailleurs) return reply.redirect(ailleurs, 303);
    const composition = await familles.composition(compte.familleId);
    if (composition.aCompleter) return reply.redirect('/mon-foyer', 303);
    const lecture = lireFormulaire(schemaAccord(composition, dureeRenouvellement !== null), request.body);
    if (!lecture.ok) {
      return pageFormulaire(
        page,
        request,
        reply,
        'Votre accord',
        lecture.errors,
        <AccordPage
          csrf={reply.generateCsrf()}
          commune={commune}
          composition={composition}
          errors={lecture.errors}
          values={saisieAReafficher(request.body)}
          renouvellement={dureeRenouvellement}
        />,
      );
    }
    const { rangs, renouvellement } = lecture.values;
    request.session.parcours = {
      rangs,
      accordLe: new Date().toISOString(),
      familleId: compte.familleId,
      ...(renouvellement.length > 0 ? { renouvellement } : {}),
    };
    return reply.redirect('/mon-quotient/numero', 303);
  });

  // ---------------------------------------------------------------------------------------
  // Step 3 and submission

  registerEtatCivilRoutes(app, {
    demandes,
    familles,
    wake: deps.wake,
    commune,
    voie,
    attendus,
    demandeDe,
    ressaisieAttendus: async (compte, etat) => (await ressaisieDe(compte, etat, undefined, []))?.ressaisie?.attendus ?? [],
    ...(avisFranceConnect ? { lancer: avisFranceConnect.lancer } : {}),
    ...(deps.attenteMs !== undefined ? { attenteMs: deps.attenteMs } : {}),
  });

  const parcoursDe = (request: FastifyRequest, compte: CompteConnecte): Parcours | undefined => {
    const p = request.session.parcours;
    return p && p.familleId === compte.familleId ? p : undefined;
  };

  app.get('/mon-quotient/numero', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const parcours = parcoursDe(request, compte);
    if (!parcours) return reply.redirect('/mon-quotient/accord', 303);
    const composition = await familles.composition(compte.familleId);
    // Coming back from a FranceConnect sign-in that failed, the way the family chose there.
    const choix = voieChoisie(request.query);
    return page(
      request,
      reply,
      'Votre numéro fiscal',
      <NumeroPage
        csrf={reply.generateCsrf()}
        attendus={attendus(compte, composition, parcours.rangs, choix ? { 1: choix, 2: choix } : {})}
        errors={[]}
        etatCivil={etatCivil}
      />,
    );
  });

  app.post('/mon-quotient/numero', async (request, reply) => {
    const compte = requireFamille(request);
    const parcours = parcoursDe(request, compte);
    if (!parcours) return reply.redirect('/mon-quotient/accord', 303);
    const composition = await familles.composition(compte.familleId);
    const { choisis: liste, lecture, franceConnect: parFranceConnect } = lireVoies(attendus(compte, composition, parcours.rangs), request.body);
    if (!lecture.ok) {
      // The numbers typed are not sent back: the page asks for them again (invariant 1).
      return pageFormulaire(
        page,
        request,
        reply,
        'Votre numéro fiscal',
        lecture.errors,
        <NumeroPage csrf={reply.generateCsrf()} attendus={liste} errors={lecture.errors} etatCivil={etatCivil} />,
      );
    }
    if (avisFranceConnect && parFranceConnect.length > 0) {
      return avisFranceConnect.lancer(request, reply, { familleId: compte.familleId, saisies: saisiesDe(lecture.values), franceConnect: parFranceConnect });
    }
    const consentement = { mode: 'en_ligne' as const, donnePar: { type: 'famille' as const, id: compte.familleId } };
    const foyersFiscaux: FoyerFiscalSoumis[] = liste.flatMap((a): FoyerFiscalSoumis[] => {
      const spi = lecture.values.get(a.rang);
      return spi ? [{ parentRang: a.rang, identifiant: { spi }, consentement }] : [];
    });
    let id: string;
    try {
      ({ id } = await demandes.soumettre({
        familleId: compte.familleId,
        canal: 'en_ligne',
        acteur: acteurDe(compte),
        foyersFiscaux,
        correlationId: request.id,
        essai: { compte: compte.compteId, adresse: request.ip },
        ...(parcours.renouvellement ? { renouvellement: parcours.renouvellement } : {}),
      }));
    } catch (error) {
      // Too many numbers typed (anti-fishing): the same page, 429, with when to try again.
      const refus = refusDe(error, { kinds: ['rate_limited'], champ: () => null });
      return pageFormulaire(
        page,
        request,
        reply,
        'Votre numéro fiscal',
        refus.errors,
        <NumeroPage csrf={reply.generateCsrf()} attendus={liste} errors={refus.errors} etatCivil={etatCivil} />,
        refus.status,
      );
    }
    delete request.session.parcours;
    // The reason given serves this one request; another one will be asked again.
    delete request.session.raisonNouvelleDemande;
    deps.wake();
    // The answer at once when the quota allows; otherwise the page of the request shows the queue.
    await demandes.attendre(id, deps.attenteMs ?? 8_000);
    return reply.redirect(`/mon-quotient/demandes/${id}`, 303);
  });

  // ---------------------------------------------------------------------------------------
  // Step 4: the request, its result, its attestation, its contestation

  app.get('/mon-quotient/demandes/:id', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const etat = await demandeDe(compte, request);
    if (etat.file) {
      // The HTTP Refresh header rather than <meta refresh>: same effect without script, and the page itself stays still for assistive tools.
      // With the page's own address: the submission leaves an #erreurs fragment in the browser's, and a refresh
      // to an address with a fragment is a jump within the page that never asks the server again.
      reply.header('refresh', `${REFRESH_SECONDS}; url=/mon-quotient/demandes/${etat.id}`);
      return page(request, reply, 'Demande en attente', <AttentePage etat={etat} refreshSeconds={REFRESH_SECONDS} />);
    }
    if (!etat.quotient) {
      const choix = voieChoisie(request.query);
      return page(
        request,
        reply,
        `Demande ${etat.reference}`,
        <StatutPage etat={etat} commune={commune} {...await ressaisieDe(compte, etat, reply, [], choix)} />,
      );
    }
    const donnees = await familles.donneesUtilisees(compte.familleId, etat.id, acteurDe(compte));
    return page(request, reply, 'Votre quotient familial', <ResultatPage etat={etat} donnees={donnees} commune={commune} />);
  });

  /**
   * For a request whose numéro fiscal must be typed again (lost at a restart, or the call failed): who
   * to ask, each the way it was asked (a FranceConnect sign-in to redo stays one) unless the family
   * chose another way (`choix`, from a page that said FranceConnect failed); and where the état civil is given.
   */
  async function ressaisieDe(
    compte: CompteConnecte,
    etat: EtatDemande,
    reply: FastifyReply | undefined,
    errors: ErrorDetail[],
    choix?: 'franceconnect' | 'numero',
  ): Promise<{ ressaisie?: Ressaisie }> {
    // In review because no avis matched the numbers typed: the family may correct them itself. Offered for every reason the
    // family reads the same way (an unknown number, someone else's, a close match), so that the offer tells none apart.
    const corrigible = etat.statut === 'a_verifier' && etat.motifCode !== null && MOTIFS_CONFIDENTIELS.has(etat.motifCode);
    if (etat.statut !== 'a_ressaisir' && etat.statut !== 'echouee' && !corrigible) return {};
    const foyers = (await demandes.foyersARessaisir(etat.id, corrigible ? { recusAussi: true } : {})).filter((f) => !corrigible || f.voie === 'numero_fiscal');
    if (foyers.length === 0) return {};
    const composition = await familles.composition(compte.familleId);
    // An état civil is given again on its own page; this form offers the numéro fiscal instead.
    const liste = attendus(
      compte,
      composition,
      foyers.map((f) => f.rang),
      Object.fromEntries(foyers.map((f) => [f.rang, choix ?? (f.voie === 'franceconnect' ? 'franceconnect' : 'numero')])),
    );
    return {
      ressaisie: {
        csrf: reply?.generateCsrf() ?? '',
        attendus: liste,
        errors,
        parEtatCivil: foyers.filter((f) => f.voie === 'etat_civil').map((f) => f.rang),
        ...(etatCivil ? { etatCivil: `/mon-quotient/demandes/${etat.id}/etat-civil` } : {}),
      },
    };
  }

  app.post('/mon-quotient/demandes/:id/ressaisie', async (request, reply) => {
    const compte = requireFamille(request);
    const etat = await demandeDe(compte, request);
    const { ressaisie } = await ressaisieDe(compte, etat, reply, []);
    // Nothing to type again (already relaunched, or calculated): back to the request's page.
    if (!ressaisie) return reply.redirect(`/mon-quotient/demandes/${etat.id}`, 303);
    const { choisis, lecture, franceConnect: parFranceConnect } = lireVoies(ressaisie.attendus, request.body);
    if (!lecture.ok) {
      // The numbers typed are not sent back: the form asks for them again (invariant 1).
      return pageFormulaire(
        page,
        request,
        reply,
        `Demande ${etat.reference}`,
        lecture.errors,
        <StatutPage etat={etat} commune={commune} ressaisie={{ ...ressaisie, attendus: choisis, errors: lecture.errors }} />,
      );
    }
    if (avisFranceConnect && parFranceConnect.length > 0) {
      return avisFranceConnect.lancer(request, reply, {
        familleId: compte.familleId,
        demandeId: etat.id,
        saisies: saisiesDe(lecture.values),
        franceConnect: parFranceConnect,
      });
    }
    const identifiants = choisis.flatMap((a) => {
      const spi = lecture.values.get(a.rang);
      return spi ? [{ parentRang: a.rang, identifiant: { spi } }] : [];
    });
    // Above the anti-fishing limit, the error page says when to try again (429).
    await demandes.ressaisir(etat.id, acteurDe(compte), identifiants, { compte: compte.compteId, adresse: request.ip });
    deps.wake();
    await demandes.attendre(etat.id, deps.attenteMs ?? 8_000);
    return reply.redirect(`/mon-quotient/demandes/${etat.id}`, 303);
  });

  // The attestation, the same as the counter's: its page (print, PDF) and its PDF.
  app.get('/mon-quotient/demandes/:id/attestation', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const etat = await demandeDe(compte, request);
    if (!etat.quotient) throw introuvable();
    const attestation = await deps.attestations.attestation(etat.id, acteurDe(compte));
    const retour = { href: `/mon-quotient/demandes/${etat.id}`, libelle: 'Revenir à mon quotient' };
    const chemin = (id: string) => `/mon-quotient/demandes/${id}/attestation`;
    const corps = <PageAttestation attestation={attestation} qrCode={await qrCodeDe(attestation)} chemin={chemin} retour={retour} />;
    return page(request, reply, 'Attestation de quotient familial', corps);
  });

  app.get('/mon-quotient/demandes/:id/attestation.pdf', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const etat = await demandeDe(compte, request);
    if (!etat.quotient) throw introuvable();
    return envoyerPdf(reply, exigerEnVigueur(await deps.attestations.attestation(etat.id, acteurDe(compte))));
  });

  // The file field of the contestation form, when the silo of documents is wired.
  const piece = deps.avis ? { piece: { tailleMaxKo: commune.avisDepose.tailleMaxKo, joursMax: commune.avisDepose.conservationJoursMax } } : {};

  app.get('/mon-quotient/demandes/:id/contestation', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const etat = await demandeDe(compte, request);
    return page(request, reply, 'Signaler une erreur', <ContestationPage csrf={reply.generateCsrf()} etat={etat} errors={[]} motif="" {...piece} />);
  });

  app.post('/mon-quotient/demandes/:id/contestation', async (request, reply) => {
    const compte = requireFamille(request);
    const etat = await demandeDe(compte, request);
    // A numéro fiscal pasted into the message would be stored: refused, and the text not echoed.
    const erreur = (errors: readonly ErrorDetail[]) =>
      pageFormulaire(
        page,
        request,
        reply,
        'Signaler une erreur',
        errors,
        <ContestationPage csrf={reply.generateCsrf()} etat={etat} errors={errors} motif={saisieAReafficher(request.body).motif ?? ''} {...piece} />,
      );
    const lecture = lireFormulaire(CONTESTATION, request.body);
    if (!lecture.ok) return erreur(lecture.errors);
    // A document joined is checked first (size, type, content), so that a wrong one is said before anything is written.
    const fichier = (request.body as Record<string, unknown> | undefined)?.['piece'];
    const octets = deps.avis && estEnvoiFichier(fichier) && fichier.octets.length > 0 ? fichier.octets : undefined;
    if (octets && deps.avis) {
      try {
        deps.avis.verifier(octets);
      } catch (error) {
        return erreur(refusDe(error, { kinds: ['invalid'], champ: (d) => ({ path: 'piece', message: d.message }) }).errors);
      }
    }
    const avis = deps.avis;
    const joindre =
      octets && avis
        ? (trx: Parameters<JointAContestation>[0], id: string) => avis.joindreAContestation(trx, compte.familleId, id, octets, acteurDe(compte))
        : undefined;
    try {
      await familles.contester(compte.familleId, etat.id, lecture.values.motif, acteurDe(compte), joindre);
    } catch (error) {
      // The service's message, on the one field.
      return erreur(refusDe(error, { champ: () => null }).errors.map((e) => ({ ...e, path: 'motif' })));
    }
    return page(
      request,
      reply,
      'Signalement envoyé',
      <MessagePage title="Votre signalement est enregistré">
        <p class="lead">Un agent du {commune.contact.service} va l’examiner et vous répondra. Votre tarif actuel reste appliqué en attendant.</p>
        {octets ? <p>Votre document est joint au signalement ; il sera détruit dès la réponse de l’agent.</p> : null}
        <p>
          <a href="/mes-demandes">Mes demandes</a>
        </p>
      </MessagePage>,
    );
  });

  // ---------------------------------------------------------------------------------------
  // History and rights

  app.get('/mes-demandes', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const [historique, contestations] = await Promise.all([familles.historique(compte.familleId), familles.contestations(compte.familleId)]);
    const enVigueur = historique.find((d) => d.quotient?.etat === 'en_vigueur')?.quotient ?? undefined;
    return page(request, reply, 'Mes demandes', <HistoriquePage demandes={historique} contestations={contestations} enVigueur={enVigueur} />);
  });

  registerMesDonneesRoutes(app, { familles, page, signedIn, acteurDe, ...(deps.renouvellement ? { renouvellement: deps.renouvellement } : {}) });

  // ---------------------------------------------------------------------------------------
  // Mon foyer

  app.get('/mon-foyer', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const composition = await familles.composition(compte.familleId);
    return page(
      request,
      reply,
      'Mon foyer',
      <CompositionPage
        csrf={reply.generateCsrf()}
        values={valeursDeLaComposition(composition)}
        errors={[]}
        enregistre={false}
        parent1FranceConnect={compte.franceConnect !== null}
      />,
    );
  });

  app.post('/mon-foyer', async (request, reply) => {
    const compte = requireFamille(request);
    const parent1FranceConnect = compte.franceConnect !== null;
    const erreur = async (errors: readonly ErrorDetail[], status?: number) => {
      const values = saisieAReafficher(request.body);
      // Parent 1's identity shown again as FranceConnect gave it, never as posted.
      if (parent1FranceConnect) {
        const enregistre = valeursDeLaComposition(await familles.composition(compte.familleId));
        for (const champ of CHAMPS_FRANCECONNECT) values[champ] = enregistre[champ] ?? '';
      }
      return pageFormulaire(
        page,
        request,
        reply,
        'Mon foyer',
        errors,
        <CompositionPage csrf={reply.generateCsrf()} values={values} errors={errors} enregistre={false} parent1FranceConnect={parent1FranceConnect} />,
        status,
      );
    };
    const lecture = lireFormulaire(z.intersection(schemaComposition('famille', parisDate(Date.now())), z.object({ 'hors-commune': coche() })), request.body);
    if (!lecture.ok) return erreur(lecture.errors);
    const { parents, enfants, 'hors-commune': horsCommune } = lecture.values;
    try {
      await familles.mettreAJour(compte.familleId, { parents, enfants, resident: !horsCommune }, acteurDe(compte), { parent1FranceConnect });
    } catch (error) {
      const refus = refusDe(error, { kinds: ['invalid', 'forbidden'], champ: champDeLaComposition });
      return erreur(refus.errors, refus.status);
    }
    return reply.redirect('/mon-quotient', 303);
  });
}

/** How each declarant's avis is asked, as chosen on the form (`voie-<rang>`); anything else keeps the default. */
type Voies = Partial<Record<1 | 2, string | undefined>>;
const VOIES = z.object({ 'voie-1': texteOptionnel(), 'voie-2': texteOptionnel() });
const CHOIX = z.object({ voie: texteOptionnel() });

/** `?voie=` of a link from a page that said FranceConnect failed: the way the family chose there. */
function voieChoisie(query: unknown): 'franceconnect' | 'numero' | undefined {
  const v = lireChamps(CHOIX, query ?? {}).voie;
  return v === 'franceconnect' || v === 'numero' ? v : undefined;
}

/** The numéros fiscaux typed, as what waits in memory while the family is at FranceConnect. */
const saisiesDe = (numeros: ReadonlyMap<1 | 2, NumeroFiscal>): Map<1 | 2, Saisie> => new Map([...numeros].map(([rang, spi]) => [rang, { spi }]));

/** The choice posted, where FranceConnect is offered; the numéro fiscal where it is not. */
function attendusAvecVoies(liste: readonly NumeroAttendu[], voies: Voies): NumeroAttendu[] {
  return liste.map((a) => {
    const v = voies[a.rang];
    return a.franceConnect && (v === 'franceconnect' || v === 'numero') ? { ...a, voie: v } : a;
  });
}

/** The message of a contestation; the service checks its length. */
const CONTESTATION = z.object({ motif: texte(libre('Votre message semble contenir un numéro fiscal : retirez-le, il n’est pas nécessaire.')) });

/**
 * Step 2's form: with two parents in the household, one avis or two; each declarant whose avis is
 * asked ticks their consent. A parent who lives elsewhere is not asked: neither the question of
 * one or two avis, nor a consent. The ranks whose avis is asked.
 */
function schemaAccord(composition: CompositionFamille, renouvellementPropose: boolean) {
  const declarants = parentsCohabitants(composition);
  return z
    .object({ situation: texte(), 'accord-1': coche(), 'accord-2': coche(), 'renouvellement-1': coche(), 'renouvellement-2': coche() })
    .transform((v, ctx): { rangs: Array<1 | 2>; renouvellement: Array<1 | 2> } => {
      const { signaler } = champsEnErreur(ctx);
      const situation = v.situation === 'commune' || v.situation === 'separee' ? v.situation : undefined;
      const deux = declarants.length === 2;
      if (deux && !situation) signaler('situation-commune', 'Indiquez si les deux parents font une seule déclaration de revenus ou chacun la sienne.');
      // Unmarried parents: two avis, two consents. Otherwise the first declarant's avis.
      const rangs: Array<1 | 2> = deux && situation === 'separee' ? [1, 2] : [declarants[0]?.rang ?? 1];
      const nomDe = (rang: 1 | 2) => {
        const p = composition.parents.find((x) => x.rang === rang);
        return p ? `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}` : `parent ${rang}`;
      };
      for (const rang of rangs) {
        if (!v[`accord-${rang}`]) {
          signaler(`accord-${rang}`, `Cochez la case d’accord de ${nomDe(rang)} : sans son accord, son avis ne peut pas être demandé.`);
        }
      }
      // Only what was ticked, and only where the commune offers it.
      const renouvellement: Array<1 | 2> = [];
      for (const rang of [1, 2] as const) {
        if (!renouvellementPropose || !v[`renouvellement-${rang}`] || !declarants.some((p) => p.rang === rang)) continue;
        if (!rangs.includes(rang)) {
          // A joint avis is asked with the first declarant's consent: so is its renewal.
          if (situation !== undefined || !deux)
            signaler(
              `renouvellement-${rang}`,
              `Avec un seul avis commun, l’avis est redemandé avec l’accord de ${nomDe(rangs[0] ?? 1)} : décochez la case de renouvellement de ${nomDe(rang)}, ou cochez celle de ${nomDe(rangs[0] ?? 1)}.`,
            );
          continue;
        }
        renouvellement.push(rang);
      }
      return { rangs, renouvellement };
    });
}
