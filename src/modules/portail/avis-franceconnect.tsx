import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { lireChamps, texteOptionnel } from '../../http/formulaire.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';
import type { Acteur } from '../audit/index.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import { FC_RETOUR_AVIS, type FranceConnectClient, type PendingAuthorization } from '../comptes/franceconnect-client.ts';
import type { DemandesService, FoyerFiscalSoumis, IdentifiantSoumis } from '../demandes/demandes-service.ts';
import { FranceConnectAvisPage, type AutresVoies } from './franceconnect-views.tsx';

/**
 * The avis asked « via FranceConnect » (API Impôt particulier, `X-FranceConnect-OAuth`). FranceConnect's
 * access tokens live about a minute, so the journey is ordered around the token rather than the pages:
 * the family reads what will be asked and consents first (steps 1 and 2), chooses FranceConnect for a
 * declarant at step 3, and only then goes to FranceConnect, asked for the DGFiP data scopes of the
 * habilitation's fields; on the return the request is submitted at once with the fresh token, and the
 * processing loop calls the DGFiP before the token is too old (`SpiVault` keeps it until its expiry
 * minus `MARGE_JETON_FRANCECONNECT_MS`). A token that ran out in the queue, or that the DGFiP refused,
 * makes the request wait for a new sign-in (« reconnectez-vous »), never a switch to typing the number:
 * the family is offered FranceConnect again, the numéro fiscal and the état civil, and chooses.
 * See docs/franceconnect.md.
 *
 * Nothing secret is written: what was typed for the other declarant (a numéro fiscal, an état civil)
 * waits in this process's memory (`AttentesFranceConnect`) while the family is at FranceConnect; the
 * session holds the pending authorisation, an opaque id, and which declarant is asked which way. When
 * the return reaches another instance of the service (several behind one address), the token is used
 * there at once, and what was typed on the first instance, which this one cannot see, is asked again.
 */

/** What was typed for a declarant who does not sign in now: a numéro fiscal or an état civil. */
export type Saisie = { readonly spi: NumeroFiscal } | { readonly etatCivil: EtatCivil };

/** What waits while the family is at FranceConnect: never in the session, never on disk. */
export interface Attente {
  readonly familleId: string;
  /** A request whose avis are asked again; none for a new request. */
  readonly demandeId?: string;
  readonly saisies: ReadonlyMap<1 | 2, Saisie>;
  /** The declarants whose avis is asked by FranceConnect; the first signs in now, the other after. */
  readonly franceConnect: ReadonlyArray<1 | 2>;
}

/** As long as a pending sign-in: beyond it, what was typed is forgotten and asked again. */
const ATTENTE_MS = 10 * 60_000;
const MAX_ATTENTES = 10_000;

export class AttentesFranceConnect {
  private readonly entries = new Map<string, { attente: Attente; expiresAt: number }>();

  constructor(private readonly clock: () => number) {}

  put(attente: Attente): string {
    const now = this.clock();
    for (const [id, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(id);
    if (this.entries.size >= MAX_ATTENTES) this.entries.delete(this.entries.keys().next().value as string);
    const id = randomBytes(18).toString('base64url');
    this.entries.set(id, { attente, expiresAt: now + ATTENTE_MS });
    return id;
  }

  /** Once: the entry leaves the memory whatever happens next. */
  take(id: string): Attente | undefined {
    const e = this.entries.get(id);
    this.entries.delete(id);
    return e && e.expiresAt > this.clock() ? e.attente : undefined;
  }

  toJSON(): string {
    return `AttentesFranceConnect(${this.entries.size})`;
  }
}

type VoieSaisie = 'numero_fiscal' | 'etat_civil';

/**
 * In the session while the family is at FranceConnect: whose sign-in it is, for which family and
 * request, and how each other declarant was asked. Never what was typed.
 */
interface AvisEnCours {
  readonly attente: string;
  readonly rang: 1 | 2;
  readonly oidc: PendingAuthorization & { readonly startedAt: number };
  readonly familleId: string;
  readonly demandeId?: string;
  readonly franceConnect: Array<1 | 2>;
  readonly saisies: Array<{ readonly rang: 1 | 2; readonly voie: VoieSaisie }>;
}

declare module 'fastify' {
  interface Session {
    /** A FranceConnect sign-in made for an avis: the opaque id of what waits in memory, the pending authorisation, the ways chosen. */
    avisFranceConnect?: AvisEnCours;
  }
}

const RETOUR = z.object({ error: texteOptionnel() });
const voieDeSaisie = (s: Saisie): VoieSaisie => ('spi' in s ? 'numero_fiscal' : 'etat_civil');

export interface AvisFranceConnectDeps {
  readonly franceConnect: Pick<FranceConnectClient, 'start' | 'finish' | 'porteesManquantes'>;
  readonly demandes: Pick<DemandesService, 'soumettre' | 'ressaisir' | 'attendre'>;
  readonly publicUrl: string;
  readonly clock: () => number;
  readonly wake: () => void;
  readonly attenteMs: number;
  /** The état civil route is open: the pages that say FranceConnect failed offer it too. */
  readonly etatCivil: boolean;
  readonly page: (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status?: number) => FastifyReply;
  readonly acteurDe: (compte: CompteConnecte) => Acteur;
  readonly signedIn: (request: FastifyRequest, reply: FastifyReply) => CompteConnecte | undefined;
}

/** Where the other ways are chosen: the step of a new request, or the page of the request asked again. */
export function autresVoies(demandeId: string | undefined, etatCivil: boolean): AutresVoies {
  const base = demandeId ? `/mon-quotient/demandes/${demandeId}` : '/mon-quotient/numero';
  return {
    franceConnect: demandeId ? base : `${base}?voie=franceconnect`,
    numero: `${base}?voie=numero`,
    ...(etatCivil ? { etatCivil: demandeId ? `${base}/etat-civil` : '/mon-quotient/etat-civil' } : {}),
  };
}

/** Registers the return from FranceConnect and gives the step that sends a declarant there. */
export function registerAvisFranceConnect(app: FastifyInstance, deps: AvisFranceConnectDeps) {
  const attentes = new AttentesFranceConnect(deps.clock);

  /** Sends the first declarant of `attente.franceConnect` to FranceConnect. */
  async function lancer(request: FastifyRequest, reply: FastifyReply, attente: Attente): Promise<FastifyReply> {
    const { url, pending } = await deps.franceConnect.start('avis');
    request.session.avisFranceConnect = {
      attente: attentes.put(attente),
      rang: attente.franceConnect[0] as 1 | 2,
      oidc: { ...pending, startedAt: deps.clock() },
      familleId: attente.familleId,
      ...(attente.demandeId ? { demandeId: attente.demandeId } : {}),
      franceConnect: [...attente.franceConnect],
      saisies: [...attente.saisies].map(([rang, s]) => ({ rang, voie: voieDeSaisie(s) })),
    };
    return reply.redirect(url, 303);
  }

  const echec = (request: FastifyRequest, reply: FastifyReply, titre: string, message: string, demandeId: string | undefined, status: number) =>
    deps.page(request, reply, titre, <FranceConnectAvisPage titre={titre} message={message} voies={autresVoies(demandeId, deps.etatCivil)} />, status);

  app.get(FC_RETOUR_AVIS, async (request, reply) => {
    const compte = deps.signedIn(request, reply);
    if (!compte) return reply;
    const query = lireChamps(RETOUR, request.query);
    // Used once, whatever the outcome: a second return cannot reuse it.
    const enCours = request.session.avisFranceConnect;
    delete request.session.avisFranceConnect;
    const attente = enCours ? attentes.take(enCours.attente) : undefined;
    const demandeId = enCours?.familleId === compte.familleId ? enCours.demandeId : undefined;
    if (query.error !== undefined) {
      return echec(
        request,
        reply,
        'Connexion FranceConnect annulée',
        'La connexion avec FranceConnect n’a pas abouti : aucun avis n’a été demandé à la DGFiP. Votre accord reste valable : choisissez comment continuer.',
        demandeId,
        400,
      );
    }
    if (!enCours || enCours.familleId !== compte.familleId || deps.clock() - enCours.oidc.startedAt >= ATTENTE_MS) {
      return echec(
        request,
        reply,
        'Connexion FranceConnect expirée',
        'Cette connexion FranceConnect ne correspond à aucune demande en cours (elle a peut-être pris plus de 10 minutes) : aucun avis n’a été demandé. Recommencez l’étape du numéro fiscal.',
        undefined,
        400,
      );
    }
    const identity = await deps.franceConnect.finish(new URL(request.url, deps.publicUrl), enCours.oidc);
    // The token's expiry on this server's clock, from what FranceConnect said at the exchange.
    const valableJusque = deps.clock() + (identity.accessTokenExpiresIn ?? 60) * 1000;
    // The DGFiP answers only the data the person agreed to: without every scope, no call is worth making.
    const manquantes = deps.franceConnect.porteesManquantes(identity);
    if (manquantes.length > 0) {
      request.log.warn({ portees: manquantes }, 'FranceConnect n’a pas accordé les portées DGFiP de l’habilitation : aucun avis demandé');
      return echec(
        request,
        reply,
        'Données fiscales non transmises par FranceConnect',
        'FranceConnect n’a pas transmis votre accord pour toutes les données fiscales que la commune demande à la DGFiP (revenu fiscal de référence, parts, situation de famille, personnes à charge, déclarants, adresse) : aucun avis n’a été demandé. Vous pouvez vous reconnecter avec FranceConnect, ou donner le numéro fiscal ou l’état civil.',
        demandeId,
        403,
      );
    }
    const fc = compte.franceConnect;
    const memePersonne = fc !== null && fc.issuer === identity.issuer && fc.sub === identity.sub;
    // The first parent of a FranceConnect account is that account's person; the other parent is someone else.
    if ((enCours.rang === 1 && fc !== null && !memePersonne) || (enCours.rang === 2 && memePersonne)) {
      return echec(
        request,
        reply,
        'Ce n’est pas la connexion attendue',
        enCours.rang === 1
          ? 'Pour l’avis du premier parent, connectez-vous avec le compte FranceConnect qui a servi à ouvrir cet espace. Aucun avis n’a été demandé.'
          : 'Pour l’avis du second parent, c’est lui ou elle qui se connecte avec son propre compte FranceConnect. Aucun avis n’a été demandé.',
        demandeId,
        403,
      );
    }
    // What was typed for the other declarant is in this process's memory, or, when the return
    // reached another instance, nowhere this one can see: then it is asked again, said plainly.
    const identifiantDe = (rang: 1 | 2): IdentifiantSoumis | undefined => {
      if (rang === enCours.rang) return { franceConnectToken: identity.accessToken, valableJusque };
      if (enCours.franceConnect.includes(rang)) return { franceConnectAttendu: true };
      const saisie = attente?.saisies.get(rang);
      if (saisie) return saisie;
      const voie = enCours.saisies.find((s) => s.rang === rang)?.voie;
      return voie ? { aRessaisir: voie } : undefined;
    };
    const rangs = [...new Set<1 | 2>([...enCours.saisies.map((s) => s.rang), ...enCours.franceConnect])].sort();
    const identifiants = rangs.flatMap((rang) => {
      const identifiant = identifiantDe(rang);
      return identifiant ? [{ parentRang: rang, identifiant }] : [];
    });
    if (!attente && enCours.saisies.length > 0) {
      request.log.info({ saisies: enCours.saisies.length }, 'retour de FranceConnect sur une autre instance : la saisie de l’autre déclarant est redemandée');
    }
    // The numbers typed for the other declarant count against the account and the address like any others.
    const essai = { compte: compte.compteId, adresse: request.ip };
    let id = demandeId;
    if (id) {
      await deps.demandes.ressaisir(id, deps.acteurDe(compte), identifiants, essai);
    } else {
      const consentement = { mode: 'en_ligne' as const, donnePar: { type: 'famille' as const, id: compte.familleId } };
      const foyersFiscaux: FoyerFiscalSoumis[] = identifiants.map((i) => ({ ...i, consentement }));
      const parcours = request.session.parcours?.familleId === compte.familleId ? request.session.parcours : undefined;
      ({ id } = await deps.demandes.soumettre({
        familleId: compte.familleId,
        canal: 'en_ligne',
        acteur: deps.acteurDe(compte),
        foyersFiscaux,
        correlationId: request.id,
        essai,
        // The standing consents ticked at step 2, kept in the journey until the request is made.
        ...(parcours?.renouvellement ? { renouvellement: parcours.renouvellement } : {}),
      }));
      delete request.session.parcours;
    }
    deps.wake();
    await deps.demandes.attendre(id, deps.attenteMs);
    return reply.redirect(`/mon-quotient/demandes/${id}`, 303);
  });

  return { lancer };
}
