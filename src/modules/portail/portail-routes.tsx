import type { FastifyInstance } from 'fastify';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { DemandesService } from '../demandes/demandes-service.ts';
import type { FamillesService } from '../familles/familles-service.ts';

/** The services the portal uses, composed in src/cli/services.ts. */
export interface PortailServices {
  readonly demandes: Pick<DemandesService, 'soumettre' | 'etat' | 'attendre'>;
  readonly familles: FamillesService;
  /** Tells the processing loop a request was just queued. */
  readonly wake: () => void;
}

export interface PortailRoutesDeps extends PortailServices {
  readonly commune: CommuneConfig;
  readonly politique: PolitiqueTarifaire;
  /** True when families may sign in with FranceConnect (then no numéro fiscal is asked). */
  readonly franceConnect: boolean;
}

/** The family portal: compute my quotient step by step, history and rights. */
export function registerPortailRoutes(app: FastifyInstance, deps: PortailRoutesDeps): void {
  void app;
  void deps;
}
