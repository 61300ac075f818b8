/**
 * Envelope encryption of one silo record, with Node's crypto only.
 *
 * - Each record gets its own random 256-bit data key; the value is sealed with AES-256-GCM under a
 *   random 96-bit nonce, with the record's identity (kind, id) as associated data: a ciphertext
 *   copied onto another row fails to authenticate.
 * - The data key is wrapped with AES-256-GCM by a master key (random nonce, 128-bit tag), with the
 *   identity and the master key id as associated data. GCM rather than AES-KW because AES-KW cannot
 *   bind associated data, and the wrapped key must not be movable either.
 * - Rotation re-wraps the data key only: the sealed value never changes.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { CoffreIllisible } from './errors.ts';

export const CIPHER = 'aes-256-gcm';
export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** nonce ‖ wrapped data key ‖ tag. */
export const WRAPPED_KEY_BYTES = NONCE_BYTES + KEY_BYTES + TAG_BYTES;
/** Bumped if the layout or the associated data ever change; stored on each record. */
export const ENVELOPE_FORMAT = 1;

/** A master key of the keyring. Held as a KeyObject so that logging or inspecting it shows no bytes. */
export interface MasterKey {
  readonly id: string;
  readonly key: KeyObject;
}

/** Which record a ciphertext belongs to: bound to it as associated data. */
export interface RecordIdentity {
  readonly kind: string;
  readonly id: string;
}

export interface SealedRecord {
  readonly format: number;
  /** Id of the master key that wrapped `wrappedKey`. */
  readonly keyId: string;
  readonly wrappedKey: Buffer;
  readonly nonce: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

// JSON arrays of strings are unambiguous (no two identities encode alike) and readable in a spec.
const dataAad = (who: RecordIdentity): Buffer => Buffer.from(JSON.stringify(['quotient/coffre/donnees/v1', who.kind, who.id]), 'utf8');
const wrapAad = (who: RecordIdentity, keyId: string): Buffer =>
  Buffer.from(JSON.stringify(['quotient/coffre/cle-donnees/v1', who.kind, who.id, keyId]), 'utf8');

export function seal(plaintext: Buffer, who: RecordIdentity, master: MasterKey): SealedRecord {
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(CIPHER, dataKey, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(dataAad(who));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { format: ENVELOPE_FORMAT, keyId: master.id, wrappedKey: wrapDataKey(dataKey, who, master), nonce, ciphertext, tag: cipher.getAuthTag() };
  } finally {
    dataKey.fill(0);
  }
}

/** The plaintext, or `CoffreIllisible` when anything was altered; never unauthenticated bytes. */
export function open(sealed: SealedRecord, who: RecordIdentity, master: MasterKey): Buffer {
  if (sealed.format !== ENVELOPE_FORMAT || sealed.nonce.length !== NONCE_BYTES || sealed.tag.length !== TAG_BYTES) {
    throw new CoffreIllisible(who.kind, who.id);
  }
  const dataKey = unwrapDataKey(sealed.wrappedKey, who, master);
  try {
    const decipher = createDecipheriv(CIPHER, dataKey, sealed.nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(dataAad(who));
    decipher.setAuthTag(sealed.tag);
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (error) {
    throw new CoffreIllisible(who.kind, who.id, error);
  } finally {
    dataKey.fill(0);
  }
}

/** The same data key, wrapped by another master key (rotation); the sealed value is untouched. */
export function rewrap(wrappedKey: Buffer, who: RecordIdentity, from: MasterKey, to: MasterKey): Buffer {
  const dataKey = unwrapDataKey(wrappedKey, who, from);
  try {
    return wrapDataKey(dataKey, who, to);
  } finally {
    dataKey.fill(0);
  }
}

function wrapDataKey(dataKey: Buffer, who: RecordIdentity, master: MasterKey): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(CIPHER, master.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(wrapAad(who, master.id));
  const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([nonce, wrapped, cipher.getAuthTag()]);
}

function unwrapDataKey(wrappedKey: Buffer, who: RecordIdentity, master: MasterKey): Buffer {
  // Node accepts GCM nonces and tags of other lengths: a truncated field must fail here, not weaken the check.
  if (wrappedKey.length !== WRAPPED_KEY_BYTES) throw new CoffreIllisible(who.kind, who.id);
  try {
    const decipher = createDecipheriv(CIPHER, master.key, wrappedKey.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(wrapAad(who, master.id));
    decipher.setAuthTag(wrappedKey.subarray(NONCE_BYTES + KEY_BYTES));
    return Buffer.concat([decipher.update(wrappedKey.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES)), decipher.final()]);
  } catch (error) {
    throw new CoffreIllisible(who.kind, who.id, error);
  }
}

/**
 * A check value of a master key, stored in the database beside its id: it tells "wrong key file"
 * apart from "altered record". HMAC-SHA-256 under the key of a fixed label reveals nothing of it.
 */
export function fingerprint(master: MasterKey): string {
  return createHmac('sha256', master.key).update('quotient/coffre/empreinte-cle-maitre/v1').digest('hex').slice(0, 32);
}

export function sameFingerprint(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
