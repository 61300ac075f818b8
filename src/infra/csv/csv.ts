/**
 * CSV for the spreadsheets the commune's agents open (Excel and LibreOffice in French): UTF-8 with
 * a byte-order mark (without it Excel reads the accents as Latin-1), `;` between cells (the comma
 * is the French decimal separator), CRLF at the end of every record (RFC 4180), quotes only where
 * needed, and formula injection neutralised: a text cell that a spreadsheet would run as a formula
 * (its first non-blank character is = + - @, or it starts with a tab, a carriage return or a line
 * feed) is prefixed with a single quote, so that a reference, a label or any text typed by someone
 * cannot become `=HYPERLINK(...)` — not even ` =HYPERLINK(...)`, which spreadsheets trim then run.
 */

/** A cell: text, a number (written as is), a yes/no, or nothing (an empty cell). */
export type CsvValue = string | number | boolean | null | undefined;

export const CSV_BOM = '\uFEFF';
export const CSV_SEPARATOR = ';';
export const CSV_EOL = '\r\n';

/**
 * What a spreadsheet takes for the start of a formula (OWASP « CSV injection »): = + - @ after any
 * blanks (spaces, tabs, line breaks, no-break spaces, a stray BOM), or a leading tab, CR or LF.
 */
const FORMULA_START = /^[\s\u00a0\uFEFF]*[=+\-@]|^[\t\r\n]/;

export function startsLikeFormula(text: string): boolean {
  return FORMULA_START.test(text);
}

/** `'=1+1` for `=1+1`: shown as text, never evaluated. Other text (and its own output) is unchanged. */
export function neutraliserFormule(text: string): string {
  return startsLikeFormula(text) ? `'${text}` : text;
}

/**
 * One cell as written between separators: text neutralised, then quoted if it holds a separator,
 * a quote or a line break. A number is written as JavaScript prints it (a typed number is never
 * a formula); a decimal in French form is the caller's text.
 */
export function csvCell(value: CsvValue, separator: string = CSV_SEPARATOR): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'oui' : 'non';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`CSV: finite number expected, got ${value}`);
    return String(value);
  }
  const text = neutraliserFormule(value);
  return text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, with its CRLF. */
export function csvRow(values: readonly CsvValue[], separator: string = CSV_SEPARATOR): string {
  return values.map((v) => csvCell(v, separator)).join(separator) + CSV_EOL;
}

export interface CsvOptions {
  /** Default `;`. */
  readonly separator?: ';' | ',' | '\t';
  /** Default true: the byte-order mark that tells spreadsheets the file is UTF-8. */
  readonly bom?: boolean;
}

/** A whole document: the BOM (unless told otherwise), then every record. */
export function toCsv(rows: Iterable<readonly CsvValue[]>, options: CsvOptions = {}): string {
  const separator = options.separator ?? CSV_SEPARATOR;
  let out = options.bom === false ? '' : CSV_BOM;
  for (const row of rows) out += csvRow(row, separator);
  return out;
}

/**
 * The same bytes as `toCsv([header, ...rows])`, record by record, for exports too large to hold
 * in memory: the BOM and the header first, then one chunk per row as the source yields it.
 */
export async function* csvStream(
  header: readonly CsvValue[],
  rows: AsyncIterable<readonly CsvValue[]> | Iterable<readonly CsvValue[]>,
  options: CsvOptions = {},
): AsyncGenerator<string> {
  const separator = options.separator ?? CSV_SEPARATOR;
  yield (options.bom === false ? '' : CSV_BOM) + csvRow(header, separator);
  for await (const row of rows) yield csvRow(row, separator);
}
