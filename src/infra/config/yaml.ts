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
  if (error) throw new YamlRefuse(MESSAGES[error.code] ?? 'syntaxe YAML incorrecte', positionDe(error), 'syntaxe');
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
