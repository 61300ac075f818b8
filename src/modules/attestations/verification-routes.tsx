import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { normaliserCode } from '../../domain/attestation.ts';
import { QuotientError } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import { pageContext, sendPage } from '../../http/render.tsx';
import { Layout } from '../../http/ui/layout.tsx';
import { parisDate } from '../../sources/paris-date.ts';
import type { Acteur } from '../audit/index.ts';
import type { AttestationsService } from './attestations-service.ts';
import { VerificationPage } from './verification-views.tsx';

export interface VerificationRoutesDeps {
  readonly attestations: Pick<AttestationsService, 'verifier'>;
  readonly commune: CommuneConfig;
  /** Checks per network address and minute, on each of the two pages (default 30). */
  readonly parMinute?: number;
  readonly clock?: () => number;
  /** Told of an address over the limit, once a minute at most per address (the journal hears of it, not of every refusal). */
  readonly limiteAtteinte?: (request: FastifyRequest) => void;
}

const trop = () =>
  new QuotientError(
    'rate_limited',
    'trop_de_verifications',
    'Trop de vérifications en peu de temps depuis votre connexion : patientez une minute avant de réessayer.',
  );

/**
 * The public check of an attestation's code, without signing in: `/verifier` (the form, which
 * sends `?code=` without JavaScript) and `/verifier/<code>` (what the QR code opens). Throttled
 * per address; each check journaled by the service; any input gets a French page, never a 500.
 */
export async function registerVerificationRoutes(app: FastifyInstance, deps: VerificationRoutesDeps): Promise<void> {
  // The sign-in pages may have registered the limiter already (one per application).
  if (!app.hasDecorator('rateLimit')) await app.register(rateLimit, { global: false, errorResponseBuilder: trop });
  const clock = deps.clock ?? Date.now;
  // A flood of refused checks must not become a flood of journal entries: one per address and minute.
  const signalees = new Map<string, number>();
  const signaler = (request: FastifyRequest, cle: string) => {
    const maintenant = clock();
    if ((signalees.get(cle) ?? -Infinity) > maintenant - 60_000) return;
    if (signalees.size > 10_000) for (const [k, le] of signalees) if (le <= maintenant - 60_000) signalees.delete(k);
    signalees.set(cle, maintenant);
    deps.limiteAtteinte?.(request);
  };
  const limite = {
    config: {
      rateLimit: {
        max: deps.parMinute ?? 30,
        timeWindow: 60_000,
        errorResponseBuilder: trop,
        onExceeded: signaler,
      },
    },
  };

  const repondre = async (request: FastifyRequest, reply: FastifyReply, saisie: unknown) => {
    const acteur: Acteur = { type: 'anonyme', id: String(request.id) };
    const verification = await deps.attestations.verifier(saisie, acteur, String(request.id));
    const code = normaliserCode(saisie);
    // The field shows back what was typed, unless it could be someone's numéro fiscal.
    const texte = typeof saisie === 'string' ? saisie.slice(0, 64) : '';
    const props = {
      commune: deps.commune.commune.nom,
      saisie: code ?? (ressembleANumeroFiscal(texte) ? '' : texte),
      aujourdhui: parisDate(clock()),
      ...(code ? { resultat: { code, verification } } : { codeMalForme: true }),
    };
    // Not to be indexed: a result is for the person who checks, now.
    reply.header('x-robots-tag', 'noindex');
    return sendPage(
      reply,
      <Layout ctx={pageContext(request, reply, deps.commune)} title={code ? `Vérification du code ${code}` : 'Erreur : Vérifier une attestation'}>
        <VerificationPage {...props} />
      </Layout>,
      code ? 200 : 400,
    );
  };

  app.get('/verifier', limite, async (request, reply) => {
    const saisie = (request.query as Record<string, unknown> | undefined)?.code;
    if (saisie === undefined) {
      return sendPage(
        reply,
        <Layout ctx={pageContext(request, reply, deps.commune)} title="Vérifier une attestation">
          <VerificationPage commune={deps.commune.commune.nom} saisie="" aujourdhui={parisDate(clock())} />
        </Layout>,
      );
    }
    return repondre(request, reply, saisie);
  });

  app.get('/verifier/:code', limite, async (request, reply) => repondre(request, reply, (request.params as { code?: unknown }).code));
}
