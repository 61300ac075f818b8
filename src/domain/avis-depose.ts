import { QuotientError } from './errors.ts';

/**
 * The avis d'imposition a family uploads when the DGFiP could not give it (issue 15): a PDF or a
 * photo (JPEG, PNG). The file prints the numéro fiscal, so it is never parsed beyond what tells a
 * real document from anything else: the magic bytes, and the structure's bounds (a PDF's header
 * and trailer, an image's dimensions and end marker). What is accepted is kept encrypted, as is.
 */

export const FORMATS_AVIS = ['pdf', 'jpeg', 'png'] as const;
export type FormatAvis = (typeof FORMATS_AVIS)[number];

export const TYPES_MIME: Record<FormatAvis, string> = { pdf: 'application/pdf', jpeg: 'image/jpeg', png: 'image/png' };
export const EXTENSIONS: Record<FormatAvis, string> = { pdf: 'pdf', jpeg: 'jpg', png: 'png' };

/** Wider than any photo of a page: a larger size is a forged header, not a scan. */
export const DIMENSION_MAX = 20_000;
/** A real avis is never this small. */
export const TAILLE_MIN = 32;

const ACCEPTES = 'Envoyez votre avis d’imposition en PDF, ou une photo lisible en JPEG ou PNG.';

function refus(message: string): QuotientError {
  return new QuotientError('invalid', 'avis_refuse', message, { details: [{ path: 'avis', message }] });
}

function formatTaille(octets: number): string {
  const mo = octets / (1024 * 1024);
  return mo >= 1 ? `${mo.toLocaleString('fr-FR', { maximumFractionDigits: 1 })} Mo` : `${Math.round(octets / 1024)} Ko`;
}

function commencePar(octets: Uint8Array, signature: readonly number[]): boolean {
  return octets.length >= signature.length && signature.every((b, i) => octets[i] === b);
}

/** Bytes as one character each (a bounded slice: a header, a trailer). */
const latin1 = (octets: Uint8Array, debut: number, fin: number) => String.fromCharCode(...octets.subarray(debut, fin));

/** `%PDF-1.x` or `%PDF-2.0` at the start; `startxref`, an offset inside the file, then `%%EOF` at the end. */
function pdfValide(octets: Uint8Array): boolean {
  if (!/^%PDF-(1\.[0-7]|2\.0)[\r\n \t%]/.test(latin1(octets, 0, 9))) return false;
  const fin = latin1(octets, Math.max(0, octets.length - 1024), octets.length);
  const m = /startxref\s+(\d{1,12})\s+%%EOF\s*$/.exec(fin);
  if (!m) return false;
  const offset = Number(m[1]);
  return offset > 0 && offset < octets.length;
}

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IEND = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];

const u32 = (o: Uint8Array, i: number) => (((o[i] ?? 0) << 24) >>> 0) + ((o[i + 1] ?? 0) << 16) + ((o[i + 2] ?? 0) << 8) + (o[i + 3] ?? 0);
const u16 = (o: Uint8Array, i: number) => ((o[i] ?? 0) << 8) + (o[i + 1] ?? 0);

/** The signature, an IHDR first of 13 bytes with sane dimensions, and the IEND chunk last (not truncated). */
function pngValide(octets: Uint8Array): boolean {
  if (!commencePar(octets, PNG) || octets.length < 8 + 25 + IEND.length) return false;
  if (u32(octets, 8) !== 13 || latin1(octets, 12, 16) !== 'IHDR') return false;
  const largeur = u32(octets, 16);
  const hauteur = u32(octets, 20);
  if (largeur < 1 || hauteur < 1 || largeur > DIMENSION_MAX || hauteur > DIMENSION_MAX) return false;
  return IEND.every((b, i) => octets[octets.length - IEND.length + i] === b);
}

// Start-of-frame markers carry the dimensions; C4 (Huffman tables), C8 and CC (arithmetic) do not.
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** SOI, segments up to a start of frame with sane dimensions, and EOI at the end (not truncated). */
function jpegValide(octets: Uint8Array): boolean {
  if (!commencePar(octets, [0xff, 0xd8, 0xff])) return false;
  if (octets[octets.length - 2] !== 0xff || octets[octets.length - 1] !== 0xd9) return false;
  // Each segment moves forward by at least 4 bytes: the walk ends within the file's length.
  let i = 2;
  while (i + 4 <= octets.length) {
    if (octets[i] !== 0xff) return false;
    const marqueur = octets[i + 1] as number;
    // Fill bytes before a marker.
    if (marqueur === 0xff) {
      i += 1;
      continue;
    }
    const longueur = u16(octets, i + 2);
    if (longueur < 2 || i + 2 + longueur > octets.length) return false;
    if (SOF.has(marqueur)) {
      if (longueur < 8) return false;
      const hauteur = u16(octets, i + 5);
      const largeur = u16(octets, i + 7);
      return hauteur >= 1 && largeur >= 1 && hauteur <= DIMENSION_MAX && largeur <= DIMENSION_MAX;
    }
    // Start of scan before any frame: not an image we can name the size of.
    if (marqueur === 0xda) return false;
    i += 2 + longueur;
  }
  return false;
}

/**
 * Says what the file is, or refuses it with a French message (`QuotientError('invalid',
 * 'avis_refuse')`, detail on `avis`). The type the browser claimed and the file's name are not
 * looked at: only the bytes decide. Never throws anything else, whatever the bytes.
 */
export function verifierAvis(octets: Uint8Array, tailleMax: number): FormatAvis {
  if (octets.length === 0) throw refus(`Le fichier envoyé est vide. ${ACCEPTES}`);
  if (octets.length > tailleMax) throw refus(`Le fichier est trop lourd (${formatTaille(octets.length)}) : ${formatTaille(tailleMax)} au plus. ${ACCEPTES}`);
  if (octets.length < TAILLE_MIN) throw refus(`Le fichier est trop petit pour être un avis d’imposition. ${ACCEPTES}`);
  if (commencePar(octets, [0x25, 0x50, 0x44, 0x46])) {
    if (pdfValide(octets)) return 'pdf';
    throw refus('Ce PDF est incomplet ou abîmé : enregistrez de nouveau votre avis depuis votre espace impots.gouv.fr, puis envoyez-le.');
  }
  if (commencePar(octets, PNG)) {
    if (pngValide(octets)) return 'png';
    throw refus('Cette image PNG est incomplète ou abîmée : reprenez la photo de votre avis, puis envoyez-la.');
  }
  if (commencePar(octets, [0xff, 0xd8, 0xff])) {
    if (jpegValide(octets)) return 'jpeg';
    throw refus('Cette photo JPEG est incomplète ou abîmée : reprenez la photo de votre avis, puis envoyez-la.');
  }
  throw refus(`Ce type de fichier n’est pas accepté. ${ACCEPTES}`);
}
