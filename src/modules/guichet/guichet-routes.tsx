import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { addDays, formatDateCourte, parseDateSaisie } from '../../domain/dates.ts';
import { QuotientError, isQuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { NumeroFiscal, ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { AgentConnecte } from '../../http/acces/controle-acces.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { requireAgent, sendAgentPage } from '../../http/espace-agents.tsx';
import { motsDuNom, type CriteresRecherche, type FoyerFamille } from '../familles/familles-service.ts';
import type { AccordRecu, GuichetService } from './guichet-service.ts';
import {
  AccordPage,
  AttestationPage,
  CreationPage,
  DemandePage,
  ENFANTS_MAX,
  FichePage,
  FOYER_PARENT2,
  MODES_GUICHET,
  NumeroPage,
  RecherchePage,
  RESIDENCES,
  RESIDENT,
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
}

/** The search of this session (shown again until replaced) and the consents of the request being entered. */
interface RechercheGuichet {
  readonly reference: string;
  readonly nom: string;
  readonly naissance: string;
}
interface SaisieGuichet {
  readonly familleId: string;
  readonly accords: AccordRecu[];
}

declare module 'fastify' {
  interface Session {
    guichetRecherche?: RechercheGuichet;
    guichetSaisie?: SaisieGuichet;
    /** The request just sent from step 2 (its id once created): a second submit of the same form is sent to it. */
    guichetSoumise?: { readonly familleId: string; readonly demandeId?: string };
  }
}

const REFRESH_SECONDS = 10;
const REFERENCE = /^F-[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const COURRIEL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PIECE_MAX = 200;

type Body = Record<string, string | string[] | undefined>;

/** The form's text fields, trimmed; a field that holds something shaped like a numéro fiscal is emptied and flagged. */
function valeursDe(body: unknown, errors: ErrorDetail[]): Valeurs {
  const values: Valeurs = {};
  for (const [k, v] of Object.entries((body as Body | undefined) ?? {})) {
    if (typeof v !== 'string' || k === '_csrf' || k.startsWith('numero-')) continue;
    if (ressembleANumeroFiscal(v)) {
      errors.push({ path: k, message: 'Ce champ semble contenir un numéro fiscal : retirez-le. Le numéro fiscal se saisit seulement à l’étape « Numéro fiscal » de la demande, et n’est jamais enregistré.' });
      values[k] = '';
    } else {
      values[k] = v.trim();
    }
  }
  return values;
}

/** The counter: find or create a family, enter a request received on paper or by e-mail, see its result. */
export function registerGuichetRoutes(app: FastifyInstance, deps: GuichetRoutesDeps): void {
  const { commune } = deps;
  const service = deps.guichet;
  const acteur = (agent: AgentConnecte) => ({ type: 'agent' as const, id: agent.id });
  const page = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status = 200) => sendAgentPage(request, reply, commune, title, body, status);
  // Families and requests have UUIDs: anything else in the address is a page that does not exist
  // (and is never echoed into a redirection, where a line break or an emoji cannot go).
  const idDe = (request: FastifyRequest) => {
    const { id } = request.params as { id: string };
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new QuotientError('not_found', 'introuvable', 'La page demandée n’existe pas ou a été déplacée.');
    return id;
  };
  const aujourdhui = () => parisDate(Date.now());

  // ---------------------------------------------------------------------------------------
  // Find a family

  app.get('/agents/guichet', async (request, reply) => {
    const agent = requireAgent(request);
    const recherche = request.session.guichetRecherche;
    const resultat = recherche ? await service.rechercher(criteresDe(recherche), acteur(agent)) : null;
    return page(request, reply, 'Accueil des familles', <RecherchePage csrf={reply.generateCsrf()} values={{ ...recherche }} errors={[]} resultat={resultat} />);
  });

  // A POST, so that what is searched (or a numéro fiscal typed in the wrong field) never sits in an address.
  app.post('/agents/guichet/recherche', async (request, reply) => {
    requireAgent(request);
    const errors: ErrorDetail[] = [];
    const values = valeursDe(request.body, errors);
    const reference = (values.reference ?? '').toUpperCase().replace(/\s+/g, '');
    const nom = values.nom ?? '';
    const naissance = values.naissance ?? '';
    if (reference !== '' && !REFERENCE.test(reference)) {
      errors.push({ path: 'reference', message: 'La référence d’une famille s’écrit F-, 4 caractères, un tiret et 4 caractères, par exemple F-AB2C-DE3F.' });
    }
    if (nom !== '' && (motsDuNom(nom).length === 0 || nom.length > 100)) errors.push({ path: 'nom', message: 'Le nom doit comporter des lettres (100 caractères au plus).' });
    if (naissance !== '' && !(parseDateSaisie(naissance) && (parseDateSaisie(naissance) as string) <= aujourdhui())) {
      errors.push({ path: 'naissance', message: 'La date de naissance doit être une date passée au format JJ/MM/AAAA, par exemple 09/04/1981.' });
    }
    if (errors.length === 0 && reference === '' && nom === '' && naissance === '') {
      errors.push({ path: 'reference', message: 'Indiquez une référence de famille, un nom ou une date de naissance.' });
    }
    if (errors.length > 0) {
      return page(request, reply, 'Erreur : accueil des familles', <RecherchePage csrf={reply.generateCsrf()} values={values} errors={errors} resultat={null} />, 400);
    }
    request.session.guichetRecherche = { reference, nom, naissance };
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
    const errors: ErrorDetail[] = [];
    const values = valeursDe(request.body, errors);
    const saisie = familleSaisie(values, errors, aujourdhui());
    const erreur = (doublons: Parameters<typeof CreationPage>[0]['doublons'] = []) =>
      page(request, reply, 'Erreur : créer une famille', <CreationPage csrf={reply.generateCsrf()} values={values} errors={errors} doublons={doublons} />, 400);
    if (errors.length > 0 || !saisie) return erreur();
    if (values.doublon !== 'confirme') {
      // The same first parent already known: most often the family came before.
      const p1 = saisie.parents[0] as { nomNaissance: string; dateNaissance: string };
      const { familles } = await service.rechercher({ nom: p1.nomNaissance, dateNaissance: p1.dateNaissance }, acteur(agent));
      if (familles.length > 0) {
        errors.push({ path: 'doublon', message: 'Un parent de même nom et de même date de naissance est déjà connu : ouvrez la famille existante, ou cochez la case de confirmation pour en créer une autre.' });
        return erreur(familles);
      }
    }
    try {
      const { id } = await service.creer(saisie, acteur(agent));
      return reply.redirect(`/agents/guichet/familles/${id}`, 303);
    } catch (error) {
      if (!isQuotientError(error) || error.kind !== 'invalid') throw error;
      errors.push(...(error.details.length > 0 ? error.details.map(champDuService) : [{ path: '', message: error.message }]));
      return erreur();
    }
  });

  // ---------------------------------------------------------------------------------------
  // The family's page

  app.get('/agents/guichet/familles/:id', async (request, reply) => {
    const agent = requireAgent(request);
    const fiche = await service.fiche(idDe(request), acteur(agent));
    return page(request, reply, `Famille ${fiche.foyer.reference}`, <FichePage fiche={fiche} />);
  });

  // ---------------------------------------------------------------------------------------
  // A request received on paper or by e-mail. Step 1: how each declarant consented.

  const saisieDe = (request: FastifyRequest, familleId: string): SaisieGuichet | undefined => {
    const s = request.session.guichetSaisie;
    return s && s.familleId === familleId ? s : undefined;
  };

  app.get('/agents/guichet/familles/:id/demande', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = idDe(request);
    const foyer = await service.foyer(familleId, acteur(agent), 'saisie');
    const values: Valeurs = {};
    const enCours = saisieDe(request, familleId);
    if (enCours) {
      // Coming back from step 2 to correct: the consents as entered.
      for (const a of enCours.accords) Object.assign(values, { [`mode-${a.rang}`]: a.mode, [`date-${a.rang}`]: a.date ? formatDateCourte(a.date) : '', [`piece-${a.rang}`]: a.piece });
      const d = declarantsPossibles(foyer);
      if (d.length === 2) values.avis = enCours.accords.length === 2 ? 'deux' : enCours.accords[0]?.rang === d[1]?.rang ? 'commun-2' : 'commun-1';
    }
    return page(request, reply, 'Demande reçue sur papier ou par courriel', <AccordPage csrf={reply.generateCsrf()} familleId={familleId} foyer={foyer} habilitation={commune.habilitation} agent={`${agent.prenom} ${agent.nom}`} values={values} errors={[]} />);
  });

  app.post('/agents/guichet/familles/:id/demande', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = idDe(request);
    const foyer = await service.foyer(familleId, acteur(agent), 'saisie');
    const errors: ErrorDetail[] = [];
    const values = valeursDe(request.body, errors);
    const accords = accordsSaisis(foyer, values, errors, aujourdhui());
    if (errors.length > 0) {
      return page(request, reply, 'Erreur : demande reçue sur papier ou par courriel', <AccordPage csrf={reply.generateCsrf()} familleId={familleId} foyer={foyer} habilitation={commune.habilitation} agent={`${agent.prenom} ${agent.nom}`} values={values} errors={errors} />, 400);
    }
    request.session.guichetSaisie = { familleId, accords };
    return reply.redirect(`/agents/guichet/familles/${familleId}/demande/numero`, 303);
  });

  // Step 2: the numéros fiscaux, typed once.

  app.get('/agents/guichet/familles/:id/demande/numero', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = idDe(request);
    const saisie = saisieDe(request, familleId);
    if (!saisie) return reply.redirect(`/agents/guichet/familles/${familleId}/demande`, 303);
    const foyer = await service.foyer(familleId, acteur(agent), 'saisie');
    return page(request, reply, 'Numéro fiscal', <NumeroPage csrf={reply.generateCsrf()} familleId={familleId} foyer={foyer} accords={saisie.accords} errors={[]} />);
  });

  /** Forms of step 2 being sent by this process, per session and family: a double click waits for nothing. */
  const envoisEnCours = new Set<string>();

  app.post('/agents/guichet/familles/:id/demande/numero', async (request, reply) => {
    const agent = requireAgent(request);
    const familleId = idDe(request);
    const saisie = saisieDe(request, familleId);
    const cle = `${request.session.sessionId}:${familleId}`;
    if (!saisie || envoisEnCours.has(cle)) {
      // The same form sent twice (double click): no second request, no second DGFiP call; to the one created.
      const soumise = request.session.guichetSoumise;
      if (soumise?.familleId !== familleId && !envoisEnCours.has(cle)) return reply.redirect(`/agents/guichet/familles/${familleId}/demande`, 303);
      delete request.session.guichetSaisie;
      return reply.redirect(soumise?.familleId === familleId && soumise.demandeId ? `/agents/guichet/demandes/${soumise.demandeId}` : `/agents/guichet/familles/${familleId}`, 303);
    }
    const foyer = await service.foyer(familleId, acteur(agent), 'saisie');
    const attendus = saisie.accords.map((a) => ({ rang: a.rang, nom: nomDe(foyer, a.rang) }));
    const { numeros, errors } = numerosSaisis(request.body, attendus);
    if (errors.length === 0) {
      // Taken out of the session (saved now) before the request is created: a second submit finds nothing to send.
      envoisEnCours.add(cle);
      delete request.session.guichetSaisie;
      request.session.guichetSoumise = { familleId };
      let creee = false;
      try {
        await request.session.save();
        const foyers = saisie.accords.map((accord) => ({ accord, spi: numeros.get(accord.rang) as NumeroFiscal }));
        const creeeDans = async (demandeId: string) => {
          creee = true;
          request.session.guichetSoumise = { familleId, demandeId };
          await request.session.save();
        };
        const { id } = await service.soumettre(familleId, foyers, acteur(agent), { correlationId: request.id, creee: creeeDans, ...(deps.attenteMs !== undefined ? { attenteMs: deps.attenteMs } : {}) });
        return reply.redirect(`/agents/guichet/demandes/${id}`, 303);
      } catch (error) {
        if (!creee) {
          // Nothing was created: the consents entered stay, for the numbers to be typed again.
          request.session.guichetSaisie = saisie;
          delete request.session.guichetSoumise;
        }
        if (!isQuotientError(error) || error.kind !== 'invalid') throw error;
        errors.push({ path: '', message: error.message });
      } finally {
        envoisEnCours.delete(cle);
      }
    }
    // The numbers typed are not sent back: the form asks for them again (invariant 1).
    return page(request, reply, 'Erreur : numéro fiscal', <NumeroPage csrf={reply.generateCsrf()} familleId={familleId} foyer={foyer} accords={saisie.accords} errors={errors} />, 400);
  });

  // ---------------------------------------------------------------------------------------
  // The request: queue, result, other outcomes; its attestation.

  async function ressaisieDe(demandeId: string, statut: string, foyer: FoyerFamille, reply: FastifyReply, errors: ErrorDetail[]): Promise<Ressaisie | undefined> {
    if (statut !== 'a_ressaisir' && statut !== 'echouee') return undefined;
    const rangs = await service.rangsARessaisir(demandeId);
    if (rangs.length === 0) return undefined;
    return { csrf: reply.generateCsrf(), attendus: rangs.map((rang) => ({ rang, nom: nomDe(foyer, rang) })), errors };
  }

  app.get('/agents/guichet/demandes/:id', async (request, reply) => {
    const agent = requireAgent(request);
    const { etat, foyer } = await service.demande(idDe(request), acteur(agent), 'suivi');
    if (etat.file) {
      // As on the family portal: the HTTP Refresh header, no script; the page's own address, without the form's fragment.
      reply.header('refresh', `${REFRESH_SECONDS}; url=/agents/guichet/demandes/${etat.id}`);
    }
    const ressaisie = await ressaisieDe(etat.id, etat.statut, foyer, reply, []);
    return page(request, reply, `Demande ${etat.reference}`, <DemandePage etat={etat} foyer={foyer} refreshSeconds={REFRESH_SECONDS} {...(ressaisie ? { ressaisie } : {})} />);
  });

  app.post('/agents/guichet/demandes/:id/ressaisie', async (request, reply) => {
    const agent = requireAgent(request);
    const { etat, foyer } = await service.demande(idDe(request), acteur(agent), 'suivi');
    const ressaisie = await ressaisieDe(etat.id, etat.statut, foyer, reply, []);
    // Nothing to type again (already relaunched, or calculated): back to the request's page.
    if (!ressaisie) return reply.redirect(`/agents/guichet/demandes/${etat.id}`, 303);
    const { numeros, errors } = numerosSaisis(request.body, ressaisie.attendus);
    if (errors.length > 0) {
      return page(request, reply, `Erreur : demande ${etat.reference}`, <DemandePage etat={etat} foyer={foyer} refreshSeconds={REFRESH_SECONDS} ressaisie={{ ...ressaisie, errors }} />, 400);
    }
    const identifiants = ressaisie.attendus.map((a) => ({ parentRang: a.rang, spi: numeros.get(a.rang) as NumeroFiscal }));
    await service.ressaisir(etat.id, identifiants, acteur(agent), deps.attenteMs);
    return reply.redirect(`/agents/guichet/demandes/${etat.id}`, 303);
  });

  app.get('/agents/guichet/demandes/:id/attestation', async (request, reply) => {
    const agent = requireAgent(request);
    const { etat, foyer } = await service.demande(idDe(request), acteur(agent), 'attestation');
    if (!etat.quotient) throw new QuotientError('not_found', 'attestation_indisponible', 'Pas d’attestation : cette demande n’a pas de quotient familial calculé.');
    return page(request, reply, 'Attestation de quotient familial', <AttestationPage etat={etat} foyer={foyer} commune={commune} />);
  });
}

function criteresDe(r: RechercheGuichet): CriteresRecherche {
  const dateNaissance = r.naissance ? parseDateSaisie(r.naissance) : null;
  return { ...(r.reference ? { reference: r.reference } : {}), ...(r.nom ? { nom: r.nom } : {}), ...(dateNaissance ? { dateNaissance } : {}) };
}

function nomDe(foyer: FoyerFamille, rang: 1 | 2): string {
  const p = foyer.parents.find((x) => x.rang === rang);
  return p ? nomParent(p) : `parent ${rang}`;
}

/** The numbers typed for each declarant expected, or a French message per field (never quoting what was typed). */
function numerosSaisis(body: unknown, attendus: ReadonlyArray<{ rang: 1 | 2; nom: string }>): { numeros: Map<1 | 2, NumeroFiscal>; errors: ErrorDetail[] } {
  const numeros = new Map<1 | 2, NumeroFiscal>();
  const errors: ErrorDetail[] = [];
  for (const a of attendus) {
    const typed = (body as Body | undefined)?.[`numero-${a.rang}`];
    const parsed = NumeroFiscal.tryParse(typeof typed === 'string' ? typed : '');
    if (parsed.ok) numeros.set(a.rang, parsed.value);
    else errors.push({ path: `numero-${a.rang}`, message: attendus.length > 1 ? `${a.nom} : ${parsed.error.message}` : parsed.error.message });
  }
  return { numeros, errors };
}

/** Step 1's form: which avis are asked, and for each declarant how, when and by which piece the consent came. */
function accordsSaisis(foyer: FoyerFamille, values: Valeurs, errors: ErrorDetail[], aujourdhui: string): AccordRecu[] {
  const declarants = declarantsPossibles(foyer);
  let rangs: Array<1 | 2>;
  if (declarants.length === 2) {
    const [a, b] = declarants as [FoyerFamille['parents'][number], FoyerFamille['parents'][number]];
    const choix: Record<string, Array<1 | 2>> = { 'commun-1': [a.rang], 'commun-2': [b.rang], deux: [a.rang, b.rang] };
    const avis = values.avis !== undefined ? choix[values.avis] : undefined;
    if (!avis) {
      errors.push({ path: 'avis-commun-1', message: 'Indiquez quels avis d’imposition demander : un avis commun aux deux parents, ou un avis par parent.' });
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
    const nom = nomDe(foyer, rang);
    const mode = values[`mode-${rang}`] ?? '';
    if (!modes.has(mode as AccordRecu['mode'])) errors.push({ path: `mode-${rang}-formulaire_signe`, message: `Indiquez comment ${nom} a donné son accord : formulaire signé ou courriel.` });
    const saisie = values[`date-${rang}`] ?? '';
    const date = parseDateSaisie(saisie);
    if (saisie === '') errors.push({ path: `date-${rang}`, message: `Indiquez la date de l’accord de ${nom}, au format JJ/MM/AAAA.` });
    else if (!date) errors.push({ path: `date-${rang}`, message: `La date de l’accord de ${nom} n’est pas une date valide : écrivez-la au format JJ/MM/AAAA, par exemple 12/09/2025.` });
    else if (date > aujourdhui) errors.push({ path: `date-${rang}`, message: `La date de l’accord de ${nom} est dans le futur : indiquez le jour où le formulaire a été signé ou le courriel envoyé.` });
    else if (date < unAn) errors.push({ path: `date-${rang}`, message: `L’accord de ${nom} date de plus d’un an : demandez à la famille un accord récent.` });
    const piece = values[`piece-${rang}`] ?? '';
    // A piece emptied because it looked like a numéro fiscal already has its message.
    if (piece === '' && !errors.some((e) => e.path === `piece-${rang}`)) errors.push({ path: `piece-${rang}`, message: `Indiquez la référence du formulaire signé ou du courriel de ${nom}, pour pouvoir retrouver la pièce.` });
    else if (piece.length > PIECE_MAX) errors.push({ path: `piece-${rang}`, message: `La référence de la pièce de ${nom} est trop longue (${PIECE_MAX} caractères au plus).` });
    if (date && piece !== '') accords.push({ rang, mode: mode as AccordRecu['mode'], date, piece });
  }
  return accords;
}

/** A service's error path (`parents[0].nomNaissance`) to the form's field (`parent1-nomNaissance`). */
function champDuService(detail: ErrorDetail): ErrorDetail {
  const m = /^(parents|enfants)\[(\d+)\]\.(\w+)$/.exec(detail.path);
  if (m) return { path: `${m[1] === 'parents' ? 'parent' : 'enfant'}${Number(m[2]) + 1}-${m[3]}`, message: detail.message };
  return detail.path === 'courriel' ? detail : { path: '', message: detail.message };
}

/** The creation form to the families service's input, with a French message per field. */
function familleSaisie(values: Valeurs, errors: ErrorDetail[], aujourdhui: string) {
  const get = (id: string) => values[id] ?? '';
  const radio = (name: string, options: ReadonlyArray<readonly [string, string]>, defaut: string, message: string) => {
    const v = get(name);
    if (v === '') return defaut;
    if (options.some(([o]) => o === v)) return v;
    errors.push({ path: `${name}-${options[0]?.[0] ?? ''}`, message });
    return defaut;
  };
  const nomValide = (id: string, libelle: string) => {
    const v = get(id);
    if (v === '') {
      if (!errors.some((e) => e.path === id)) errors.push({ path: id, message: `Indiquez ${libelle}.` });
    } else if (/[0-9]/.test(v)) errors.push({ path: id, message: `Un nom ou un prénom ne contient pas de chiffres : vérifiez ${libelle}.` });
    else if (v.length > 100) errors.push({ path: id, message: `Vérifiez ${libelle} : 100 caractères au plus.` });
    return v;
  };
  const dateNaissance = (id: string, qui: string, obligatoire: boolean): string | null => {
    const v = get(id);
    if (v === '') {
      if (obligatoire && !errors.some((e) => e.path === id)) errors.push({ path: id, message: `Indiquez la date de naissance ${qui}, au format JJ/MM/AAAA.` });
      return null;
    }
    const iso = parseDateSaisie(v);
    if (!iso || iso > aujourdhui || iso < '1900-01-01') {
      errors.push({ path: id, message: `La date de naissance ${qui} doit être une date passée au format JJ/MM/AAAA, par exemple 09/04/1981.` });
      return null;
    }
    return iso;
  };
  const parent = (n: 1 | 2) => {
    const p = `parent${n}`;
    const qui = n === 1 ? 'du premier parent' : 'du second parent';
    const rempli = ['prenoms', 'nomNaissance', 'nomUsage', 'dateNaissance'].some((f) => get(`${p}-${f}`) !== '' || errors.some((e) => e.path === `${p}-${f}`));
    if (n === 2 && !rempli) return undefined;
    return {
      prenoms: nomValide(`${p}-prenoms`, `les prénoms ${qui}`),
      nomNaissance: nomValide(`${p}-nomNaissance`, `le nom de naissance ${qui}`),
      nomUsage: get(`${p}-nomUsage`) || null,
      dateNaissance: dateNaissance(`${p}-dateNaissance`, qui, true),
    };
  };
  const p1 = parent(1);
  const foyerP2 = radio('parent2-foyer', FOYER_PARENT2, 'oui', 'Indiquez si le second parent vit dans le foyer.');
  const p2 = parent(2);
  const enfants = [];
  for (let i = 1; i <= ENFANTS_MAX; i++) {
    const e = `enfant${i}`;
    const qui = `de l’enfant ${i}`;
    const residence = radio(`${e}-residence`, RESIDENCES, 'exclusive', `Indiquez où vit l’enfant ${i}.`);
    const rempli = ['prenoms', 'nom', 'dateNaissance'].some((f) => get(`${e}-${f}`) !== '' || errors.some((x) => x.path === `${e}-${f}`));
    if (!rempli) continue;
    enfants.push({ prenoms: nomValide(`${e}-prenoms`, `les prénoms ${qui}`), nom: nomValide(`${e}-nom`, `le nom ${qui}`), dateNaissance: dateNaissance(`${e}-dateNaissance`, qui, false), residence });
  }
  const resident = radio('resident', RESIDENT, 'oui', 'Indiquez si la famille habite la commune.');
  const courriel = get('courriel');
  if (courriel !== '' && (!COURRIEL.test(courriel) || courriel.length > 200)) errors.push({ path: 'courriel', message: 'L’adresse électronique n’est pas valide : vérifiez-la, par exemple prenom.nom@exemple.fr.' });
  if (errors.length > 0 || !p1) return undefined;
  return {
    parents: [p1, ...(p2 ? [{ ...p2, auFoyer: foyerP2 === 'oui' }] : [])],
    enfants,
    resident: resident === 'oui',
    ...(courriel ? { courriel } : {}),
  };
}
