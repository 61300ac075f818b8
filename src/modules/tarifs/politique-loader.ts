import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { QuotientError } from '../../domain/errors.ts';
import { parsePolitiqueTarifaire, type PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { lireYaml, YAML_MAX_OCTETS, YamlRefuse } from '../../infra/config/yaml.ts';

/**
 * Reading a tariff policy file: the I/O lives here, the bounded YAML reading in
 * src/infra/config/yaml.ts, the rules in the domain (`parsePolitiqueTarifaire` takes the plain object).
 */

/** Parses the text of a policy file; `origine` names the file in messages. */
export function parsePolitiqueYaml(text: string, origine = 'politique tarifaire'): PolitiqueTarifaire {
  let data: unknown;
  try {
    // Duplicate keys are refused rather than overwritten; aliases are refused (see lireYaml).
    data = lireYaml(text, { uniqueKeys: true });
  } catch (error) {
    if (!(error instanceof YamlRefuse)) throw error;
    if (error.code === 'trop_grand')
      throw new QuotientError('invalid', 'politique_trop_grande', `Le fichier « ${origine} » est trop volumineux pour une politique tarifaire.`);
    throw new QuotientError('invalid', 'politique_yaml_invalide', `Le fichier « ${origine} » n’est pas un YAML valide.`, {
      details: [{ path: error.position ?? 'position inconnue', message: error.raison }],
      cause: error,
    });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new QuotientError(
      'invalid',
      'politique_tarifaire_invalide',
      `Le fichier « ${origine} » ne décrit pas une politique tarifaire (ensemble de champs attendu).`,
    );
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
  if (buffer.byteLength > YAML_MAX_OCTETS) {
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
