#!/usr/bin/env node
/**
 * Licence allow-list of every installed package (production and development), read from
 * package-lock.json (npm records each package's `license`), with node_modules/<pkg>/package.json
 * as a fallback when the lockfile has none. Quotient is EUPL-1.2: dependencies must be permissive
 * or EUPL-compatible (the EUPL's appendix); anything else needs an explicit exception with a reason,
 * tied to the package and licence it was granted for, so that a licence change is noticed.
 *
 *   node --import tsx scripts/check-licences.ts [--lockfile package-lock.json] [--json]
 *
 * Exit 0 when every package passes, 1 otherwise (each failure listed in French).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** SPDX identifiers accepted on their own. */
export const LICENCES_AUTORISEES: ReadonlyMap<string, string> = new Map([
  ['MIT', 'permissive'],
  ['MIT-0', 'permissive'],
  ['ISC', 'permissive'],
  ['0BSD', 'permissive'],
  ['BSD-2-Clause', 'permissive'],
  ['BSD-3-Clause', 'permissive'],
  ['Apache-2.0', 'permissive'],
  ['BlueOak-1.0.0', 'permissive'],
  ['CC0-1.0', 'domaine public'],
  ['Unlicense', 'domaine public'],
  ['Python-2.0', 'permissive (PSF)'],
  ['Zlib', 'permissive'],
  ['MPL-2.0', 'copyleft faible par fichier, compatible EUPL (appendice)'],
  ['LGPL-2.1-only', 'copyleft faible, compatible EUPL (appendice)'],
  ['LGPL-2.1-or-later', 'copyleft faible, compatible EUPL (appendice)'],
  ['LGPL-3.0-only', 'copyleft faible, compatible EUPL (appendice)'],
  ['LGPL-3.0-or-later', 'copyleft faible, compatible EUPL (appendice)'],
  ['EPL-1.0', 'compatible EUPL (appendice)'],
  ['EUPL-1.1', 'licence du projet'],
  ['EUPL-1.2', 'licence du projet'],
]);

export interface Exception {
  /** Package name as installed (`spdx-exceptions`, `@scope/name`). */
  readonly paquet: string;
  /** The licence string the exception was granted for: another one fails again. */
  readonly licence: string | null;
  readonly raison: string;
}

export const EXCEPTIONS: readonly Exception[] = [
  {
    paquet: 'spdx-exceptions',
    licence: 'CC-BY-3.0',
    raison: 'liste de données SPDX (attribution seule), outil de développement (SBOM), jamais livrée avec l’application',
  },
  {
    paquet: 'png-js',
    licence: null,
    raison: 'pas de champ « license » dans son package.json ; son fichier LICENSE est la licence MIT (dépendance de pdfkit)',
  },
];

/** A licence expression of a package.json, SPDX or not. */
type Expr = { readonly kind: 'id'; readonly id: string } | { readonly kind: 'and' | 'or'; readonly left: Expr; readonly right: Expr };

/** Parses `A OR (B AND C)`, `X WITH Y` (kept whole, as one identifier); null when it is not a well-formed expression. */
export function parseSpdx(text: string): Expr | null {
  const tokens = text.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  function atom(): Expr | null {
    const t = tokens[i++];
    if (t === undefined) return null;
    if (t === '(') {
      const inner = or();
      if (inner === null || tokens[i++] !== ')') return null;
      return inner;
    }
    if (t === ')' || /^(AND|OR|WITH)$/i.test(t)) return null;
    if (peek()?.toUpperCase() === 'WITH') {
      i++;
      const exception = tokens[i++];
      if (exception === undefined || /^(AND|OR|WITH|\(|\))$/i.test(exception)) return null;
      return { kind: 'id', id: `${t} WITH ${exception}` };
    }
    return { kind: 'id', id: t };
  }
  function and(): Expr | null {
    let left = atom();
    while (left !== null && peek()?.toUpperCase() === 'AND') {
      i++;
      const right = atom();
      left = right === null ? null : { kind: 'and', left, right };
    }
    return left;
  }
  function or(): Expr | null {
    let left = and();
    while (left !== null && peek()?.toUpperCase() === 'OR') {
      i++;
      const right = and();
      left = right === null ? null : { kind: 'or', left, right };
    }
    return left;
  }
  const expr = or();
  return expr !== null && i === tokens.length ? expr : null;
}

/** Whether an expression can be used under the allow-list: one allowed branch of an OR, every part of an AND. */
export function expressionAutorisee(expr: Expr, autorisees: ReadonlyMap<string, string> = LICENCES_AUTORISEES): boolean {
  if (expr.kind === 'id') return autorisees.has(expr.id);
  if (expr.kind === 'or') return expressionAutorisee(expr.left, autorisees) || expressionAutorisee(expr.right, autorisees);
  return expressionAutorisee(expr.left, autorisees) && expressionAutorisee(expr.right, autorisees);
}

export interface Paquet {
  readonly nom: string;
  readonly version: string;
  /** The `license` string; null when the package declares none. */
  readonly licence: string | null;
  readonly dev: boolean;
}

export type Verdict =
  { readonly ok: true; readonly paquet: Paquet; readonly exception?: Exception } | { readonly ok: false; readonly paquet: Paquet; readonly motif: string };

export function verifierPaquet(paquet: Paquet, exceptions: readonly Exception[] = EXCEPTIONS): Verdict {
  const exception = exceptions.find((e) => e.paquet === paquet.nom);
  if (exception && exception.licence === paquet.licence) return { ok: true, paquet, exception };
  if (paquet.licence === null) return { ok: false, paquet, motif: 'aucune licence déclarée' };
  const expr = parseSpdx(paquet.licence);
  if (expr === null) return { ok: false, paquet, motif: `licence « ${paquet.licence} » illisible (pas une expression SPDX)` };
  if (expressionAutorisee(expr)) return { ok: true, paquet };
  const suffixe = exception ? ` (une exception existe pour « ${exception.licence ?? 'aucune licence'} », pas pour celle-ci)` : '';
  return { ok: false, paquet, motif: `licence « ${paquet.licence} » hors de la liste autorisée${suffixe}` };
}

/** `license` of a package.json: a string, the legacy `{ type }` object, or the legacy `licenses` array (joined by OR). */
export function licenceDeclaree(manifest: Record<string, unknown>): string | null {
  const one = (v: unknown): string | null =>
    typeof v === 'string' ? v : v !== null && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string' ? (v as { type: string }).type : null;
  const direct = one(manifest.license);
  if (direct !== null) return direct;
  if (Array.isArray(manifest.licenses)) {
    const all = manifest.licenses.map(one).filter((l): l is string => l !== null);
    if (all.length > 0) return all.length === 1 ? (all[0] as string) : `(${all.join(' OR ')})`;
  }
  return null;
}

/** The installed packages a v2/v3 lockfile lists (links and the root project left out). */
export function paquetsDuLockfile(lock: unknown, lireManifeste: (chemin: string) => Record<string, unknown> | null = () => null): Paquet[] {
  const packages = (lock as { packages?: Record<string, Record<string, unknown>> } | null)?.packages;
  if (packages === undefined || packages === null || typeof packages !== 'object') {
    throw new Error('package-lock.json sans section « packages » : régénérez-le avec npm 7 ou plus récent.');
  }
  const found: Paquet[] = [];
  for (const [chemin, entry] of Object.entries(packages)) {
    if (chemin === '' || entry.link === true) continue;
    const nom = typeof entry.name === 'string' ? entry.name : chemin.slice(chemin.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const fromLock = licenceDeclaree(entry);
    const licence = fromLock ?? ((m) => (m === null ? null : licenceDeclaree(m)))(lireManifeste(chemin));
    found.push({ nom, version: String(entry.version ?? '?'), licence, dev: entry.dev === true });
  }
  return found;
}

function main(): number {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const { values } = parseArgs({
    options: { lockfile: { type: 'string', default: join(root, 'package-lock.json') }, json: { type: 'boolean', default: false } },
  });
  const lockfile = resolve(values.lockfile);
  const base = resolve(lockfile, '..');
  let lock: unknown;
  try {
    lock = JSON.parse(readFileSync(lockfile, 'utf8'));
  } catch {
    console.error(`Impossible de lire ${lockfile} (absent ou JSON invalide).`);
    return 1;
  }
  const lire = (chemin: string) => {
    const file = join(base, chemin, 'package.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : null;
  };
  const verdicts = paquetsDuLockfile(lock, lire).map((p) => verifierPaquet(p));
  const refus = verdicts.filter((v): v is Extract<Verdict, { ok: false }> => !v.ok);
  const exceptionsUtilisees = new Set(verdicts.flatMap((v) => (v.ok && v.exception ? [v.exception.paquet] : [])));
  const inutiles = EXCEPTIONS.filter((e) => !exceptionsUtilisees.has(e.paquet));
  if (values.json) {
    console.log(
      JSON.stringify({ paquets: verdicts.length, refus: refus.map((r) => ({ ...r.paquet, motif: r.motif })), exceptionsInutiles: inutiles }, null, 2),
    );
  } else {
    for (const r of refus) console.error(`✗ ${r.paquet.nom}@${r.paquet.version}${r.paquet.dev ? ' (développement)' : ''} : ${r.motif}`);
    // An exception nobody needs any more is removed, not kept as a blank cheque.
    for (const e of inutiles) console.error(`✗ exception inutile pour « ${e.paquet} » : retirez-la de scripts/check-licences.ts`);
    if (refus.length === 0 && inutiles.length === 0) {
      console.log(`Licences : ${verdicts.length} paquets conformes (dont ${exceptionsUtilisees.size} par exception motivée).`);
    }
  }
  return refus.length === 0 && inutiles.length === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main();
