import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isQuotientError } from '../../domain/errors.ts';
import { canonicalDetails, chainHash, GENESIS_HASH, rowContent, rowToEntry, sealHash, validateEntry, type AuditEntryInput } from './audit-entry.ts';

const base: AuditEntryInput = { actor: { type: 'agent', id: 'agent-1' }, action: 'famille.consultee', outcome: 'succes' };
const digits = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 13, maxLength: 13 });
// Every separator people put between digits (issue 12 hole 4: dashes, dots, slashes, doubled spaces, tabs, invisible characters).
const separator = fc.constantFrom('', ' ', '\u00a0', '\u202f', '  ', '-', '.', '/', ' - ', '\u2013', '\u200b', '_');
const text = fc.string({ maxLength: 20 }).map((s) => s.replace(/[\p{Cc}\u2028\u2029]/gu, ''));

test('a numéro fiscal hidden anywhere in a value, typed with any separators, is always refused', () => {
  fc.assert(
    fc.property(
      text,
      digits,
      fc.array(separator, { minLength: 12, maxLength: 12 }),
      text,
      fc.constantFrom('details', 'target', 'actor', 'correlation'),
      (before, spi, seps, after, where) => {
        const value = `${before}${spi.map((d, i) => `${d}${seps[i] ?? ''}`).join('')}${after}`;
        const entry: AuditEntryInput =
          where === 'details'
            ? { ...base, details: { note: value } }
            : where === 'target'
              ? { ...base, target: { type: 'famille', id: value } }
              : where === 'actor'
                ? { ...base, actor: { type: 'agent', id: value } }
                : { ...base, correlationId: value };
        assert.throws(
          () => validateEntry(entry),
          (e) => isQuotientError(e) && e.code === 'numero_fiscal_interdit',
        );
      },
    ),
  );
});

test('values without thirteen digits in a row are accepted, and so are UUIDs whatever their digits', () => {
  fc.assert(
    fc.property(fc.uuid(), fc.uuid(), (target, correlationId) => {
      validateEntry({ ...base, target: { type: 'demande', id: target }, correlationId, details: { demandeId: target, lien: `/agents/demandes/${target}` } });
    }),
    { numRuns: 3000 },
  );
  validateEntry({ ...base, target: { type: 'demande', id: '12345678-9012-4345-8678-901234567890' } });
  // Digit runs of at most twelve, separated by letters.
  const chunk = fc.tuple(fc.stringMatching(/^[0-9]{0,12}$/), fc.constantFrom('a', 'é', 'Z', ':'));
  fc.assert(
    fc.property(fc.array(chunk, { minLength: 1, maxLength: 6 }), (chunks) => {
      const value = chunks.map(([d, s]) => `${d}${s}`).join('');
      fc.pre(value.length <= 200);
      validateEntry({ ...base, target: { type: 'demande', id: value }, details: { note: value } });
    }),
  );
});

test('an entry reads back as written, and its hash depends on every field and on its place', () => {
  const entry = fc.record({
    actor: fc.record({ type: fc.constantFrom('famille', 'agent', 'systeme', 'api'), id: fc.stringMatching(/^[a-z0-9-]{1,20}$/) }),
    action: fc.constantFrom('demande.calculee', 'famille.consultee', 'dgfip.check'),
    outcome: fc.constantFrom('succes', 'echec', 'refus'),
    target: fc.option(fc.record({ type: fc.constantFrom('demande', 'famille'), id: fc.uuid() }), { nil: undefined }),
    correlationId: fc.option(fc.uuid(), { nil: undefined }),
    details: fc.dictionary(
      fc.stringMatching(/^[a-z][a-zA-Z0-9_]{0,10}$/),
      fc.oneof(fc.string({ maxLength: 12 }), fc.integer({ min: -1e9, max: 1e9 }), fc.boolean(), fc.constant(null)),
      { maxKeys: 5 },
    ),
  }) as fc.Arbitrary<AuditEntryInput>;
  fc.assert(
    fc.property(entry, fc.integer({ min: 1, max: 1e9 }), (input, seq) => {
      const content = rowContent(seq, '2026-05-04T03:02:01.000Z', input);
      const hash = chainHash(GENESIS_HASH, content);
      const entryBack = rowToEntry({ ...content, hash, mac: sealHash(Buffer.alloc(32), hash) });
      assert.equal(entryBack.seq, seq);
      assert.deepEqual(entryBack.actor, { ...input.actor });
      assert.deepEqual(entryBack.target, input.target ? { ...input.target } : null);
      assert.equal(canonicalDetails(entryBack.details), canonicalDetails(input.details));
      assert.notEqual(chainHash(GENESIS_HASH, { ...content, seq: seq + 1 }), hash);
      assert.notEqual(chainHash(hash, content), hash);
      assert.notEqual(chainHash(GENESIS_HASH, { ...content, actor_id: `${content.actor_id}x` }), hash);
    }),
  );
});
