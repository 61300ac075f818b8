import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { lireChamps, pageFormulaire, texteOptionnel, type EnvoiPage } from '../../http/formulaire.ts';
import { pageContext, sendPage } from '../../http/render.tsx';
import { Layout } from '../../http/ui/layout.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { LIBELLES_CHAMPS, PARAM_HORS_COMMUNE, avisAttendu, simuler } from './simulateur-service.ts';
import { SimulateurPage } from './simulateur-views.tsx';

/** Today in France: which avis to read changes on a French calendar day, not a UTC one (one shared formatter, not one per request). */
function todayInFrance(): string {
  return parisDate(Date.now());
}

/** Every parameter the simulator's form may send (which ones it asks depends on the policy); the service reads them. */
// Amounts and counts, each bounded by the simulator's own parser with its French message on the field.
const PARAMETRES = z.object(Object.fromEntries([...Object.keys(LIBELLES_CHAMPS), PARAM_HORS_COMMUNE].map((name) => [name, texteOptionnel({ brut: true })])));

export interface SimulateurDeps {
  readonly commune: CommuneConfig;
  /** The policy in force today (it changes when an administrator activates a version). */
  readonly politique: () => PolitiqueTarifaire;
  readonly today?: () => string;
}

/**
 * The public simulator, without sign-in. The form is sent with GET: it works without JavaScript,
 * the result can be bookmarked, and the amounts typed are not identifiers. Nothing is stored.
 */
export function registerSimulateurRoutes(app: FastifyInstance, deps: SimulateurDeps): void {
  const today = deps.today ?? todayInFrance;
  const page: EnvoiPage = (request, reply, title, body, status) =>
    sendPage(
      reply,
      <Layout ctx={pageContext(request, reply, deps.commune)} title={title}>
        {body}
      </Layout>,
      status,
    );
  app.get('/simulateur', (request, reply) => {
    const politique = deps.politique();
    const issue = simuler(politique, lireChamps(PARAMETRES, request.query));
    const erreurs = issue.kind === 'erreurs' ? issue.erreurs.map((e) => ({ path: e.champ ?? '', message: e.message })) : [];
    return pageFormulaire(
      page,
      request,
      reply,
      'Simulateur de quotient familial',
      erreurs,
      <SimulateurPage commune={deps.commune} politique={politique} issue={issue} avis={avisAttendu(politique, today())} />,
    );
  });
}
