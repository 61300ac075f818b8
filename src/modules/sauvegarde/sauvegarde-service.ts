/**
 * `quotient backup` and `quotient restore`: the database (SQLite online backup, or pg_dump in its
 * custom format), the files that live outside it and without which it is useless or unprovable
 * (the silo's key ring, the journal's key and anchor, the sessions' key), and a manifest, in one
 * encrypted archive (see `archive.ts`).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import { openDatabase, type DialectName } from '../../infra/db/database.ts';
import { MIGRATIONS, pendingMigrations } from '../../infra/db/migrations.ts';
import {
  ArchiveRefusee,
  decrireFichier,
  dechiffrerArchive,
  ecrireArchive,
  extraireEntree,
  lireContenu,
  sha256File,
  type FichierArchive,
  type Manifeste,
  type RoleFichier,
} from './archive.ts';
import { outilPostgres, variablesPostgres } from './postgres-outils.ts';

/** The files outside the database, where the configuration puts them. */
export interface FichiersInstallation {
  readonly coffre: string;
  readonly cleJournal: string;
  readonly ancre: string;
  readonly cleSessions?: string;
}

export interface Installation {
  readonly databaseUrl: string;
  readonly fichiers: FichiersInstallation;
  readonly version: string;
}

const NOMS: Record<Exclude<RoleFichier, 'base'>, { nom: string; chemin: (f: FichiersInstallation) => string | undefined; requis: boolean }> = {
  // The anchor first: copied before the database, it can only lag behind the copy, never lead it
  // (a lead would look like a cut tail).
  ancre_journal: { nom: 'cles/audit-journal.anchor.json', chemin: (f) => f.ancre, requis: true },
  cle_journal: { nom: 'cles/audit-journal.key', chemin: (f) => f.cleJournal, requis: true },
  cle_sessions: { nom: 'cles/sessions.key', chemin: (f) => f.cleSessions, requis: false },
  // The key ring last: a key added by a rotation during the dump is then in the copy.
  cles_coffre: { nom: 'cles/coffre.json', chemin: (f) => f.coffre, requis: true },
};

const dialectOf = (url: string): DialectName => (url.startsWith('sqlite:') ? 'sqlite' : 'postgres');

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (error) => reject(new QuotientError('unavailable', 'outil_introuvable', `Impossible de lancer ${basename(command)}.`, { cause: error })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new QuotientError('unavailable', 'outil_echec', `${basename(command)} a échoué (code ${code}) : ${stderr.trim().split('\n').slice(-3).join(' ')}`),
        );
    });
  });
}

async function etatBase(url: string): Promise<{ migrations: Manifeste['migrations']; journal: Manifeste['journal'] }> {
  const database = openDatabase(url);
  try {
    const pending = new Set(await pendingMigrations(database.db));
    const applied = MIGRATIONS.filter((m) => !pending.has(m.name));
    const head = await database.db.selectFrom('journal_audit_head').select(['journal_id', 'seq']).where('id', '=', 1).executeTakeFirst();
    return {
      migrations: { nombre: applied.length, derniere: applied.at(-1)?.name ?? null },
      journal: { identifiant: head?.journal_id ?? null, sequence: Number(head?.seq ?? 0) },
    };
  } finally {
    await database.close();
  }
}

export interface RapportSauvegarde {
  readonly archive: string;
  readonly manifeste: Manifeste;
}

/** Writes the archive at `destination` (refused if it exists); the work folder is removed whatever happens. */
export async function sauvegarder(
  installation: Installation,
  cle: Buffer,
  destination: string,
  clock: () => Date = () => new Date(),
): Promise<RapportSauvegarde> {
  if (existsSync(destination))
    throw new QuotientError(
      'conflict',
      'archive_existe',
      `Le fichier ${destination} existe déjà : choisissez un autre nom (une sauvegarde n’en remplace jamais une autre).`,
    );
  mkdirSync(dirname(destination), { recursive: true, mode: 0o700 });
  const travail = mkdtempSync(join(dirname(destination), '.quotient-sauvegarde-'));
  try {
    const fichiers: FichierArchive[] = [];
    const sources = new Map<string, string>();
    const ajouter = (nom: string, role: RoleFichier, chemin: string) => {
      fichiers.push(decrireFichier(nom, role, chemin));
      sources.set(nom, chemin);
    };
    const copier = (role: Exclude<RoleFichier, 'base'>) => {
      const { nom, chemin, requis } = NOMS[role];
      const source = chemin(installation.fichiers);
      if (source === undefined || !existsSync(source)) {
        if (!requis) return;
        throw new QuotientError(
          'invalid',
          'fichier_absent',
          `Le fichier ${source ?? nom} est introuvable : sans lui, la sauvegarde ne pourrait pas être restaurée.`,
        );
      }
      // A copy first: the live file may be replaced (the anchor moves) while it is sealed.
      const copie = join(travail, basename(nom));
      copyFileSync(source, copie);
      ajouter(nom, role, copie);
    };
    copier('ancre_journal');
    copier('cle_journal');
    copier('cle_sessions');
    const dialecte = dialectOf(installation.databaseUrl);
    const etat = await etatBase(installation.databaseUrl);
    const dump = join(travail, dialecte === 'sqlite' ? 'base.sqlite' : 'base.pgdump');
    if (dialecte === 'sqlite') {
      const source = new BetterSqlite3(installation.databaseUrl.slice('sqlite:'.length), { readonly: true, fileMustExist: true });
      try {
        // SQLite's online backup: a consistent copy while the application keeps writing.
        await source.backup(dump);
      } finally {
        source.close();
      }
    } else {
      await run(outilPostgres('pg_dump'), ['--format=custom', '--no-owner', `--file=${dump}`], variablesPostgres(installation.databaseUrl));
    }
    ajouter(basename(dump), 'base', dump);
    copier('cles_coffre');
    const manifeste: Manifeste = {
      format: 1,
      logiciel: { nom: 'quotient', version: installation.version, node: process.version },
      creeeLe: clock().toISOString(),
      dialecte,
      ...etat,
      fichiers,
    };
    ecrireArchive(destination, cle, manifeste, sources);
    return { archive: destination, manifeste };
  } finally {
    rmSync(travail, { recursive: true, force: true });
  }
}

/** Is the target database empty? SQLite: no file (or an empty one); PostgreSQL: no table in its public schema. */
async function baseVide(url: string): Promise<boolean> {
  if (dialectOf(url) === 'sqlite') {
    const path = url.slice('sqlite:'.length);
    return [path, `${path}-wal`].every((f) => !existsSync(f) || statSync(f).size === 0);
  }
  const database = openDatabase(url);
  try {
    const result = await sql<{ n: string | number }>`select count(*) as n from information_schema.tables where table_schema = 'public'`.execute(database.db);
    return Number(result.rows[0]?.n ?? 0) === 0;
  } finally {
    await database.close();
  }
}

export interface RapportRestauration {
  readonly manifeste: Manifeste;
  /** Key files that were already in place with the same content, left as they were. */
  readonly dejaPresents: readonly string[];
}

/**
 * Restores an archive into a fresh installation: an empty database and key files that do not exist
 * yet (or hold the same bytes). The archive is checked whole (tag, then each file's SHA-256) before
 * anything is written; nothing of an installation in use is ever replaced.
 */
export async function restaurer(installation: Installation, cle: Buffer, archive: string, travailDans: string): Promise<RapportRestauration> {
  mkdirSync(travailDans, { recursive: true, mode: 0o700 });
  const travail = mkdtempSync(join(travailDans, '.quotient-restauration-'));
  const crees: string[] = [];
  try {
    const clair = join(travail, 'contenu');
    dechiffrerArchive(archive, cle, clair);
    const { manifeste, entrees } = lireContenu(clair);
    if (manifeste.format !== 1 || !Array.isArray(manifeste.fichiers)) throw new ArchiveRefusee('Le manifeste de l’archive est invalide.');
    const dialecte = dialectOf(installation.databaseUrl);
    if (manifeste.dialecte !== dialecte) {
      throw new QuotientError(
        'invalid',
        'dialecte_different',
        `Cette archive contient une base ${manifeste.dialecte === 'sqlite' ? 'SQLite' : 'PostgreSQL'} : QUOTIENT_DATABASE_URL doit désigner une base du même type.`,
      );
    }
    const entreeDe = (f: FichierArchive) => {
      const e = entrees.get(f.nom);
      if (e === undefined || e.taille !== f.taille) throw new ArchiveRefusee(`Le fichier ${f.nom} annoncé par le manifeste manque à l’archive.`);
      return e;
    };
    // Every file is checked against its checksum before anything reaches the installation.
    const verifies = new Map<string, string>();
    for (const f of manifeste.fichiers) {
      const copie = join(travail, `${f.role}-${basename(f.nom)}`);
      extraireEntree(clair, entreeDe(f), f.sha256, copie);
      verifies.set(f.role, copie);
    }
    rmSync(clair, { force: true });
    if (!(await baseVide(installation.databaseUrl))) {
      throw new QuotientError(
        'conflict',
        'base_non_vide',
        'La base désignée par QUOTIENT_DATABASE_URL n’est pas vide : la restauration se fait dans une base neuve, jamais par-dessus des données.',
      );
    }
    const dejaPresents: string[] = [];
    const placements: Array<{ role: RoleFichier; cible: string }> = [];
    for (const f of manifeste.fichiers) {
      const role: RoleFichier = f.role;
      if (role === 'base') continue;
      const cible = NOMS[role].chemin(installation.fichiers);
      if (cible === undefined) continue;
      if (existsSync(cible)) {
        if (sha256File(cible) === f.sha256) {
          dejaPresents.push(cible);
          continue;
        }
        throw new QuotientError(
          'conflict',
          'fichier_existe',
          `Le fichier ${cible} existe déjà avec un autre contenu : la restauration ne le remplace pas. Déplacez-le ou désignez un autre emplacement.`,
        );
      }
      placements.push({ role, cible });
    }
    for (const { role, cible } of placements) {
      mkdirSync(dirname(cible), { recursive: true, mode: 0o700 });
      copyFileSync(verifies.get(role) as string, cible, 1 /* COPYFILE_EXCL */);
      crees.push(cible);
    }
    const base = verifies.get('base');
    if (base === undefined) throw new ArchiveRefusee('L’archive ne contient pas de base de données.');
    if (dialecte === 'sqlite') {
      const path = installation.databaseUrl.slice('sqlite:'.length);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
      copyFileSync(base, path, 1 /* COPYFILE_EXCL */);
      crees.push(path);
    } else {
      // One transaction: a failure leaves the database empty, as it was.
      await run(
        outilPostgres('pg_restore'),
        ['--no-owner', '--exit-on-error', '--single-transaction', `--dbname=${variablesPostgres(installation.databaseUrl).PGDATABASE ?? ''}`, base],
        variablesPostgres(installation.databaseUrl),
      );
    }
    return { manifeste, dejaPresents };
  } catch (error) {
    for (const f of crees) rmSync(f, { force: true });
    throw error;
  } finally {
    rmSync(travail, { recursive: true, force: true });
  }
}
