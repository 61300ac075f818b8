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
