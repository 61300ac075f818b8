import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { verifierAvis, type FormatAvis } from './avis-depose.ts';
import { isQuotientError } from './errors.ts';
import { jpegAvis, pdfAvis, pngAvis } from './test-avis.ts';

const MAX = 1024 * 1024;

function refus(octets: Uint8Array, max = MAX): string {
  try {
    verifierAvis(octets, max);
  } catch (error) {
    assert.ok(isQuotientError(error) && error.kind === 'invalid' && error.code === 'avis_refuse', String(error));
    assert.equal(error.details[0]?.path, 'avis');
    return error.message;
  }
  assert.fail('le fichier aurait dû être refusé');
}

test('a PDF, a PNG and a JPEG are recognised by their bytes', () => {
  assert.equal(verifierAvis(pdfAvis(), MAX), 'pdf');
  assert.equal(verifierAvis(pngAvis(), MAX), 'png');
  assert.equal(verifierAvis(jpegAvis(), MAX), 'jpeg');
});

test('refusals say what to send, in French', () => {
  assert.match(refus(new Uint8Array()), /vide/);
  assert.match(refus(pdfAvis(), 100), /trop lourd .* 0 Ko au plus|trop lourd/);
  assert.match(refus(new TextEncoder().encode('<html><body>pas un avis, vraiment pas du tout un avis</body></html>')), /type de fichier n’est pas accepté/);
  assert.match(refus(new TextEncoder().encode('GIF89a'.padEnd(80, 'x'))), /PDF, ou une photo lisible en JPEG ou PNG/);
});

test('a truncated file is refused, whatever its format', () => {
  for (const [octets, format] of [
    [pdfAvis(), 'PDF'],
    [pngAvis(), 'PNG'],
    [jpegAvis(), 'JPEG'],
  ] as const) {
    // Beyond the PDF's last newline, which is optional.
    for (const coupe of [2, 7, Math.floor(octets.length / 2)]) {
      assert.match(refus(octets.subarray(0, octets.length - coupe)), new RegExp(`${format}|petit`), `${format} coupé de ${coupe}`);
    }
  }
});

test('an image with impossible dimensions, or a PDF whose trailer points outside it, is refused', () => {
  assert.match(refus(pngAvis(0, 100)), /PNG/);
  assert.match(refus(pngAvis(100_000, 100)), /PNG/);
  assert.match(refus(jpegAvis(0, 100)), /JPEG/);
  const pdf = new TextDecoder().decode(pdfAvis()).replace(/startxref\n\d+/, 'startxref\n999999');
  assert.match(refus(new TextEncoder().encode(pdf)), /PDF/);
  // The header only: a file named .pdf that is not one.
  assert.match(refus(new TextEncoder().encode('%PDF-1.7\n'.padEnd(200, 'A'))), /PDF/);
});

test('random bytes never crash the check and are never accepted unless they are a valid file', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        // Starts right, then anything: the checks after the magic bytes must hold too.
        fc.tuple(fc.constantFrom(pdfAvis(), pngAvis(), jpegAvis()), fc.nat(), fc.uint8Array({ maxLength: 200 })).map(([valide, n, suite]) => {
          const garde = valide.subarray(0, n % valide.length);
          const out = new Uint8Array(garde.length + suite.length);
          out.set(garde);
          out.set(suite, garde.length);
          return out;
        }),
      ),
      (octets) => {
        let format: FormatAvis | undefined;
        try {
          format = verifierAvis(octets, MAX);
        } catch (error) {
          assert.ok(isQuotientError(error) && error.code === 'avis_refuse');
          return;
        }
        // Accepted: it must really have the structure of its format.
        const texte = String.fromCharCode(...octets);
        if (format === 'pdf') assert.match(texte, /^%PDF-[12]\.\d[\s\S]*startxref\s+\d+\s+%%EOF\s*$/);
        if (format === 'png') assert.ok(texte.startsWith('\x89PNG\r\n\x1a\n') && texte.slice(12, 16) === 'IHDR' && texte.endsWith('IEND\xaeB`\x82'));
        if (format === 'jpeg') assert.ok(octets[0] === 0xff && octets[1] === 0xd8 && octets.at(-2) === 0xff && octets.at(-1) === 0xd9);
      },
    ),
    { numRuns: 2000 },
  );
});

test('valid files with random content in their body stay accepted', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20_000 }), fc.integer({ min: 1, max: 20_000 }), fc.string({ maxLength: 60 }), (l, h, marque) => {
      const propre = marque.replace(/[^A-Za-z0-9 ]/g, '');
      assert.equal(verifierAvis(pngAvis(l, h, propre), MAX), 'png');
      assert.equal(verifierAvis(jpegAvis(Math.min(l, 65_535), Math.min(h, 65_535), propre), MAX), 'jpeg');
      assert.equal(verifierAvis(pdfAvis(propre), MAX), 'pdf');
    }),
  );
});
