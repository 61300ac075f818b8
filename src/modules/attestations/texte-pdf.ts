/*
 * The PDF is written with the standard Helvetica, whose WinAnsi encoding holds French (accents,
 * « », ’, œ, €) but not every letter of every name: a letter outside it is printed with the accents
 * WinAnsi has (ễ → ê), or its base letter (ł → l), never as a wrong glyph. The HTML page shows the
 * name as typed.
 */

const WIN_ANSI_80_9F = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ';
/** Letters NFD does not decompose, by their nearest WinAnsi letters; spaces and dashes WinAnsi lacks. */
const SUBSTITUTS: Readonly<Record<string, string>> = {
  Ł: 'L',
  ł: 'l',
  Đ: 'D',
  đ: 'd',
  Ħ: 'H',
  ħ: 'h',
  ı: 'i',
  Ŀ: 'L',
  ŀ: 'l',
  '\u202f': '\u00a0',
  '\u2007': '\u00a0',
  '\u2009': ' ',
  '\u2010': '-',
  '\u2011': '-',
  '\u2212': '-',
};

function enWinAnsi(c: string): boolean {
  const n = c.codePointAt(0) ?? 0;
  return c === '\n' || (n >= 0x20 && n <= 0x7e) || (n >= 0xa0 && n <= 0xff) || WIN_ANSI_80_9F.includes(c);
}

export function texteWinAnsi(texte: string): string {
  let sortie = '';
  for (const c of texte) {
    if (enWinAnsi(c)) sortie += c;
    else if (SUBSTITUTS[c] !== undefined) sortie += SUBSTITUTS[c];
    else {
      const [base = '', ...marques] = [...c.normalize('NFD')];
      let lettre = base;
      // Keep each accent that still gives a WinAnsi letter: ễ (e + ̂ + ̃) → ê.
      for (const m of marques) {
        const avec = (lettre + m).normalize('NFC');
        if ([...avec].length === 1 && enWinAnsi(avec)) lettre = avec;
      }
      sortie += enWinAnsi(lettre) ? lettre : '?';
    }
  }
  return sortie;
}
