/**
 * Who is asking: nobody signed in, a family, an agent in each of their roles, or a billing
 * software with an API key. An agent holding several roles is every one of them.
 */
export const PRINCIPAUX = ['anonyme', 'famille', 'guichet', 'instructeur', 'administrateur', 'auditeur', 'api'] as const;
export type Principal = (typeof PRINCIPAUX)[number];

export const LIBELLES_PRINCIPAUX: Readonly<Record<Principal, string>> = {
  anonyme: 'personne non connectée',
  famille: 'famille',
  guichet: 'agent d’accueil',
  instructeur: 'instructeur',
  administrateur: 'administrateur',
  auditeur: 'auditeur',
  api: 'logiciel de facturation',
};
