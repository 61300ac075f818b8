/**
 * `quotient keys rotate`, as a procedure: a new master key in the key file, made active, every data
 * key re-wrapped under it, then the old keys retired from the database and removed from the file.
 * Each step can be interrupted: running it again converges (it re-wraps whatever is not under the
 * newest key and retires whatever no record uses).
 */
import type { Coffre, KeyUsage, RotationOptions } from './coffre.ts';
import { generateMasterKey, type KeyringFile } from './keyring.ts';

export interface MasterKeyRotation {
  readonly newKeyId: string;
  readonly rewrapped: number;
  readonly changedMeanwhile: number;
  readonly failures: readonly { readonly kind: string; readonly id: string; readonly code: string }[];
  /** Keys removed from the key file: no record used them any more. */
  readonly retired: readonly string[];
  /** Old keys kept because records still use them (those that could not be re-wrapped). */
  readonly kept: readonly { readonly keyId: string; readonly records: number }[];
  readonly durationMs: number;
}

export function rotateMasterKey(coffre: Coffre, file: KeyringFile, options: RotationOptions & { clock?: () => Date } = {}): Promise<MasterKeyRotation> {
  // The database's lock first, shared by every machine; then the file's (one machine, or a lock
  // left on the shared volume by a rotation that died elsewhere, since it no longer holds the first).
  return coffre.underRotationLock(() => rotateLocked(coffre, file, options));
}

async function rotateLocked(coffre: Coffre, file: KeyringFile, options: RotationOptions & { clock?: () => Date }): Promise<MasterKeyRotation> {
  const started = performance.now();
  const release = file.lock({ lockedElsewhereIsStale: coffre.sharesRotationLock });
  try {
    const entry = generateMasterKey(options.clock);
    // The file first: a process that meets the new key in the database must find it on disk.
    file.save(file.reload().with(entry, { activate: true }));
    const report = await coffre.rotate(entry.id, options);

    const usage = await coffre.usage();
    const candidates = new Set([...file.current().ids, ...usage.filter((u) => u.retiredAt === null).map((u) => u.keyId)]);
    candidates.delete(entry.id);
    const retired = await coffre.retire([...candidates]);
    const inFile = file.current().ids;
    const removable = retired.filter((id) => inFile.includes(id));
    if (removable.length > 0) file.save(file.current().without(removable));

    const kept = (await coffre.usage()).filter((u: KeyUsage) => u.keyId !== entry.id && u.records > 0).map((u) => ({ keyId: u.keyId, records: u.records }));
    return {
      newKeyId: entry.id,
      rewrapped: report.rewrapped,
      changedMeanwhile: report.changedMeanwhile,
      failures: report.failures,
      retired: removable,
      kept,
      durationMs: performance.now() - started,
    };
  } finally {
    release();
  }
}
