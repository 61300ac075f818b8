import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { QuotientError } from '../../domain/errors.ts';
import { createLogger, urlForLog } from './logger.ts';
import { maskDigitRuns } from './redaction.ts';

function collector() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

const spiDigits = fc
  .tuple(fc.constantFrom('0', '1', '2', '3'), fc.array(fc.constantFrom(...'0123456789'), { minLength: 12, maxLength: 12 }))
  .map(([first, rest]) => first + rest.join(''));

/** Every shape in which a careless developer might hand a numéro fiscal to the logger. */
const leakyCall = fc.constantFrom(
  'message',
  'spaced-message',
  'format-argument',
  'nested-object',
  'known-field',
  'value-object',
  'error',
  'error-cause',
  'typed-error',
  'array',
  'url',
  'number',
);

test('no generated numéro fiscal ever reaches a log line, whatever the path', () => {
  fc.assert(
    fc.property(spiDigits, leakyCall, fc.string({ maxLength: 12 }), (digits, shape, noise) => {
      const { lines, destination } = collector();
      const log = createLogger({ destination, level: 'trace' });
      const spaced = `${digits.slice(0, 2)} ${digits.slice(2, 4)} ${digits.slice(4, 7)} ${digits.slice(7, 10)} ${digits.slice(10)}`;
      switch (shape) {
        case 'message':
          log.info(`appel pour ${digits}${noise}`);
          break;
        case 'spaced-message':
          log.warn(`saisie ${spaced}`);
          break;
        case 'format-argument':
          log.info('appel pour %s', digits);
          break;
        case 'nested-object':
          log.info({ demande: { foyer: { declarants: [{ id: digits, noise }] } } }, 'ok');
          break;
        case 'known-field':
          log.info({ spi: digits, numeroFiscal: digits }, 'ok');
          break;
        case 'value-object':
          log.info({ declarant: NumeroFiscal.parse(digits) }, 'ok');
          break;
        case 'error':
          log.error(new Error(`échec ${digits}`));
          break;
        case 'error-cause':
          log.error({ err: new Error('échec', { cause: new Error(`détail ${digits}`) }) }, 'amont');
          break;
        case 'typed-error':
          log.error({ err: new QuotientError('upstream', 'x', `réponse pour ${digits}`) }, 'amont');
          break;
        case 'array':
          log.debug({ liste: [noise, digits, { digits }] }, 'ok');
          break;
        case 'number':
          log.info({ identifiant: Number(digits), duree: 1.2345678901234567 }, 'ok');
          break;
        case 'url':
          log.info({ url: `/situations/ir/assiettes/annrev/2025?spi=${digits}&x=${encodeURIComponent(spaced)}` }, 'ok');
          break;
      }
      assert.equal(lines.length, 1);
      const line = lines[0] as string;
      JSON.parse(line); // masking keeps every line valid JSON
      assert.ok(!line.includes(digits), `leak: ${line}`);
      assert.ok(!line.includes(spaced), `leak: ${line}`);
      assert.ok(!line.includes(encodeURIComponent(spaced)), `leak: ${line}`);
    }),
    { numRuns: 3000 },
  );
});

test('log lines are JSON with an ISO timestamp, a level label and the message', () => {
  const { lines, destination } = collector();
  createLogger({ destination }).info({ requestId: 'abc' }, 'démarré');
  const entry = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(entry.level, 'info');
  assert.equal(entry.msg, 'démarré');
  assert.equal(entry.requestId, 'abc');
  assert.match(String(entry.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
});

test('secrets in known fields are redacted at any depth, and errors keep their message', () => {
  const { lines, destination } = collector();
  createLogger({ destination }).error(
    { headers: { Authorization: 'Bearer abc.def', cookie: 'sid=s3cr3t' }, client: { client_secret: 'hunter2' }, err: new Error('connexion refusée') },
    'échec',
  );
  const line = lines[0] as string;
  for (const secret of ['abc.def', 's3cr3t', 'hunter2']) assert.ok(!line.includes(secret), line);
  assert.match(line, /connexion refusée/);
});

test('the last layer keeps short numbers and dates readable', () => {
  assert.equal(maskDigitRuns('demande 42 du 2026-11-23, 12 345 €'), 'demande 42 du 2026-11-23, 12 345 €');
  assert.equal(maskDigitRuns('x3141592653423y'), 'x[masqué]y');
});

test('the last layer masks a numéro fiscal in every separator and digit form, and keeps correlation ids intact', () => {
  for (const typed of [
    '31-41-592-653-423',
    '31.41.592.653.423',
    '31/41/592/653/423',
    '31  41\t592 653 423',
    '31\u00a041\u202f592 653 423',
    '３１４１５９２６５３４２３',
  ])
    assert.equal(maskDigitRuns(`numéro ${typed} reçu`), 'numéro [masqué] reçu', JSON.stringify(typed));
  // Issue 13 point 12: an X-Correlation-ID (a UUID) whose digit groups run to 13 digits across dashes.
  const correlationId = '12345678-9012-4345-8678-901234567890';
  const { lines, destination } = collector();
  createLogger({ destination }).info({ correlationId, reqId: '6f1c2e4a-1234-4567-8901-234567890123' }, `appel DGFiP ${correlationId}`);
  const entry = JSON.parse(lines[0] as string) as { correlationId: string; reqId: string; msg: string };
  assert.equal(entry.correlationId, correlationId);
  assert.equal(entry.reqId, '6f1c2e4a-1234-4567-8901-234567890123');
  assert.equal(entry.msg, `appel DGFiP ${correlationId}`);
  fc.assert(
    fc.property(fc.uuid(), (id) => maskDigitRuns(`X-Correlation-ID: ${id}`) === `X-Correlation-ID: ${id}`),
    { numRuns: 2000 },
  );
});

test('request logs keep the path and the parameter names, never what was typed in a query', () => {
  const { lines, destination } = collector();
  createLogger({ destination }).info({ req: { id: 'r1', method: 'GET', url: '/simulateur?rfr=48123&parts=2%2C5&hors-commune=oui' } }, 'incoming request');
  const entry = JSON.parse(lines[0] as string) as { req: { url: string } };
  assert.equal(entry.req.url, '/simulateur?rfr=[masqué]&parts=[masqué]&hors-commune=[masqué]');
  assert.equal(urlForLog('/contact'), '/contact');
  assert.equal(urlForLog('/simulateur?'), '/simulateur?');
});
