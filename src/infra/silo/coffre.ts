/**
 * The secure silo (ARCHITECTURE §3.4): encrypted records identified by (kind, id), e.g.
 * ('situation_fiscale', <row id of its owner>). Each record has its own data key, wrapped by the
 * active master key of the keyring; the record carries that key's id, so reading never depends on
 * which key is active.
 *
 * Rotation without downtime. Writers and a rotation agree through the single active row of
 * `coffre_master_keys`: every write reads it under a lock in its own transaction (a shared row
 * lock on PostgreSQL; the database write lock on SQLite), and a rotation switches it under an
 * exclusive lock. So once the switch commits, every write that used the old key has committed, and
 * none will use it again; the sweep that follows re-wraps what is left, and the old key then has
 * no record and can leave the key file.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type Kysely, type Transaction } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import { nowIso, type DialectName } from '../db/database.ts';
import type { Schema } from '../db/schema.ts';
import { fingerprint, open, rewrap, sameFingerprint, seal, type MasterKey, type RecordIdentity } from './envelope.ts';
import { CleMaitreAbsente, CleMaitreIncorrecte, CoffreIllisible } from './errors.ts';
import type { KeyringSource } from './keyring.ts';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Values written to the silo: domain records, which are plain JSON by construction. */
export function asJson(value: unknown): JsonValue {
  return value as JsonValue;
}

/** A Kysely handle or a caller's transaction: silo operations join the caller's transaction. */
export type CoffreExecutor = Kysely<Schema>;

export interface CoffreOptions {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  readonly keyring: KeyringSource;
  readonly clock?: () => Date;
}

export interface RotationProgress {
  /** Records examined so far. */
  readonly scanned: number;
  readonly rewrapped: number;
  readonly changedMeanwhile: number;
  readonly failed: number;
}

export interface RotationOptions {
  /** Records re-wrapped per transaction (500). */
  readonly batchSize?: number;
  /** Pause between batches, leaving the database to the application (SQLite 50 ms, PostgreSQL 0). */
  readonly pauseMs?: number;
  readonly onProgress?: (progress: RotationProgress) => void;
}

export interface RotationReport {
  /** The key now active, under which every readable record is wrapped. */
  readonly keyId: string;
  /** Data keys re-wrapped by this run. */
  readonly rewrapped: number;
  /** Records the application rewrote or deleted while the run met them: already under the new key, or gone. */
  readonly changedMeanwhile: number;
  /** Records whose data key could not be unwrapped (altered, or their key is missing): left as they were. */
  readonly failures: readonly { readonly kind: string; readonly id: string; readonly code: string }[];
  /** After the run: records per key other than the new one (empty when the rotation is complete). */
  readonly remaining: Readonly<Record<string, number>>;
}

export interface KeyUsage {
  readonly keyId: string;
  readonly createdAt: string;
  /** The key new records are wrapped by (the database decides, not the key file). */
  readonly active: boolean;
  readonly retiredAt: string | null;
  readonly records: number;
  /** Whether the keyring holds this key: the same one, another one under that id, or none. */
  readonly inKeyring: 'present' | 'missing' | 'mismatch';
}

const KIND = /^[a-z][a-z0-9_]{0,62}$/;
const MAX_ID_LENGTH = 256;
const MAX_VALUE_BYTES = 1 << 20;
/** Uploaded documents: above the largest avis the configuration allows (`avisDepose.tailleMaxKo`). */
const MAX_BYTES_LENGTH = 16 << 20;
const MAX_DEPTH = 200;
const DEFAULT_BATCH = 500;
/** Key of the PostgreSQL advisory lock a rotation holds. */
const ROTATION_LOCK = 'quotient.coffre.rotation';
// Five parameters per record: well under SQLite's limit of 32 766 per statement.
const MAX_BATCH = 5000;

export class Coffre {
  private readonly db: Kysely<Schema>;
  private readonly dialect: DialectName;
  private readonly keyring: KeyringSource;
  private readonly clock: () => Date;
  private readonly fingerprints = new WeakMap<MasterKey['key'], string>();

  constructor(options: CoffreOptions) {
    this.db = options.db;
    this.dialect = options.dialect;
    this.keyring = options.keyring;
    this.clock = options.clock ?? (() => new Date());
  }

  /** Stores (or replaces) the record, under a fresh data key and nonce. */
  async put(kind: string, id: string, value: JsonValue, executor: CoffreExecutor = this.db): Promise<void> {
    const who = identity(kind, id);
    await this.sealInto(who, encode(value), executor);
  }

  /**
   * Stores (or replaces) bytes as they are: a document a family uploaded (an avis, issue 15), never
   * read by Quotient, only given back whole to the agent allowed to see it.
   */
  async putBytes(kind: string, id: string, bytes: Uint8Array, executor: CoffreExecutor = this.db): Promise<void> {
    const who = identity(kind, id);
    if (bytes.length > MAX_BYTES_LENGTH)
      throw new QuotientError('invalid', 'coffre_valeur_trop_grande', `Document trop grand pour le coffre (${MAX_BYTES_LENGTH} octets au plus).`);
    await this.sealInto(who, Buffer.from(bytes), executor);
  }

  /** The bytes stored by `putBytes`, or `undefined` when there is none. */
  async getBytes(kind: string, id: string, executor: CoffreExecutor = this.db): Promise<Buffer | undefined> {
    return this.opened(identity(kind, id), executor, (plaintext) => Buffer.from(plaintext));
  }

  /** Seals `plaintext` (wiped afterwards) into the record `who`. */
  private async sealInto(who: RecordIdentity, plaintext: Buffer, executor: CoffreExecutor): Promise<void> {
    const { kind, id } = who;
    try {
      await within(executor, async (trx) => {
        const master = await this.writeKey(trx);
        const sealed = seal(plaintext, who, master);
        const now = nowIso(this.clock);
        const columns = {
          format: sealed.format,
          key_id: sealed.keyId,
          wrapped_key: sealed.wrappedKey,
          nonce: sealed.nonce,
          ciphertext: sealed.ciphertext,
          tag: sealed.tag,
        };
        await trx
          .insertInto('coffre_records')
          .values({ kind, record_id: id, ...columns, created_at: now, updated_at: now, rewrapped_at: null })
          .onConflict((oc) => oc.columns(['kind', 'record_id']).doUpdateSet({ ...columns, updated_at: now, rewrapped_at: null }))
          .execute();
      });
    } finally {
      plaintext.fill(0);
    }
  }

  /** The record's value, or `undefined` when there is none. Altered data is a typed error, never garbage. */
  async get(kind: string, id: string, executor: CoffreExecutor = this.db): Promise<JsonValue | undefined> {
    return this.opened(identity(kind, id), executor, (plaintext) => {
      try {
        return JSON.parse(plaintext.toString('utf8')) as JsonValue;
      } catch (error) {
        throw new CoffreIllisible(kind, id, error);
      }
    });
  }

  /** Opens the record and hands its plaintext to `read`, then wipes it. */
  private async opened<T>(who: RecordIdentity, executor: CoffreExecutor, read: (plaintext: Buffer) => T): Promise<T | undefined> {
    const { kind, id } = who;
    for (let attempt = 0; ; attempt++) {
      const row = await executor
        .selectFrom('coffre_records as r')
        .innerJoin('coffre_master_keys as k', 'k.key_id', 'r.key_id')
        .select(['r.format', 'r.key_id', 'r.wrapped_key', 'r.nonce', 'r.ciphertext', 'r.tag', 'k.fingerprint'])
        .where('r.kind', '=', kind)
        .where('r.record_id', '=', id)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      let master: MasterKey;
      try {
        master = this.verifiedKey(row.key_id, row.fingerprint);
      } catch (error) {
        // A rotation may have re-wrapped the record and retired its key between our read and now:
        // reading it again finds it under the new key.
        if (error instanceof CleMaitreAbsente && attempt === 0) continue;
        throw error;
      }
      const plaintext = open(
        { format: row.format, keyId: row.key_id, wrappedKey: row.wrapped_key, nonce: row.nonce, ciphertext: row.ciphertext, tag: row.tag },
        who,
        master,
      );
      try {
        return read(plaintext);
      } finally {
        plaintext.fill(0);
      }
    }
  }

  /** Deletes the record; says whether there was one. */
  async delete(kind: string, id: string, executor: CoffreExecutor = this.db): Promise<boolean> {
    identity(kind, id);
    const result = await executor.deleteFrom('coffre_records').where('kind', '=', kind).where('record_id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Makes `newKeyId` (already in the keyring) the active master key, then re-wraps every data key
   * still under another key, in batches of `batchSize`, each in its own transaction. Safe while
   * the application reads and writes: both keys stay in the keyring until the caller retires the
   * old one (see `usage` and `retire`).
   */
  async rotate(newKeyId: string, options: RotationOptions = {}): Promise<RotationReport> {
    const batchSize = options.batchSize ?? DEFAULT_BATCH;
    // SQLite has one write lock for the whole database: back-to-back batches would starve the
    // application's writers (their busy wait retries up to every 100 ms), so leave them gaps.
    const pauseMs = options.pauseMs ?? (this.dialect === 'sqlite' ? 50 : 0);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH)
      throw new QuotientError('invalid', 'coffre_lot_invalide', `La taille des lots de rechiffrement doit être un entier entre 1 et ${MAX_BATCH}.`);
    const target = this.keyring.current().key(newKeyId) ?? this.keyring.reload().key(newKeyId);
    if (target === undefined) throw new CleMaitreAbsente(newKeyId);
    await this.activate(target);

    let scanned = 0;
    let rewrapped = 0;
    let changedMeanwhile = 0;
    const failures: { kind: string; id: string; code: string }[] = [];
    let cursor: readonly [string, string] | undefined;
    for (;;) {
      // The switch above guarantees no record will be written under an old key again, so one
      // ordered pass over what is left is enough.
      const rows = await retryOnConflict(() =>
        this.db.transaction().execute(async (trx) => {
          await this.takeWriteLock(trx);
          let query = trx
            .selectFrom('coffre_records as r')
            .innerJoin('coffre_master_keys as k', 'k.key_id', 'r.key_id')
            .select(['r.kind', 'r.record_id', 'r.key_id', 'r.wrapped_key', 'k.fingerprint'])
            .where('r.key_id', '<>', newKeyId);
          if (cursor !== undefined) {
            const [kind, id] = cursor;
            query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('r.kind', 'r.record_id'), '>', tuple(kind, id)));
          }
          const batch = await query.orderBy('r.kind').orderBy('r.record_id').limit(batchSize).execute();
          const failed: { kind: string; id: string; code: string }[] = [];
          const updates: { kind: string; id: string; oldKey: string; oldWrapped: Buffer; newWrapped: Buffer }[] = [];
          for (const row of batch) {
            try {
              const newWrapped = rewrap(row.wrapped_key, { kind: row.kind, id: row.record_id }, this.verifiedKey(row.key_id, row.fingerprint), target);
              updates.push({ kind: row.kind, id: row.record_id, oldKey: row.key_id, oldWrapped: row.wrapped_key, newWrapped });
            } catch (error) {
              if (!(error instanceof QuotientError)) throw error;
              failed.push({ kind: row.kind, id: row.record_id, code: error.code });
            }
          }
          const done = await this.compareAndSetWrappedKeys(trx, newKeyId, updates);
          const changed = updates.length - done;
          return { batch, done, changed, failed };
        }),
      );
      if (rows.batch.length === 0) break;
      const last = rows.batch[rows.batch.length - 1] as { kind: string; record_id: string };
      cursor = [last.kind, last.record_id];
      scanned += rows.batch.length;
      rewrapped += rows.done;
      changedMeanwhile += rows.changed;
      failures.push(...rows.failed);
      options.onProgress?.({ scanned, rewrapped, changedMeanwhile, failed: failures.length });
      if (pauseMs > 0) await sleep(pauseMs);
    }

    const remaining: Record<string, number> = {};
    for (const usage of await this.usage()) if (usage.keyId !== newKeyId && usage.records > 0) remaining[usage.keyId] = usage.records;
    return { keyId: newKeyId, rewrapped, changedMeanwhile, failures, remaining };
  }

  /**
   * One statement per batch (a round trip per record made PostgreSQL several times slower). It is a
   * compare-and-set: a record rewritten or deleted meanwhile is left to its writer. Returns how
   * many were updated.
   */
  private async compareAndSetWrappedKeys(
    trx: Transaction<Schema>,
    newKeyId: string,
    updates: readonly { kind: string; id: string; oldKey: string; oldWrapped: Buffer; newWrapped: Buffer }[],
  ): Promise<number> {
    if (updates.length === 0) return 0;
    // PostgreSQL types the parameters of a VALUES list as text unless told; SQLite must not be
    // told (it would read "bytea" as a numeric affinity).
    const postgres = this.dialect === 'postgres';
    const text = (v: string) => (postgres ? sql`cast(${v} as text)` : sql`${v}`);
    const bytes = (v: Buffer) => (postgres ? sql`cast(${v} as bytea)` : sql`${v}`);
    const rows = sql.join(updates.map((u) => sql`(${text(u.kind)}, ${text(u.id)}, ${text(u.oldKey)}, ${bytes(u.oldWrapped)}, ${bytes(u.newWrapped)})`));
    const result = await sql`
      with v (kind, record_id, old_key, old_wrapped, new_wrapped) as (values ${rows})
      update coffre_records set key_id = ${newKeyId}, wrapped_key = v.new_wrapped, rewrapped_at = ${nowIso(this.clock)}
      from v
      where coffre_records.kind = v.kind and coffre_records.record_id = v.record_id
        and coffre_records.key_id = v.old_key and coffre_records.wrapped_key = v.old_wrapped`.execute(trx);
    return Number(result.numAffectedRows ?? 0n);
  }

  /**
   * Runs `work` (a rotation) holding the database's rotation lock, so that two operators on two
   * machines never rotate at once: a session advisory lock on PostgreSQL, released with its
   * connection if the process dies; on SQLite, one machine, the key file's own lock is enough.
   * Refused (`rotation_en_cours`) while another holds it.
   */
  /** Whether `underRotationLock` holds a lock every machine sees (PostgreSQL). */
  get sharesRotationLock(): boolean {
    return this.dialect === 'postgres';
  }

  async underRotationLock<T>(work: () => Promise<T>): Promise<T> {
    if (this.dialect !== 'postgres') return work();
    return this.db.connection().execute(async (connection) => {
      const taken = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtext(${ROTATION_LOCK})) as ok`.execute(connection);
      if (taken.rows[0]?.ok !== true)
        throw new QuotientError(
          'conflict',
          'rotation_en_cours',
          'Une rotation des clés du coffre est déjà en cours (peut-être sur une autre machine) : attendez qu’elle se termine, puis relancez si besoin.',
        );
      try {
        return await work();
      } finally {
        await sql`select pg_advisory_unlock(hashtext(${ROTATION_LOCK}))`.execute(connection);
      }
    });
  }

  /** The master keys the database knows, with how many records each wraps. */
  async usage(executor: CoffreExecutor = this.db): Promise<KeyUsage[]> {
    const rows = await executor
      .selectFrom('coffre_master_keys as k')
      .leftJoin('coffre_records as r', 'r.key_id', 'k.key_id')
      .select(['k.key_id', 'k.fingerprint', 'k.created_at', 'k.active', 'k.retired_at', (eb) => eb.fn.count<number>('r.record_id').as('records')])
      .groupBy(['k.key_id', 'k.fingerprint', 'k.created_at', 'k.active', 'k.retired_at'])
      .orderBy('k.created_at')
      .orderBy('k.key_id')
      .execute();
    const keyring = this.keyring.reload();
    return rows.map((r) => {
      const key = keyring.key(r.key_id);
      const inKeyring = key === undefined ? 'missing' : sameFingerprint(this.fingerprintOf(key), r.fingerprint) ? 'present' : 'mismatch';
      return { keyId: r.key_id, createdAt: r.created_at, active: r.active === 1, retiredAt: r.retired_at, records: Number(r.records), inKeyring };
    });
  }

  /**
   * Marks keys as retired once no record uses them, so that they can leave the key file. Returns
   * the keys retired (or already retired); a key still in use, or active, is kept.
   */
  async retire(keyIds: readonly string[]): Promise<string[]> {
    const retired: string[] = [];
    for (const keyId of keyIds) {
      const ok = await this.db.transaction().execute(async (trx) => {
        await this.takeWriteLock(trx);
        const key = await trx.selectFrom('coffre_master_keys').select(['active', 'retired_at']).where('key_id', '=', keyId).executeTakeFirst();
        if (key === undefined) return true; // never used here: nothing to retire in the database
        if (key.active === 1) return false;
        const used = await trx.selectFrom('coffre_records').select('record_id').where('key_id', '=', keyId).limit(1).executeTakeFirst();
        if (used !== undefined) return false;
        if (key.retired_at === null)
          await trx
            .updateTable('coffre_master_keys')
            .set({ retired_at: nowIso(this.clock) })
            .where('key_id', '=', keyId)
            .execute();
        return true;
      });
      if (ok) retired.push(keyId);
    }
    return retired;
  }

  /** The active key for a write, read under the lock that a rotation's switch waits for. */
  private async writeKey(trx: Transaction<Schema>): Promise<MasterKey> {
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.takeWriteLock(trx);
      let query = trx.selectFrom('coffre_master_keys').select(['key_id', 'fingerprint']).where('active', '=', 1);
      if (this.dialect === 'postgres') query = query.forShare();
      const active = await query.executeTakeFirst();
      if (active !== undefined) return this.verifiedKey(active.key_id, active.fingerprint);
      // First write of this database: the keyring's active key becomes the database's. A
      // concurrent first write (or a rotation) may win the race; the loop then reads its choice.
      const key = this.keyring.current().active;
      await trx
        .insertInto('coffre_master_keys')
        .values({ key_id: key.id, fingerprint: this.fingerprintOf(key), created_at: nowIso(this.clock), active: 1, retired_at: null })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    throw new QuotientError('unavailable', 'coffre_sans_cle_active', 'Le coffre n’a aucune clé maîtresse active : lancez « quotient keys rotate ».');
  }

  /** Registers the key if new, and makes it the only active one. */
  private async activate(target: MasterKey): Promise<void> {
    const expected = this.fingerprintOf(target);
    await retryOnConflict(() =>
      this.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('coffre_master_keys')
          .values({ key_id: target.id, fingerprint: expected, created_at: nowIso(this.clock), active: 0, retired_at: null })
          .onConflict((oc) => oc.column('key_id').doNothing())
          .execute();
        const known = await trx.selectFrom('coffre_master_keys').select('fingerprint').where('key_id', '=', target.id).executeTakeFirstOrThrow();
        if (!sameFingerprint(known.fingerprint, expected)) throw new CleMaitreIncorrecte(target.id);
        // On PostgreSQL this waits for every transaction holding the active row's shared lock,
        // that is for every write in progress under the old key.
        await trx.updateTable('coffre_master_keys').set({ active: 0 }).where('active', '=', 1).where('key_id', '<>', target.id).execute();
        await trx.updateTable('coffre_master_keys').set({ active: 1, retired_at: null }).where('key_id', '=', target.id).execute();
      }),
    );
  }

  /**
   * SQLite: take the database write lock first, so that what the transaction reads next cannot be
   * overtaken by another process's commit (which would fail our write with SQLITE_BUSY_SNAPSHOT
   * instead of waiting). PostgreSQL uses row locks instead.
   */
  private async takeWriteLock(trx: Transaction<Schema>): Promise<void> {
    if (this.dialect === 'sqlite') await trx.updateTable('coffre_master_keys').set({ active: 1 }).where('active', '=', 1).execute();
  }

  private verifiedKey(keyId: string, expected: string): MasterKey {
    let key = this.keyring.current().key(keyId);
    // Another process (a rotation) may have added the key to the file since we read it.
    if (key === undefined) key = this.keyring.reload().key(keyId);
    if (key === undefined) throw new CleMaitreAbsente(keyId);
    if (!sameFingerprint(this.fingerprintOf(key), expected)) throw new CleMaitreIncorrecte(keyId);
    return key;
  }

  private fingerprintOf(key: MasterKey): string {
    let value = this.fingerprints.get(key.key);
    if (value === undefined) {
      value = fingerprint(key);
      this.fingerprints.set(key.key, value);
    }
    return value;
  }
}

/** Runs in the caller's transaction, or in one of ours: the lock and the write must be atomic. */
function within<T>(executor: CoffreExecutor, run: (trx: Transaction<Schema>) => Promise<T>): Promise<T> {
  if (executor.isTransaction) return run(executor as Transaction<Schema>);
  return executor.transaction().execute(run);
}

/** PostgreSQL may abort a batch that crossed an application transaction (deadlock): run it again. */
async function retryOnConflict<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (attempt >= 5 || (code !== '40P01' && code !== '40001')) throw error;
    }
  }
}

function identity(kind: string, id: string): RecordIdentity {
  if (typeof kind !== 'string' || !KIND.test(kind)) {
    throw new QuotientError(
      'invalid',
      'coffre_identite_invalide',
      'Type d’enregistrement du coffre invalide : lettres minuscules, chiffres et « _ », 63 au plus.',
    );
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(id)) {
    throw new QuotientError(
      'invalid',
      'coffre_identite_invalide',
      `Identifiant d’enregistrement du coffre invalide : texte de 1 à ${MAX_ID_LENGTH} caractères, sans caractère de contrôle.`,
    );
  }
  return { kind, id };
}

/** JSON text of a value that JSON gives back as it was; anything else is refused, not coerced. */
function encode(value: JsonValue): Buffer {
  const check = (v: unknown, depth: number): void => {
    if (depth > MAX_DEPTH) throw invalidValue('imbrication trop profonde');
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalidValue('nombre non fini');
      return;
    }
    if (Array.isArray(v)) {
      for (const item of v) check(item, depth + 1);
      return;
    }
    if (typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      for (const item of Object.values(v)) check(item, depth + 1);
      return;
    }
    throw invalidValue(`valeur de type ${typeof v === 'object' ? 'objet non JSON' : typeof v}`);
  };
  check(value, 0);
  const bytes = Buffer.from(JSON.stringify(value), 'utf8');
  if (bytes.length > MAX_VALUE_BYTES) {
    bytes.fill(0);
    throw new QuotientError('invalid', 'coffre_valeur_trop_grande', `Valeur trop grande pour le coffre (${MAX_VALUE_BYTES} octets au plus).`);
  }
  return bytes;
}

function invalidValue(why: string): QuotientError {
  return new QuotientError('invalid', 'coffre_valeur_invalide', `Valeur refusée par le coffre : ${why} (seules les valeurs JSON sont acceptées).`);
}
