/**
 * Test support: no false positives. At the end of a suite, every detection rule is evaluated once
 * over what the suite wrote (the journal and the in-process events), the journal's integrity is
 * checked as the schedule would, and the alerts raised must be exactly those the suite declared
 * (by rule code): none for an ordinary suite. `createTestApp` (and the portal's and back-office's
 * apps built on it) does it in `close()`, so that a new suite gets it without asking.
 */
import { AssertionError } from 'node:assert';
import type { Services } from '../app/compose.ts';
import type { AlerteStockee } from '../modules/detection/alertes-store.ts';

/** Every alert in the store, whatever its status, once the rules and the integrity check have run now. */
export async function alertesApresEvaluation(services: Pick<Services, 'detection' | 'incident'>): Promise<AlerteStockee[]> {
  await services.incident.integrite.verifier('planifiee');
  // Twice: an evaluation of the schedule under way when this is called may predate the suite's
  // last entries, and an overlapping call shares its result; the second one starts after it.
  await services.detection.evaluer();
  await services.detection.evaluer();
  await services.incident.alerteur.enAttente();
  return services.incident.alertesStore.lister(undefined, 10_000);
}

const decrire = (a: AlerteStockee) => `  - ${a.regle} (${a.cle}, ${a.statut}): ${a.titre}. ${a.message}`;

/**
 * Fails (an `AssertionError` that lists them) unless the rules raised exactly the alerts of
 * `attendues`, by rule code: an unexpected one is a false positive of an ordinary run, an expected
 * one missing means the suite no longer does what it says.
 */
export async function verifierAlertes(services: Pick<Services, 'detection' | 'incident'>, attendues: readonly string[] = []): Promise<void> {
  const alertes = await alertesApresEvaluation(services);
  const levees = [...new Set(alertes.map((a) => a.regle))].sort();
  const voulues = [...new Set(attendues)].sort();
  const imprevues = alertes.filter((a) => !voulues.includes(a.regle));
  const manquantes = voulues.filter((code) => !levees.includes(code));
  if (imprevues.length === 0 && manquantes.length === 0) return;
  const lignes = [
    ...(imprevues.length > 0 ? ['Alerts raised by an ordinary run (false positives):', ...imprevues.map(decrire)] : []),
    ...(manquantes.length > 0 ? [`Alerts declared by the suite but not raised: ${manquantes.join(', ')}`] : []),
  ];
  throw new AssertionError({ message: lignes.join('\n'), actual: levees, expected: voulues, operator: 'deepStrictEqual' });
}
