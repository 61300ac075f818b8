import { QuotientError } from '../../domain/errors.ts';

/**
 * Reading a CSV file as an agent's spreadsheet or the commune's family software writes it: UTF-8
 * with or without a byte-order mark, Windows-1252 (Excel's « CSV (séparateur : point-virgule) » on
 * a French Windows), UTF-16 with its mark (Excel's « Texte Unicode »); `;`, `,` or a tab between
 * cells, found from the first line; quotes as RFC 4180 writes them; CRLF, LF or CR. Whatever the
 * bytes, the answer is the document or a `QuotientError` (`invalid`) saying in French what is wrong
 * and where: never another error, never a hang (one pass over the text).
 */

export type SeparateurCsv = ';' | ',' | '\t';
export type EncodageCsv = 'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be';

export interface LigneCsv {
  /** The line of the file where the record starts (1 = the first line). */
  readonly numero: number;
  readonly cellules: readonly string[];
}

export interface DocumentCsv {
  readonly encodage: EncodageCsv;
  readonly separateur: SeparateurCsv;
  /** Every record but the wholly blank ones, the header first. */
  readonly lignes: readonly LigneCsv[];
}

export interface OptionsLecture {
  /** Refused beyond (default 5 Mio). */
  readonly maxOctets?: number;
  /** Records beyond which the file is refused (default 20 000). */
  readonly maxLignes?: number;
}

export const LIBELLES_SEPARATEUR: Readonly<Record<SeparateurCsv, string>> = { ';': 'point-virgule', ',': 'virgule', '\t': 'tabulation' };

const illisible = (code: string, message: string) => new QuotientError('invalid', code, message);

// Text never holds these: a file that does is a binary file (a spreadsheet's native format, an image).
// eslint-disable-next-line no-control-regex
const CONTROLE = /[\u0000-\u0008\u000b\u000e-\u001f\u007f]/;

function decoder(octets: Uint8Array): { texte: string; encodage: EncodageCsv } {
  if (octets[0] === 0xef && octets[1] === 0xbb && octets[2] === 0xbf) return { texte: decode('utf-8', octets.subarray(3)), encodage: 'utf-8' };
  if (octets[0] === 0xff && octets[1] === 0xfe) return { texte: decode('utf-16le', octets.subarray(2)), encodage: 'utf-16le' };
  if (octets[0] === 0xfe && octets[1] === 0xff) return { texte: decode('utf-16be', octets.subarray(2)), encodage: 'utf-16be' };
  try {
    return { texte: new TextDecoder('utf-8', { fatal: true }).decode(octets), encodage: 'utf-8' };
  } catch {
    // Not UTF-8: on a French workstation, a spreadsheet's CSV is Windows-1252, where every byte is a character.
    return { texte: new TextDecoder('windows-1252').decode(octets), encodage: 'windows-1252' };
  }
}

function decode(encodage: 'utf-8' | 'utf-16le' | 'utf-16be', octets: Uint8Array): string {
  try {
    return new TextDecoder(encodage, { fatal: true }).decode(octets);
  } catch {
    throw illisible(
      'encodage_invalide',
      `Le fichier annonce l’encodage ${encodage.toUpperCase()} mais son contenu ne l’est pas : enregistrez-le de nouveau en CSV UTF-8.`,
    );
  }
}

/** The separator of the first line: the most frequent of `;`, `,` and tab outside quotes (`;` on a tie). */
function separateurDe(texte: string): SeparateurCsv {
  const compte = { ';': 0, ',': 0, '\t': 0 };
  let entreGuillemets = false;
  for (const c of texte) {
    if (c === '"') entreGuillemets = !entreGuillemets;
    else if (!entreGuillemets && (c === '\n' || c === '\r')) break;
    else if (!entreGuillemets && (c === ';' || c === ',' || c === '\t')) compte[c]++;
  }
  if (compte['\t'] > compte[';'] && compte['\t'] > compte[',']) return '\t';
  return compte[','] > compte[';'] ? ',' : ';';
}

/** Reads `octets` as a CSV document; see the module's comment. */
export function lireCsv(octets: Uint8Array, options: OptionsLecture = {}): DocumentCsv {
  const maxOctets = options.maxOctets ?? 5 * 1024 * 1024;
  const maxLignes = options.maxLignes ?? 20_000;
  if (octets.length === 0) throw illisible('fichier_vide', 'Le fichier est vide.');
  if (octets.length > maxOctets) {
    throw illisible('fichier_trop_volumineux', `Le fichier dépasse ${Math.floor(maxOctets / (1024 * 1024))} Mio : découpez-le en plusieurs fichiers.`);
  }
  if (octets[0] === 0x50 && octets[1] === 0x4b && octets[2] === 0x03 && octets[3] === 0x04) {
    throw illisible(
      'fichier_tableur',
      'C’est un classeur de tableur (.xlsx ou .ods), pas un fichier CSV : enregistrez-le au format « CSV (séparateur : point-virgule) ».',
    );
  }
  const { texte, encodage } = decoder(octets);
  if (CONTROLE.test(texte)) {
    throw illisible(
      'fichier_binaire',
      'Ce fichier n’est pas un fichier texte CSV : enregistrez la liste au format « CSV (séparateur : point-virgule) » et envoyez ce fichier.',
    );
  }
  const separateur = separateurDe(texte);
  const lignes: LigneCsv[] = [];
  let cellules: string[] = [];
  let cellule = '';
  let ligne = 1;
  let debut = 1;
  let entreGuillemets = false;
  let ouverteLigne = 0;
  const finEnregistrement = () => {
    cellules.push(cellule);
    if (cellules.some((c) => c.trim() !== '')) {
      if (lignes.length >= maxLignes)
        throw illisible('fichier_trop_long', `Le fichier compte plus de ${maxLignes} lignes : découpez-le en plusieurs fichiers.`);
      lignes.push({ numero: debut, cellules });
    }
    cellules = [];
    cellule = '';
  };
  for (let i = 0; i < texte.length; i++) {
    const c = texte[i] as string;
    if (entreGuillemets) {
      if (c === '"') {
        if (texte[i + 1] === '"') {
          cellule += '"';
          i++;
        } else entreGuillemets = false;
      } else {
        if (c === '\n' || (c === '\r' && texte[i + 1] !== '\n')) ligne++;
        cellule += c;
      }
      continue;
    }
    if (c === '"' && cellule.trim() === '') {
      // A quoted cell: what came before the quote was only blanks.
      cellule = '';
      entreGuillemets = true;
      ouverteLigne = ligne;
    } else if (c === separateur) {
      cellules.push(cellule);
      cellule = '';
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && texte[i + 1] === '\n') i++;
      finEnregistrement();
      ligne++;
      debut = ligne;
    } else cellule += c;
  }
  if (entreGuillemets) throw illisible('csv_guillemet', `Ligne ${ouverteLigne} : un guillemet ouvert n’est jamais refermé.`);
  if (cellule !== '' || cellules.length > 0) finEnregistrement();
  if (lignes.length === 0) throw illisible('fichier_vide', 'Le fichier ne contient aucune ligne.');
  return { encodage, separateur, lignes };
}
