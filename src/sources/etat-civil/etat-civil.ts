import { QuotientError } from '../../domain/errors.ts';
import { parseIsoDate } from '../../domain/dates.ts';
import { longueursEtatCivil } from '../../domain/etat-civil.ts';
import { SourceFiscaleError } from '../fiscal-source.ts';

/**
 * An état civil as R2P and SFiP search it: names as on the birth record, optional sex, birth date
 * and place (INSEE codes). The more is given, the less likely an ambiguous answer.
 */
export interface EtatCivil {
  readonly nom: string;
  /** Several first names separated by spaces; the first is enough. */
  readonly prenoms: string;
  readonly sexe?: 'M' | 'F';
  /** `AAAA-MM-JJ`. */
  readonly dateNaissance?: string;
  /** INSEE country code, 5 digits (99100 = France). */
  readonly naisCodePays?: string;
  readonly naisCodeDept?: string;
  /** Last 3 digits of the INSEE commune code. */
  readonly naisCodeCommune?: string;
}

/**
 * The query string both APIs take; names uppercased without accents, as the DGFiP stores them.
 * Names longer than the DGFiP's bounds are refused here, before any call (contract point 14).
 */
export function criteresEtatCivil(etatCivil: EtatCivil): URLSearchParams {
  const upper = (text: string) =>
    text
      .normalize('NFD')
      .replace(/\p{Diacritic}/gu, '')
      .toUpperCase()
      .replace(/\s+/g, ' ')
      .trim();
  const nom = upper(etatCivil.nom);
  const prenom = upper(etatCivil.prenoms);
  if (nom === '' || prenom === '')
    throw new QuotientError('invalid', 'etat_civil_incomplet', 'Le nom et le prénom sont obligatoires pour une recherche par état civil.');
  const ecarts = longueursEtatCivil({ nom, prenoms: prenom });
  if (ecarts.length > 0) throw new SourceFiscaleError('etat_civil_trop_long', { detail: ecarts.map((e) => e.message).join(' ') });
  const params = new URLSearchParams({ nom, prenom });
  if (etatCivil.sexe) params.set('sexe', etatCivil.sexe === 'M' ? '1' : '2');
  if (etatCivil.dateNaissance) {
    const d = parseIsoDate(etatCivil.dateNaissance);
    if (!d) throw new QuotientError('invalid', 'etat_civil_incomplet', 'La date de naissance s’écrit AAAA-MM-JJ.');
    params.set('naisDate', `${String(d.day).padStart(2, '0')}/${String(d.month).padStart(2, '0')}/${d.year}`);
  }
  if (etatCivil.naisCodePays) params.set('naisCodePays', etatCivil.naisCodePays);
  if (etatCivil.naisCodeDept) params.set('naisCodeDept', etatCivil.naisCodeDept);
  if (etatCivil.naisCodeCommune) params.set('naisCodeCommune', etatCivil.naisCodeCommune);
  return params;
}

/**
 * True when the search names the person fully: whole birth date and place of birth. R2P answers
 * 403 « Trop de réponse ou dossier non communicable » to both cases; homonyms sharing name, first
 * names, birth day and birthplace are so rare that a 403 to such a search is read as a protected
 * file, not as homonyms the family could tell apart by saying more (contract point 13).
 */
export function etatCivilComplet(etatCivil: EtatCivil): boolean {
  return (
    etatCivil.dateNaissance !== undefined &&
    parseIsoDate(etatCivil.dateNaissance) !== null &&
    (etatCivil.naisCodeCommune !== undefined || (etatCivil.naisCodePays !== undefined && etatCivil.naisCodePays !== '99100'))
  );
}

/** The reason of a 403 to an état civil search: homonyms to tell apart, or a file the DGFiP does not disclose. */
export function refusEtatCivil(etatCivil: EtatCivil, message: string): 'etat_civil_ambigu' | 'dossier_non_communicable' {
  // A body that names only one of the two causes is believed; the specification's combined sentence is not a hint.
  if (/non communicable/i.test(message) && !/trop de r[ée]ponse/i.test(message)) return 'dossier_non_communicable';
  if (/trop de r[ée]ponse|homonym/i.test(message) && !/non communicable/i.test(message)) return 'etat_civil_ambigu';
  return etatCivilComplet(etatCivil) ? 'dossier_non_communicable' : 'etat_civil_ambigu';
}
