import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { formatDateCourte, parseDateSaisie } from '../../domain/dates.ts';
import { QuotientError, isQuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { NumeroFiscal, ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { requireFamille } from '../../http/espace-famille.ts';
import { pageContext, sendPage } from '../../http/render.tsx';
import { Layout } from '../../http/ui/layout.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import type { DemandesService, EtatDemande, FoyerSoumis } from '../demandes/demandes-service.ts';
import type { JournalAudit } from '../audit/index.ts';
import type { Acteur } from '../demandes/ports.ts';
import { exportEnTexte } from '../familles/export-texte.ts';
import type { FamillesService, FoyerFamille } from '../familles/familles-service.ts';
import {
  AccordPage,
  AttentePage,
  ContestationPage,
  ENFANTS_MAX,
  ExportTextePage,
  FOYER_PARENT2,
  FoyerPage,
  HistoriquePage,
  InformationPage,
  MesDonneesPage,
  MessagePage,
  NumeroPage,
  RESIDENCES,
  ResultatPage,
  StatutPage,
  parentsDuFoyer,
  type AccordValues,
  type FoyerValues,
  type NumeroAttendu,
  type Ressaisie,
} from './portail-views.tsx';

/** The services the portal uses, composed in src/app/compose.ts. */
export interface PortailServices {
  readonly demandes: Pick<DemandesService, 'soumettre' | 'etat' | 'attendre' | 'ressaisir' | 'rangsARessaisir'>;
  readonly familles: FamillesService;
  /** Where a family's tries on another family's requests are traced. */
  readonly journal: Pick<JournalAudit, 'append'>;
  /** Tells the processing loop a request was just queued. */
  readonly wake: () => void;
}

export interface PortailRoutesDeps extends PortailServices {
  readonly commune: CommuneConfig;
  /** The policy in force today (it changes when an administrator activates a version). */
  readonly politique: () => PolitiqueTarifaire;
  /** True when families may sign in with FranceConnect (then no numéro fiscal is asked). */
  readonly franceConnect: boolean;
  /** How long the submission waits for the answer before showing the queue (default 8 s). */
  readonly attenteMs?: number;
}

/**
 * Between steps 2 and 3: who consented, and whether one or two avis are asked. Never a numéro
 * fiscal: those go from the form of step 3 straight to the request service's memory.
 */
interface Parcours {
  readonly rangs: Array<1 | 2>;
  readonly accordLe: string;
  readonly familleId: string;
}

declare module 'fastify' {
  interface Session {
    parcours?: Parcours;
  }
}

type Body = Record<string, string | string[] | undefined>;
const field = (body: unknown, name: string): string => {
  const v = (body as Body | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

const REFRESH_SECONDS = 10;
const ID = /^[0-9a-f-]{36}$/i;

/** One answer for « not yours » and « does not exist »: nothing tells another family's request apart. */
const introuvable = () => new QuotientError('not_found', 'demande_introuvable', 'Demande introuvable.');

/** The family portal: compute my quotient step by step, history and rights. */
export function registerPortailRoutes(app: FastifyInstance, deps: PortailRoutesDeps): void {
  const { demandes, familles, commune } = deps;
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: VNode, status = 200) =>
    sendPage(reply, <Layout ctx={pageContext(request, reply, commune)} title={title}>{body}</Layout>, status);
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

  /** The request, only if it belongs to this family. */
  async function demandeDe(compte: CompteConnecte, id: string): Promise<EtatDemande> {
    if (!ID.test(id)) throw introuvable();
    const etat = await demandes.etat(id).catch((error: unknown) => {
      if (isQuotientError(error) && error.kind === 'not_found') throw introuvable();
      throw error;
    });
    if (etat.familleId !== compte.familleId) {
      // Another family's request: the same answer as for none, and a trace (someone trying ids).
      await deps.journal.append({ actor: acteurDe(compte), action: 'acces.refuse', target: { type: 'demande', id }, outcome: 'refus', details: { motif: 'autre_famille' } });
      throw introuvable();
    }
    return etat;
  }

  /** Who will be asked, and how: FranceConnect for the signed-in first parent when allowed. */
  function attendus(compte: CompteConnecte, request: FastifyRequest, foyer: FoyerFamille, rangs: ReadonlyArray<1 | 2>): NumeroAttendu[] {
    const fc = deps.franceConnect && compte.kind === 'franceconnect' && typeof request.session.fcAccessToken === 'string' && commune.habilitation.modalites.includes('franceconnect');
    return rangs.map((rang) => {
      const p = foyer.parents.find((x) => x.rang === rang);
      return { rang, nom: p ? `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}` : `parent ${rang}`, franceConnect: fc && rang === 1 };
    });
  }

  // ---------------------------------------------------------------------------------------
  // Step 1

  app.get('/mon-quotient', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const foyer = await familles.foyer(compte.familleId);
    const fc = attendus(compte, request, foyer, [1])[0]?.franceConnect ?? false;
    return page(request, reply, 'Calculer mon quotient familial', <InformationPage commune={commune} politique={deps.politique()} foyer={foyer} franceConnect={fc} />);
  });

  // ---------------------------------------------------------------------------------------
  // Step 2

  app.get('/mon-quotient/accord', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const foyer = await familles.foyer(compte.familleId);
    if (foyer.aCompleter) return reply.redirect('/mon-foyer', 303);
    return page(request, reply, 'Votre accord', <AccordPage csrf={reply.generateCsrf()} commune={commune} foyer={foyer} errors={[]} values={{ accords: [] }} />);
  });

  app.post('/mon-quotient/accord', async (request, reply) => {
    const compte = requireFamille(request);
    const foyer = await familles.foyer(compte.familleId);
    if (foyer.aCompleter) return reply.redirect('/mon-foyer', 303);
    const situationInput = field(request.body, 'situation');
    const situation = situationInput === 'commune' || situationInput === 'separee' ? situationInput : undefined;
    // A parent who lives elsewhere is not asked: neither the question of one or two avis, nor a consent.
    const declarants = parentsDuFoyer(foyer);
    const accords = declarants.filter((p) => field(request.body, `accord-${p.rang}`) === 'oui').map((p) => p.rang);
    const errors: ErrorDetail[] = [];
    const deux = declarants.length === 2;
    if (deux && !situation) errors.push({ path: 'situation-commune', message: 'Indiquez si les deux parents font une seule déclaration de revenus ou chacun la sienne.' });
    // Unmarried parents: two avis, two consents. Otherwise the first declarant's avis.
    const rangs: Array<1 | 2> = deux && situation === 'separee' ? [1, 2] : [declarants[0]?.rang ?? 1];
    for (const rang of rangs) {
      if (!accords.includes(rang)) {
        const p = foyer.parents.find((x) => x.rang === rang);
        errors.push({ path: `accord-${rang}`, message: `Cochez la case d’accord de ${p ? `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}` : `parent ${rang}`} : sans son accord, son avis ne peut pas être demandé.` });
      }
    }
    if (errors.length > 0) {
      const values: AccordValues = { ...(situation ? { situation } : {}), accords };
      return page(request, reply, 'Erreur : votre accord', <AccordPage csrf={reply.generateCsrf()} commune={commune} foyer={foyer} errors={errors} values={values} />, 400);
    }
    request.session.parcours = { rangs, accordLe: new Date().toISOString(), familleId: compte.familleId };
    return reply.redirect('/mon-quotient/numero', 303);
  });

  // ---------------------------------------------------------------------------------------
  // Step 3 and submission

  const parcoursDe = (request: FastifyRequest, compte: CompteConnecte): Parcours | undefined => {
    const p = request.session.parcours;
    return p && p.familleId === compte.familleId ? p : undefined;
  };

  app.get('/mon-quotient/numero', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const parcours = parcoursDe(request, compte);
    if (!parcours) return reply.redirect('/mon-quotient/accord', 303);
    const foyer = await familles.foyer(compte.familleId);
    return page(request, reply, 'Votre numéro fiscal', <NumeroPage csrf={reply.generateCsrf()} attendus={attendus(compte, request, foyer, parcours.rangs)} errors={[]} />);
  });

  app.post('/mon-quotient/numero', async (request, reply) => {
    const compte = requireFamille(request);
    const parcours = parcoursDe(request, compte);
    if (!parcours) return reply.redirect('/mon-quotient/accord', 303);
    const foyer = await familles.foyer(compte.familleId);
    const liste = attendus(compte, request, foyer, parcours.rangs);
    const errors: ErrorDetail[] = [];
    const foyers: FoyerSoumis[] = [];
    const consentement = { mode: 'en_ligne' as const, donnePar: { type: 'famille' as const, id: compte.familleId } };
    for (const a of liste) {
      if (a.franceConnect) {
        foyers.push({ parentRang: a.rang, identifiant: { franceConnectToken: request.session.fcAccessToken as string }, consentement });
        continue;
      }
      const parsed = NumeroFiscal.tryParse(field(request.body, `numero-${a.rang}`));
      if (parsed.ok) foyers.push({ parentRang: a.rang, identifiant: { spi: parsed.value }, consentement });
      else errors.push({ path: `numero-${a.rang}`, message: liste.filter((x) => !x.franceConnect).length > 1 ? `${a.nom} : ${parsed.error.message}` : parsed.error.message });
    }
    if (errors.length > 0) {
      // The numbers typed are not sent back: the page asks for them again (invariant 1).
      return page(request, reply, 'Erreur : votre numéro fiscal', <NumeroPage csrf={reply.generateCsrf()} attendus={liste} errors={errors} />, 400);
    }
    const { id } = await demandes.soumettre({ familleId: compte.familleId, canal: 'en_ligne', acteur: acteurDe(compte), foyers, correlationId: request.id });
    delete request.session.parcours;
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
    const etat = await demandeDe(compte, (request.params as { id: string }).id);
    if (etat.file) {
      // The HTTP Refresh header rather than <meta refresh>: same effect without script, and the page itself stays still for assistive tools.
      // With the page's own address: the submission leaves an #erreurs fragment in the browser's, and a refresh
      // to an address with a fragment is a jump within the page that never asks the server again.
      reply.header('refresh', `${REFRESH_SECONDS}; url=/mon-quotient/demandes/${etat.id}`);
      return page(request, reply, 'Demande en attente', <AttentePage etat={etat} refreshSeconds={REFRESH_SECONDS} />);
    }
    if (!etat.quotient) return page(request, reply, `Demande ${etat.reference}`, <StatutPage etat={etat} commune={commune} {...(await ressaisieDe(compte, etat, reply, []))} />);
    const donnees = await familles.donneesUtilisees(compte.familleId, etat.id, acteurDe(compte));
    return page(request, reply, 'Votre quotient familial', <ResultatPage etat={etat} donnees={donnees} commune={commune} attestation={false} />);
  });

  /** For a request whose numéro fiscal must be typed again (lost at a restart, or the call failed): who to ask. */
  async function ressaisieDe(compte: CompteConnecte, etat: EtatDemande, reply: FastifyReply, errors: ErrorDetail[]): Promise<{ ressaisie?: Ressaisie }> {
    if (etat.statut !== 'a_ressaisir' && etat.statut !== 'echouee') return {};
    const rangs = await demandes.rangsARessaisir(etat.id);
    if (rangs.length === 0) return {};
    const foyer = await familles.foyer(compte.familleId);
    const attendus = rangs.map((rang): NumeroAttendu => {
      const p = foyer.parents.find((x) => x.rang === rang);
      return { rang, nom: p ? `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}` : `parent ${rang}`, franceConnect: false };
    });
    return { ressaisie: { csrf: reply.generateCsrf(), attendus, errors } };
  }

  app.post('/mon-quotient/demandes/:id/ressaisie', async (request, reply) => {
    const compte = requireFamille(request);
    const etat = await demandeDe(compte, (request.params as { id: string }).id);
    const { ressaisie } = await ressaisieDe(compte, etat, reply, []);
    // Nothing to type again (already relaunched, or calculated): back to the request's page.
    if (!ressaisie) return reply.redirect(`/mon-quotient/demandes/${etat.id}`, 303);
    const errors: ErrorDetail[] = [];
    const identifiants: Array<{ parentRang: 1 | 2; identifiant: { spi: NumeroFiscal } }> = [];
    for (const a of ressaisie.attendus) {
      const parsed = NumeroFiscal.tryParse(field(request.body, `numero-${a.rang}`));
      if (parsed.ok) identifiants.push({ parentRang: a.rang, identifiant: { spi: parsed.value } });
      else errors.push({ path: `numero-${a.rang}`, message: ressaisie.attendus.length > 1 ? `${a.nom} : ${parsed.error.message}` : parsed.error.message });
    }
    if (errors.length > 0) {
      // The numbers typed are not sent back: the form asks for them again (invariant 1).
      return page(request, reply, `Erreur : demande ${etat.reference}`, <StatutPage etat={etat} commune={commune} ressaisie={{ ...ressaisie, errors }} />, 400);
    }
    await demandes.ressaisir(etat.id, acteurDe(compte), identifiants);
    deps.wake();
    await demandes.attendre(etat.id, deps.attenteMs ?? 8_000);
    return reply.redirect(`/mon-quotient/demandes/${etat.id}`, 303);
  });

  app.get('/mon-quotient/demandes/:id/attestation', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const etat = await demandeDe(compte, (request.params as { id: string }).id);
    if (!etat.quotient) throw introuvable();
    const donnees = await familles.donneesUtilisees(compte.familleId, etat.id, acteurDe(compte));
    return page(request, reply, 'Attestation de quotient familial', <ResultatPage etat={etat} donnees={donnees} commune={commune} attestation={true} />);
  });

  app.get('/mon-quotient/demandes/:id/contestation', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const etat = await demandeDe(compte, (request.params as { id: string }).id);
    return page(request, reply, 'Signaler une erreur', <ContestationPage csrf={reply.generateCsrf()} etat={etat} errors={[]} motif="" />);
  });

  app.post('/mon-quotient/demandes/:id/contestation', async (request, reply) => {
    const compte = requireFamille(request);
    const etat = await demandeDe(compte, (request.params as { id: string }).id);
    const motif = field(request.body, 'motif');
    // A numéro fiscal pasted into the message would be stored: refused, and the text not echoed.
    if (ressembleANumeroFiscal(motif)) {
      const errors = [{ path: 'motif', message: 'Votre message semble contenir un numéro fiscal : retirez-le, il n’est pas nécessaire.' }];
      return page(request, reply, 'Erreur : signaler une erreur', <ContestationPage csrf={reply.generateCsrf()} etat={etat} errors={errors} motif="" />, 400);
    }
    try {
      await familles.contester(compte.familleId, etat.id, motif, acteurDe(compte));
    } catch (error) {
      if (!isQuotientError(error) || error.kind !== 'invalid') throw error;
      const errors = [{ path: 'motif', message: error.message }];
      return page(request, reply, 'Erreur : signaler une erreur', <ContestationPage csrf={reply.generateCsrf()} etat={etat} errors={errors} motif={motif} />, 400);
    }
    return page(
      request,
      reply,
      'Signalement envoyé',
      <MessagePage title="Votre signalement est enregistré">
        <p class="lead">Un agent du {commune.contact.service} va l’examiner et vous répondra. Votre tarif actuel reste appliqué en attendant.</p>
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
    return page(request, reply, 'Mes demandes', <HistoriquePage demandes={historique} contestations={contestations} />);
  });

  app.get('/mes-donnees', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const [accords, foyer] = await Promise.all([familles.accordsEnCours(compte.familleId), familles.foyer(compte.familleId)]);
    return page(request, reply, 'Mes données et mes droits', <MesDonneesPage csrf={reply.generateCsrf()} accords={accords} foyer={foyer} />);
  });

  app.get('/mes-donnees/export.json', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const data = await familles.exporter(compte.familleId, acteurDe(compte));
    return reply.type('application/json; charset=utf-8').header('content-disposition', 'attachment; filename="mes-donnees-quotient.json"').send(JSON.stringify(data, null, 2));
  });

  app.get('/mes-donnees/export', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const data = await familles.exporter(compte.familleId, acteurDe(compte));
    return page(request, reply, 'Toutes mes données', <ExportTextePage texte={exportEnTexte(data)} />);
  });

  app.post('/mes-donnees/retrait', async (request, reply) => {
    const compte = requireFamille(request);
    const n = await familles.retirerConsentements(compte.familleId, acteurDe(compte));
    const message = n > 0 ? 'Votre accord est retiré : aucune nouvelle demande ne sera faite à la DGFiP sans un nouvel accord.' : 'Aucun accord en cours : rien à retirer.';
    const [accords, foyer] = await Promise.all([familles.accordsEnCours(compte.familleId), familles.foyer(compte.familleId)]);
    return page(request, reply, 'Accord retiré', <MesDonneesPage csrf={reply.generateCsrf()} message={message} accords={accords} foyer={foyer} />);
  });

  // ---------------------------------------------------------------------------------------
  // Mon foyer

  app.get('/mon-foyer', async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const foyer = await familles.foyer(compte.familleId);
    return page(request, reply, 'Mon foyer', <FoyerPage csrf={reply.generateCsrf()} values={valuesOf(foyer)} errors={[]} enregistre={false} />);
  });

  app.post('/mon-foyer', async (request, reply) => {
    const compte = requireFamille(request);
    const values: FoyerValues = {};
    for (const [k, v] of Object.entries((request.body as Body | undefined) ?? {})) if (typeof v === 'string' && k !== '_csrf') values[k] = v.trim();
    const { saisie, errors } = foyerSaisi(values);
    if (errors.length === 0) {
      try {
        await familles.mettreAJour(compte.familleId, saisie, acteurDe(compte));
      } catch (error) {
        if (!isQuotientError(error) || error.kind !== 'invalid') throw error;
        errors.push({ path: '', message: error.message });
      }
    }
    if (errors.length > 0) return page(request, reply, 'Erreur : mon foyer', <FoyerPage csrf={reply.generateCsrf()} values={values} errors={errors} enregistre={false} />, 400);
    return reply.redirect('/mon-quotient', 303);
  });
}

function valuesOf(foyer: FoyerFamille): FoyerValues {
  const v: FoyerValues = {};
  for (const p of foyer.parents) {
    v[`parent${p.rang}-prenoms`] = p.prenoms;
    v[`parent${p.rang}-nomNaissance`] = p.nomNaissance;
    v[`parent${p.rang}-nomUsage`] = p.nomUsage ?? '';
    v[`parent${p.rang}-dateNaissance`] = p.dateNaissance ? formatDateCourte(p.dateNaissance) : '';
    if (p.rang === 2) v['parent2-foyer'] = p.auFoyer ? 'oui' : 'ailleurs';
  }
  foyer.enfants.slice(0, ENFANTS_MAX).forEach((e, i) => {
    v[`enfant${i + 1}-prenoms`] = e.prenoms;
    v[`enfant${i + 1}-nomNaissance`] = e.nom;
    v[`enfant${i + 1}-dateNaissance`] = e.dateNaissance ? formatDateCourte(e.dateNaissance) : '';
    v[`enfant${i + 1}-residence`] = e.residence;
  });
  if (!foyer.resident) v['hors-commune'] = 'oui';
  return v;
}

/** A birth date as typed, to ISO; null unless it is a real date, today or before. */
function dateNaissanceIso(input: string): string | null {
  const iso = parseDateSaisie(input);
  return iso !== null && iso <= new Date().toISOString().slice(0, 10) ? iso : null;
}

/**
 * A radio answer: the default when absent (a form sent before the question existed, or a browser
 * that sends nothing), an error when it is not one of the answers offered.
 */
function choix<V extends string>(values: FoyerValues, name: string, options: Readonly<Record<V, string>>, defaut: NoInfer<V>, message: string, errors: ErrorDetail[]): V {
  const v = values[name];
  if (v === undefined || v === '') return defaut;
  if (Object.hasOwn(options, v)) return v as V;
  errors.push({ path: `${name}-${Object.keys(options)[0] as string}`, message });
  return defaut;
}

/** The form of « Mon foyer » to the families service's input, with a French message per field. */
function foyerSaisi(values: FoyerValues): { saisie: unknown; errors: ErrorDetail[] } {
  const errors: ErrorDetail[] = [];
  // An answer other than the default (« lives elsewhere », « alternating residence ») means the person is meant to be there.
  const personne = (prefix: string, qui: string, obligatoire: boolean) => {
    const get = (n: string) => values[`${prefix}-${n}`] ?? '';
    const rempli = ['prenoms', 'nomNaissance', 'nomUsage', 'dateNaissance'].some((n) => get(n) !== '');
    if (!rempli && !obligatoire) return undefined;
    if (get('prenoms') === '') errors.push({ path: `${prefix}-prenoms`, message: `Indiquez les prénoms ${qui}.` });
    if (get('nomNaissance') === '') errors.push({ path: `${prefix}-nomNaissance`, message: `Indiquez le nom de naissance ${qui}.` });
    let dateNaissance: string | null = null;
    if (get('dateNaissance') !== '') {
      dateNaissance = dateNaissanceIso(get('dateNaissance'));
      if (!dateNaissance) errors.push({ path: `${prefix}-dateNaissance`, message: `La date de naissance ${qui} doit être une date passée au format JJ/MM/AAAA, par exemple 09/04/1981.` });
    }
    return { prenoms: get('prenoms'), nomNaissance: get('nomNaissance'), nomUsage: get('nomUsage') || null, dateNaissance };
  };
  const p1 = personne('parent1', 'du premier parent', true);
  const foyerP2 = choix(values, 'parent2-foyer', FOYER_PARENT2, 'oui', 'Indiquez si le second parent vit avec vous.', errors);
  const p2 = personne('parent2', foyerP2 === 'ailleurs' ? 'du second parent, qui vit ailleurs' : 'du second parent', foyerP2 === 'ailleurs');
  const enfants = [];
  for (let i = 1; i <= ENFANTS_MAX; i++) {
    const residence = choix(values, `enfant${i}-residence`, RESIDENCES, 'exclusive', `Indiquez où vit l’enfant ${i}.`, errors);
    const e = personne(`enfant${i}`, `de l’enfant ${i}${residence === 'alternee' ? ', en résidence alternée' : ''}`, residence === 'alternee');
    if (e) enfants.push({ prenoms: e.prenoms, nom: e.nomNaissance, dateNaissance: e.dateNaissance, residence });
  }
  const parents = [p1, ...(p2 ? [{ ...p2, auFoyer: foyerP2 === 'oui' }] : [])];
  return { saisie: { parents, enfants, resident: values['hors-commune'] !== 'oui' }, errors };
}
