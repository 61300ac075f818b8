import type { z } from 'zod';
import { QuotientError, type ErrorDetail } from './errors.ts';

/**
 * French messages for the zod issues of domain inputs. Passed per parse rather than through
 * `z.config` so that the domain does not depend on which module happened to configure zod first,
 * and so that each message reads well after its field path (`activites[0].grille.plafond : …`).
 */
const TYPES: Record<string, string> = {
  string: 'un texte',
  number: 'un nombre',
  int: 'un nombre entier',
  boolean: 'vrai ou faux (true / false)',
  array: 'une liste',
  object: 'un ensemble de champs',
  date: 'une date',
  null: 'vide (null)',
};

function received(input: unknown): string {
  if (input === null) return 'une valeur vide';
  if (Array.isArray(input)) return 'une liste';
  switch (typeof input) {
    case 'string':
      return `le texte « ${input.length > 40 ? `${input.slice(0, 40)}…` : input} »`;
    case 'number':
      return Number.isFinite(input) ? `le nombre ${input}` : 'un nombre non fini';
    case 'boolean':
      return `la valeur ${input}`;
    case 'object':
      return 'un ensemble de champs';
    default:
      return 'une valeur d’un autre type';
  }
}

function quoteList(values: readonly unknown[]): string {
  return values.map((v) => `« ${String(v)} »`).join(', ');
}

function notAllowed(input: unknown, allowed: readonly unknown[]): string {
  const what =
    typeof input === 'string'
      ? `« ${input.length > 40 ? `${input.slice(0, 40)}…` : input} » n’est pas une valeur reconnue`
      : `valeur non reconnue (reçu : ${received(input)})`;
  return `${what} ; valeurs possibles : ${quoteList(allowed)}`;
}

type RawIssue = z.core.$ZodRawIssue;

export function frenchMessage(issue: RawIssue): string {
  const iss = issue as RawIssue & Record<string, unknown>;
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'champ obligatoire manquant';
      const expected = TYPES[String(iss.expected)] ?? String(iss.expected);
      return `doit être ${expected} (reçu : ${received(issue.input)})`;
    }
    case 'invalid_value':
      return notAllowed(issue.input, (iss.values as unknown[]) ?? []);
    case 'unrecognized_keys':
      return `champ inconnu : ${quoteList((iss.keys as string[]) ?? [])} (faute de frappe ?)`;
    case 'invalid_union':
      if (iss.discriminator !== undefined) {
        // The issue is raised on the object; name the value of its discriminating field, not the object.
        const input = issue.input;
        const valeur =
          input !== null && typeof input === 'object' && !Array.isArray(input) ? (input as Record<string, unknown>)[String(iss.discriminator)] : input;
        if (valeur === undefined) return `champ « ${String(iss.discriminator)} » manquant ; valeurs possibles : ${quoteList((iss.options as unknown[]) ?? [])}`;
        return notAllowed(valeur, (iss.options as unknown[]) ?? []);
      }
      return 'valeur non reconnue';
    case 'too_small': {
      const min = String(iss.minimum);
      if (iss.origin === 'string') return 'ne doit pas être vide';
      if (iss.origin === 'array') return `doit contenir au moins ${min} élément(s)`;
      return iss.inclusive === false ? `doit être strictement supérieur à ${min}` : `doit être supérieur ou égal à ${min}`;
    }
    case 'too_big': {
      const max = String(iss.maximum);
      if (iss.origin === 'string') return `ne doit pas dépasser ${max} caractères`;
      if (iss.origin === 'array') return `ne doit pas contenir plus de ${max} élément(s)`;
      return iss.inclusive === false ? `doit être strictement inférieur à ${max}` : `doit être inférieur ou égal à ${max}`;
    }
    case 'invalid_format':
      return iss.format === 'date' ? 'date attendue au format AAAA-MM-JJ' : 'format invalide';
    case 'not_multiple_of':
      return `doit être un multiple de ${String(iss.divisor)}`;
    default:
      return 'valeur invalide';
  }
}

/** `activites[2].grille.plafond`: the form an administrator reads in a French error message. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(racine)' : out;
}

/** Our own messages, given on the schemas, win; the map fills in the generic ones. */
export const parseOptions = { error: (issue: RawIssue) => frenchMessage(issue) } as const;

/**
 * One detail per field: an unknown key is reported at its own path, so that the administrator
 * sees `activites[0].grille.plafnd` rather than the enclosing object.
 */
export function issuesToDetails(issues: readonly z.core.$ZodIssue[]): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        details.push({ path: formatFieldPath([...issue.path, key]), message: 'champ inconnu (faute de frappe ?)' });
      }
    } else {
      details.push({ path: formatFieldPath(issue.path), message: issue.message });
    }
  }
  return details;
}

export function invalidInput(code: string, message: string, issues: readonly z.core.$ZodIssue[]): QuotientError {
  return new QuotientError('invalid', code, message, { details: issuesToDetails(issues) });
}
