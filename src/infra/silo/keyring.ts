/**
 * The keyring: the silo's master keys, held in a file outside the database
 * (`QUOTIENT_MASTER_KEY_FILE`), never in it. Several keys by id, one active: new data keys are
 * wrapped by the active one, and a record is read with the key whose id it carries, which is what
 * lets a rotation run while the application keeps working.
 *
 * File (JSON, mode 0600):
 *   { "format": "quotient-cles-coffre/1", "active": "cle-…",
 *     "keys": [ { "id": "cle-…", "createdAt": "2026-…Z", "key": "<32 bytes, base64>" } ] }
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync, type BigIntStats } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { QuotientError } from '../../domain/errors.ts';
import { issuesToDetails, parseOptions } from '../../domain/zod-francais.ts';
import type { AppConfig } from '../config/config.ts';
import { KEY_BYTES, type MasterKey } from './envelope.ts';

export const KEYRING_FORMAT = 'quotient-cles-coffre/1';
/** Name of the key file in the data folder when the demo generates it. */
export const DEMO_KEYRING_NAME = 'cles-coffre.json';
const MAX_FILE_BYTES = 1 << 20;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface KeyringEntry extends MasterKey {
  readonly createdAt: string;
}

/** What may be shown of a key: never its bytes. */
export interface KeyDescription {
  readonly id: string;
  readonly createdAt: string;
  readonly active: boolean;
}

/** An immutable set of master keys with one active. */
export class Keyring {
  private constructor(
    readonly activeId: string,
    private readonly entries: ReadonlyMap<string, KeyringEntry>,
  ) {}

  static of(entries: readonly KeyringEntry[], activeId: string): Keyring {
    const map = new Map<string, KeyringEntry>();
    for (const entry of entries) {
      if (!KEY_ID.test(entry.id)) throw new QuotientError('invalid', 'cle_id_invalide', `Identifiant de clé maîtresse invalide : « ${entry.id} ».`);
      if (map.has(entry.id)) throw new QuotientError('invalid', 'cle_id_double', `La clé maîtresse « ${entry.id} » figure deux fois.`);
      if (entry.key.symmetricKeySize !== KEY_BYTES)
        throw new QuotientError('invalid', 'cle_taille', `La clé maîtresse « ${entry.id} » doit faire ${KEY_BYTES} octets.`);
      map.set(entry.id, entry);
    }
    if (!map.has(activeId)) throw new QuotientError('invalid', 'cle_active_absente', `La clé active « ${activeId} » ne figure pas parmi les clés.`);
    return new Keyring(activeId, map);
  }

  get active(): MasterKey {
    return this.entries.get(this.activeId) as KeyringEntry;
  }

  key(id: string): MasterKey | undefined {
    return this.entries.get(id);
  }

  get ids(): string[] {
    return [...this.entries.keys()];
  }

  describe(): KeyDescription[] {
    return [...this.entries.values()].map((e) => ({ id: e.id, createdAt: e.createdAt, active: e.id === this.activeId }));
  }

  /** Adds a key (made active if told so). */
  with(entry: KeyringEntry, options: { activate?: boolean } = {}): Keyring {
    return Keyring.of([...this.entries.values(), entry], options.activate ? entry.id : this.activeId);
  }

  /** Removes keys; the active one cannot be. */
  without(ids: readonly string[]): Keyring {
    if (ids.includes(this.activeId)) throw new QuotientError('conflict', 'cle_active_retiree', `La clé active « ${this.activeId} » ne peut pas être retirée.`);
    return Keyring.of(
      [...this.entries.values()].filter((e) => !ids.includes(e.id)),
      this.activeId,
    );
  }

  /** Serialised on purpose only (`serializeKeyring`): a stray log line must not carry the keys. */
  toJSON(): unknown {
    return { activeId: this.activeId, keys: this.ids };
  }

  [inspect.custom](): string {
    return `Keyring { active: ${this.activeId}, keys: [${this.ids.join(', ')}] }`;
  }
}

export function generateMasterKey(clock: () => Date = () => new Date()): KeyringEntry {
  const now = clock();
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  // A letter between the date and the random part: eight digits of the date next to eight random
  // hex digits that happen to be decimal would look like a numéro fiscal, which the journal
  // (« coffre.rotation » names the new key) rightly refuses.
  return { id: `cle-${day}-k${randomBytes(4).toString('hex')}`, createdAt: now.toISOString(), key: createSecretKey(randomBytes(KEY_BYTES)) };
}

export function newKeyring(clock?: () => Date): Keyring {
  const entry = generateMasterKey(clock);
  return Keyring.of([entry], entry.id);
}

export function serializeKeyring(keyring: Keyring): string {
  const keys = keyring.describe().map((d) => ({ id: d.id, createdAt: d.createdAt, key: (keyring.key(d.id) as MasterKey).key.export().toString('base64') }));
  return `${JSON.stringify({ format: KEYRING_FORMAT, active: keyring.activeId, keys }, null, 2)}\n`;
}

const base64Key = z
  .string()
  .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === KEY_BYTES && Buffer.from(v, 'base64').toString('base64') === v, {
    message: `clé attendue : ${KEY_BYTES} octets aléatoires encodés en base64`,
  });
const fileSchema = z.strictObject({
  format: z.literal(KEYRING_FORMAT, { error: `format attendu : « ${KEYRING_FORMAT} »` }),
  active: z.string({ error: 'identifiant de la clé active attendu' }),
  keys: z
    .array(
      z.strictObject({
        id: z.string().regex(KEY_ID, { error: 'identifiant attendu : lettres, chiffres, « . », « _ » ou « - » (64 au plus)' }),
        createdAt: z.iso.datetime({ error: 'date ISO 8601 UTC attendue' }),
        key: base64Key,
      }),
    )
    .min(1, { error: 'au moins une clé' }),
});

/** Parses a key file's text; every fault is named by its path in a French error. */
export function parseKeyring(text: string, file: string): Keyring {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new FichierClesInvalide(`Le fichier de clés ${file} n’est pas un JSON valide.`);
  }
  const parsed = fileSchema.safeParse(document, parseOptions);
  if (!parsed.success) throw new FichierClesInvalide(`Le fichier de clés ${file} est invalide :`, issuesToDetails(parsed.error.issues));
  const { active, keys } = parsed.data;
  const ids = keys.map((k) => k.id);
  const double = ids.find((id, i) => ids.indexOf(id) !== i);
  if (double !== undefined)
    throw new FichierClesInvalide(`Le fichier de clés ${file} est invalide :`, [{ path: 'keys', message: `la clé « ${double} » figure deux fois` }]);
  if (!ids.includes(active))
    throw new FichierClesInvalide(`Le fichier de clés ${file} est invalide :`, [{ path: 'active', message: `« ${active} » ne figure pas parmi les clés` }]);
  return Keyring.of(
    keys.map((k) => ({ id: k.id, createdAt: k.createdAt, key: createSecretKey(Buffer.from(k.key, 'base64')) })),
    active,
  );
}

export class FichierClesInvalide extends QuotientError {
  constructor(message: string, details: { path: string; message: string }[] = []) {
    super('invalid', 'fichier_cles_invalide', message, { details });
  }
}

/** Where the silo's keys come from. A source may be re-read: another process may have rotated them. */
export interface KeyringSource {
  /** The keys as last loaded. */
  current(): Keyring;
  /** Re-reads the keys if they may have changed, and returns them. */
  reload(): Keyring;
}

/** Keys held in memory only (tests, benchmarks). */
export class MemoryKeyring implements KeyringSource {
  constructor(private keyring: Keyring) {}
  current(): Keyring {
    return this.keyring;
  }
  reload(): Keyring {
    return this.keyring;
  }
  set(keyring: Keyring): void {
    this.keyring = keyring;
  }
}

/**
 * The key file. Refuses to be used if anyone but its owner may read or write it (the same rule as
 * SSH for private keys), or if it is malformed. Written atomically (temporary file, fsync, rename),
 * so that a crash never leaves half a keyring.
 */
export class KeyringFile implements KeyringSource {
  private keyring: Keyring | undefined;
  private signature = '';

  private constructor(readonly path: string) {}

  /** Opens the file; if it is missing, creates it with one fresh key when told so, or refuses. */
  static open(path: string, options: { createIfMissing?: boolean } = {}): KeyringFile {
    const file = new KeyringFile(path);
    if (options.createIfMissing && statOrUndefined(path) === undefined) {
      try {
        file.create(newKeyring());
      } catch (error) {
        // Another process starting at the same moment created it first: use theirs.
        if (!(error instanceof QuotientError && error.code === 'fichier_cles_existe')) throw error;
      }
    }
    file.reload();
    return file;
  }

  /** Creates a new key file; refuses to overwrite one (its keys may be the only way to read the data). */
  static create(path: string, keyring: Keyring = newKeyring()): KeyringFile {
    const file = new KeyringFile(path);
    file.create(keyring);
    file.reload();
    return file;
  }

  current(): Keyring {
    return this.keyring ?? this.reload();
  }

  reload(): Keyring {
    const stats = statOrUndefined(this.path);
    if (stats === undefined) {
      throw new QuotientError(
        'invalid',
        'fichier_cles_introuvable',
        `Le fichier des clés du coffre ${this.path} (QUOTIENT_MASTER_KEY_FILE) est introuvable : créez-le avec « quotient keys init » ou corrigez la variable.`,
      );
    }
    const signature = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
    if (this.keyring !== undefined && signature === this.signature) return this.keyring;
    checkPermissions(this.path, stats);
    if (stats.size > MAX_FILE_BYTES) throw new FichierClesInvalide(`Le fichier de clés ${this.path} est bien trop grand pour un fichier de clés.`);
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      throw new QuotientError('unavailable', 'fichier_cles_illisible', `Le fichier des clés du coffre ${this.path} ne peut pas être lu par ce programme.`, {
        cause: error,
      });
    }
    this.keyring = parseKeyring(text, this.path);
    this.signature = signature;
    return this.keyring;
  }

  /** Replaces the file's content atomically, keeping mode 0600. */
  save(keyring: Keyring): void {
    writeAtomically(this.path, serializeKeyring(keyring));
    this.keyring = undefined;
    this.reload();
  }

  /**
   * Takes the file's lock for a change that spans several steps (a rotation), so that two
   * operators cannot interleave and lose a key. The lock names its process and machine: a lock
   * left by a process of this machine that died is taken over; one left on another machine (a key
   * file on a shared volume) only when the caller holds the database's rotation lock
   * (`lockedElsewhereIsStale`), which a live rotation there would hold.
   */
  lock(options: { lockedElsewhereIsStale?: boolean } = {}): () => void {
    const lockPath = `${this.path}.verrou`;
    const here = hostname();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx', 0o600);
        writeSync(fd, `${process.pid}@${here}`);
        closeSync(fd);
        return () => rmSync(lockPath, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const [pidText = '', host = here] = readFileSync(lockPath, 'utf8').trim().split('@');
        const holder = Number(pidText);
        if (host !== here && !options.lockedElsewhereIsStale) {
          throw new QuotientError(
            'conflict',
            'fichier_cles_verrouille',
            `Une autre opération sur les clés est en cours sur la machine « ${host} » (processus ${pidText}). Attendez qu’elle se termine ; si elle a été interrompue, supprimez ${lockPath}.`,
          );
        }
        if (host === here && Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
          throw new QuotientError(
            'conflict',
            'fichier_cles_verrouille',
            `Une autre opération sur les clés est en cours (processus ${holder}). Attendez qu’elle se termine ; si aucun processus ne porte ce numéro, supprimez ${lockPath}.`,
          );
        }
        rmSync(lockPath, { force: true });
      }
    }
    throw new QuotientError('conflict', 'fichier_cles_verrouille', `Le verrou ${lockPath} n’a pas pu être pris.`);
  }

  private create(keyring: Keyring): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    // Written aside, then linked into place: the file appears complete or not at all, and the
    // link fails if another process created it meanwhile.
    const temporary = writeTemporary(this.path, serializeKeyring(keyring));
    try {
      linkSync(temporary, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new QuotientError(
          'conflict',
          'fichier_cles_existe',
          `Le fichier de clés ${this.path} existe déjà : il n’est jamais remplacé, car ses clés sont peut-être les seules à pouvoir lire les données.`,
        );
      }
      throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
    syncDirectory(dirname(this.path));
  }
}

/**
 * The key file of a configuration. Production requires `QUOTIENT_MASTER_KEY_FILE` and an existing
 * file; the demo uses (and creates on first start) a file in its data folder.
 */
export function keyringFileOf(config: Pick<AppConfig, 'mode' | 'masterKeyFile' | 'dataDir'>): { path: string; createIfMissing: boolean } {
  if (config.masterKeyFile !== undefined) return { path: config.masterKeyFile, createIfMissing: false };
  if (config.mode === 'production') {
    // The same error as every other missing setting (ConfigurationInvalide), without importing the
    // whole configuration loader here.
    throw new QuotientError('invalid', 'configuration_invalide', 'Configuration invalide : corrigez les réglages ci-dessous.', {
      details: [
        {
          path: 'QUOTIENT_MASTER_KEY_FILE',
          message: 'obligatoire en production : le fichier des clés maîtresses du coffre (à créer avec « quotient keys init »)',
        },
      ],
    });
  }
  return { path: join(config.dataDir, DEMO_KEYRING_NAME), createIfMissing: true };
}

/** Opens the key file of a configuration (see `keyringFileOf`). */
export function openKeyringFile(config: Pick<AppConfig, 'mode' | 'masterKeyFile' | 'dataDir'>): KeyringFile {
  const { path, createIfMissing } = keyringFileOf(config);
  return KeyringFile.open(path, { createIfMissing });
}

function statOrUndefined(path: string): BigIntStats | undefined {
  try {
    return statSync(path, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new QuotientError('unavailable', 'fichier_cles_illisible', `Le fichier des clés du coffre ${path} ne peut pas être examiné.`, { cause: error });
  }
}

function checkPermissions(path: string, stats: BigIntStats): void {
  if (!stats.isFile()) throw new FichierClesInvalide(`Le fichier de clés ${path} n’est pas un fichier ordinaire.`);
  const mode = Number(stats.mode & 0o777n);
  if ((mode & 0o077) !== 0) {
    throw new QuotientError(
      'invalid',
      'fichier_cles_permissions',
      `Le fichier de clés ${path} est accessible à d’autres utilisateurs (droits ${mode.toString(8).padStart(4, '0')}) : restreignez-le avec « chmod 600 ${path} » puis relancez.`,
    );
  }
}

function writeTemporary(path: string, text: string): string {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  } finally {
    closeSync(fd);
  }
  return temporary;
}

function writeAtomically(path: string, text: string): void {
  const temporary = writeTemporary(path, text);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncDirectory(dirname(path));
}

/** The new directory entry itself must reach the disk before the database is told about the key. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
