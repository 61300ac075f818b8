import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isQuotientError } from '../../domain/errors.ts';
import { CSV_BOM, toCsv } from './csv.ts';
import { lireCsv } from './csv-lecture.ts';

const utf8 = (text: string) => new TextEncoder().encode(text);
const cellules = (text: string | Uint8Array) => lireCsv(typeof text === 'string' ? utf8(text) : text).lignes.map((l) => l.cellules);

test('reads what a French spreadsheet writes: BOM, semicolons, quotes, CRLF, accents', () => {
  const doc = lireCsv(utf8(`${CSV_BOM}reference;nom\r\nF-1;"Durand; née ""Lefèvre"""\r\nF-2;Éloïse\r\n`));
  assert.equal(doc.encodage, 'utf-8');
  assert.equal(doc.separateur, ';');
  assert.deepEqual(
    doc.lignes.map((l) => [l.numero, ...l.cellules]),
    [
      [1, 'reference', 'nom'],
      [2, 'F-1', 'Durand; née "Lefèvre"'],
      [3, 'F-2', 'Éloïse'],
    ],
  );
});

test('finds the comma or the tab as separator, and counts lines as the file has them (a quoted line break, blank lines)', () => {
  assert.equal(lireCsv(utf8('a,b\n1,2\n')).separateur, ',');
  assert.equal(lireCsv(utf8('a\tb\n1\t2\n')).separateur, '\t');
  const doc = lireCsv(utf8('a;b\n"deux\nlignes";x\n\n;\nfin;y'));
  assert.deepEqual(
    doc.lignes.map((l) => [l.numero, ...l.cellules]),
    [
      [1, 'a', 'b'],
      [2, 'deux\nlignes', 'x'],
      [6, 'fin', 'y'],
    ],
  );
});

test('Windows-1252 (Excel on a French Windows) and UTF-16 with its mark are read as their text', () => {
  const latin1 = Uint8Array.from([...utf8('nom;pr'), 0xe9, ...utf8('nom\nM'), 0xfc, ...utf8('ller;Andr'), 0xe9]);
  const doc = lireCsv(latin1);
  assert.equal(doc.encodage, 'windows-1252');
  assert.deepEqual(doc.lignes[1]?.cellules, ['Müller', 'André']);
  const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('nom\tprénom\r\nDurand\tZoé\r\n', 'utf16le')]);
  assert.deepEqual(cellules(utf16), [
    ['nom', 'prénom'],
    ['Durand', 'Zoé'],
  ]);
});

test('refuses in French what is not a CSV: empty, too large, a spreadsheet, binary, an unclosed quote (with its line)', () => {
  const refus = (octets: Uint8Array, code: string, motif: RegExp, options = {}) =>
    assert.throws(
      () => lireCsv(octets, options),
      (e) => isQuotientError(e) && e.kind === 'invalid' && e.code === code && motif.test(e.message),
    );
  refus(new Uint8Array(), 'fichier_vide', /vide/);
  refus(utf8('\r\n;\r\n'), 'fichier_vide', /aucune ligne/);
  refus(utf8('a;b\n'.repeat(1000)), 'fichier_trop_volumineux', /dépasse/, { maxOctets: 1000 });
  refus(utf8('a;b\n'.repeat(11)), 'fichier_trop_long', /plus de 10 lignes/, { maxLignes: 10 });
  refus(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]), 'fichier_tableur', /xlsx/);
  refus(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'fichier_binaire', /pas un fichier texte/);
  refus(utf8('a;b\nx;"ouvert\n\n'), 'csv_guillemet', /Ligne 2/);
  refus(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from([0xd8, 0x00])]), 'encodage_invalide', /UTF-16BE/);
});

test('whatever the bytes, the reader answers a document or a typed French refusal, never anything else', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc.string({ unit: 'binary', maxLength: 300 }).map(utf8),
        fc.array(fc.constantFrom('a', 'é', ';', ',', '\t', '"', '\r', '\n', ' ', '\uFEFF', '\u0000'), { maxLength: 200 }).map((cs) => utf8(cs.join(''))),
      ),
      (octets) => {
        try {
          const doc = lireCsv(octets);
          assert.ok(doc.lignes.length > 0);
          for (const l of doc.lignes) assert.ok(Number.isInteger(l.numero) && l.numero >= 1);
        } catch (error) {
          assert.ok(isQuotientError(error) && error.kind === 'invalid', String(error));
          assert.ok(error.message.length > 0);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('what Quotient writes as CSV reads back cell for cell, whatever the separator', () => {
  // eslint-disable-next-line no-control-regex
  const controle = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/;
  const texte = fc.string({ maxLength: 12 }).filter((s) => !/^[\s\u00a0\uFEFF]*[=+\-@]|^[\t\r\n]/.test(s) && !controle.test(s));
  fc.assert(
    fc.property(
      fc.constantFrom<';' | ',' | '\t'>(';', ',', '\t'),
      fc.integer({ min: 1, max: 5 }).chain((n) => fc.array(fc.array(texte, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 6 })),
      (separator, rows) => {
        // The first row decides the separator: it holds one of each cell boundary.
        const entete = rows[0]?.map((_, i) => `col${i}`) ?? [];
        const lues = lireCsv(utf8(toCsv([entete, ...rows], { separator })));
        const attendues = [entete, ...rows].filter((r) => r.some((c) => c.trim() !== ''));
        if (entete.length > 1) assert.equal(lues.separateur, separator);
        if (entete.length > 1)
          assert.deepEqual(
            lues.lignes.map((l) => [...l.cellules]),
            attendues,
          );
      },
    ),
    { numRuns: 300 },
  );
});
