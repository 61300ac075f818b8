import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isQuotientError } from '../domain/errors.ts';
import { estEnvoiFichier, lireMultipart } from './multipart.ts';

const TYPE = 'multipart/form-data; boundary=----Frontiere';

test('a browser’s form with a file reads as its fields and the file’s bytes', () => {
  const octets = Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a, 0x00, 0xff]);
  const body = Buffer.concat([
    Buffer.from('------Frontiere\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\njeton\r\n'),
    Buffer.from('------Frontiere\r\nContent-Disposition: form-data; name="fichier"; filename="liste été.csv"\r\nContent-Type: text/csv\r\n\r\n'),
    octets,
    Buffer.from('\r\n------Frontiere--\r\n'),
  ]);
  const champs = lireMultipart(body, TYPE);
  assert.equal(champs._csrf, 'jeton');
  const f = champs.fichier;
  assert.ok(estEnvoiFichier(f));
  assert.deepEqual([f.nom, f.type, Buffer.from(f.octets).equals(octets)], ['liste été.csv', 'text/csv', true]);
});

test('whatever the body and its content type, the reader answers fields or a typed French refusal', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.string({ maxLength: 200 }).map((s) => Buffer.from(`------Frontiere\r\n${s}`)),
      ),
      fc.constantFrom(TYPE, 'multipart/form-data', 'multipart/form-data; boundary="x"'),
      (body, type) => {
        try {
          lireMultipart(body, type);
        } catch (error) {
          assert.ok(isQuotientError(error) && error.kind === 'invalid' && /illisible/.test(error.message), String(error));
        }
      },
    ),
    { numRuns: 1000 },
  );
});
