import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { formatDateFrancaise } from '../../domain/dates.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { formatEuros } from '../../domain/money.ts';
import { requireFamille } from '../../http/espace-famille.ts';
import { champsEnErreur, lireFormulaire, pageFormulaire, texteOptionnel } from '../../http/formulaire.ts';
import { ANCRE_ERREURS, Csrf, Erreurs, RadioGroup } from '../../http/ui/components.tsx';
import type { Acteur, JournalAudit } from '../audit/index.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import type { FamillesService, QuotientFamille } from '../familles/familles-service.ts';

/**
 * A new request while a QF is in force: the family is told it has one, and asked why it asks again
 * (a change of situation) before anything costs a DGFiP call. The reason, a code from a fixed list
 * (no free text, so nothing shaped like a numéro fiscal), is journaled and travels with the journey.
 */
export const RAISONS_NOUVELLE_DEMANDE: ReadonlyArray<readonly [string, string]> = [
  ['naissance', 'Une naissance, une adoption ou un enfant de plus à charge'],
  ['separation', 'Une séparation ou un divorce'],
  ['union', 'Un mariage, un PACS ou une vie en couple'],
  ['revenus', 'Une baisse importante des revenus (perte d’emploi, maladie, retraite)'],
  ['nouvel_avis', 'Un nouvel avis d’imposition est paru'],
  ['autre', 'Un autre changement de situation'],
];

declare module 'fastify' {
  interface Session {
    /** Why this family asks again while a QF is in force (a code of RAISONS_NOUVELLE_DEMANDE). */
    raisonNouvelleDemande?: { familleId: string; raison: string };
  }
}

export interface NouvelleDemandeDeps {
  readonly familles: Pick<FamillesService, 'quotients'>;
  readonly journal: Pick<JournalAudit, 'append'>;
  readonly page: (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status?: number) => FastifyReply;
  readonly signedIn: (request: FastifyRequest, reply: FastifyReply) => CompteConnecte | undefined;
  readonly acteurDe: (compte: CompteConnecte) => Acteur;
}

const CHEMIN = '/mon-quotient/pourquoi';

const SCHEMA = z.object({ raison: texteOptionnel() }).transform((v, ctx) => {
  if (!RAISONS_NOUVELLE_DEMANDE.some(([code]) => code === v.raison)) {
    champsEnErreur(ctx).signaler(`raison-${RAISONS_NOUVELLE_DEMANDE[0]?.[0] ?? ''}`, 'Indiquez ce qui a changé depuis votre dernier quotient.');
    return z.NEVER;
  }
  return v.raison as string;
});

export function registerNouvelleDemande(app: FastifyInstance, deps: NouvelleDemandeDeps) {
  const { page, signedIn } = deps;
  const enVigueur = async (familleId: string) => (await deps.familles.quotients(familleId)).find((q) => q.etat === 'en_vigueur');

  /**
   * Where a step of the request must first send the family: to this question, while a QF is in force
   * and no reason was given in this session. `undefined`: go on.
   */
  async function detour(request: FastifyRequest, compte: CompteConnecte): Promise<string | undefined> {
    const r = request.session.raisonNouvelleDemande;
    if (r && r.familleId === compte.familleId) return undefined;
    return (await enVigueur(compte.familleId)) ? CHEMIN : undefined;
  }

  app.get(CHEMIN, async (request, reply) => {
    const compte = signedIn(request, reply);
    if (!compte) return reply;
    const q = await enVigueur(compte.familleId);
    if (!q) return reply.redirect('/mon-quotient', 303);
    return page(request, reply, 'Vous avez déjà un quotient familial', <PourquoiPage csrf={reply.generateCsrf()} q={q} errors={[]} />);
  });

  app.post(CHEMIN, async (request, reply) => {
    const compte = requireFamille(request);
    const q = await enVigueur(compte.familleId);
    if (!q) return reply.redirect('/mon-quotient', 303);
    const lecture = lireFormulaire(SCHEMA, request.body);
    if (!lecture.ok) {
      const corps = <PourquoiPage csrf={reply.generateCsrf()} q={q} errors={lecture.errors} />;
      return pageFormulaire(page, request, reply, 'Vous avez déjà un quotient familial', lecture.errors, corps);
    }
    request.session.raisonNouvelleDemande = { familleId: compte.familleId, raison: lecture.values };
    await deps.journal.append({
      actor: deps.acteurDe(compte),
      action: 'demande.nouvelle_motivee',
      target: { type: 'famille', id: compte.familleId },
      outcome: 'succes',
      details: { raison: lecture.values, quotientEnVigueur: q.reference },
    });
    return reply.redirect('/mon-quotient/accord', 303);
  });

  return { detour };
}

function PourquoiPage({ csrf, q, errors }: { csrf: string; q: QuotientFamille; errors: readonly ErrorDetail[] }) {
  return (
    <>
      <Erreurs errors={errors} />
      <h1>Vous avez déjà un quotient familial en vigueur</h1>
      <p class="lead">
        Votre quotient familial de {formatEuros(q.cents)} {q.periode === 'annuelle' ? 'par an' : 'par mois'} s’applique jusqu’au{' '}
        {formatDateFrancaise(q.valideAu)} (demande {q.reference}). Une nouvelle demande n’est utile que si votre situation a changé depuis.
      </p>
      <p>
        Si vous pensez que ce quotient est faux, <a href={`/mon-quotient/demandes/${q.demandeId}/contestation`}>signalez une erreur</a> plutôt : un agent
        vérifiera.
      </p>
      <form method="post" action={`${CHEMIN}#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <RadioGroup name="raison" legend="Qu’est-ce qui a changé ?" options={RAISONS_NOUVELLE_DEMANDE} value={undefined} errors={errors} />
        <button class="button" type="submit">
          Continuer ma nouvelle demande
        </button>
      </form>
      <p>
        <a href="/mon-espace">Non, garder mon quotient actuel</a>
      </p>
    </>
  );
}
