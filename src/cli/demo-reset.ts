import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, relative, resolve, sep } from 'node:path';
import { QuotientError } from '../domain/errors.ts';
import type { AppConfig } from '../infra/config/config.ts';

/**
 * `quotient demo --reset`: wipes the demo's data folder (SQLite database, silo key, sandbox
 * certificates, providers' keys) so that the next start recreates everything. Only with `--oui`,
 * and only a folder that is the demo's own: never the working directory itself, the home folder
 * or the root, never a PostgreSQL database, never a database file kept outside the folder.
 * Returns what was done, in French; throws a usage error (exit 2) otherwise.
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
  if (dossier === resolve(cwd) || dossier === homedir() || dossier === dirname(dossier))
    throw refus(`Le dossier de données est ${dossier} : le vider effacerait bien plus que la démonstration. Rien n’est effacé.`);
  if (!confirme)
    throw refus(
      `« quotient demo --reset » efface le dossier ${affiche}/ : base de démonstration, clé du coffre, certificats du bac à sable, comptes et courriels. Pour confirmer : quotient demo --reset --oui`,
    );
  if (!existsSync(dossier)) return `Rien à effacer : le dossier ${affiche}/ n’existe pas. La démonstration repart de zéro.`;
  rmSync(dossier, { recursive: true, force: true });
  return `Dossier ${affiche}/ effacé : la démonstration repart de zéro (nouvelle base, nouvelles familles de démonstration).`;
}
