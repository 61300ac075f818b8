/**
 * Test support: a PDF read back as a reader would, with pdfjs (the text of each page, the document's
 * title and language), and every image in it decoded as a QR code with jsQR. What a test asserts
 * comes from the bytes of the PDF, never from what the generator was given.
 */
import jsQRModule from 'jsqr';
import * as pdfjs from 'pdfjs-dist/legacy/build/pdf.mjs';

// A CommonJS module whose types declare an ES default: the function is both the module and its `default`.
const jsQR = (jsQRModule as unknown as { default: typeof import('jsqr').default }).default;

export interface PdfLu {
  /** The text of every page, in reading order, whitespace (the PDF's no-break spaces included) collapsed. */
  readonly texte: string;
  readonly pages: number;
  /** Width and height of the first page, in points. */
  readonly format: readonly [number, number];
  readonly titre: string | undefined;
  readonly langue: string | undefined;
  readonly pdfVersion: string | undefined;
  /** The contents of each QR code found in the images. */
  readonly qrCodes: readonly string[];
}

interface ImageDecodee {
  readonly width: number;
  readonly height: number;
  readonly kind: number;
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** RGBA pixels from pdfjs's decoded image (1: 1 bit grey, 2: RGB, 3: RGBA). */
function rgba(image: ImageDecodee): Uint8ClampedArray {
  const { width, height, kind, data } = image;
  if (kind === 3) return new Uint8ClampedArray(data);
  const out = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    let v: [number, number, number];
    if (kind === 2) v = [data[i * 3] ?? 0, data[i * 3 + 1] ?? 0, data[i * 3 + 2] ?? 0];
    else {
      const ligne = Math.ceil(width / 8);
      const octet = data[Math.floor(i / width) * ligne + Math.floor((i % width) / 8)] ?? 0;
      const g = (octet >> (7 - ((i % width) % 8))) & 1 ? 255 : 0;
      v = [g, g, g];
    }
    out.set([...v, 255], i * 4);
  }
  return out;
}

export async function lirePdf(octets: Buffer | Uint8Array): Promise<PdfLu> {
  const doc = await pdfjs.getDocument({ data: new Uint8Array(octets), isOffscreenCanvasSupported: false, verbosity: 0 }).promise;
  try {
    const meta = await doc.getMetadata();
    const info = meta.info as { Title?: string; Language?: string; PDFFormatVersion?: string };
    const textes: string[] = [];
    const qrCodes: string[] = [];
    let format: [number, number] = [0, 0];
    for (let n = 1; n <= doc.numPages; n++) {
      const page = await doc.getPage(n);
      if (n === 1) format = [page.view[2] ?? 0, page.view[3] ?? 0];
      const contenu = await page.getTextContent();
      textes.push(contenu.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? ' ' : '') : '')).join(''));
      const operations = await page.getOperatorList();
      for (let i = 0; i < operations.fnArray.length; i++) {
        if (operations.fnArray[i] !== pdfjs.OPS.paintImageXObject) continue;
        const nom = (operations.argsArray[i] as [string])[0];
        const image = await new Promise<ImageDecodee>((resolve) => page.objs.get(nom, resolve));
        const qr = jsQR(rgba(image), image.width, image.height);
        if (qr) qrCodes.push(qr.data);
      }
    }
    return {
      texte: textes
        .join(' ')
        .replace(/[\s\u00a0\u202f]+/g, ' ')
        .trim(),
      pages: doc.numPages,
      format,
      titre: info.Title,
      langue: info.Language,
      pdfVersion: info.PDFFormatVersion,
      qrCodes,
    };
  } finally {
    await doc.destroy();
  }
}
