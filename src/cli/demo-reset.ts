import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { QuotientError } from '../domain/errors.ts';
import type { AppConfig } from '../infra/config/config.ts';

/** The file the demo leaves in a data folder it created: only such a folder may be wiped. */
export const MARQUE_DEMO = '.quotient-demo';

/**
 * At the demo's start, before anything is written: a folder that does not exist yet, or is empty,
 * becomes the demo's own and gets the mark. A folder that already holds something (an
 * installation's data, anything) is never marked.
 */
export function marquerDossierDemoSiNeuf(dataDir: string): void {
  const dossier = resolve(dataDir);
  if (existsSync(dossier) && readdirSync(dossier).length > 0) return;
  mkdirSync(dossier, { recursive: true, mode: 0o700 });
  writeFileSync(join(dossier, MARQUE_DEMO), 'Dossier créé par « quotient demo » : « quotient demo --reset --oui » peut le vider.\n', { mode: 0o600 });
}

/** Whether `dossier` is `chemin` or one of the folders above it. */
function contient(dossier: string, chemin: string): boolean {
  const rel = relative(dossier, resolve(chemin));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * `quotient demo --reset`: wipes the demo's data folder (SQLite database, silo key, sandbox
 * certificates, providers' keys) so that the next start recreates everything. Only with `--oui`,
 * and only a folder the demo created (it bears MARQUE_DEMO): never one that holds the working
 * directory or the home folder, never a PostgreSQL database, never a database file kept outside
 * the folder. Returns what was done, in French; throws a usage error (exit 2) otherwise.
 */
export function reinitialiserDemo(config: Pick<AppConfig, 'dataDir' | 'databaseUrl'>, cwd: string, confirme: boolean): string {
  const dossier = resolve(config.dataDir);
  const affiche = relative(cwd, dossier) || '.';
  const refus = (message: string) => new QuotientError('invalid', 'usage_invalide', message);
  if (!config.databaseUrl.startsWith('sqlite:'))
    throw refus('La réinitialisation ne concerne que la base SQLite de la démonstration : QUOTIENT_DATABASE_URL désigne une autre base, rien n’est effacé.');
  const fichier = config.databaseUrl.slice('sqlite:'.length);
  if (fichier !== ':memory:' && !resolve(fichier).startsWith(`${dossier}${sep}`))
    throw refus(`La base de la démonstration (${fichier}) est hors du dossier ${affiche}/ : rien n’est effacé. Supprimez-la vous-même si c’est voulu.`);
  if (contient(dossier, cwd) || contient(dossier, homedir()))
    throw refus(`Le dossier de données est ${dossier} : le vider effacerait bien plus que la démonstration. Rien n’est effacé.`);
  if (existsSync(dossier) && !existsSync(join(dossier, MARQUE_DEMO)))
    throw refus(
      `Le dossier ${affiche}/ n’a pas été créé par la démonstration (il ne porte pas sa marque ${MARQUE_DEMO}) : rien n’est effacé. Supprimez-le vous-même si c’est voulu.`,
    );
  if (!confirme)
    throw refus(
      `« quotient demo --reset » efface le dossier ${affiche}/ : base de démonstration, clé du coffre, certificats du bac à sable, comptes et courriels. Pour confirmer : quotient demo --reset --oui`,
    );
  if (!existsSync(dossier)) return `Rien à effacer : le dossier ${affiche}/ n’existe pas. La démonstration repart de zéro.`;
  rmSync(dossier, { recursive: true, force: true });
  return `Dossier ${affiche}/ effacé : la démonstration repart de zéro (nouvelle base, nouvelles familles de démonstration).`;
}
