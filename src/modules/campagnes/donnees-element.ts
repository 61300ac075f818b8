import { formatDateCourte } from '../../domain/dates.ts';
import { QuotientError } from '../../domain/errors.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';
import type { LigneImportee } from './import-csv.ts';
import type { AccordPermanent } from './renouvellements.ts';

/**
 * What an item needs to become a request, kept encrypted in the silo until its result: the
 * household to create when Quotient does not know the family yet (an import), and for each foyer
 * fiscal to ask for, the état civil of its declarant and the consent covering the call. Never a
 * numéro fiscal.
 */
export interface DonneesElement {
  readonly famille: {
    readonly parents: ReadonlyArray<{ nomNaissance: string; nomUsage: string | null; prenoms: string; dateNaissance: string; cohabite: boolean }>;
    readonly courriel: string | null;
  } | null;
  readonly foyers: ReadonlyArray<{ readonly rang: 1 | 2; readonly etatCivil: EtatCivil; readonly accord: AccordPermanent }>;
  /** A renewal whose declarants' état civil is not kept: no call, the family is to be asked again (then `foyers` is empty). */
  readonly aRedemander?: readonly (1 | 2)[];
}

/** The consent of an imported line's signed form: recorded by the agent who imported it. */
export function accordDuFormulaire(ligne: LigneImportee, agentId: string): AccordPermanent {
  if (!ligne.accord) throw new QuotientError('invalid', 'accord_absent', `Ligne ${ligne.numero} : pas de formulaire signé.`);
  return {
    id: 'formulaire',
    mode: 'formulaire_signe',
    donnePar: { type: 'agent', id: agentId },
    piece: `Formulaire signé ${ligne.accord.reference} du ${formatDateCourte(ligne.accord.date)} (import, ligne ${ligne.numero})`,
    // The day it was signed; the hour is not known, the day's start is never after it.
    recueilliLe: `${ligne.accord.date}T00:00:00.000Z`,
    versionTexte: 'formulaire',
  };
}

/** An imported line's data: its signed form, or the family's standing consents (`accords`, by declarant). */
export function donneesElement(ligne: LigneImportee, accords: ReadonlyArray<{ rang: 1 | 2; accord: AccordPermanent }> | null, agentId: string): DonneesElement {
  const foyers = ligne.rangsAppeles.map((rang) => {
    const parent = ligne.parents.find((p) => p.rang === rang);
    const accord = accords ? accords.find((a) => a.rang === rang)?.accord : accordDuFormulaire(ligne, agentId);
    if (!parent || !accord) throw new QuotientError('invalid', 'accord_absent', `Ligne ${ligne.numero} : parent ${rang} sans accord.`);
    return { rang, etatCivil: parent.etatCivil, accord };
  });
  return {
    famille: {
      parents: ligne.parents.map((p) => ({
        nomNaissance: p.nomNaissance,
        nomUsage: p.nomUsage,
        prenoms: p.prenoms,
        dateNaissance: p.dateNaissance,
        cohabite: true,
      })),
      courriel: ligne.courriel,
    },
    foyers,
  };
}

/** The silo's JSON back as the item's data; a record that is not one is a typed error (it cannot be called). */
export function lireDonneesElement(json: unknown): DonneesElement {
  const d = json as Partial<DonneesElement> | null;
  const aRedemander = Array.isArray(d?.aRedemander) && d.aRedemander.length > 0;
  if (!d || !Array.isArray(d.foyers) || (d.foyers.length === 0 && !aRedemander) || d.foyers.length > 2) {
    throw new QuotientError('unavailable', 'element_illisible', 'Les données de cet élément de campagne sont illisibles.');
  }
  return d as DonneesElement;
}
