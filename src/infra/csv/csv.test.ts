import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CSV_BOM, csvCell, csvStream, neutraliserFormule, startsLikeFormula, toCsv } from './csv.ts';

/**
 * A reference reader written for the tests from RFC 4180 (with `;`), independent of the writer:
 * quoted cells may hold separators, quotes (doubled) and line breaks; lines end with CRLF.
 */
function parseCsv(text: string): string[][] {
  assert.ok(text.startsWith(CSV_BOM), 'le fichier commence par le BOM UTF-8');
  const s = text.slice(1);
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  let atCellStart = true;
  while (i < s.length) {
    const c = s[i] as string;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        cell += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i += 1;
      } else {
        cell += c;
        i += 1;
      }
      continue;
    }
    if (c === '"' && atCellStart) {
      quoted = true;
      atCellStart = false;
      i += 1;
    } else if (c === ';') {
      row.push(cell);
      cell = '';
      atCellStart = true;
      i += 1;
    } else if (c === '\r' && s[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      atCellStart = true;
      i += 2;
    } else {
      assert.notEqual(c, '"', 'guillemet non échappé au milieu d’une cellule');
      assert.notEqual(c, '\n', 'saut de ligne hors guillemets');
      assert.notEqual(c, '\r', 'retour chariot hors guillemets');
      cell += c;
      atCellStart = false;
      i += 1;
    }
  }
  assert.equal(quoted, false, 'guillemet non refermé');
  assert.equal(cell, '', 'la dernière ligne se termine par CRLF');
  assert.equal(row.length, 0);
  return rows;
}

/** Text that is likely to break a naive writer: separators, quotes, line breaks, formula starts. */
const tricky = fc.string({
  unit: fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\n', ';', '"', "'", ',', ' ', 'a', 'é', '€', '1', '\u00a0', '\uFEFF'),
  maxLength: 12,
});
const anyText = fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ maxLength: 12 }));
const rowsArb = fc.array(fc.array(anyText, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 });

test('any text round-trips through a CSV reader, formulas prefixed with a quote and nothing else changed', () => {
  fc.assert(
    fc.property(rowsArb, (rows) => {
      const parsed = parseCsv(toCsv(rows));
      assert.deepEqual(
        parsed,
        rows.map((r) => r.map((cell) => (startsLikeFormula(cell) ? `'${cell}` : cell))),
      );
    }),
    { numRuns: 500 },
  );
});

/** Written independently of the writer: blanks a spreadsheet skips before it looks for a formula. */
const BLANKS = /^[ \t\r\n\u00a0\uFEFF\s]*/;

test('no cell read back has = + - @ as its first non-blank character, nor starts with a tab, CR or LF, unless behind the quote', () => {
  fc.assert(
    fc.property(rowsArb, (rows) => {
      for (const row of parseCsv(toCsv(rows))) {
        for (const cell of row) {
          if (cell.startsWith("'")) continue;
          assert.ok(!/^[=+\-@]/.test(cell.replace(BLANKS, '')), JSON.stringify(cell));
          assert.ok(!/^[\t\r\n]/.test(cell), JSON.stringify(cell));
        }
      }
    }),
    { numRuns: 500 },
  );
});

test('every cell the writer changes was dangerous, and the change is the quote only', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const dangerous = /^[=+\-@]/.test(text.replace(BLANKS, '')) || /^[\t\r\n]/.test(text);
      assert.equal(neutraliserFormule(text), dangerous ? `'${text}` : text);
    }),
    { numRuns: 500 },
  );
});

test('one BOM at the very start, whatever the first cell holds; none when asked for none', () => {
  fc.assert(
    fc.property(rowsArb, (rows) => {
      const text = toCsv(rows);
      assert.equal(text.codePointAt(0), 0xfeff);
      assert.equal(text.slice(1), toCsv(rows, { bom: false }));
    }),
    { numRuns: 200 },
  );
});

test('integers round-trip as written; mixed cells keep their places', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer(), anyText, fc.option(fc.nat(), { nil: null })), { minLength: 1, maxLength: 10 }), (rows) => {
      const parsed = parseCsv(toCsv(rows));
      rows.forEach(([n, text, opt], i) => {
        assert.deepEqual(parsed[i], [String(n), neutraliserFormule(text), opt === null ? '' : String(opt)]);
      });
    }),
    { numRuns: 200 },
  );
});

test('neutralising is idempotent on its own output and keeps ordinary text', () => {
  fc.assert(
    fc.property(anyText, (text) => {
      const once = neutraliserFormule(text);
      assert.equal(neutraliserFormule(once), once);
      if (!startsLikeFormula(text)) assert.equal(once, text);
    }),
  );
});

test('the usual cases, as a spreadsheet user would see them', () => {
  assert.equal(csvCell('=HYPERLINK("http://x";"clic")'), `"'=HYPERLINK(""http://x"";""clic"")"`);
  assert.equal(csvCell('+33 1 00'), "'+33 1 00");
  assert.equal(csvCell('-1'), "'-1");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('\t=1'), "'\t=1");
  assert.equal(csvCell('\r=1'), `"'\r=1"`);
  assert.equal(csvCell('\n=1'), `"'\n=1"`);
  assert.equal(csvCell('\nDupont'), `"'\nDupont"`);
  assert.equal(csvCell(' =HYPERLINK("http://x")'), `"' =HYPERLINK(""http://x"")"`);
  assert.equal(csvCell('\u00a0+33 1 00'), "'\u00a0+33 1 00");
  assert.equal(csvCell('\uFEFF@SUM(A1)'), "'\uFEFF@SUM(A1)");
  assert.equal(csvCell('  -1'), "'  -1");
  assert.equal(csvCell('Jean-Pierre'), 'Jean-Pierre');
  assert.equal(csvCell(' Dupont'), ' Dupont');
  assert.equal(csvCell('Dupont; Marie'), '"Dupont; Marie"');
  assert.equal(csvCell('éàç'), 'éàç');
  assert.equal(csvCell(-12.5), '-12.5');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(undefined), '');
  assert.equal(csvCell(true), 'oui');
  assert.equal(csvCell(false), 'non');
  assert.throws(() => csvCell(Number.NaN));
  assert.equal(
    toCsv([
      ['a', 'b'],
      ['1', '2'],
    ]),
    '\uFEFFa;b\r\n1;2\r\n',
  );
});

test('the streamed form gives the same bytes as the whole document', async () => {
  const rows = [
    ['x', '=1'],
    ['é', 'a;b'],
  ];
  async function* source() {
    for (const r of rows) yield r;
  }
  let streamed = '';
  for await (const chunk of csvStream(['Colonne A', 'Colonne B'], source())) streamed += chunk;
  assert.equal(streamed, toCsv([['Colonne A', 'Colonne B'], ...rows]));
});
