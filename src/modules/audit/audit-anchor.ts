import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { QuotientError } from '../../domain/errors.ts';
import { sameHex } from './audit-entry.ts';

/**
 * The journal's key and its anchor, both kept outside the database: someone who can rewrite the
 * database cannot reseal entries nor move the anchor, so a rewrite or a cut tail shows.
 */
export interface AuditFiles {
  /** HMAC key (32 random bytes, base64). */
  readonly keyFile: string;
  /** The signed head: last sequence number and its hash. */
  readonly anchorFile: string;
  /** Demo: create the key on first use. Production: the operator provides it (QUOTIENT_AUDIT_KEY_FILE). */
  readonly createKey: boolean;
  /**
   * Demo: an anchor left by an earlier database (the demo started afresh) is replaced while the new
   * journal is empty. Production: that takes an explicit re-anchoring, since an emptied journal
   * looks the same.
   */
  readonly replaceForeignAnchor: boolean;
}

/** Where the files are for a configuration: named by the environment, or under the data folder. */
export function auditFilesFor(config: {
  readonly mode: 'demo' | 'production';
  readonly dataDir: string;
  readonly auditKeyFile?: string;
  readonly auditAnchorFile?: string;
}): AuditFiles {
  return {
    keyFile: config.auditKeyFile ?? join(config.dataDir, 'audit-journal.key'),
    anchorFile: config.auditAnchorFile ?? join(config.dataDir, 'audit-journal.anchor.json'),
    createKey: config.mode === 'demo' && config.auditKeyFile === undefined,
    replaceForeignAnchor: config.mode === 'demo',
  };
}

const KEY_BYTES = 32;

/** Reads the key; null when the file does not exist (nothing was ever appended, or it was lost). */
export function readAuditKey(file: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new QuotientError('unavailable', 'cle_audit_illisible', `La clé du journal d’audit est illisible : ${file}.`, { cause: error });
  }
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length < KEY_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(text.trim())) {
    throw new QuotientError(
      'invalid',
      'cle_audit_invalide',
      `La clé du journal d’audit (${file}) doit contenir au moins ${KEY_BYTES} octets aléatoires encodés en base64 (par exemple : openssl rand -base64 32).`,
    );
  }
  return key;
}

/** The key, created (mode 0600) when allowed and absent. Two processes starting together agree on one key. */
export function loadAuditKey(files: AuditFiles): Buffer {
  const existing = readAuditKey(files.keyFile);
  if (existing !== null) return existing;
  if (!files.createKey) {
    throw new QuotientError(
      'invalid',
      'cle_audit_absente',
      `La clé du journal d’audit est introuvable : ${files.keyFile}. Désignez-la avec QUOTIENT_AUDIT_KEY_FILE (32 octets aléatoires en base64, fichier lisible par Quotient seul).`,
    );
  }
  mkdirSync(dirname(files.keyFile), { recursive: true, mode: 0o700 });
  const temp = `${files.keyFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // link() fails if another process created the key first: then both use that one.
    linkSync(temp, files.keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  const key = readAuditKey(files.keyFile);
  if (key === null) throw new QuotientError('unavailable', 'cle_audit_illisible', `La clé du journal d’audit n’a pas pu être créée : ${files.keyFile}.`);
  return key;
}

export interface Anchor {
  /** The journal it belongs to (journal_audit_head.journal_id). */
  readonly journalId: string;
  readonly seq: number;
  readonly hash: string;
  /** When it was written, ISO-8601 UTC (informative). */
  readonly at: string;
  /**
   * The head in the database was sealed when this anchor was written (file version 2): from then
   * on every append seals it, so a head found without a seal was stripped of it.
   */
  readonly headSealed: boolean;
}

export type AnchorRead =
  { readonly state: 'absente' } | { readonly state: 'invalide'; readonly why: string } | { readonly state: 'valide'; readonly anchor: Anchor };

/** The anchor's seal (also in its syslog copy). */
export function anchorMac(key: Buffer, anchor: Anchor): string {
  const base = `${anchor.journalId}|${anchor.seq}|${anchor.hash}|${anchor.at}`;
  return createHmac('sha256', key)
    .update(anchor.headSealed ? `quotient-audit-ancre|2|${base}|tete-scellee` : `quotient-audit-ancre|1|${base}`)
    .digest('hex');
}

export function readAnchor(file: string, key: Buffer): AnchorRead {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'absente' };
    return { state: 'invalide', why: 'fichier illisible' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { state: 'invalide', why: 'contenu illisible' };
  }
  const value = parsed as Record<string, unknown>;
  if (
    value === null ||
    typeof value !== 'object' ||
    (value.version !== 1 && value.version !== 2) ||
    typeof value.journalId !== 'string' ||
    !Number.isSafeInteger(value.seq) ||
    (value.seq as number) < 0 ||
    typeof value.hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(value.hash) ||
    typeof value.at !== 'string' ||
    typeof value.mac !== 'string'
  ) {
    return { state: 'invalide', why: 'format inattendu' };
  }
  const anchor: Anchor = { journalId: value.journalId, seq: value.seq as number, hash: value.hash, at: value.at, headSealed: value.version === 2 };
  if (!sameHex(anchorMac(key, anchor), value.mac)) return { state: 'invalide', why: 'signature invalide' };
  return { state: 'valide', anchor };
}

function anchorBody(key: Buffer, anchor: Anchor): string {
  const { journalId, seq, hash, at } = anchor;
  return `${JSON.stringify({ version: anchor.headSealed ? 2 : 1, journalId, seq, hash, at, mac: anchorMac(key, anchor) })}\n`;
}

function tempFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Replaces the anchor atomically: a reader sees the old file or the new one, never half of one,
 * and after a power cut the file is whole (data synced before the rename, folder synced after).
 * Synchronous: for the rare moves (re-anchoring); appends go through `prepareAnchor`.
 */
export function writeAnchor(file: string, key: Buffer, anchor: Anchor): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = tempFor(file);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, anchorBody(key, anchor));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  installAnchor(temp, file);
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Some file systems refuse to sync a folder; the rename itself is still atomic.
  }
}

/**
 * The first half of `writeAnchor`, off the main thread: the new anchor written and synced to a
 * temporary file beside the anchor (the thread pool does the fsync). Returns its path, for
 * `installAnchor` (or removal with `discardAnchor`).
 */
export async function prepareAnchor(file: string, key: Buffer, anchor: Anchor): Promise<string> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = tempFor(file);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(anchorBody(key, anchor));
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

/** The atomic step: a rename, quick enough to be done under the anchor's lock. */
export function installAnchor(temp: string, file: string): void {
  try {
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

export function discardAnchor(temp: string): Promise<void> {
  return rm(temp, { force: true });
}

/** Makes the rename durable (off the main thread); some file systems refuse, the rename is still atomic. */
export async function syncAnchorFolder(file: string): Promise<void> {
  try {
    const dir = await open(dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // As in writeAnchor.
  }
}
