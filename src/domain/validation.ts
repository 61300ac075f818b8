import type { ErrorDetail } from './errors.ts';

/** The shape shared by zod issues: enough to name the field at fault without depending on zod here. */
export interface IssueLike {
  readonly path: readonly PropertyKey[];
  readonly message: string;
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

export function issuesToDetails(issues: readonly IssueLike[], prefix = ''): ErrorDetail[] {
  return issues.map((issue) => {
    const path = formatFieldPath(issue.path);
    return { path: prefix && path === '(racine)' ? prefix : prefix ? `${prefix}.${path}` : path, message: issue.message };
  });
}
