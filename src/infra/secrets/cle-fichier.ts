import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { QuotientError } from '../../domain/errors.ts';

/**
 * A secret key kept in a file outside the database (32 random bytes or more, base64), as the
 * operator gives it (production: named by an environment variable) or as the demo creates it under
 * the data folder, readable by Quotient alone (0600, folder 0700).
 */
export interface FichierCle {
  readonly fichier: string;
  /** Demo: create the key on first use; otherwise a missing file stops the start. */
  readonly creer: boolean;
  /** What the key is for, in a French sentence: « des sessions ». */
  readonly usage: string;
  /** The variable that names the file: the operator's way out of the error. */
  readonly variable: string;
}

const OCTETS = 32;

function lire(cle: FichierCle): Buffer | null {
  let text: string;
  try {
    text = readFileSync(cle.fichier, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new QuotientError('unavailable', 'cle_illisible', `La clé ${cle.usage} est illisible : ${cle.fichier}.`, { cause: error });
  }
  const key = Buffer.from(text, 'base64');
  if (key.length < OCTETS || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    throw new QuotientError(
      'invalid',
      'cle_invalide',
      `La clé ${cle.usage} (${cle.fichier}) doit contenir au moins ${OCTETS} octets aléatoires encodés en base64 (par exemple : openssl rand -base64 32).`,
    );
  }
  return key;
}

/** The key, created when allowed and absent; two processes starting together agree on one key. */
export function chargerCle(cle: FichierCle): Buffer {
  const existing = lire(cle);
  if (existing !== null) return existing;
  if (!cle.creer) {
    throw new QuotientError(
      'invalid',
      'cle_absente',
      `La clé ${cle.usage} est introuvable : ${cle.fichier}. Désignez-la avec ${cle.variable} (${OCTETS} octets aléatoires en base64, fichier lisible par Quotient seul).`,
    );
  }
  mkdirSync(dirname(cle.fichier), { recursive: true, mode: 0o700 });
  const temp = `${cle.fichier}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, `${randomBytes(OCTETS).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    // link() fails if another process created the key first: then both use that one.
    linkSync(temp, cle.fichier);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  const key = lire(cle);
  if (key === null) throw new QuotientError('unavailable', 'cle_illisible', `La clé ${cle.usage} n’a pas pu être créée : ${cle.fichier}.`);
  return key;
}
