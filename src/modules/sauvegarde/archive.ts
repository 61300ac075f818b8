/**
 * The backup archive: a few named files (the database dump, the key files, the journal's anchor)
 * and a manifest, sealed together with AES-256-GCM under a key derived from the operator's backup
 * key. Layout (all integers big-endian):
 *
 *   "QUOTIENT-SAUVEGARDE\n" | u32 header length | header (JSON) | ciphertext | GCM tag (16 bytes)
 *
 * The header names the scheme and carries a random salt and nonce; it is authenticated as associated
 * data, so a changed header fails like a changed byte of content. The AES key is
 * HKDF-SHA256(backup key, salt, "quotient-sauvegarde-v1"): a fresh key per archive, so nonces never
 * repeat under one key. The plaintext is a sequence of entries `u16 name length | name | u64 size |
 * bytes`, the manifest first. Files are streamed by chunks: a large database is never held whole
 * in memory. Nothing is used from an archive until its tag has been checked.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { QuotientError } from '../../domain/errors.ts';

const MAGIC = Buffer.from('QUOTIENT-SAUVEGARDE\n', 'ascii');
const INFO = Buffer.from('quotient-sauvegarde-v1', 'ascii');
const TAG_BYTES = 16;
const CHUNK = 1 << 20;
const MAX_HEADER = 4096;

export interface EnteteArchive {
  readonly format: 1;
  readonly algorithme: 'AES-256-GCM';
  readonly derivation: 'HKDF-SHA256';
  readonly sel: string;
  readonly nonce: string;
}

/** One file of the archive, as the manifest lists it. */
export interface FichierArchive {
  readonly nom: string;
  readonly role: RoleFichier;
  readonly taille: number;
  readonly sha256: string;
}

export type RoleFichier = 'base' | 'cles_coffre' | 'cle_journal' | 'ancre_journal' | 'cle_sessions';

export interface Manifeste {
  readonly format: 1;
  readonly logiciel: { readonly nom: 'quotient'; readonly version: string; readonly node: string };
  readonly creeeLe: string;
  readonly dialecte: 'sqlite' | 'postgres';
  readonly migrations: { readonly nombre: number; readonly derniere: string | null };
  readonly journal: { readonly identifiant: string | null; readonly sequence: number };
  readonly fichiers: readonly FichierArchive[];
}

/** Not a usage error (exit 1): the file given is the wrong one, or was changed. */
export class ArchiveRefusee extends QuotientError {
  constructor(message: string, cause?: unknown) {
    super('conflict', 'archive_refusee', message, cause === undefined ? {} : { cause });
  }
}

function deriveKey(backupKey: Buffer, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', backupKey, salt, INFO, 32));
}

export function sha256File(path: string): string {
  const hash = createHash('sha256');
  forEachChunk(path, (chunk) => hash.update(chunk));
  return hash.digest('hex');
}

function forEachChunk(path: string, use: (chunk: Buffer) => void): void {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      use(buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

/** Describes a file for the manifest (size and SHA-256 of what will be sealed). */
export function decrireFichier(nom: string, role: RoleFichier, path: string): FichierArchive {
  return { nom, role, taille: statSync(path).size, sha256: sha256File(path) };
}

/**
 * Writes the archive at `destination` (created 0600, never over an existing file): the manifest,
 * then each file of `sources` (name → path), in the manifest's order.
 */
export function ecrireArchive(destination: string, backupKey: Buffer, manifeste: Manifeste, sources: ReadonlyMap<string, string>): void {
  const salt = randomBytes(32);
  const nonce = randomBytes(12);
  const entete: EnteteArchive = {
    format: 1,
    algorithme: 'AES-256-GCM',
    derivation: 'HKDF-SHA256',
    sel: salt.toString('base64'),
    nonce: nonce.toString('base64'),
  };
  const header = Buffer.from(JSON.stringify(entete), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(backupKey, salt), nonce);
  cipher.setAAD(Buffer.concat([MAGIC, length, header]));
  const fd = openSync(destination, 'wx', 0o600);
  let complete = false;
  try {
    const write = (data: Buffer) => {
      if (data.length > 0) writeSync(fd, data);
    };
    write(Buffer.concat([MAGIC, length, header]));
    const entry = (name: string, size: number) => {
      const n = Buffer.from(name, 'utf8');
      const prefix = Buffer.alloc(2 + n.length + 8);
      prefix.writeUInt16BE(n.length, 0);
      n.copy(prefix, 2);
      prefix.writeBigUInt64BE(BigInt(size), 2 + n.length);
      write(cipher.update(prefix));
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifeste, null, 2), 'utf8');
    entry('manifest.json', manifestBytes.length);
    write(cipher.update(manifestBytes));
    for (const fichier of manifeste.fichiers) {
      const path = sources.get(fichier.nom);
      if (path === undefined) throw new Error(`no source for ${fichier.nom}`);
      entry(fichier.nom, fichier.taille);
      let written = 0;
      forEachChunk(path, (chunk) => {
        written += chunk.length;
        write(cipher.update(chunk));
      });
      // The file changed between its description and its copy: the manifest would lie.
      if (written !== fichier.taille)
        throw new QuotientError('conflict', 'fichier_modifie', `Le fichier ${fichier.nom} a changé pendant la sauvegarde : relancez-la.`);
    }
    write(cipher.final());
    write(cipher.getAuthTag());
    complete = true;
  } finally {
    closeSync(fd);
    if (!complete) rmSync(destination, { force: true });
  }
}

/**
 * Checks the archive's tag and writes its plaintext to `plaintextPath` (0600); throws
 * `ArchiveRefusee` (and removes the plaintext) when the key is wrong or a byte was changed.
 */
export function dechiffrerArchive(archive: string, backupKey: Buffer, plaintextPath: string): void {
  let fd: number;
  try {
    fd = openSync(archive, 'r');
  } catch (error) {
    throw new ArchiveRefusee(`L’archive ${archive} est introuvable ou illisible.`, error);
  }
  let out: number | undefined;
  let complete = false;
  try {
    const size = fstatSync(fd).size;
    const start = Buffer.alloc(MAGIC.length + 4);
    if (size < start.length + TAG_BYTES || readSync(fd, start, 0, start.length, 0) !== start.length || !start.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new ArchiveRefusee('Ce fichier n’est pas une archive de sauvegarde de Quotient.');
    }
    const headerLength = start.readUInt32BE(MAGIC.length);
    if (headerLength > MAX_HEADER || start.length + headerLength + TAG_BYTES > size) throw new ArchiveRefusee('L’en-tête de l’archive est invalide.');
    const header = Buffer.alloc(headerLength);
    readSync(fd, header, 0, headerLength, start.length);
    let entete: EnteteArchive;
    try {
      entete = JSON.parse(header.toString('utf8')) as EnteteArchive;
    } catch (error) {
      throw new ArchiveRefusee('L’en-tête de l’archive est invalide.', error);
    }
    if (entete.format !== 1 || entete.algorithme !== 'AES-256-GCM' || entete.derivation !== 'HKDF-SHA256') {
      throw new ArchiveRefusee('Cette archive a un format que cette version de Quotient ne connaît pas.');
    }
    const salt = Buffer.from(String(entete.sel), 'base64');
    const nonce = Buffer.from(String(entete.nonce), 'base64');
    if (salt.length !== 32 || nonce.length !== 12) throw new ArchiveRefusee('L’en-tête de l’archive est invalide.');
    const tag = Buffer.alloc(TAG_BYTES);
    readSync(fd, tag, 0, TAG_BYTES, size - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', deriveKey(backupKey, salt), nonce);
    decipher.setAAD(Buffer.concat([start, header]));
    decipher.setAuthTag(tag);
    out = openSync(plaintextPath, 'wx', 0o600);
    const buffer = Buffer.allocUnsafe(CHUNK);
    let position = start.length + headerLength;
    const end = size - TAG_BYTES;
    while (position < end) {
      const n = readSync(fd, buffer, 0, Math.min(CHUNK, end - position), position);
      if (n === 0) break;
      position += n;
      writeSync(out, decipher.update(buffer.subarray(0, n)));
    }
    try {
      writeSync(out, decipher.final());
    } catch (error) {
      throw new ArchiveRefusee('L’archive a été modifiée ou la clé de sauvegarde n’est pas la bonne : rien n’a été restauré.', error);
    }
    complete = true;
  } finally {
    closeSync(fd);
    if (out !== undefined) closeSync(out);
    if (!complete) rmSync(plaintextPath, { force: true });
  }
}

/** One entry of a decrypted archive: where its bytes are in the plaintext file. */
export interface EntreeArchive {
  readonly nom: string;
  readonly debut: number;
  readonly taille: number;
}

/** Lists the entries of a decrypted archive and reads its manifest. */
export function lireContenu(plaintextPath: string): { manifeste: Manifeste; entrees: Map<string, EntreeArchive> } {
  const fd = openSync(plaintextPath, 'r');
  try {
    const size = fstatSync(fd).size;
    const entrees = new Map<string, EntreeArchive>();
    let position = 0;
    let manifeste: Manifeste | undefined;
    while (position < size) {
      const lengthBuffer = Buffer.alloc(2);
      readSync(fd, lengthBuffer, 0, 2, position);
      const nameLength = lengthBuffer.readUInt16BE(0);
      const prefix = Buffer.alloc(nameLength + 8);
      if (readSync(fd, prefix, 0, prefix.length, position + 2) !== prefix.length) throw new ArchiveRefusee('Le contenu de l’archive est tronqué.');
      const nom = prefix.subarray(0, nameLength).toString('utf8');
      const taille = Number(prefix.readBigUInt64BE(nameLength));
      const debut = position + 2 + prefix.length;
      if (debut + taille > size) throw new ArchiveRefusee('Le contenu de l’archive est tronqué.');
      entrees.set(nom, { nom, debut, taille });
      if (manifeste === undefined) {
        if (nom !== 'manifest.json' || taille > 1 << 20) throw new ArchiveRefusee('L’archive ne commence pas par son manifeste.');
        const bytes = Buffer.alloc(taille);
        readSync(fd, bytes, 0, taille, debut);
        manifeste = JSON.parse(bytes.toString('utf8')) as Manifeste;
      }
      position = debut + taille;
    }
    if (manifeste === undefined) throw new ArchiveRefusee('L’archive est vide.');
    return { manifeste, entrees };
  } finally {
    closeSync(fd);
  }
}

/** Copies one entry out of the plaintext to `destination` (0600, never over a file) and checks its SHA-256. */
export function extraireEntree(plaintextPath: string, entree: EntreeArchive, attendu: string, destination: string): void {
  const from = openSync(plaintextPath, 'r');
  const to = openSync(destination, 'wx', 0o600);
  const hash = createHash('sha256');
  let ok = false;
  try {
    const buffer = Buffer.allocUnsafe(CHUNK);
    let done = 0;
    while (done < entree.taille) {
      const n = readSync(from, buffer, 0, Math.min(CHUNK, entree.taille - done), entree.debut + done);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      writeSync(to, buffer.subarray(0, n));
      done += n;
    }
    if (done !== entree.taille || hash.digest('hex') !== attendu)
      throw new ArchiveRefusee(`Le fichier ${entree.nom} de l’archive ne correspond pas à son empreinte.`);
    ok = true;
  } finally {
    closeSync(from);
    closeSync(to);
    if (!ok) rmSync(destination, { force: true });
  }
}
