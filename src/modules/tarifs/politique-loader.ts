import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscalHorsAdresses } from '../../domain/numero-fiscal.ts';
import {
  CLE_NUMERO_FISCAL_POLITIQUE,
  parsePolitiqueTarifaire,
  politiqueNumeroFiscal,
  textesNumeroFiscalPolitique,
  type PolitiqueTarifaire,
} from '../../domain/politique-tarifaire.ts';
import { lireYaml, YAML_MAX_OCTETS, YamlRefuse } from '../../infra/config/yaml.ts';

/**
 * Reading a tariff policy file: the I/O lives here, the bounded YAML reading in
 * src/infra/config/yaml.ts, the rules in the domain (`parsePolitiqueTarifaire` takes the plain object).
 */

/** The fields every policy starts with, in the order of the documentation. */
const CHAMPS_RACINE = ['format', 'commune', 'deliberation', 'validite', 'quotient', 'arrondiPrix', 'activites'] as const;

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
    const recu =
      data === null || data === undefined
        ? 'il est vide (ou ne contient que des commentaires)'
        : Array.isArray(data)
          ? 'il contient une liste (lignes commençant par « - ») au lieu d’un ensemble de champs'
          : 'il contient une seule valeur au lieu d’un ensemble de champs';
    throw new QuotientError(
      'invalid',
      'politique_tarifaire_invalide',
      `Le fichier « ${origine} » ne décrit pas une politique tarifaire : ${recu}. Une politique commence par les champs ${CHAMPS_RACINE.map((c) => `« ${c}: »`).join(', ')}, chacun en début de ligne (voir docs/politique-tarifaire.md).`,
      { details: CHAMPS_RACINE.map((c) => ({ path: c, message: 'champ obligatoire manquant' })) },
    );
  }
  refuserNumerosFiscaux(text, data);
  return parsePolitiqueTarifaire(data);
}

/** A line of the file (a comment, a field's name) shaped like a numéro fiscal, outside any value already named. */
export const LIGNE_NUMERO_FISCAL_POLITIQUE =
  'cette ligne contient un texte qui ressemble à un numéro fiscal (dans un commentaire, un nom de champ ?) : retirez-le. Le texte de la politique est enregistré tel quel.';

/**
 * The free-text normaliser over the whole file: every text of the value (labels, tranche names,
 * the commune's name, the délibération…, see `textesNumeroFiscalPolitique`), and every line of the
 * text as written, since the file is kept as pasted (its comments too) and shown in comparisons.
 * Each value is named by its path, each other line by its number.
 */
function refuserNumerosFiscaux(text: string, data: unknown): void {
  const champs = textesNumeroFiscalPolitique(data);
  const lignes = text.split('\n').flatMap((ligne, i) => (ressembleANumeroFiscalHorsAdresses(ligne) ? [i + 1] : []));
  if (champs.length === 0 && lignes.length === 0) return;
  const nommees = new Set(lignesDesChamps(text, champs));
  const autres = lignes.filter((n) => !nommees.has(n)).map((n) => ({ path: `ligne ${n}`, message: LIGNE_NUMERO_FISCAL_POLITIQUE }));
  throw politiqueNumeroFiscal([...champs, ...autres]);
}

/** `activites[0].grille.plafond` → ['activites', 0, 'grille', 'plafond']; null for a YAML position. */
function cheminDe(path: string): Array<string | number> | null {
  if (path === '(racine)') return [];
  if (path.startsWith('ligne ') || path.startsWith('position')) return null;
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : (m[1] ?? '')));
}

/** The line of the YAML of each problem (the field's, or its nearest parent's when it is missing); null when none applies. */
function lignesDesChamps(texte: string, details: readonly ErrorDetail[]): Array<number | null> {
  const lignes = new LineCounter();
  let doc;
  try {
    doc = parseDocument(texte, { lineCounter: lignes, uniqueKeys: false });
  } catch {
    return details.map(() => null);
  }
  return details.map((d) => {
    const chemin = cheminDe(d.path);
    if (!chemin) return null;
    const cle = d.message === CLE_NUMERO_FISCAL_POLITIQUE ? cleNumeroFiscal(doc, chemin) : null;
    if (cle) return lignes.linePos(cle).line;
    for (let n = chemin.length; n >= 0; n--) {
      const node: unknown = n === 0 ? doc.contents : doc.getIn(chemin.slice(0, n), true);
      if (isNode(node) && node.range) return lignes.linePos(node.range[0]).line;
    }
    return null;
  });
}

/** Where the field's name shaped like a numéro fiscal starts, in the mapping at `chemin`; null when not found. */
function cleNumeroFiscal(doc: Document, chemin: ReadonlyArray<string | number>): number | null {
  const map: unknown = chemin.length === 0 ? doc.contents : doc.getIn(chemin, true);
  if (!isMap(map)) return null;
  for (const pair of map.items)
    if (isScalar(pair.key) && pair.key.range && ressembleANumeroFiscalHorsAdresses(String(pair.key.value))) return pair.key.range[0];
  return null;
}

/**
 * Adds the line of the YAML to each problem (the field's line, or its nearest parent's when it is
 * missing), so that the administrator finds it in their editor.
 */
export function localiserErreurs(texte: string, details: readonly ErrorDetail[]): ErrorDetail[] {
  const lignes = lignesDesChamps(texte, details);
  return details.map((d, i) => {
    const ligne = lignes[i];
    return ligne ? { path: `${d.path} (ligne ${ligne})`, message: d.message } : d;
  });
}

export const CODE_SOURCE_CAF_NON_OFFERTE = 'source_caf_non_offerte';
export const MESSAGE_SOURCE_CAF_NON_OFFERTE =
  'Le quotient de la CAF ou de la MSA n’est pas encore proposé aux familles : leur accord pour interroger les caisses ne peut pas encore être recueilli (ni sur le portail ni au guichet). Gardez « source: fiscal » (ou retirez le champ).';

/**
 * Until the portal and the counter collect the family's consent to ask the caisses, a policy that
 * prices on the CAF/MSA quotient would silently price on the avis or send every request to review:
 * the commune's file and a deposited version are refused. The domain still accepts it (the engine
 * and its tests use it), so the refusal lives here, where a policy enters the service.
 */
export function exigerSourceOfferte(politique: PolitiqueTarifaire, origine = 'politique tarifaire'): PolitiqueTarifaire {
  if (politique.quotient.source === 'fiscal') return politique;
  throw new QuotientError('invalid', CODE_SOURCE_CAF_NON_OFFERTE, `Le fichier « ${origine} » ne peut pas être utilisé. ${MESSAGE_SOURCE_CAF_NON_OFFERTE}`, {
    details: [{ path: 'quotient.source', message: MESSAGE_SOURCE_CAF_NON_OFFERTE }],
  });
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
  return exigerSourceOfferte(parsePolitiqueYaml(buffer.toString('utf8'), path), path);
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
