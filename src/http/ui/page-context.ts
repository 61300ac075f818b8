import type { CommuneConfig } from '../../infra/config/commune-config.ts';

/** What every page needs to render its frame: who the commune is, the CSP nonce, the request id. */
export interface PageContext {
  readonly commune: CommuneConfig;
  readonly nonce: string;
  readonly requestId: string;
  readonly currentPath: string;
}
