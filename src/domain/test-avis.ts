/**
 * Files shaped like an uploaded avis, for the tests (not used by the product): the smallest PDF,
 * PNG and JPEG the checks accept, each carrying `marque` in clear so that a test can look for it
 * where it must never be (the database file, the journal, the logs).
 */

const ascii = (text: string) => new TextEncoder().encode(text);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

/** A one-page PDF whose content stream prints `marque`, with a correct `startxref`. */
export function pdfAvis(marque = 'AVIS D IMPOSITION TEST'): Uint8Array {
  const contenu = `BT /F1 18 Tf 40 780 Td (${marque}) Tj ET`;
  const objets = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${contenu.length} >>\nstream\n${contenu}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let texte = '%PDF-1.4\n';
  const offsets: number[] = [];
  objets.forEach((o, i) => {
    offsets.push(texte.length);
    texte += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = texte.length;
  texte += `xref\n0 ${objets.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  texte += `trailer\n<< /Size ${objets.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return ascii(texte);
}

/** PNG signature, IHDR of `largeur`×`hauteur`, a text chunk with `marque`, IEND (CRCs are not checked on upload). */
export function pngAvis(largeur = 800, hauteur = 1100, marque = 'AVIS D IMPOSITION TEST'): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, data.length);
    return concat([len, ascii(type), data, new Uint8Array(4)]);
  };
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, largeur);
  v.setUint32(4, hauteur);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return concat([
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('tEXt', ascii(`Comment\0${marque}`)),
    new Uint8Array([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
  ]);
}

/** SOI, a comment segment with `marque`, a baseline frame of `largeur`×`hauteur`, EOI. */
export function jpegAvis(largeur = 800, hauteur = 1100, marque = 'AVIS D IMPOSITION TEST'): Uint8Array {
  const commentaire = ascii(marque.padEnd(24, ' '));
  const com = new Uint8Array(4 + commentaire.length);
  com.set([0xff, 0xfe, (commentaire.length + 2) >> 8, (commentaire.length + 2) & 0xff]);
  com.set(commentaire, 4);
  const sof = new Uint8Array([0xff, 0xc0, 0x00, 0x11, 0x08, hauteur >> 8, hauteur & 0xff, largeur >> 8, largeur & 0xff, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
  return concat([new Uint8Array([0xff, 0xd8]), com, sof, new Uint8Array([0xff, 0xd9])]);
}
