import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { texteWinAnsi } from './texte-pdf.ts';
import { attestationPdf } from './attestation-pdf.ts';
import { lirePdf } from './test-pdf.ts';

test('French text goes into the PDF as it is: accents, « », ’, œ, € and no-break spaces', () => {
  const francais = 'Élodie Lefèvre-Çağ… « remplacée » l’œuvre 1\u00a0191,66\u00a0€';
  assert.equal(texteWinAnsi(francais), francais.replace('ğ', 'g'));
  assert.equal(texteWinAnsi('1\u202f191,66\u202f€'), '1\u00a0191,66\u00a0€', 'the narrow no-break space becomes a no-break space');
});

test('a letter the standard font lacks keeps the accents it can, or its base letter, never a wrong glyph', () => {
  assert.equal(texteWinAnsi('Nguyễn Łukasz Ștefan Đặng'), 'Nguyên Lukasz Stefan Dang');
  assert.equal(texteWinAnsi('李'), '?');
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      for (const c of texteWinAnsi(s)) {
        const n = c.codePointAt(0) ?? 0;
        assert.ok(c === '\n' || (n >= 0x20 && n <= 0x7e) || (n >= 0xa0 && n <= 0xff) || '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ'.includes(c), `U+${n.toString(16)}`);
      }
    }),
  );
});

test('a name outside WinAnsi reads back from the PDF as the nearest letters', async () => {
  const pdf = await attestationPdf({
    statut: 'valable',
    id: 'a',
    code: '7KQ4-M2XH-9TRC',
    urlVerification: 'http://localhost/verifier/7KQ4-M2XH-9TRC',
    urlVerifier: 'http://localhost/verifier',
    commune: 'Saint-Étienne',
    familleReference: 'F-AB2C-DE3F',
    demandeReference: 'D-AB2C-DE3F',
    demandeId: 'd',
    titulaires: ['Łukasz Nguyễn'],
    quotient: { cents: 79_444, periode: 'mensuelle' },
    validite: { du: '2025-09-01', au: '2026-08-31' },
    lignes: [],
    source: 'DGFiP, avis d’imposition 2025 (revenus 2024)',
    etablieLe: '2025-09-12',
    contact: { service: 'Service Famille', email: 'famille@exemple.fr', telephone: null },
  });
  const lu = await lirePdf(pdf);
  assert.ok(lu.texte.includes('Titulaire Lukasz Nguyên'), lu.texte);
  assert.ok(lu.texte.includes('794,44 € par mois'));
  assert.ok(lu.texte.includes('SAINT-ÉTIENNE'));
});
