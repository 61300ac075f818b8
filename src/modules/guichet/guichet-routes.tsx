import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { addDays, formatDateCourte, parseDateSaisie } from '../../domain/dates.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { AgentConnecte } from '../../http/acces/controle-acces.ts';
import {
  CLE_AGENT,
  NUMERO_FISCAL_EGARE,
  PARAMS_ID,
  coche,
  libre,
  nom,
  lireFormulaire,
  lireParams,
  numerosFiscaux,
  pageFormulaire,
  radio,
  refusDe,
  saisieAReafficher,
  champsEnErreur,
  texte,
  texteBrut,
} from '../../http/formulaire.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { FormulaireAccordPage } from './formulaire-accord.tsx';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { registerGuichetEtatCivilRoutes } from './etat-civil-routes.tsx';
import { EnvoiUnique, type SaisieGuichet } from './envoi-unique.ts';
import { requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { motsDuNom, type CriteresRecherche, type CompositionFamille } from '../familles/familles-service.ts';
import { champDeLaComposition, schemaComposition } from '../familles/formulaire-composition.tsx';
import { demandeIntrouvable, familleIntrouvable, type AccordRecu, type GuichetService } from './guichet-service.ts';
import { PageAttestation } from '../../http/ui/attestation.tsx';
import { envoyerPdf, exigerEnVigueur, qrCodeDe } from '../attestations/attestation-pdf.ts';
import {
  AccordPage,
  CreationPage,
  DemandePage,
  FichePage,
  MODES_GUICHET,
  NumeroPage,
  RecherchePage,
  declarantsPossibles,
  nomParent,
  type Ressaisie,
  type Valeurs,
} from './guichet-views.tsx';

export interface GuichetRoutesDeps {
  readonly commune: CommuneConfig;
  readonly guichet: GuichetService;
  /** How long the submission waits for the answer before showing the queue (default 8 s). */
  readonly attenteMs?: number;
  /** How an état civil is asked (SFiP, R2P), or `aucune`: then the counter asks only numéros fiscaux. */
  readonly voieEtatCivil?: VoieEtatCivil;
  /** The standing consent's maximum duration when the commune offers it (null or absent: not offered). */
  readonly dureeRenouvellement?: number | null;
}

/** The search of this session (shown again until replaced) and the consents of the request being entered. */
interface RechercheGuichet {
  readonly reference: string;
  readonly nom: string;
  readonly naissance: string;
}
declare module 'fastify' {
  interface Session {
    guichetRecherche?: RechercheGuichet;
  }
}

const REFRESH_SECONDS = 10;
const REFERENCE = /^F-[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const COURRIEL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PIECE_MAX = 200;

/** The search form; `aujourdhui` bounds the date of birth. */
const schemaRecherche = (aujourdhui: string) =>
  z
    .object({
      reference: texte(
        libre()
          .transform((v) => v.toUpperCase().replace(/\s+/g, ''))
          .refine(
            (v) => v === '' || REFERENCE.test(v),
            'La référence d’une famille s’écrit F-, 4 caractères, un tiret et 4 caractères, par exemple F-AB2C-DE3F.',
          ),
      ),
      nom: texte(nom().refine((v) => v === '' || (motsDuNom(v).length > 0 && v.length <= 100), 'Le nom doit comporter des lettres (100 caractères au plus).')),
      naissance: texte(
        libre().refine((v) => {
          const iso = parseDateSaisie(v);
          return v === '' || (iso !== null && iso <= aujourdhui);
        }, 'La date de naissance doit être une date passée au format JJ/MM/AAAA, par exemple 09/04/1981.'),
      ),
    })
    .refine((v) => v.reference !== '' || v.nom !== '' || v.naissance !== '', {
      message: 'Indiquez une référence de famille, un nom ou une date de naissance.',
      path: ['reference'],
    });

/** The creation form: the household (shared with « Mon foyer »), then residence and contact, and the confirmation that a homonym is another family. */
const schemaCreation = (aujourdhui: string) =>
  z.intersection(
    schemaComposition('agents', aujourdhui),
    z.object({
      resident: radio(['oui', 'non'], 'oui', 'Indiquez si la famille habite la commune.'),
      courriel: texte(
        libre().refine(
          (v) => v === '' || (COURRIEL.test(v) && v.length <= 200),
          'L’adresse électronique n’est pas valide : vérifiez-la, par exemple prenom.nom@exemple.fr.',
        ),
      ),
      doublon: coche('confirme'),
    }),
  );

/** The counter: find or create a family, enter a request received on paper or by e-mail, see its result. */
export function registerGuichetRoutes(app: FastifyInstance, deps: GuichetRoutesDeps): void {
  const { commune } = deps;
  const service = deps.guichet;
  const renouvellement = deps.dureeRenouvellement ?? null;
  const acteur = (agent: AgentConnecte) => ({ type: 'agent' as const, id: agent.id });
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) =>
    sendAgentPage(request, reply, commune, title, body, status);
  // Families and requests have UUIDs: anything else in the address is a page that does not exist
  // (and is never echoed into a redirection, where a line break or an emoji cannot go).
  const familleDe = (request: FastifyRequest) => lireParams(PARAMS_ID, request, familleIntrouvable).id;
  const demandeDe = (request: FastifyRequest) => lireParams(PARAMS_ID, request, demandeIntrouvable).id;
  const aujourdhui = () => parisDate(Date.now());
  const etatCivil = (deps.voieEtatCivil ?? 'aucune') !== 'aucune' && commune.habilitation.modalites.includes('etat-civil');
  /** Step 2 sent once, by the numéro fiscal's form or the état civil's. */
  const envoi = new EnvoiUnique();
  registerGuichetEtatCivilRoutes(app, {
    envoi,
    ouvert: etatCivil,
    commune,
    guichet: service,
    voie: deps.voieEtatCivil ?? 'aucune',
    ...(deps.attenteMs !== undefined ? { attenteMs: deps.attenteMs } : {}),
  });

  // ---------------------------------------------------------------------------------------
  // Find a family

  // The blank consent form, to print for a family that comes without one.
  app.get('/agents/guichet/formulaire-accord', async (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Formulaire d’accord à imprimer', <FormulaireAccordPage commune={commune.commune.nom} habilitation={commune.habilitation} />);
  });

  app.get('/agents/guichet', async (request, reply) => {
    const agent = requireAgent(request);
    const recherche = request.session.guichetRecherche;
    const resultat = recherche ? await service.rechercher(criteresDe(recherche), acteur(agent)) : null;
    return page(
      request,
      reply,
      'Accueil des familles',
      <RecherchePage csrf={reply.generateCsrf()} values={{ ...recherche }} errors={[]} resultat={resultat} />,
    );
  });

  // A POST, so that what is searched (or a numéro fiscal typed in the wrong field) never sits in an address.
  app.post('/agents/guichet/recherche', async (request, reply) => {
    requireAgent(request);
    const lecture = lireFormulaire(schemaRecherche(aujourdhui()), request.body);
    if (!lecture.ok) {
      return pageFormulaire(
        page,
        request,
        reply,
        'Accueil des familles',
        lecture.errors,
        <RecherchePage csrf={reply.generateCsrf()} values={saisieAReafficher(request.body)} errors={lecture.errors} resultat={null} />,
      );
    }
    request.session.guichetRecherche = lecture.values;
    return reply.redirect('/agents/guichet#resultats-titre', 303);
  });

  // ---------------------------------------------------------------------------------------
  // Create a family

  app.get('/agents/guichet/familles/nouvelle', (request, reply) => {
    requireAgent(request);
    return page(request, reply, 'Créer une famille', <CreationPage csrf={reply.generateCsrf()} values={{}} errors={[]} doublons={[]} />);
  });

  app.post('/agents/guichet/familles', async (request, reply) => {
    const agent = requireAgent(request);
    const erreur = (errors: readonly ErrorDetail[], doublons: Parameters<typeof CreationPage>[0]['doublons'] = []) =>
      pageFormulaire(
        page,
        request,
        reply,
        'Créer une famille',
        errors,
        <CreationPage csrf={reply.generateCsrf()} values={saisieAReafficher(request.body)} errors={errors} doublons={doublons} />,
      );
    const lecture = lireFormulaire(schemaCreation(aujourdhui()), request.body);
    if (!lecture.ok) return erreur(lecture.errors);
    const { parents, enfants, resident, courriel, doublon } = lecture.values;
    const p1 = parents[0];
    if (!doublon && p1) {
      // The same first parent already known: most often the family came before.
      const { familles } = await service.rechercher({ nom: p1.nomNaissance, ...(p1.dateNaissance ? { dateNaissance: p1.dateNaissance } : {}) }, acteur(agent));
      if (familles.length > 0) {
        return erreur(
          [
            {
              path: 'doublon',
              message:
                'Un parent de même nom et de même date de naissance est déjà connu : ouvrez la famille existante, ou cochez la case de confirmation pour en créer une autre.',
            },
          ],
          familles,
        );
      }
    }
    try {
      const { id } = await service.creer({ parents, enfants, resident: resident === 'oui', ...(courriel ? { courriel } : {}) }, acteur(agent));
      return reply.redirect(`/agents/guichet/familles/${id}`, 303);
    } catch (error) {
      return erreur(refusDe(error, { champ: champDeLaComposition }).errors);
    }
  });

  // ---------------------------------------------------------------------------------------
  // The family's page

  app.get('/agents/guichet/familles/:id', async (request, reply) => {
    const agent = requireAgent(request);
    const fiche = await service.fiche(familleDe(request), acteur(agent));
    return page(request, reply, `Famille ${fiche.composition.reference}`, <FichePage fiche={fiche} />);
  });

  // ---------------------------------------------------------------------------------------
  // A request received on paper or by e-mail. Step 1: how each declarant consented.

  const saisieDe = (request: FastifyRequest, familleId: string): SaisieGuichet | undefined => {
    const s = request.session.guichetSaisie;
    return s && s.familleId === familleId ? s : undefined;
  };

  app.get('/agents/guichet/familles/:id/demande', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = familleDe(request);
    const composition = await service.composition(familleId, acteur(agent), 'saisie');
    const values: Valeurs = {};
    const enCours = saisieDe(request, familleId);
    if (enCours) {
      // Coming back from step 2 to correct: the consents as entered.
      for (const a of enCours.accords)
        Object.assign(values, {
          [`mode-${a.rang}`]: a.mode,
          [`date-${a.rang}`]: a.date ? formatDateCourte(a.date) : '',
          [`piece-${a.rang}`]: a.piece,
          ...(a.renouvellement ? { [`renouvellement-${a.rang}`]: 'oui' } : {}),
        });
      const d = declarantsPossibles(composition);
      if (d.length === 2) values.avis = enCours.accords.length === 2 ? 'deux' : enCours.accords[0]?.rang === d[1]?.rang ? 'commun-2' : 'commun-1';
    }
    return page(
      request,
      reply,
      'Demande reçue sur papier ou par courriel',
      <AccordPage
        csrf={reply.generateCsrf()}
        familleId={familleId}
        composition={composition}
        habilitation={commune.habilitation}
        agent={`${agent.prenom} ${agent.nom}`}
        values={values}
        errors={[]}
        renouvellement={renouvellement}
      />,
    );
  });

  app.post('/agents/guichet/familles/:id/demande', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = familleDe(request);
    const composition = await service.composition(familleId, acteur(agent), 'saisie');
    const lecture = lireFormulaire(schemaAccords(composition, aujourdhui(), renouvellement !== null), request.body);
    if (!lecture.ok) {
      return pageFormulaire(
        page,
        request,
        reply,
        'Demande reçue sur papier ou par courriel',
        lecture.errors,
        <AccordPage
          csrf={reply.generateCsrf()}
          familleId={familleId}
          composition={composition}
          habilitation={commune.habilitation}
          agent={`${agent.prenom} ${agent.nom}`}
          values={saisieAReafficher(request.body)}
          errors={lecture.errors}
          renouvellement={renouvellement}
        />,
      );
    }
    request.session.guichetSaisie = { familleId, accords: lecture.values };
    return reply.redirect(`/agents/guichet/familles/${familleId}/demande/numero`, 303);
  });

  // Step 2: the numéros fiscaux, typed once.

  app.get('/agents/guichet/familles/:id/demande/numero', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = familleDe(request);
    const saisie = saisieDe(request, familleId);
    if (!saisie) return reply.redirect(`/agents/guichet/familles/${familleId}/demande`, 303);
    const composition = await service.composition(familleId, acteur(agent), 'saisie');
    return page(
      request,
      reply,
      'Numéro fiscal',
      <NumeroPage csrf={reply.generateCsrf()} familleId={familleId} composition={composition} accords={saisie.accords} errors={[]} etatCivil={etatCivil} />,
    );
  });

  app.post('/agents/guichet/familles/:id/demande/numero', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = familleDe(request);
    await envoi.apresEnvoiEnCours(request, familleId);
    const saisieEnCours = saisieDe(request, familleId);
    // The same form sent twice (double click, reload): no second request, no second DGFiP call; to the one created.
    const ailleurs = envoi.dejaEnvoye(request, familleId, saisieEnCours);
    if (ailleurs !== undefined || !saisieEnCours) return reply.redirect(ailleurs ?? `/agents/guichet/familles/${familleId}/demande`, 303);
    const saisie = saisieEnCours;
    const composition = await service.composition(familleId, acteur(agent), 'saisie');
    const attendus = saisie.accords.map((a) => ({ rang: a.rang, nom: nomDe(composition, a.rang) }));
    const lecture = lireFormulaire(numerosFiscaux(attendus, CLE_AGENT), request.body);
    let errors = lecture.ok ? [] : lecture.errors;
    let status = 400;
    if (lecture.ok) {
      const numeros = lecture.values;
      try {
        const foyersFiscaux = saisie.accords.flatMap((accord) => {
          const spi = numeros.get(accord.rang);
          return spi ? [{ accord, spi }] : [];
        });
        const envoye = await envoi.envoyer(request, saisie, (creee) =>
          service.soumettre(familleId, foyersFiscaux, acteur(agent), {
            correlationId: request.id,
            adresse: request.ip,
            creee,
            ...(deps.attenteMs !== undefined ? { attenteMs: deps.attenteMs } : {}),
          }),
        );
        return reply.redirect('ailleurs' in envoye ? envoye.ailleurs : `/agents/guichet/demandes/${envoye.envoye.id}`, 303);
      } catch (error) {
        // The request service's refusal, said on top of the form: its details name no field of this page.
        // Too many numbers typed (anti-fishing): 429, with when to try again.
        const refus = refusDe(error, { kinds: ['invalid', 'rate_limited'], champ: () => null });
        errors = refus.errors;
        status = refus.status;
      }
    }
    // The numbers typed are not sent back: the form asks for them again (invariant 1).
    return pageFormulaire(
      page,
      request,
      reply,
      'Numéro fiscal',
      errors,
      <NumeroPage csrf={reply.generateCsrf()} familleId={familleId} composition={composition} accords={saisie.accords} errors={errors} etatCivil={etatCivil} />,
      status,
    );
  });

  // ---------------------------------------------------------------------------------------
  // The request: queue, result, other outcomes; its attestation.

  async function ressaisieDe(
    demandeId: string,
    statut: string,
    composition: CompositionFamille,
    reply: FastifyReply,
    errors: ErrorDetail[],
  ): Promise<Ressaisie | undefined> {
    if (statut !== 'a_ressaisir' && statut !== 'echouee') return undefined;
    const rangs = await service.rangsARessaisir(demandeId);
    if (rangs.length === 0) return undefined;
    return { csrf: reply.generateCsrf(), attendus: rangs.map((rang) => ({ rang, nom: nomDe(composition, rang) })), errors };
  }

  app.get('/agents/guichet/demandes/:id', async (request, reply) => {
    const agent = requireAgent(request);
    const { etat, composition } = await service.demande(demandeDe(request), acteur(agent), 'suivi');
    if (etat.file) {
      // As on the family portal: the HTTP Refresh header, no script; the page's own address, without the form's fragment.
      reply.header('refresh', `${REFRESH_SECONDS}; url=/agents/guichet/demandes/${etat.id}`);
    }
    const ressaisie = await ressaisieDe(etat.id, etat.statut, composition, reply, []);
    return page(
      request,
      reply,
      `Demande ${etat.reference}`,
      <DemandePage etat={etat} composition={composition} refreshSeconds={REFRESH_SECONDS} {...(ressaisie ? { ressaisie } : {})} />,
    );
  });

  app.post('/agents/guichet/demandes/:id/ressaisie', async (request, reply) => {
    const agent = requireAgent(request);
    const { etat, composition } = await service.demande(demandeDe(request), acteur(agent), 'suivi');
    const ressaisie = await ressaisieDe(etat.id, etat.statut, composition, reply, []);
    // Nothing to type again (already relaunched, or calculated): back to the request's page.
    if (!ressaisie) return reply.redirect(`/agents/guichet/demandes/${etat.id}`, 303);
    const lecture = lireFormulaire(numerosFiscaux(ressaisie.attendus, CLE_AGENT), request.body);
    if (!lecture.ok) {
      return pageFormulaire(
        page,
        request,
        reply,
        `Demande ${etat.reference}`,
        lecture.errors,
        <DemandePage etat={etat} composition={composition} refreshSeconds={REFRESH_SECONDS} ressaisie={{ ...ressaisie, errors: lecture.errors }} />,
      );
    }
    const identifiants = ressaisie.attendus.flatMap((a) => {
      const spi = lecture.values.get(a.rang);
      return spi ? [{ parentRang: a.rang, spi }] : [];
    });
    // Above the anti-fishing limit, the error page says when to try again (429).
    await service.ressaisir(etat.id, identifiants, acteur(agent), deps.attenteMs ?? 8_000, request.ip);
    return reply.redirect(`/agents/guichet/demandes/${etat.id}`, 303);
  });

  app.get('/agents/guichet/demandes/:id/attestation', async (request, reply) => {
    const agent = requireAgent(request);
    const { attestation } = await service.attestation(demandeDe(request), acteur(agent));
    const retour = { href: `/agents/guichet/demandes/${attestation.demandeId}`, libelle: 'Revenir à la demande' };
    const chemin = (id: string) => `/agents/guichet/demandes/${id}/attestation`;
    const corps = <PageAttestation attestation={attestation} qrCode={await qrCodeDe(attestation)} chemin={chemin} retour={retour} />;
    return page(request, reply, 'Attestation de quotient familial', corps);
  });

  app.get('/agents/guichet/demandes/:id/attestation.pdf', async (request, reply) => {
    const agent = requireAgent(request);
    const { attestation } = await service.attestation(demandeDe(request), acteur(agent));
    return envoyerPdf(reply, exigerEnVigueur(attestation));
  });
}

function criteresDe(r: RechercheGuichet): CriteresRecherche {
  const dateNaissance = r.naissance ? parseDateSaisie(r.naissance) : null;
  return { ...(r.reference ? { reference: r.reference } : {}), ...(r.nom ? { nom: r.nom } : {}), ...(dateNaissance ? { dateNaissance } : {}) };
}

function nomDe(composition: CompositionFamille, rang: 1 | 2): string {
  const p = composition.parents.find((x) => x.rang === rang);
  return p ? nomParent(p) : `parent ${rang}`;
}

/**
 * Step 1's form: which avis are asked (with two declarants), and for each declarant how, when and
 * by which piece the consent came; a consent older than a year or dated in the future is refused.
 */
function schemaAccords(composition: CompositionFamille, aujourdhui: string, renouvellementPropose: boolean) {
  const declarants = declarantsPossibles(composition);
  const champs = ['avis', ...declarants.flatMap((p) => [`mode-${p.rang}`, `date-${p.rang}`, `piece-${p.rang}`, `renouvellement-${p.rang}`])];
  // Read as typed; the numéro fiscal's shape is checked below with the other rules, so every error shows at once.
  return z.object(Object.fromEntries(champs.map((id) => [id, texteBrut()]))).transform((values, ctx): AccordRecu[] => {
    const { signaler, enErreur } = champsEnErreur(ctx);
    const valeur = (id: string) => {
      const v = (values[id] ?? '').trim();
      if (!ressembleANumeroFiscal(v)) return v;
      signaler(id, NUMERO_FISCAL_EGARE);
      return '';
    };
    let rangs: Array<1 | 2>;
    if (declarants.length === 2) {
      const [a, b] = declarants as [CompositionFamille['parents'][number], CompositionFamille['parents'][number]];
      const choix: Record<string, Array<1 | 2>> = { 'commun-1': [a.rang], 'commun-2': [b.rang], deux: [a.rang, b.rang] };
      const avis = Object.hasOwn(choix, values.avis ?? '') ? choix[values.avis ?? ''] : undefined;
      if (!avis) {
        signaler('avis-commun-1', 'Indiquez quels avis d’imposition demander : un avis commun aux deux parents, ou un avis par parent.');
        return [];
      }
      rangs = avis;
    } else {
      rangs = [declarants[0]?.rang ?? 1];
    }
    const modes = new Map(MODES_GUICHET);
    const accords: AccordRecu[] = [];
    const unAn = addDays(aujourdhui, -366);
    for (const rang of rangs) {
      const nom = nomDe(composition, rang);
      const mode = valeur(`mode-${rang}`);
      if (!modes.has(mode as AccordRecu['mode']))
        signaler(`mode-${rang}-formulaire_signe`, `Indiquez comment ${nom} a donné son accord : formulaire signé ou courriel.`);
      const saisie = valeur(`date-${rang}`);
      const date = parseDateSaisie(saisie);
      if (enErreur(`date-${rang}`)) {
        // Already said: a numéro fiscal has no place there.
      } else if (saisie === '') signaler(`date-${rang}`, `Indiquez la date de l’accord de ${nom}, au format JJ/MM/AAAA.`);
      else if (!date)
        signaler(`date-${rang}`, `La date de l’accord de ${nom} n’est pas une date valide : écrivez-la au format JJ/MM/AAAA, par exemple 12/09/2025.`);
      else if (date > aujourdhui)
        signaler(`date-${rang}`, `La date de l’accord de ${nom} est dans le futur : indiquez le jour où le formulaire a été signé ou le courriel envoyé.`);
      else if (date < unAn) signaler(`date-${rang}`, `L’accord de ${nom} date de plus d’un an : demandez à la famille un accord récent.`);
      const piece = valeur(`piece-${rang}`);
      if (enErreur(`piece-${rang}`)) {
        // Already said: a numéro fiscal has no place there.
      } else if (piece === '')
        signaler(`piece-${rang}`, `Indiquez la référence du formulaire signé ou du courriel de ${nom}, pour pouvoir retrouver la pièce.`);
      else if (piece.length > PIECE_MAX) signaler(`piece-${rang}`, `La référence de la pièce de ${nom} est trop longue (${PIECE_MAX} caractères au plus).`);
      // The standing consent comes only on a signed form, with the same piece.
      const renouvellement = renouvellementPropose && valeur(`renouvellement-${rang}`) === 'oui';
      if (renouvellement && mode !== 'formulaire_signe' && modes.has(mode as AccordRecu['mode']))
        signaler(
          `renouvellement-${rang}`,
          `L’accord de renouvellement de ${nom} ne peut pas être donné par courriel : il faut le formulaire signé. Décochez la case, ou enregistrez le formulaire.`,
        );
      if (date && piece !== '') accords.push({ rang, mode: mode as AccordRecu['mode'], date, piece, ...(renouvellement ? { renouvellement } : {}) });
    }
    return accords;
  });
}
