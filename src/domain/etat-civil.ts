import { contientUnChiffre } from './numero-fiscal.ts';
/**
 * What the names and birth dates of a household's members must look like, wherever they are
 * typed (the family's « Mon foyer », the counter's creation of a family): they are compared with
 * the declarants of the avis, so a slip caught here is a mismatch an instructor does not review.
 */

/** Longest name or first names kept (the database's and the families service's bound). */
export const NOM_MAX = 100;

/** No one born before this date is a parent or a child of a household asking for a QF. */
export const NAISSANCE_MIN = '1900-01-01';

/** A name or first names never hold a digit (any script's): « B3rtin » is a typing slip. */
export function nomPlausible(nom: string): boolean {
  return !contientUnChiffre(nom);
}

/** A birth date (ISO) is plausible from 1900 to today included; `aujourdhui` is passed in (ISO). */
export function naissancePlausible(iso: string, aujourdhui: string): boolean {
  return iso >= NAISSANCE_MIN && iso <= aujourdhui;
}

/**
 * The DGFiP's bounds on an état civil search (R2P and SFiP specifications): « nom de naissance,
 * 100 car. max. », « prénom de naissance, 20 car. max. par prénom ». Checked before any call, so
 * that an over-long name is the family's to shorten, not a refusal of the DGFiP (contract point 14).
 */
export const NOM_NAISSANCE_DGFIP_MAX = 100;
export const PRENOM_DGFIP_MAX = 20;

/** What is too long in an état civil, one message per field (empty: within the DGFiP's bounds). */
export function longueursEtatCivil(etatCivil: { readonly nom: string; readonly prenoms: string }): Array<{ champ: 'nom' | 'prenoms'; message: string }> {
  const ecarts: Array<{ champ: 'nom' | 'prenoms'; message: string }> = [];
  const nom = etatCivil.nom.trim().replace(/\s+/g, ' ');
  if ([...nom].length > NOM_NAISSANCE_DGFIP_MAX) {
    ecarts.push({
      champ: 'nom',
      message: `Le nom de naissance dépasse ${NOM_NAISSANCE_DGFIP_MAX} caractères, la limite de la DGFiP : abrégez-le comme sur l’avis d’imposition.`,
    });
  }
  const long = etatCivil.prenoms
    .trim()
    .split(/\s+/)
    .find((p) => [...p].length > PRENOM_DGFIP_MAX);
  if (long !== undefined) {
    ecarts.push({
      champ: 'prenoms',
      message: `Un prénom dépasse ${PRENOM_DGFIP_MAX} caractères, la limite de la DGFiP par prénom : séparez les prénoms par des espaces, ou ne donnez que le premier.`,
    });
  }
  return ecarts;
}

/**
 * A place of birth as R2P and SFiP take it, from the INSEE code of a commune (5 characters:
 * `44109`, `2A004`, `97411`) or of a foreign country (`99xxx`). Overseas départements have a
 * 3-character code and a 2-digit commune; elsewhere 2 and 3. Null when the code is not one.
 */
export function lieuNaissanceDgfip(codeInsee: string): { naisCodePays: string; naisCodeDept?: string; naisCodeCommune?: string } | null {
  const code = codeInsee.trim().toUpperCase();
  if (/^99[0-9]{3}$/.test(code)) return code === '99100' ? { naisCodePays: '99100' } : { naisCodePays: code };
  if (/^97[1-6][0-9]{2}$/.test(code)) return { naisCodePays: '99100', naisCodeDept: code.slice(0, 3), naisCodeCommune: code.slice(3) };
  if (/^(?:[0-9]{2}|2[AB])[0-9]{3}$/.test(code)) return { naisCodePays: '99100', naisCodeDept: code.slice(0, 2), naisCodeCommune: code.slice(2) };
  return null;
}
