import { parseDocument, visit, type YAMLParseError } from 'yaml';

/**
 * YAML written by a person (the commune file, a tariff policy pasted by an administrator) read
 * without letting its text cost more than its size: anchors may be written but aliases (`*a`,
 * and the `<<: *a` merge keys) are refused before any value is built. A few kilobytes of aliases
 * that name each other (`&a [*a, *a, …]`) otherwise expand into billions of nodes and hold the
 * event loop for minutes; our files never need them. Nesting deeper than the parser allows comes
 * back as an error too (its RESOURCE_EXHAUSTION), never as a stack overflow.
 */

/** Larger than any real commune file or tariff policy by far; a bigger text is a mistake. */
export const YAML_MAX_OCTETS = 1_000_000;

const MESSAGES: Record<string, string> = {
  DUPLICATE_KEY: 'ce champ apparaît deux fois',
  BAD_INDENT: 'indentation incorrecte',
  MISSING_CHAR: 'caractère manquant (guillemet, crochet ou accolade non fermé ?)',
  TAB_AS_INDENT: 'tabulation utilisée pour l’indentation : utilisez des espaces',
  RESOURCE_EXHAUSTION: 'imbrication trop profonde',
};

export const MESSAGE_ALIAS = 'les alias YAML (« *nom ») ne sont pas acceptés : écrivez chaque valeur en entier';

/** Why a text was refused, in French, and where when the parser knows. */
export class YamlRefuse extends Error {
  constructor(
    readonly raison: string,
    /** « ligne 4, colonne 3 », or null when no place applies (size). */
    readonly position: string | null,
    readonly code: 'trop_grand' | 'alias' | 'syntaxe',
  ) {
    super(raison);
    this.name = 'YamlRefuse';
  }
}

/**
 * The plain value of a YAML text (YAML 1.2 core schema: dates stay strings). Throws `YamlRefuse`
 * for a text over `YAML_MAX_OCTETS`, with an alias, or with a syntax error.
 */
export function lireYaml(text: string, options: { readonly uniqueKeys?: boolean } = {}): unknown {
  if (Buffer.byteLength(text) > YAML_MAX_OCTETS) throw new YamlRefuse('texte trop volumineux (1 Mo au plus)', null, 'trop_grand');
  const doc = parseDocument(text, { uniqueKeys: options.uniqueKeys ?? true, prettyErrors: true });
  const error = doc.errors[0];
  if (error) {
    // The parser notices an unclosed bracket only where the text stops making sense, often a line or more later:
    // the person needs the line where it was opened.
    const ouverture = ['DUPLICATE_KEY', 'RESOURCE_EXHAUSTION', 'TAB_AS_INDENT'].includes(error.code) ? null : ouvertureNonFermee(text);
    const ligneErreur = error.linePos?.[0]?.line ?? Number.POSITIVE_INFINITY;
    if (ouverture && ouverture.ligne <= ligneErreur) {
      const nom = ouverture.caractere === '{' ? 'accolade « { »' : 'crochet « [ »';
      throw new YamlRefuse(
        `${nom} ouvert${ouverture.caractere === '{' ? 'e' : ''} ici et jamais refermé${ouverture.caractere === '{' ? 'e' : ''}`,
        `ligne ${ouverture.ligne}, colonne ${ouverture.colonne}`,
        'syntaxe',
      );
    }
    throw new YamlRefuse(MESSAGES[error.code] ?? 'syntaxe YAML incorrecte', positionDe(error), 'syntaxe');
  }
  let alias: { readonly range?: readonly [number, number, number] | null | undefined } | undefined;
  visit(doc, {
    Alias(_key, node) {
      alias = node;
      return visit.BREAK;
    },
  });
  if (alias) {
    const offset = alias.range?.[0];
    let position: string | null = null;
    if (offset !== undefined) {
      const before = text.slice(0, offset).split('\n');
      position = `ligne ${before.length}, colonne ${(before.at(-1)?.length ?? 0) + 1}`;
    }
    throw new YamlRefuse(MESSAGE_ALIAS, position, 'alias');
  }
  // No alias is left to resolve: building the value is linear in the text.
  return doc.toJS({ maxAliasCount: 0 });
}

function positionDe(error: YAMLParseError): string {
  const pos = error.linePos?.[0];
  return pos ? `ligne ${pos.line}, colonne ${pos.col}` : 'position inconnue';
}

/**
 * The first flow bracket (`{` or `[`) left open at the end of the text, outside quotes and comments.
 * Only a bracket that starts a value counts (after `key: `, `- `, at the start of a line, or inside
 * another flow collection): in a plain block scalar (`libelle: Tarif [A`) a bracket is just a character.
 */
export function ouvertureNonFermee(text: string): { ligne: number; colonne: number; caractere: '{' | '[' } | null {
  const pile: Array<{ ligne: number; colonne: number; caractere: '{' | '[' }> = [];
  const lignes = text.split('\n');
  let guillemet: '"' | "'" | null = null;
  for (let l = 0; l < lignes.length; l++) {
    const ligne = lignes[l] ?? '';
    let debutValeur = true;
    for (let c = 0; c < ligne.length; c++) {
      const ch = ligne[c];
      if (guillemet) {
        if (ch === '\\' && guillemet === '"') c++;
        else if (ch === guillemet) guillemet = null;
        continue;
      }
      if (ch === ' ' || ch === '\t') continue;
      if (ch === '#' && (c === 0 || ligne[c - 1] === ' ' || ligne[c - 1] === '\t')) break;
      const dansFlux = pile.length > 0;
      if ((ch === '"' || ch === "'") && debutValeur) guillemet = ch;
      else if ((ch === '{' || ch === '[') && (debutValeur || dansFlux)) pile.push({ ligne: l + 1, colonne: c + 1, caractere: ch });
      else if ((ch === '}' || ch === ']') && dansFlux) pile.pop();
      // A value starts after `key: `, `- `, or a flow separator; anything else is inside a scalar.
      debutValeur =
        (ch === ':' || ch === '-' || ch === ',' || ch === '{' || ch === '[' || ch === '?') &&
        (c + 1 >= ligne.length || ligne[c + 1] === ' ' || dansFlux || ch === '{' || ch === '[');
    }
  }
  return pile[0] ?? null;
}
