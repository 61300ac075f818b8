import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import type { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { lireChamps, texteOptionnel } from '../../http/formulaire.ts';
import type { Acteur } from '../audit/index.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import { FC_RETOUR_AVIS, type FranceConnectClient, type PendingAuthorization } from '../comptes/franceconnect-client.ts';
import type { DemandesService, FoyerFiscalSoumis, IdentifiantSoumis } from '../demandes/demandes-service.ts';
import { FranceConnectAvisPage } from './portail-views.tsx';

/**
 * The avis asked « via FranceConnect » (API Impôt particulier, `X-FranceConnect-OAuth`). FranceConnect's
 * access tokens live about a minute, so the journey is ordered around the token rather than the pages:
 * the family reads what will be asked and consents first (steps 1 and 2), chooses FranceConnect for a
 * declarant at step 3, and only then goes to FranceConnect; on the return the request is submitted at
 * once with the fresh token, and the processing loop calls the DGFiP before the token is too old
 * (`SpiVault` keeps it until its expiry minus `MARGE_JETON_FRANCECONNECT_MS`). A token that ran out in
 * the queue, or that the DGFiP refused, makes the request wait for a new sign-in (« reconnectez-vous »),
 * never a switch to typing the number. See docs/franceconnect.md.
 *
 * Nothing of this is written: the numbers typed for the other declarant wait in this process's
 * memory (`AttentesFranceConnect`) while the family is at FranceConnect, the session holds only an
 * opaque id and the pending authorisation, and the token goes from the callback to the vault.
 */

/** What waits while the family is at FranceConnect: never in the session, never on disk. */
interface Attente {
  readonly familleId: string;
  /** A request whose avis are asked again; none for a new request. */
  readonly demandeId?: string;
  readonly numeros: ReadonlyMap<1 | 2, NumeroFiscal>;
  /** The declarants whose avis is asked by FranceConnect; the first signs in now, the other after. */
  readonly franceConnect: ReadonlyArray<1 | 2>;
}

/** As long as a pending sign-in: beyond it, the numbers typed are forgotten and asked again. */
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

interface AvisEnCours {
  readonly attente: string;
  readonly rang: 1 | 2;
  readonly oidc: PendingAuthorization & { readonly startedAt: number };
}

declare module 'fastify' {
  interface Session {
    /** A FranceConnect sign-in made for an avis: the opaque id of what waits in memory, and the pending authorisation. */
    avisFranceConnect?: AvisEnCours;
  }
}

const RETOUR = z.object({ error: texteOptionnel() });

export interface AvisFranceConnectDeps {
  readonly franceConnect: Pick<FranceConnectClient, 'start' | 'finish'>;
  readonly demandes: Pick<DemandesService, 'soumettre' | 'ressaisir' | 'attendre'>;
  readonly publicUrl: string;
  readonly clock: () => number;
  readonly wake: () => void;
  readonly attenteMs: number;
  readonly page: (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status?: number) => FastifyReply;
  readonly acteurDe: (compte: CompteConnecte) => Acteur;
  readonly signedIn: (request: FastifyRequest, reply: FastifyReply) => CompteConnecte | undefined;
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
    };
    return reply.redirect(url, 303);
  }

  const echec = (request: FastifyRequest, reply: FastifyReply, titre: string, message: string, retour: string, status: number) =>
    deps.page(request, reply, titre, <FranceConnectAvisPage titre={titre} message={message} retour={retour} />, status);

  app.get(FC_RETOUR_AVIS, async (request, reply) => {
    const compte = deps.signedIn(request, reply);
    if (!compte) return reply;
    const query = lireChamps(RETOUR, request.query);
    // Used once, whatever the outcome: a second return cannot reuse it.
    const enCours = request.session.avisFranceConnect;
    delete request.session.avisFranceConnect;
    const attente = enCours ? attentes.take(enCours.attente) : undefined;
    const retour = attente?.demandeId ? `/mon-quotient/demandes/${attente.demandeId}` : '/mon-quotient/numero';
    if (query.error !== undefined) {
      return echec(
        request,
        reply,
        'Connexion FranceConnect annulée',
        'La connexion avec FranceConnect n’a pas abouti : aucun avis n’a été demandé à la DGFiP. Vous pouvez recommencer ou saisir le numéro fiscal.',
        retour,
        400,
      );
    }
    if (!enCours || !attente || attente.familleId !== compte.familleId) {
      return echec(
        request,
        reply,
        'Connexion FranceConnect expirée',
        'Cette connexion FranceConnect ne correspond à aucune demande en cours (elle a peut-être pris plus de 10 minutes) : aucun avis n’a été demandé. Recommencez l’étape du numéro fiscal.',
        '/mon-quotient',
        400,
      );
    }
    const identity = await deps.franceConnect.finish(
      new URL(request.url, deps.publicUrl),
      deps.clock() - enCours.oidc.startedAt < ATTENTE_MS ? enCours.oidc : undefined,
    );
    // The token's expiry on this server's clock, from what FranceConnect said at the exchange.
    const valableJusque = deps.clock() + (identity.accessTokenExpiresIn ?? 60) * 1000;
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
        retour,
        403,
      );
    }
    const identifiantDe = (rang: 1 | 2): IdentifiantSoumis | undefined => {
      if (rang === enCours.rang) return { franceConnectToken: identity.accessToken, valableJusque };
      if (attente.franceConnect.includes(rang)) return { franceConnectAttendu: true };
      const spi = attente.numeros.get(rang);
      return spi ? { spi } : undefined;
    };
    const rangs = [...new Set<1 | 2>([...attente.numeros.keys(), ...attente.franceConnect])].sort();
    const identifiants = rangs.flatMap((rang) => {
      const identifiant = identifiantDe(rang);
      return identifiant ? [{ parentRang: rang, identifiant }] : [];
    });
    // The numbers typed for the other declarant count against the account and the address like any others.
    const essai = { compte: compte.compteId, adresse: request.ip };
    let id = attente.demandeId;
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
