import { readFileSync } from 'node:fs';

/** A commune that can be a place of birth: its INSEE code (the DGFiP's criterion) and its name. */
export interface Commune {
  readonly code: string;
  readonly nom: string;
  readonly departement: string;
  /** A commune déléguée or associée: a former commune, still named on older birth certificates. */
  readonly ancienne: boolean;
}

/** How names are compared: case, accents, hyphens and apostrophes ignored, « St » as « Saint ». */
export function normaliserNomCommune(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toUpperCase()
    .replace(/[-'’.]/g, ' ')
    .replace(/\bSTE\b/g, 'SAINTE')
    .replace(/\bST\b/g, 'SAINT')
    .replace(/\s+/g, ' ')
    .trim();
}

interface Entree extends Commune {
  readonly cle: string;
}

let table: readonly Entree[] | undefined;

/** The table generated into the repository (scripts/generer-communes.js), read once, on first use. */
function communes(): readonly Entree[] {
  if (table) return table;
  const text = readFileSync(new URL('./communes.tsv', import.meta.url), 'utf8');
  const rows: Entree[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [code = '', nom = '', departement = '', ancienne = ''] = line.split('\t');
    rows.push({ code, nom, departement, ancienne: ancienne === 'a', cle: normaliserNomCommune(nom) });
  }
  return (table = rows);
}

/** The communes of that INSEE code (a commune nouvelle shares its code with its communes déléguées). */
export function communesDuCode(code: string): Commune[] {
  const c = code.trim().toUpperCase();
  return communes().filter((x) => x.code === c);
}

/**
 * Communes whose name starts with (then contains) what was typed, or whose INSEE code starts with it;
 * current communes first. At most `limite`, so that a page never lists thousands.
 */
export function rechercherCommunes(saisie: string, limite = 20): Commune[] {
  const q = normaliserNomCommune(saisie);
  if (q.length < 2) return [];
  const all = communes();
  if (/^[0-9][0-9AB][0-9]*$/.test(q)) return all.filter((x) => x.code.startsWith(q)).slice(0, limite);
  const debut = all.filter((x) => x.cle.startsWith(q));
  const dedans = all.filter((x) => !x.cle.startsWith(q) && x.cle.includes(q));
  const rang = (x: Entree) => (x.cle === q ? 0 : 1) + (x.ancienne ? 2 : 0);
  return [...debut.sort((a, b) => rang(a) - rang(b) || a.nom.localeCompare(b.nom, 'fr')), ...dedans.sort((a, b) => rang(a) - rang(b))].slice(0, limite);
}

/** The label a person reads: « Nantes (44) », « Arbignieu (01, ancienne commune) ». */
export function libelleCommune(c: Commune): string {
  return `${c.nom} (${c.departement}${c.ancienne ? ', ancienne commune' : ''})`;
}

/**
 * Countries of birth offered in the form, by their INSEE code (99xxx, the DGFiP's criterion). Short on
 * purpose: the most frequent countries of birth; any other is given by its code.
 */
export const PAYS_NAISSANCE: ReadonlyArray<{ readonly code: string; readonly nom: string }> = [
  { code: '99109', nom: 'Allemagne' },
  { code: '99352', nom: 'Algérie' },
  { code: '99131', nom: 'Belgique' },
  { code: '99401', nom: 'Canada' },
  { code: '99216', nom: 'Chine' },
  { code: '99134', nom: 'Espagne' },
  { code: '99404', nom: 'États-Unis' },
  { code: '99127', nom: 'Italie' },
  { code: '99335', nom: 'Mali' },
  { code: '99350', nom: 'Maroc' },
  { code: '99122', nom: 'Pologne' },
  { code: '99139', nom: 'Portugal' },
  { code: '99114', nom: 'Roumanie' },
  { code: '99132', nom: 'Royaume-Uni' },
  { code: '99341', nom: 'Sénégal' },
  { code: '99140', nom: 'Suisse' },
  { code: '99351', nom: 'Tunisie' },
  { code: '99208', nom: 'Turquie' },
];
