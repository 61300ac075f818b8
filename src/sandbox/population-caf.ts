/**
 * The fictitious allocataires of the CAF/MSA quotient familial (API Particulier v3, `dss`): the
 * family of the official specification's examples, and families who are also in the DGFiP
 * population (same état civil), so that a commune's two sources can be compared on one family.
 * Invented people, invented values.
 */

export type Fournisseur = 'CNAF' | 'MSA';

export interface PersonneCaf {
  readonly nomNaissance: string;
  readonly nomUsage: string | null;
  readonly prenoms: string;
  /** `AAAA-MM-JJ`. */
  readonly dateNaissance: string;
  readonly sexe: 'M' | 'F';
  /** INSEE code (5 characters) of the birth commune, absent when born abroad. */
  readonly cogNaissance?: string;
  /** INSEE code of the birth country, `99100` for France. */
  readonly paysNaissance: string;
}

export interface AdresseCaf {
  readonly destinataire: string;
  readonly numero_libelle_voie: string | null;
  readonly code_postal_ville: string;
  readonly pays: string;
}

export interface DossierCaf {
  /** A short handle for tests and the command line; never sent. */
  readonly cle: string;
  readonly cas: string;
  readonly fournisseur: Fournisseur;
  /** The QF in euros per month the caisse computed (constant over the months the sandbox serves). */
  readonly valeur: number;
  readonly allocataires: readonly PersonneCaf[];
  readonly enfants: readonly Omit<PersonneCaf, 'cogNaissance' | 'paysNaissance'>[];
  readonly adresse: AdresseCaf;
}

const personne = (
  nomNaissance: string,
  prenoms: string,
  sexe: 'M' | 'F',
  dateNaissance: string,
  cogNaissance: string | undefined,
  nomUsage: string | null = null,
): PersonneCaf => ({
  nomNaissance,
  nomUsage,
  prenoms,
  dateNaissance,
  sexe,
  ...(cogNaissance ? { cogNaissance } : {}),
  paysNaissance: cogNaissance ? '99100' : '99134',
});

const enfant = (nomNaissance: string, prenoms: string, sexe: 'M' | 'F', dateNaissance: string) => ({
  nomNaissance,
  nomUsage: null,
  prenoms,
  dateNaissance,
  sexe,
});

export const DOSSIERS_CAF: readonly DossierCaf[] = [
  {
    cle: 'exemple-specification',
    cas: 'L’exemple de la spécification officielle : allocataire MSA, un enfant',
    fournisseur: 'MSA',
    valeur: 1045,
    // The specification's example values, birth place from its example parameters (08480).
    allocataires: [personne('JACQUES', 'JEAN-PIERRE THOMAS', 'M', '2000-01-20', '08480', 'DUPONT')],
    enfants: [enfant('DUPONT', 'JEAN-PIERRE THOMAS JUNIOR', 'M', '2000-01-20')],
    adresse: { destinataire: 'Monsieur JEAN JACQUES', numero_libelle_voie: '1 RUE DE LA GARE', code_postal_ville: '75002', pays: 'FRANCE' },
  },
  {
    cle: 'couple-marie',
    cas: 'Couple marié, deux allocataires, deux enfants (CAF) ; le même foyer que le couple BERTIN de la DGFiP',
    fournisseur: 'CNAF',
    valeur: 812,
    allocataires: [personne('BERTIN', 'PAUL HENRI', 'M', '1981-04-09', '44109'), personne('ROUSSEL', 'CLAIRE ANNE', 'F', '1983-12-01', '35238', 'BERTIN')],
    enfants: [enfant('BERTIN', 'LOUISE', 'F', '2014-03-02'), enfant('BERTIN', 'JULES', 'M', '2017-10-21')],
    adresse: { destinataire: 'Monsieur PAUL BERTIN', numero_libelle_voie: '12 RUE DES LILAS', code_postal_ville: '44000 NANTES', pays: 'FRANCE' },
  },
  {
    cle: 'parent-isole',
    cas: 'Parent isolé, un enfant (CAF) ; GARNIER Julie de la DGFiP',
    fournisseur: 'CNAF',
    valeur: 455,
    allocataires: [personne('GARNIER', 'JULIE', 'F', '1992-09-17', '59350')],
    enfants: [enfant('GARNIER', 'EMMA', 'F', '2019-05-30')],
    adresse: { destinataire: 'Madame JULIE GARNIER', numero_libelle_voie: '25 RUE ESQUERMOISE', code_postal_ville: '59000 LILLE', pays: 'FRANCE' },
  },
  {
    cle: 'msa',
    cas: 'Allocataire de la MSA, deux enfants en résidence alternée ; LAMBERT Sophie de la DGFiP',
    fournisseur: 'MSA',
    valeur: 690,
    allocataires: [personne('LAMBERT', 'SOPHIE', 'F', '1984-07-22', '33063')],
    enfants: [enfant('FAURE', 'ARTHUR', 'M', '2013-01-14'), enfant('FAURE', 'ZOE', 'F', '2015-08-08')],
    adresse: { destinataire: 'Madame SOPHIE LAMBERT', numero_libelle_voie: '18 COURS DE L INTENDANCE', code_postal_ville: '33000 BORDEAUX', pays: 'FRANCE' },
  },
  {
    cle: 'ne-a-l-etranger',
    cas: 'Allocataire né à l’étranger (pays 99134), sans enfant (CAF)',
    fournisseur: 'CNAF',
    valeur: 1320,
    allocataires: [personne('OLIVEIRA', 'RAFAEL', 'M', '1979-11-03', undefined)],
    enfants: [],
    adresse: { destinataire: 'Monsieur RAFAEL OLIVEIRA', numero_libelle_voie: '5 AVENUE JEAN JAURES', code_postal_ville: '69007 LYON', pays: 'FRANCE' },
  },
];

/** Names compared as a caisse plausibly does: case, accents, hyphens and apostrophes ignored. */
export function nomCompare(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .toUpperCase()
    .replace(/[-'’]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface CriteresCaf {
  readonly nomNaissance: string;
  readonly prenoms: readonly string[];
  readonly sexe: 'M' | 'F';
  /** Any prefix of `AAAA-MM-JJ` the caller gave (year, year-month, full date), or nothing. */
  readonly naissance?: { readonly annee: number; readonly mois?: number; readonly jour?: number };
  readonly paysNaissance: string;
  readonly cogNaissance?: string;
}

/** The dossiers one of whose allocataires has this état civil (first names given in order). */
export function rechercherDossiers(c: CriteresCaf): DossierCaf[] {
  const nom = nomCompare(c.nomNaissance);
  const prenoms = c.prenoms.flatMap((p) => nomCompare(p).split(' ')).filter((p) => p !== '');
  return DOSSIERS_CAF.filter((d) =>
    d.allocataires.some((a) => {
      if (nomCompare(a.nomNaissance) !== nom || a.sexe !== c.sexe) return false;
      const siens = nomCompare(a.prenoms).split(' ');
      if (prenoms.length === 0 || prenoms.length > siens.length || prenoms.some((p, i) => siens[i] !== p)) return false;
      if (a.paysNaissance !== c.paysNaissance) return false;
      if (c.cogNaissance !== undefined && a.cogNaissance !== c.cogNaissance) return false;
      const [annee, mois, jour] = a.dateNaissance.split('-').map(Number);
      if (c.naissance) {
        if (c.naissance.annee !== annee) return false;
        if (c.naissance.mois !== undefined && c.naissance.mois !== mois) return false;
        if (c.naissance.jour !== undefined && c.naissance.jour !== jour) return false;
      }
      return true;
    }),
  );
}
