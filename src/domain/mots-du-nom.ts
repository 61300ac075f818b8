/**
 * The words a person's names are searched by: « Ndiaye-Fall », « NDIAYE fall » → [ndiaye, fall];
 * lower case, no accents, letters only. Stored per parent (parents_mots) and applied to what an
 * agent types, so that both sides fold alike.
 */
export function motsDuNom(nom: string): string[] {
  return nom
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}]+/u)
    .filter((m) => m !== '');
}

/** A parent's distinct searchable words (birth name, usage name, first names). */
export function motsParent(p: { readonly nom_naissance: string; readonly nom_usage: string | null; readonly prenoms: string }): string[] {
  return [...new Set(motsDuNom(`${p.nom_naissance} ${p.nom_usage ?? ''} ${p.prenoms}`))];
}
