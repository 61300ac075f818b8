import type { Kysely } from 'kysely';
import { addDays, yearOf } from '../domain/dates.ts';
import { isQuotientError } from '../domain/errors.ts';
import type { CommuneConfig } from '../infra/config/commune-config.ts';
import type { Schema } from '../infra/db/schema.ts';
import type { Logger } from '../infra/log/logger.ts';
import type { AgentsService } from '../modules/agents/agents-service.ts';
import type { CampagnesService } from '../modules/campagnes/campagnes-service.ts';
import { parisDate } from '../sources/paris-date.ts';
import type { TachePlanifiee } from './planificateur.ts';

/**
 * The yearly renewal (`campagnes.renouvellementAnnuel` of the commune file): from its day on, once a
 * year, the leader creates and starts the renewal campaign of the standing consents whose QF
 * expires, on behalf of the administrator named responsible. Checked every hour; a year that
 * already has its campaign is left alone, so the job is idempotent.
 */
export function tacheRenouvellementAnnuel(deps: {
  readonly db: Kysely<Schema>;
  readonly config: CommuneConfig['campagnes'];
  readonly campagnes: Pick<CampagnesService, 'creerRenouvellement' | 'agir'>;
  readonly agents: Pick<AgentsService, 'lister'>;
  readonly logger: Logger;
  readonly clock?: () => number;
}): TachePlanifiee {
  return {
    nom: 'renouvellement-annuel',
    intervalleMs: 3600_000,
    async executer() {
      const reglage = deps.config?.renouvellementAnnuel;
      if (!reglage) return;
      const aujourdhui = parisDate((deps.clock ?? Date.now)());
      const annee = yearOf(aujourdhui);
      if (aujourdhui < `${annee}-${reglage.jour}`) return;
      const libelle = `Renouvellement annuel ${annee}`;
      const deja = await deps.db.selectFrom('campagnes').select('id').where('type', '=', 'renouvellement').where('libelle', '=', libelle).executeTakeFirst();
      if (deja) return;
      const responsable = (await deps.agents.lister()).find(
        (a) => a.email === reglage.responsable.toLowerCase() && a.actif && a.roles.includes('administrateur'),
      );
      if (!responsable) {
        deps.logger.error(
          { responsable: 'campagnes.renouvellementAnnuel.responsable' },
          'renouvellement annuel non lancé : le responsable n’est pas un administrateur actif',
        );
        return;
      }
      const echeance = reglage.expirantAvant ? `${annee}-${reglage.expirantAvant}` : addDays(`${annee}-${reglage.jour}`, 31);
      const acteur = { type: 'agent' as const, id: responsable.id };
      try {
        const c = await deps.campagnes.creerRenouvellement(echeance, libelle, acteur);
        await deps.campagnes.agir(c.id, 'demarrer', acteur);
        deps.logger.info({ campagne: c.reference, elements: c.total }, 'renouvellement annuel démarré');
      } catch (error) {
        if (isQuotientError(error) && error.code === 'aucun_renouvellement') return;
        throw error;
      }
    },
  };
}
