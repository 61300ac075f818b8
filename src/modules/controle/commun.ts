import type { Kysely } from 'kysely';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { JournalAudit } from '../audit/index.ts';
import type { Agent } from '../agents/agents-service.ts';
import type { GardeIntegrite } from '../incident/garde-integrite.ts';
import { ANNEE_MAX, ANNEE_MIN, dansLesBornes, lireDate, type DateSaisie } from './periode.ts';

/** What the auditor's use cases need, shared by the pieces behind `ControleService`. */
export interface ControleDeps {
  readonly db: Kysely<Schema>;
  readonly journal: JournalAudit;
  readonly agents: { lister(): Promise<Agent[]> };
  /** The integrity halt: the check run here decides it, and only an auditor's acknowledgement lifts it. */
  readonly integrite: Pick<GardeIntegrite, 'verifier' | 'etat' | 'reconnaitre'>;
  readonly clock?: () => number;
}

export const invalide = (message: string, details: ErrorDetail[]) => new QuotientError('invalid', 'filtre_invalide', message, { details });

export const libelleAgent = (a: Agent) => `${a.prenom} ${a.nom}`;

export function horloge(deps: ControleDeps): number {
  return (deps.clock ?? Date.now)();
}

/** A date field of a form (day or instant), a French message in `problems` when it is faulty. */
export function dateSaisie(text: string | undefined, champ: string, nom: string, problems: ErrorDetail[]): DateSaisie | undefined {
  const t = (text ?? '').trim();
  if (t === '') return undefined;
  const d = lireDate(t);
  if (!d) problems.push({ path: champ, message: `La date « ${nom} » doit être au format JJ/MM/AAAA, par exemple 03/02/2026.` });
  else if (!dansLesBornes(d)) {
    problems.push({ path: champ, message: `La date « ${nom} » doit être comprise entre ${ANNEE_MIN} et ${ANNEE_MAX}.` });
    return undefined;
  }
  return d ?? undefined;
}
