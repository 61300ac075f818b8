import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { AvisIncident } from './bandeau-incident.tsx';

/** What every page needs to render its frame: who the commune is, the CSP nonce, the request id. */
export interface PageContext {
  readonly commune: CommuneConfig;
  readonly nonce: string;
  readonly requestId: string;
  readonly currentPath: string;
  /** The incident measures in force (a banner on every page); absent outside the application's requests. */
  readonly incident?: AvisIncident | null;
  /** The family signed in (the header offers « Mon espace » and « Se déconnecter »), or null. */
  readonly famille?: { readonly nom: string } | null;
}
