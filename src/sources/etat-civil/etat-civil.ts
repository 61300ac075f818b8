import { QuotientError } from '../../domain/errors.ts';
import { parseIsoDate } from '../../domain/dates.ts';

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

/** The query string both APIs take; names uppercased without accents, as the DGFiP stores them. */
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
