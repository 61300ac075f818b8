/**
 * The families' shell, shared by the sign-in pages (which load the account) and the portal (which
 * needs it): the signed-in family account of a request.
 */
import type { FastifyRequest } from 'fastify';
import { QuotientError } from '../domain/errors.ts';
import type { CompteConnecte } from '../modules/comptes/comptes-service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in family account, loaded once per request by the sign-in routes; null when anonymous. */
    compte: CompteConnecte | null;
  }
}

/** The signed-in family, or a 401 page inviting to sign in: what the portal's pages call first. */
export function requireFamille(request: FastifyRequest): CompteConnecte {
  if (!request.compte) throw new QuotientError('unauthenticated', 'connexion_requise', 'Connectez-vous pour accéder à cette page.');
  return request.compte;
}
