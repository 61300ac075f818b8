import type { Principal } from './principal.ts';

/**
 * THE access policy: every route of Quotient, by method and path as the router knows it, and who
 * may call it. A route that is not here is refused to everyone (and the authorisation-matrix test
 * fails), so that a new page is never public by mistake. HEAD follows GET.
 *
 * Need to know (ARCHITECTURE §3.7): families reach only their own space, counter agents the
 * counter, instructors the review queue, administrators the configuration, auditors the journal;
 * none of them another's pages. The billing software reaches the API only.
 */

/** Everyone, signed in or not. */
export const PUBLIC: readonly Principal[] = ['anonyme', 'famille', 'guichet', 'instructeur', 'administrateur', 'auditeur', 'api'];
export const FAMILLE: readonly Principal[] = ['famille'];
export const AGENTS: readonly Principal[] = ['guichet', 'instructeur', 'administrateur', 'auditeur'];
export const GUICHET: readonly Principal[] = ['guichet'];
export const INSTRUCTEUR: readonly Principal[] = ['instructeur'];
export const ADMINISTRATEUR: readonly Principal[] = ['administrateur'];
export const AUDITEUR: readonly Principal[] = ['auditeur'];
export const API: readonly Principal[] = ['api'];

export const POLITIQUE_ACCES: Readonly<Record<string, readonly Principal[]>> = {
  // Service and public pages.
  'GET /healthz': PUBLIC,
  'GET /readyz': PUBLIC,
  // Guarded by its own bearer token (QUOTIENT_METRICS_TOKEN_FILE), not by a session.
  'GET /metrics': PUBLIC,
  'GET /static/*': PUBLIC,
  'GET /': PUBLIC,
  'GET /simulateur': PUBLIC,
  'GET /mentions-legales': PUBLIC,
  'GET /accessibilite': PUBLIC,
  'GET /confidentialite': PUBLIC,
  'GET /contact': PUBLIC,
  // The check of an attestation's code, for a leisure centre or a conservatoire: no sign-in.
  'GET /verifier': PUBLIC,
  'GET /verifier/:code': PUBLIC,
  // Demo only (registered when e-mails are captured on this machine).
  'GET /dev/courriels': PUBLIC,

  // Families' sign-in: open to anyone, the pages themselves send a signed-in family onwards.
  'GET /connexion': PUBLIC,
  'POST /connexion': PUBLIC,
  'POST /connexion/franceconnect': PUBLIC,
  'GET /connexion/franceconnect/retour': PUBLIC,
  'GET /deconnexion': PUBLIC,
  'POST /deconnexion': PUBLIC,
  'GET /deconnexion/fin': PUBLIC,
  'GET /inscription': PUBLIC,
  'POST /inscription': PUBLIC,
  'GET /inscription/confirmation': PUBLIC,
  'POST /inscription/confirmation': PUBLIC,
  'GET /mot-de-passe-oublie': PUBLIC,
  'POST /mot-de-passe-oublie': PUBLIC,
  'GET /mot-de-passe/nouveau': PUBLIC,
  'POST /mot-de-passe/nouveau': PUBLIC,

  // The family portal.
  'GET /mon-espace': FAMILLE,
  'GET /mon-foyer': FAMILLE,
  'POST /mon-foyer': FAMILLE,
  'GET /mon-quotient': FAMILLE,
  'GET /mon-quotient/pourquoi': FAMILLE,
  'POST /mon-quotient/pourquoi': FAMILLE,
  'GET /mon-quotient/accord': FAMILLE,
  'POST /mon-quotient/accord': FAMILLE,
  'GET /mon-quotient/numero': FAMILLE,
  'POST /mon-quotient/numero': FAMILLE,
  'GET /mon-quotient/franceconnect/retour': FAMILLE,
  'GET /mon-quotient/etat-civil': FAMILLE,
  'POST /mon-quotient/etat-civil': FAMILLE,
  'GET /mon-quotient/demandes/:id': FAMILLE,
  'GET /mon-quotient/demandes/:id/attestation': FAMILLE,
  'GET /mon-quotient/demandes/:id/attestation.pdf': FAMILLE,
  'GET /mon-quotient/demandes/:id/contestation': FAMILLE,
  'POST /mon-quotient/demandes/:id/contestation': FAMILLE,
  'POST /mon-quotient/demandes/:id/ressaisie': FAMILLE,
  // The avis as a fallback (issue 15): sent by the family, opened by the instructor only.
  'GET /mon-quotient/demandes/:id/avis': FAMILLE,
  'POST /mon-quotient/demandes/:id/avis': FAMILLE,
  'GET /mon-quotient/demandes/:id/etat-civil': FAMILLE,
  'POST /mon-quotient/demandes/:id/etat-civil': FAMILLE,
  'GET /mes-demandes': FAMILLE,
  'GET /mes-donnees': FAMILLE,
  'GET /mes-donnees/export': FAMILLE,
  'GET /mes-donnees/export.json': FAMILLE,
  'GET /mes-donnees/retrait': FAMILLE,
  'POST /mes-donnees/retrait': FAMILLE,
  'GET /mes-donnees/renouvellement/:id/retrait': FAMILLE,
  'POST /mes-donnees/renouvellement/:id/retrait': FAMILLE,

  // Agents' sign-in and home.
  'GET /agents/connexion': PUBLIC,
  'POST /agents/connexion': PUBLIC,
  'GET /agents/connexion/retour': PUBLIC,
  'POST /agents/deconnexion': PUBLIC,
  'GET /agents/deconnexion/fin': PUBLIC,
  'GET /agents': AGENTS,

  // Counter (guichet).
  'GET /agents/guichet': GUICHET,
  'GET /agents/guichet/formulaire-accord': GUICHET,
  'POST /agents/guichet/recherche': GUICHET,
  'GET /agents/guichet/familles/nouvelle': GUICHET,
  'POST /agents/guichet/familles': GUICHET,
  'GET /agents/guichet/familles/:id': GUICHET,
  'GET /agents/guichet/familles/:id/demande': GUICHET,
  'POST /agents/guichet/familles/:id/demande': GUICHET,
  'GET /agents/guichet/familles/:id/demande/numero': GUICHET,
  'POST /agents/guichet/familles/:id/demande/numero': GUICHET,
  'GET /agents/guichet/familles/:id/demande/etat-civil': GUICHET,
  'POST /agents/guichet/familles/:id/demande/etat-civil': GUICHET,
  'GET /agents/guichet/demandes/:id': GUICHET,
  'POST /agents/guichet/demandes/:id/ressaisie': GUICHET,
  'GET /agents/guichet/demandes/:id/attestation': GUICHET,
  'GET /agents/guichet/demandes/:id/attestation.pdf': GUICHET,

  // Review (instruction).
  'GET /agents/instruction': INSTRUCTEUR,
  'GET /agents/instruction/demandes/:id': INSTRUCTEUR,
  'POST /agents/instruction/demandes/:id/consultation': INSTRUCTEUR,
  'POST /agents/instruction/demandes/:id/decision': INSTRUCTEUR,
  'GET /agents/instruction/contestations/:id': INSTRUCTEUR,
  'POST /agents/instruction/contestations/:id/consultation': INSTRUCTEUR,
  'POST /agents/instruction/contestations/:id/reponse': INSTRUCTEUR,
  'GET /agents/instruction/avis/:id': INSTRUCTEUR,

  // Administration.
  'GET /agents/administration': ADMINISTRATEUR,
  'GET /agents/administration/politiques': ADMINISTRATEUR,
  'GET /agents/administration/politiques/nouvelle': ADMINISTRATEUR,
  'POST /agents/administration/politiques': ADMINISTRATEUR,
  'GET /agents/administration/politiques/comparaison': ADMINISTRATEUR,
  'GET /agents/administration/politiques/:id': ADMINISTRATEUR,
  'GET /agents/administration/politiques/:id/apercu': ADMINISTRATEUR,
  'POST /agents/administration/politiques/:id/activation': ADMINISTRATEUR,
  'POST /agents/administration/politiques/:id/abandon': ADMINISTRATEUR,
  'GET /agents/administration/habilitation': ADMINISTRATEUR,
  'GET /agents/administration/agents': ADMINISTRATEUR,
  'GET /agents/administration/agents/nouveau': ADMINISTRATEUR,
  'POST /agents/administration/agents': ADMINISTRATEUR,
  'GET /agents/administration/agents/:id': ADMINISTRATEUR,
  'POST /agents/administration/agents/:id/roles': ADMINISTRATEUR,
  'POST /agents/administration/agents/:id/desactivation': ADMINISTRATEUR,
  'POST /agents/administration/agents/:id/reactivation': ADMINISTRATEUR,
  'GET /agents/administration/cles-api': ADMINISTRATEUR,
  'POST /agents/administration/cles-api': ADMINISTRATEUR,
  'POST /agents/administration/cles-api/:id/revocation': ADMINISTRATEUR,
  // Incident measures (switches, revocation of sessions); the integrity halt is the auditors'.
  'GET /agents/administration/campagnes': ADMINISTRATEUR,
  'GET /agents/administration/campagnes/modele.csv': ADMINISTRATEUR,
  'GET /agents/administration/campagnes/import': ADMINISTRATEUR,
  'POST /agents/administration/campagnes/import': ADMINISTRATEUR,
  'GET /agents/administration/campagnes/:id': ADMINISTRATEUR,
  'POST /agents/administration/campagnes/:id/:action': ADMINISTRATEUR,
  'GET /agents/administration/campagnes/:id/rapport.csv': ADMINISTRATEUR,
  'GET /agents/administration/incident': ADMINISTRATEUR,
  'POST /agents/administration/incident/interrupteurs': ADMINISTRATEUR,
  'POST /agents/administration/incident/sessions': ADMINISTRATEUR,

  // Audit and control (contrôle).
  'GET /agents/controle': AUDITEUR,
  'GET /agents/controle/journal': AUDITEUR,
  'POST /agents/controle/journal': AUDITEUR,
  'GET /agents/controle/exports': AUDITEUR,
  'GET /agents/controle/exports/fichier': AUDITEUR,
  'POST /agents/controle/exports/fichier': AUDITEUR,
  'GET /agents/controle/controles': AUDITEUR,
  'POST /agents/controle/controles': AUDITEUR,
  'GET /agents/controle/controles/:id': AUDITEUR,
  'POST /agents/controle/controles/:id/observations': AUDITEUR,
  'POST /agents/controle/controles/:id/verdicts/:sequence': AUDITEUR,
  'GET /agents/controle/integrite': AUDITEUR,
  'POST /agents/controle/integrite': AUDITEUR,
  'POST /agents/controle/integrite/reconnaissance': AUDITEUR,
  'GET /agents/controle/alertes': AUDITEUR,
  'GET /agents/controle/alertes/:id': AUDITEUR,
  'POST /agents/controle/alertes/:id/acquittement': AUDITEUR,
  'POST /agents/controle/alertes/:id/cloture': AUDITEUR,

  // Dashboard (tableau de bord).
  'GET /agents/tableau-de-bord': AGENTS,

  // Billing software (facturation) and the REST API.
  // Billing clerks work at the counter or in administration; the software itself uses its key.
  'GET /agents/facturation': [...GUICHET, ...ADMINISTRATEUR],
  'GET /agents/facturation/export.csv': [...GUICHET, ...ADMINISTRATEUR],
  'GET /api/v1/quotients': API,
  'GET /api/v1/openapi.json': PUBLIC,
};

/** The policy's key of a route: HEAD is GET. */
export function cleRoute(method: string, url: string): string {
  return `${method === 'HEAD' ? 'GET' : method} ${url}`;
}
