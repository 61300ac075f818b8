import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { isQuotientError } from '../../domain/errors.ts';
import { NONCE_BYTES, open, rewrap, seal, TAG_BYTES, WRAPPED_KEY_BYTES, type MasterKey, type SealedRecord } from './envelope.ts';

const master = (id = 'cle-a'): MasterKey => ({ id, key: createSecretKey(randomBytes(32)) });
const who = { kind: 'situation_fiscale', id: 'famille-1' };
const illisible = (error: unknown) => isQuotientError(error) && error.code === 'coffre_illisible';

test('a sealed value opens with its master key and identity, and its layout is the documented one', () => {
  const key = master();
  const sealed = seal(Buffer.from('{"rfr":21000}'), who, key);
  assert.equal(open(sealed, who, key).toString(), '{"rfr":21000}');
  assert.equal(sealed.keyId, 'cle-a');
  assert.equal(sealed.nonce.length, NONCE_BYTES);
  assert.equal(sealed.tag.length, TAG_BYTES);
  assert.equal(sealed.wrappedKey.length, WRAPPED_KEY_BYTES);
  // Fresh data key and nonce each time: the same value never gives the same bytes.
  const again = seal(Buffer.from('{"rfr":21000}'), who, key);
  assert.notDeepEqual(again.ciphertext, sealed.ciphertext);
  assert.notDeepEqual(again.nonce, sealed.nonce);
  assert.notDeepEqual(again.wrappedKey, sealed.wrappedKey);
});

test('one flipped bit anywhere (ciphertext, nonce, tag, wrapped key) is detected, never decrypted', () => {
  const key = master();
  const fields = ['ciphertext', 'nonce', 'tag', 'wrappedKey'] as const;
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 200 }),
      fc.constantFrom(...fields),
      fc.nat(),
      fc.integer({ min: 0, max: 7 }),
      (plain, field, at, bit) => {
        const sealed = seal(Buffer.from(plain), who, key);
        const bytes = Buffer.from(sealed[field]);
        bytes[at % bytes.length] = (bytes[at % bytes.length] as number) ^ (1 << bit);
        assert.throws(() => open({ ...sealed, [field]: bytes }, who, key), illisible);
      },
    ),
    { numRuns: 2000 },
  );
});

test('truncated or lengthened fields are refused, including a short tag that GCM alone would accept', () => {
  const key = master();
  const sealed = seal(Buffer.from('valeur'), who, key);
  const variants: Partial<SealedRecord>[] = [
    { tag: sealed.tag.subarray(0, 12) },
    { tag: sealed.tag.subarray(0, 4) },
    { nonce: sealed.nonce.subarray(0, 8) },
    { nonce: Buffer.concat([sealed.nonce, Buffer.alloc(4)]) },
    { wrappedKey: sealed.wrappedKey.subarray(0, WRAPPED_KEY_BYTES - 4) },
    { ciphertext: sealed.ciphertext.subarray(1) },
    { ciphertext: Buffer.alloc(0) },
    { format: 2 },
  ];
  for (const variant of variants) assert.throws(() => open({ ...sealed, ...variant }, who, key), illisible, JSON.stringify(Object.keys(variant)));
});

test('a ciphertext moved to another kind or id does not open, nor does a wrapped key swapped between records', () => {
  const key = master();
  const a = seal(Buffer.from('A'), who, key);
  const b = seal(Buffer.from('B'), { kind: who.kind, id: 'famille-2' }, key);
  assert.throws(() => open(a, { kind: who.kind, id: 'famille-2' }, key), illisible);
  assert.throws(() => open(a, { kind: 'quotient', id: who.id }, key), illisible);
  // Identities that a naive concatenation would confuse ("a" + "b_c" vs "a_b" + "c").
  const c = seal(Buffer.from('C'), { kind: 'a', id: 'b_c' }, key);
  assert.throws(() => open(c, { kind: 'a_b', id: 'c' }, key), illisible);
  assert.throws(() => open({ ...a, wrappedKey: b.wrappedKey }, who, key), illisible);
});

test('a wrong master key, or the right bytes under another id, is detected', () => {
  const key = master();
  const sealed = seal(Buffer.from('valeur'), who, key);
  assert.throws(() => open(sealed, who, master()), illisible);
  assert.throws(() => open(sealed, who, { id: 'cle-b', key: key.key }), illisible);
});

test('re-wrapping changes only the wrapped key; the record then opens with the new master key only', () => {
  const old = master('cle-a');
  const next = master('cle-b');
  const sealed = seal(Buffer.from('valeur'), who, old);
  const moved: SealedRecord = { ...sealed, keyId: next.id, wrappedKey: rewrap(sealed.wrappedKey, who, old, next) };
  assert.equal(open(moved, who, next).toString(), 'valeur');
  assert.throws(() => open(moved, who, old), illisible);
  assert.throws(() => rewrap(sealed.wrappedKey, { kind: who.kind, id: 'autre' }, old, next), illisible);
});
