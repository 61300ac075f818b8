import { parseDateSaisie } from '../../domain/dates.ts';
import { isQuotientError } from '../../domain/errors.ts';
import { lieuNaissanceDgfip, longueursEtatCivil, naissancePlausible, nomPlausible, NOM_MAX } from '../../domain/etat-civil.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { LIBELLES_SEPARATEUR, lireCsv, type DocumentCsv } from '../../infra/csv/csv-lecture.ts';
import type { EtatCivil } from '../../sources/etat-civil/etat-civil.ts';

/**
 * The list a commune exports from its family software, one family per line: the family's
 * reference there, the parents' état civil (what a call by état civil needs and what the identity
 * control compares the avis with) and the evidence of the consent (the signed form's date and
 * reference). Each line is checked on its own, every fault named with its line and column in
 * French; no cell value is ever repeated in a message, except a reference once known not to be a
 * numéro fiscal. Pure: the service adds what the database knows (families, other campaigns).
 */

export const COLONNES_IMPORT = [
  'reference',
  'courriel',
  'avis_commun',
  'p1_nom_naissance',
  'p1_nom_usage',
  'p1_prenoms',
  'p1_sexe',
  'p1_date_naissance',
  'p1_lieu_naissance',
  'p2_nom_naissance',
  'p2_nom_usage',
  'p2_prenoms',
  'p2_sexe',
  'p2_date_naissance',
  'p2_lieu_naissance',
  'accord_date',
  'accord_reference',
] as const;
export type ColonneImport = (typeof COLONNES_IMPORT)[number];

const OBLIGATOIRES: readonly ColonneImport[] = ['reference', 'p1_nom_naissance', 'p1_prenoms', 'p1_date_naissance'];

/** A parent as the line gives them: the household's member and the état civil of the call. */
export interface ParentImporte {
  readonly rang: 1 | 2;
  readonly nomNaissance: string;
  readonly nomUsage: string | null;
  readonly prenoms: string;
  readonly dateNaissance: string;
  readonly etatCivil: EtatCivil;
}

export interface LigneImportee {
  readonly numero: number;
  readonly reference: string;
  readonly courriel: string | null;
  readonly parents: readonly ParentImporte[];
  /** The parents whose avis is asked for: parent 1 alone when they file jointly (or parent 2 is absent). */
  readonly rangsAppeles: ReadonlyArray<1 | 2>;
  /** The signed form, when the line gives it; otherwise a standing consent must cover the family. */
  readonly accord: { readonly date: string; readonly reference: string } | null;
}

export interface ErreurLigne {
  /** 0 for the file itself or its header. */
  readonly ligne: number;
  readonly colonne: string | null;
  readonly message: string;
}

export interface LectureImport {
  /** Data lines of the file (the header aside). */
  readonly total: number;
  readonly lignes: readonly LigneImportee[];
  readonly erreurs: readonly ErreurLigne[];
  /** Worth a look, not a refusal: the same parent in two families, a line without birthplace. */
  readonly avertissements: readonly ErreurLigne[];
  /** How the file was read (encoding and separator), said to the administrator. */
  readonly lecture: string;
}

const normaliser = (texte: string) =>
  texte
    .normalize('NFD')
    .replace(/\p{Diacritic}/gu, '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');

const COURRIEL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const REFERENCE = /^[\p{L}\p{N}][\p{L}\p{N} ._/-]{0,63}$/u;

/** Reads and checks the file; never throws for what a file may hold (an unreadable one is one error on line 0). */
export function lireImport(octets: Uint8Array, aujourdhui: string, options: { maxLignes?: number; maxOctets?: number } = {}): LectureImport {
  let doc: DocumentCsv;
  try {
    doc = lireCsv(octets, options);
  } catch (error) {
    if (!isQuotientError(error)) throw error;
    return { total: 0, lignes: [], erreurs: [{ ligne: 0, colonne: null, message: error.message }], avertissements: [], lecture: '' };
  }
  const lecture = `lu en ${doc.encodage.toUpperCase()}, séparateur ${LIBELLES_SEPARATEUR[doc.separateur]}`;
  const [entete, ...corps] = doc.lignes;
  const erreurs: ErreurLigne[] = [];
  const avertissements: ErreurLigne[] = [];
  const colonnes = (entete?.cellules ?? []).map(normaliser);
  const index = new Map<ColonneImport, number>();
  colonnes.forEach((nom, i) => {
    if (nom === '') return;
    if (/spi|numero_fiscal|num_fiscal/.test(nom)) {
      erreurs.push({
        ligne: 1,
        colonne: nom,
        message: `La colonne « ${nom} » semble porter des numéros fiscaux : Quotient n’en conserve aucun, retirez-la du fichier (l’appel se fait par état civil).`,
      });
    } else if (!(COLONNES_IMPORT as readonly string[]).includes(nom)) {
      erreurs.push({ ligne: 1, colonne: nom, message: `Colonne inconnue « ${nom} » ; colonnes possibles : ${COLONNES_IMPORT.join(', ')}.` });
    } else if (index.has(nom as ColonneImport)) {
      erreurs.push({ ligne: 1, colonne: nom, message: `La colonne « ${nom} » figure deux fois.` });
    } else index.set(nom as ColonneImport, i);
  });
  for (const c of OBLIGATOIRES) if (!index.has(c)) erreurs.push({ ligne: 1, colonne: c, message: `La colonne obligatoire « ${c} » manque.` });
  if (erreurs.length > 0) return { total: corps.length, lignes: [], erreurs, avertissements, lecture };
  if (corps.length === 0)
    return { total: 0, lignes: [], erreurs: [{ ligne: 0, colonne: null, message: 'Le fichier ne contient que sa ligne d’en-tête.' }], avertissements, lecture };

  const lignes: LigneImportee[] = [];
  const references = new Map<string, number>();
  const personnes = new Map<string, number>();
  for (const { numero, cellules } of corps) {
    const cellule = (c: ColonneImport): string => {
      const i = index.get(c);
      return i === undefined ? '' : (cellules[i] ?? '').trim();
    };
    const fautes: ErreurLigne[] = [];
    const faute = (colonne: ColonneImport | null, message: string) =>
      fautes.push({ ligne: numero, colonne, message: `Ligne ${numero}${colonne ? `, ${colonne}` : ''} : ${message}` });
    if (cellules.length > colonnes.length && cellules.slice(colonnes.length).some((c) => c.trim() !== ''))
      faute(null, 'plus de cellules que de colonnes dans l’en-tête.');
    // Invariant 1: nothing shaped like a numéro fiscal enters Quotient, whatever the column.
    const avecNumero = COLONNES_IMPORT.filter((c) => ressembleANumeroFiscal(cellule(c)));
    for (const c of avecNumero) faute(c, 'ressemble à un numéro fiscal : Quotient n’en accepte aucun, retirez-le (l’appel se fait par état civil).');

    const reference = cellule('reference');
    if (!avecNumero.includes('reference')) {
      if (reference === '') faute('reference', 'la référence de la famille est obligatoire.');
      else if (!REFERENCE.test(reference)) faute('reference', 'référence invalide (64 caractères au plus : lettres, chiffres, espaces, « . _ / - »).');
      else {
        const deja = references.get(reference);
        if (deja !== undefined) faute('reference', `la référence « ${reference} » figure déjà ligne ${deja} (doublon).`);
        else references.set(reference, numero);
      }
    }
    const courriel = cellule('courriel');
    if (courriel !== '' && (!COURRIEL.test(courriel) || courriel.length > 254)) faute('courriel', 'adresse électronique invalide.');

    const parents: ParentImporte[] = [];
    for (const rang of [1, 2] as const) {
      const p = (champ: string) => cellule(`p${rang}_${champ}` as ColonneImport);
      const donne = ['nom_naissance', 'nom_usage', 'prenoms', 'sexe', 'date_naissance', 'lieu_naissance'].some((c) => p(c) !== '');
      if (rang === 2 && !donne) continue;
      const col = (champ: string) => `p${rang}_${champ}` as ColonneImport;
      const nomNaissance = p('nom_naissance');
      const prenoms = p('prenoms');
      const nomUsage = p('nom_usage');
      let ok = true;
      for (const [champ, valeur, obligatoire] of [
        ['nom_naissance', nomNaissance, true],
        ['prenoms', prenoms, true],
        ['nom_usage', nomUsage, false],
      ] as const) {
        if (avecNumero.includes(col(champ))) ok = false;
        else if (valeur === '') {
          if (obligatoire) {
            faute(col(champ), `obligatoire pour le parent ${rang}.`);
            ok = false;
          }
        } else if (valeur.length > NOM_MAX || !nomPlausible(valeur)) {
          faute(col(champ), `nom invalide (${NOM_MAX} caractères au plus, sans chiffre).`);
          ok = false;
        }
      }
      for (const e of longueursEtatCivil({ nom: nomNaissance, prenoms })) {
        faute(col(e.champ === 'nom' ? 'nom_naissance' : 'prenoms'), e.message);
        ok = false;
      }
      const dateNaissance = parseDateSaisie(p('date_naissance'));
      if (dateNaissance === null || !naissancePlausible(dateNaissance, aujourdhui)) {
        if (!avecNumero.includes(col('date_naissance')))
          faute(col('date_naissance'), 'date de naissance attendue (JJ/MM/AAAA ou AAAA-MM-JJ), passée et après 1900.');
        ok = false;
      }
      const sexeBrut = p('sexe').toUpperCase();
      const sexe = sexeBrut === '' ? undefined : ['M', 'H', '1'].includes(sexeBrut) ? 'M' : ['F', '2'].includes(sexeBrut) ? 'F' : null;
      if (sexe === null) {
        faute(col('sexe'), 'sexe attendu : M ou F (ou vide).');
        ok = false;
      }
      const lieuBrut = p('lieu_naissance');
      const lieu = lieuBrut === '' ? undefined : lieuNaissanceDgfip(lieuBrut);
      if (lieu === null) {
        faute(col('lieu_naissance'), 'code INSEE de la commune (5 caractères, par exemple 92012) ou du pays (99xxx) attendu.');
        ok = false;
      }
      if (!ok || dateNaissance === null || sexe === null || lieu === null) continue;
      if (lieu === undefined)
        avertissements.push({
          ligne: numero,
          colonne: col('lieu_naissance'),
          message: `Ligne ${numero} : sans lieu de naissance, des homonymes ne pourront pas être distingués.`,
        });
      parents.push({
        rang,
        nomNaissance,
        nomUsage: nomUsage === '' ? null : nomUsage,
        prenoms,
        dateNaissance,
        etatCivil: { nom: nomNaissance, prenoms, dateNaissance, ...(sexe ? { sexe } : {}), ...(lieu ?? {}) },
      });
    }

    const avisCommun = normaliser(cellule('avis_commun'));
    const deuxParents = ['nom_naissance', 'prenoms', 'date_naissance'].some((c) => cellule(`p2_${c}` as ColonneImport) !== '');
    let rangsAppeles: Array<1 | 2> = [1];
    if (deuxParents) {
      if (avisCommun === 'non') rangsAppeles = [1, 2];
      else if (avisCommun !== 'oui')
        faute('avis_commun', 'avec deux parents, indiquez « oui » s’ils ont un avis d’imposition commun (mariés ou pacsés), « non » si chacun a le sien.');
    } else if (avisCommun === 'non') faute('avis_commun', '« non » demande un second parent (colonnes p2_…).');

    const accordDateBrute = cellule('accord_date');
    const accordReference = cellule('accord_reference');
    let accord: LigneImportee['accord'] = null;
    if (accordDateBrute !== '' || accordReference !== '') {
      const date = parseDateSaisie(accordDateBrute);
      if (date === null || date > aujourdhui) faute('accord_date', 'date du formulaire signé attendue (JJ/MM/AAAA), au plus tard aujourd’hui.');
      if (accordReference === '') faute('accord_reference', 'indiquez la référence du formulaire signé, avec sa date.');
      else if (accordReference.length > 100 || /[\r\n]/.test(accordReference))
        faute('accord_reference', 'référence du formulaire : 100 caractères au plus, sur une ligne.');
      if (date !== null && date <= aujourdhui && accordReference !== '' && !avecNumero.includes('accord_reference'))
        accord = { date, reference: accordReference };
    }

    const p1 = parents.find((p) => p.rang === 1);
    if (p1) {
      const cle = `${normaliser(p1.nomNaissance)}|${normaliser(p1.prenoms)}|${p1.dateNaissance}`;
      const deja = personnes.get(cle);
      if (deja !== undefined)
        avertissements.push({ ligne: numero, colonne: null, message: `Ligne ${numero} : le parent 1 est le même que celui de la ligne ${deja}.` });
      else personnes.set(cle, numero);
    }
    if (fautes.length > 0) {
      erreurs.push(...fautes);
      continue;
    }
    lignes.push({ numero, reference, courriel: courriel === '' ? null : courriel, parents, rangsAppeles, accord });
  }
  return { total: corps.length, lignes, erreurs, avertissements, lecture };
}

/** The template administrators download: the header and one example line (fictitious). */
export function modeleImport(): string {
  const exemple: Record<ColonneImport, string> = {
    reference: 'FAM-000123',
    courriel: 'famille.exemple@example.org',
    avis_commun: 'oui',
    p1_nom_naissance: 'Exemple',
    p1_nom_usage: '',
    p1_prenoms: 'Camille Marie',
    p1_sexe: 'F',
    p1_date_naissance: '15/06/1985',
    p1_lieu_naissance: '92012',
    p2_nom_naissance: 'Modèle',
    p2_nom_usage: '',
    p2_prenoms: 'Dominique',
    p2_sexe: 'M',
    p2_date_naissance: '02/03/1983',
    p2_lieu_naissance: '99100',
    accord_date: '01/09/2026',
    accord_reference: 'Formulaire n° 2026-123',
  };
  return `\uFEFF${COLONNES_IMPORT.join(';')}\r\n${COLONNES_IMPORT.map((c) => exemple[c]).join(';')}\r\n`;
}
