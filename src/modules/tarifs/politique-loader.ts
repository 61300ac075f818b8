import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse, YAMLParseError } from 'yaml';
import { QuotientError } from '../../domain/errors.ts';
import { parsePolitiqueTarifaire, type PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';

/**
 * Reading a tariff policy file: the I/O and the YAML syntax live here, the rules in the domain
 * (`parsePolitiqueTarifaire` takes the plain object).
 */

/** Larger than any real policy by far; a bigger file is a mistake, not a policy. */
const MAX_BYTES = 1_000_000;

const YAML_MESSAGES: Record<string, string> = {
  DUPLICATE_KEY: 'ce champ apparaît deux fois',
  BAD_INDENT: 'indentation incorrecte',
  MISSING_CHAR: 'caractère manquant (guillemet, crochet ou accolade non fermé ?)',
  TAB_AS_INDENT: 'tabulation utilisée pour l’indentation : utilisez des espaces',
};

/** Parses the text of a policy file; `origine` names the file in messages. */
export function parsePolitiqueYaml(text: string, origine = 'politique tarifaire'): PolitiqueTarifaire {
  let data: unknown;
  try {
    // Dates stay strings (YAML 1.2 core schema); duplicate keys are refused rather than overwritten.
    data = parse(text, { uniqueKeys: true, prettyErrors: true, maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const pos = error.linePos?.[0];
      const where = pos ? `ligne ${pos.line}, colonne ${pos.col}` : 'position inconnue';
      throw new QuotientError('invalid', 'politique_yaml_invalide', `Le fichier « ${origine} » n’est pas un YAML valide.`, {
        details: [{ path: where, message: YAML_MESSAGES[error.code] ?? 'syntaxe YAML incorrecte' }],
        cause: error,
      });
    }
    throw error;
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new QuotientError('invalid', 'politique_tarifaire_invalide', `Le fichier « ${origine} » ne décrit pas une politique tarifaire (ensemble de champs attendu).`);
  }
  return parsePolitiqueTarifaire(data);
}

function unreadable(path: string, error: unknown): QuotientError {
  const code = (error as NodeJS.ErrnoException).code;
  return new QuotientError(
    'not_found',
    'politique_introuvable',
    code === 'ENOENT' ? `Fichier introuvable : « ${path} ».` : `Le fichier « ${path} » ne peut pas être lu.`,
    { cause: error },
  );
}

function parseBuffer(buffer: Buffer, path: string): PolitiqueTarifaire {
  if (buffer.byteLength > MAX_BYTES) {
    throw new QuotientError('invalid', 'politique_trop_grande', `Le fichier « ${path} » est trop volumineux pour une politique tarifaire.`);
  }
  return parsePolitiqueYaml(buffer.toString('utf8'), path);
}

/** Reads and validates a policy file. Missing or unreadable file: `QuotientError` of kind `not_found`. */
export async function loadPolitiqueFile(path: string): Promise<PolitiqueTarifaire> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseBuffer(buffer, path);
}

/** The same, for the start of the program, where the configuration is read synchronously. */
export function loadPolitiqueFileSync(path: string): PolitiqueTarifaire {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path);
  } catch (error) {
    throw unreadable(path, error);
  }
  return parseBuffer(buffer, path);
}
