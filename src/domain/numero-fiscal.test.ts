import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import fc from 'fast-check';
import {
  avecCle,
  cleModulo511Valide,
  contientUnChiffre,
  masquerNumerosFiscaux,
  NUMERO_FISCAL_MASK,
  NumeroFiscal,
  NumeroFiscalInvalide,
  ressembleANumeroFiscal,
  sansNumeroFiscal,
} from './numero-fiscal.ts';

const validDigits = fc
  .tuple(fc.constantFrom('0', '1', '2', '3'), fc.array(fc.constantFrom(...'0123456789'), { minLength: 12, maxLength: 12 }))
  .map(([first, rest]) => first + rest.join(''));

test('accepts every 13-digit number starting with 0 to 3, with or without spaces', () => {
  fc.assert(
    fc.property(validDigits, fc.boolean(), (digits, spaced) => {
      const typed = spaced ? `${digits.slice(0, 2)} ${digits.slice(2, 4)} ${digits.slice(4, 7)} ${digits.slice(7, 10)} ${digits.slice(10)}` : digits;
      const spi = NumeroFiscal.parse(typed);
      assert.equal(spi.revealForUpstreamCall(), digits);
    }),
    { numRuns: 2000 },
  );
});

test('refuses anything else with a typed error and a French message, never another exception', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.stringMatching(/^[0-9]{1,20}$/)), (input) => {
      const compact = input.replace(/[ \u00a0\u202f\t]/g, '');
      const shouldAccept = /^[0-3][0-9]{12}$/.test(compact);
      const result = NumeroFiscal.tryParse(input);
      assert.equal(result.ok, shouldAccept);
      if (!result.ok) {
        assert.ok(result.error instanceof NumeroFiscalInvalide);
        assert.equal(result.error.code, 'numero_fiscal_invalide');
        assert.match(result.error.message, /numéro fiscal/i);
        assert.ok(!result.error.message.includes(compact) || compact.length < 4, 'the message never echoes the input');
      }
    }),
    { numRuns: 5000 },
  );
});

test('explains what is wrong', () => {
  const problem = (input: string) => (NumeroFiscal.tryParse(input) as { ok: false; error: NumeroFiscalInvalide }).error;
  assert.equal(problem('').problem, 'vide');
  assert.equal(problem('314159265342').problem, 'longueur');
  assert.match(problem('314159265342').message, /vous en avez saisi 12/);
  assert.equal(problem('4141592653423').problem, 'premier_chiffre');
  assert.equal(problem('31415926534A3').problem, 'caracteres_invalides');
  // Unicode digits look like digits but are not what the DGFiP accepts.
  assert.equal(problem('٣١٤١٥٩٢٦٥٣٤٢٣').problem, 'caracteres_invalides');
  assert.equal(problem('３１４１５９２６５３４２３').problem, 'caracteres_invalides');
  assert.equal(problem('3141592653423\u0000').problem, 'caracteres_invalides');
  assert.equal(problem('3'.repeat(1_000_000)).problem, 'trop_long');
});

test('the modulo-511 key is reported, never a reason to refuse', () => {
  assert.equal(NumeroFiscal.parse('3141592653423').cleValide, true); // 3141592653 mod 511 = 423
  assert.equal(NumeroFiscal.parse('3023217600053').cleValide, true);
  // A sandbox SPI that fails the key is still accepted.
  const sandbox = NumeroFiscal.parse('3999999776201');
  assert.equal(sandbox.cleValide, false);
  assert.equal(cleModulo511Valide('12'), false);
});

test('a number completed with its key checks; any single-digit change, in the key or before it, does not', () => {
  const base10 = fc
    .tuple(fc.constantFrom('0', '1', '2', '3'), fc.array(fc.constantFrom(...'0123456789'), { minLength: 9, maxLength: 9 }))
    .map(([first, rest]) => first + rest.join(''));
  fc.assert(
    fc.property(base10, fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 9 }), (base, position, delta) => {
      const digits = avecCle(base);
      assert.equal(digits.length, 13);
      assert.equal(digits.slice(0, 10), base);
      assert.equal(NumeroFiscal.parse(digits).cleValide, true);
      const typo = digits.slice(0, position) + String((Number(digits[position]) + delta) % 10) + digits.slice(position + 1);
      assert.notEqual(typo, digits);
      // 511 = 7 × 73 divides no change of one digit (d × 10^k, 0 < |d| < 10): every such typo is caught.
      assert.equal(cleModulo511Valide(typo), false, 'a one-digit typo is caught');
      if (position > 0) assert.equal(NumeroFiscal.parse(typo).cleValide, false);
    }),
    { numRuns: 3000 },
  );
});

test('every textual form of a numéro fiscal is a mask', () => {
  fc.assert(
    fc.property(validDigits, (digits) => {
      const spi = NumeroFiscal.parse(digits);
      const renderings = [
        String(spi),
        `${spi}`,
        spi.toString(),
        JSON.stringify({ spi }),
        JSON.stringify([spi]),
        inspect(spi),
        inspect({ nested: { spi } }, { depth: 10 }),
        `${[spi]}`,
      ];
      for (const text of renderings) {
        assert.ok(!text.includes(digits), `leaked in ${text}`);
        assert.ok(text.includes(NUMERO_FISCAL_MASK));
      }
      assert.deepEqual(Object.keys(spi), ['cleValide']);
    }),
    { numRuns: 300 },
  );
});

test('two parses of the same number are equal, different numbers are not', () => {
  assert.ok(NumeroFiscal.parse('3141592653423').equals(NumeroFiscal.parse('31 41 592 653 423')));
  assert.ok(!NumeroFiscal.parse('3141592653423').equals(NumeroFiscal.parse('3141592653424')));
});

const SEPARATEURS = [' ', '\u00a0', '\u202f'];

/** The rule said in plain steps, to check the pattern against: 13 digits, at most one separator between two. */
/** A reference for the shape rule, written as a plain scan: digits, and gaps of at most three separators. */
function treizeChiffresDeSuite(text: string): boolean {
  let run = 0;
  let gap = 0;
  for (const ch of text) {
    if (/[\p{Nd}\p{No}]/u.test(ch)) {
      run += 1;
      gap = 0;
      if (run >= 13) return true;
    } else if (SEPARATEURS_TOUS.includes(ch) && run > 0 && gap < 3) {
      gap += 1;
    } else {
      run = 0;
      gap = 0;
    }
  }
  return false;
}

/** What people put between digits: spaces of every width, tabs, dashes, dots, slashes, invisible characters. */
const SEPARATEURS_TOUS = [...SEPARATEURS, '\t', '-', '.', '/', '\\', '_', '\u2013', '\u2014', '\u2011', '\uff0d', '\u200b', '\u00ad', '\u2028', '\u3000'];
const CHIFFRES_TOUS = [...'0123456789', ...'０１２３４５６７８９', ...'٠١٢٣٤٥٦٧٨٩', '²', '³', '¹'];

test('thirteen digits of any script, each gap empty or up to three separators of any kind, look like a numéro fiscal wherever they stand', () => {
  fc.assert(
    fc.property(
      fc.string({ maxLength: 20 }),
      fc.array(fc.constantFrom(...CHIFFRES_TOUS), { minLength: 13, maxLength: 13 }),
      fc.array(fc.array(fc.constantFrom(...SEPARATEURS_TOUS), { maxLength: 3 }), { minLength: 12, maxLength: 12 }),
      fc.string({ maxLength: 20 }),
      (avant, chiffres, gaps, apres) => {
        const typed = chiffres.map((c, i) => c + (gaps[i] ?? []).join('')).join('');
        assert.ok(ressembleANumeroFiscal(`${avant}${typed}${apres}`), JSON.stringify(typed));
        assert.ok(!masquerNumerosFiscaux(`${avant}${typed}${apres}`, '#').includes(typed));
      },
    ),
    { numRuns: 3000 },
  );
  for (const typed of [
    '31-41-592-653-423',
    '31.41.592.653.423',
    '31/41/592/653/423',
    '31  41  592  653  423',
    '31\t41\t592\t653\t423',
    '31\u00a041\u202f592 653 423',
    '３１４１５９２６５３４２３',
    '31-41 592.653/423',
    '3\u200b141592653423',
    '①②③④⑤⑥⑦⑧⑨①②③④',
    '31 - 41 - 592 - 653 - 423',
  ])
    assert.ok(ressembleANumeroFiscal(`mon numéro : ${typed}.`), JSON.stringify(typed));
  assert.ok(ressembleANumeroFiscal('99 99999 999999'), 'whatever the first digit');
});

test('nothing else looks like a numéro fiscal: letters, longer gaps or twelve digits break the run', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...'0123456789', ...SEPARATEURS_TOUS, 'a', 'Z', ':', ','), { maxLength: 60 }), (chars) => {
      const text = chars.join('');
      assert.equal(ressembleANumeroFiscal(text), treizeChiffresDeSuite(text), JSON.stringify(text));
    }),
    { numRuns: 5000 },
  );
  assert.ok(!ressembleANumeroFiscal('avis 2025 présenté le 12/09/2025, référence D-ABCD-EFGH'));
  assert.ok(!ressembleANumeroFiscal('301234567890'));
  assert.ok(!ressembleANumeroFiscal('301234    5678901'), 'four spaces');
  assert.ok(!ressembleANumeroFiscal('2024-01-15T10:20:30.123Z'), 'a timestamp');
  assert.ok(!ressembleANumeroFiscal('192.168.100.200'), 'an IPv4 address has 12 digits at most');
});

test('a canonical UUID is an identifier, never a numéro fiscal, and joins no digits around it', () => {
  const uuid = fc.uuid();
  fc.assert(
    fc.property(uuid, fc.constantFrom(' ', '/', '-', ' : '), (id, sep) => {
      assert.equal(ressembleANumeroFiscal(`https://ville.fr/mon-quotient/demandes/${id}`), false);
      assert.equal(ressembleANumeroFiscal(`123${sep}${id}${sep}456`), false);
      assert.equal(masquerNumerosFiscaux(`correlation ${id}`, '#'), `correlation ${id}`);
    }),
    { numRuns: 3000 },
  );
  // All digits: 8+4+4+4+12 would be 32 digits between dashes, yet it is one of our identifiers.
  assert.equal(ressembleANumeroFiscal('12345678-1234-4234-8234-123456789012'), false);
  // Not canonical (a group too long): plain digits with dashes again.
  assert.equal(ressembleANumeroFiscal('123456789-1234-4234-8234-123456789012'), true);
  assert.equal(ressembleANumeroFiscal(`${'1'.repeat(13)} ${'6f1c2e4a-1234-4567-8901-234567890123'}`), true);
});

test('a name holds no digit of any script', () => {
  for (const nom of ['Anne-Marie', 'N’Diaye', 'Ørsted', 'Zoë']) assert.equal(contientUnChiffre(nom), false, nom);
  for (const nom of ['Anne2', 'Ａ３', 'An²ne', 'Jean①', 'Paul٣']) assert.equal(contientUnChiffre(nom), true, nom);
});

test('every number the parser accepts, typed as people type it, is caught by the shape check', () => {
  fc.assert(
    fc.property(validDigits, fc.constantFrom(...SEPARATEURS), (digits, espace) => {
      const typed = [digits.slice(0, 2), digits.slice(2, 4), digits.slice(4, 7), digits.slice(7, 10), digits.slice(10)].join(espace);
      assert.ok(NumeroFiscal.tryParse(typed).ok);
      assert.ok(ressembleANumeroFiscal(`mon numéro : ${typed}.`));
    }),
  );
});

test('a form shown again keeps what was typed except the texts shaped like a numéro fiscal', () => {
  assert.deepEqual(sansNumeroFiscal({ nom: 'Martin', precision: 'appel du 12/09', erreur: 'le 3012345678 901', rang: 2 }), {
    nom: 'Martin',
    precision: 'appel du 12/09',
    erreur: '',
    rang: 2,
  });
});
