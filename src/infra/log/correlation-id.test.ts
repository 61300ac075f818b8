import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { createLogger } from './logger.ts';

function log(fields: Record<string, unknown>): string {
  const lines: string[] = [];
  createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }).warn(fields, 'appel DGFiP en échec');
  return lines.join('');
}

/** A UUID holding 13 digits across a dash, as about 2 % of random ones do. */
const MANY_DIGITS = '3f2a9c1e-7b4d-4e21-a403-141592653423';

test('an X-Correlation-ID is written exactly as sent to the DGFiP, even with 13 digits in a row', () => {
  assert.ok(log({ correlationId: MANY_DIGITS }).includes(MANY_DIGITS));
  assert.ok(log({ nested: { 'x-correlation-id': MANY_DIGITS } }).includes(MANY_DIGITS));
});

test('property: every generated correlation id reaches the log intact', () => {
  fc.assert(
    fc.property(fc.constant(null), () => {
      const id = randomUUID();
      assert.ok(log({ correlationId: id }).includes(id), id);
    }),
    { numRuns: 300 },
  );
});

// The rule of src/domain/numero-fiscal.ts, the same everywhere: a canonical UUID is an identifier
// (its groups hold at most 12 digits), anything else shaped like a numéro fiscal is masked.
test('the exemption is the UUID only: a numéro fiscal under a correlation-id key, or beside a UUID, is still masked', () => {
  assert.ok(!log({ correlationId: '3141592653423' }).includes('3141592653423'));
  assert.ok(!log({ correlationId: `${MANY_DIGITS} 3141592653423` }).includes('3141592653423'));
  assert.ok(!log({ correlationId: '3141-5926-5342-3' }).includes('5926'));
  assert.ok(log({ detail: MANY_DIGITS }).includes(MANY_DIGITS), 'a UUID is kept under any key (request ids, links)');
  assert.ok(log({ msgText: `X-Correlation-ID : ${MANY_DIGITS}` }).includes(MANY_DIGITS));
});
