import { formatDateFrancaise } from '../../domain/dates.ts';
import { eurosToCents, formatEuros, formatNombre } from '../../domain/money.ts';
import { LIBELLES_UNITES, type Activite, type Grille, type GrilleTranches, type PolitiqueTarifaire, type Tranche } from '../../domain/politique-tarifaire.ts';

/**
 * What changes between two versions of the tariff policy, said the way the délibération says it:
 * activities added or removed, grids, brackets, prices, the rule of the quotient. Pure.
 */

export interface Changement {
  readonly sujet: string;
  /** Null when the thing did not exist before (added). */
  readonly avant: string | null;
  /** Null when it no longer exists (removed). */
  readonly apres: string | null;
}

export interface SectionDiff {
  readonly titre: string;
  readonly changements: readonly Changement[];
}

export const euros = (x: number) => formatEuros(eurosToCents(x) ?? Math.round(x * 100));
const pourcent = (x: number) => `${formatNombre(x)} %`;
const ouiNon = (b: boolean) => (b ? 'oui' : 'non');
const date = (d: string | undefined) => (d === undefined ? 'non précisée' : formatDateFrancaise(d));

const FORMULES: Record<string, string> = {
  'rfr-parts': 'revenu fiscal de référence ÷ nombre de parts',
  'revenu-personnes': 'revenu fiscal de référence ÷ nombre de personnes du foyer',
  coefficients: 'revenu fiscal de référence ÷ somme des coefficients des membres du foyer',
};
const PLUSIEURS_FOYERS_FISCAUX: Record<string, string> = {
  'somme-rfr-somme-parts': 'revenus et parts additionnés',
  'somme-rfr-recompte-personnes': 'revenus additionnés, personnes recomptées',
  refuser: 'examen par un agent',
};
const ARRONDIS: Record<string, string> = { inferieur: 'inférieur', superieur: 'supérieur', 'plus-proche': 'le plus proche' };

export function bornesTranche(grille: GrilleTranches, t: Tranche): string {
  if (t.max === undefined) return `à partir de ${euros(t.min)}`;
  return grille.borneIncluse === 'min' ? `de ${euros(t.min)} à moins de ${euros(t.max)}` : `au-dessus de ${euros(t.min)} jusqu’à ${euros(t.max)} inclus`;
}

export function resumeGrille(g: Grille): string {
  if (g.type === 'taux-effort') return `taux d’effort de ${pourcent(g.taux)} du quotient, plancher ${euros(g.plancher)}, plafond ${euros(g.plafond)}`;
  const prix = g.tranches.map((t) => t.prix);
  return `${g.tranches.length} tranche${g.tranches.length > 1 ? 's' : ''}, de ${euros(Math.min(...prix))} à ${euros(Math.max(...prix))}`;
}

function resumeReductions(a: Activite): string {
  if (a.reductionsRang.length === 0) return 'aucune';
  return a.reductionsRang.map((r) => `${pourcent(r.pourcentage)} à partir du ${r.rang}e enfant`).join(' ; ');
}

class Collecte {
  readonly changements: Changement[] = [];
  /** Records a change when the two renderings differ. */
  comparer(sujet: string, avant: string | null, apres: string | null): void {
    if (avant !== apres) this.changements.push({ sujet, avant, apres });
  }
}

function comparerGrilles(c: Collecte, a: Grille, b: Grille): void {
  if (a.type !== b.type) {
    c.comparer('Grille', resumeGrille(a), resumeGrille(b));
    return;
  }
  if (a.type === 'taux-effort' && b.type === 'taux-effort') {
    c.comparer('Taux d’effort', pourcent(a.taux), pourcent(b.taux));
    c.comparer('Tarif plancher', euros(a.plancher), euros(b.plancher));
    c.comparer('Tarif plafond', euros(a.plafond), euros(b.plafond));
    return;
  }
  if (a.type !== 'tranches' || b.type !== 'tranches') return;
  c.comparer('Borne incluse dans la tranche', a.borneIncluse === 'min' ? 'le minimum' : 'le maximum', b.borneIncluse === 'min' ? 'le minimum' : 'le maximum');
  const codes = [...new Set([...a.tranches.map((t) => t.code), ...b.tranches.map((t) => t.code)])];
  for (const code of codes) {
    const ta = a.tranches.find((t) => t.code === code);
    const tb = b.tranches.find((t) => t.code === code);
    const nom = `Tranche ${code}`;
    if (!ta && tb) c.comparer(`${nom} (ajoutée)`, null, `${bornesTranche(b, tb)} : ${euros(tb.prix)}`);
    else if (ta && !tb) c.comparer(`${nom} (supprimée)`, `${bornesTranche(a, ta)} : ${euros(ta.prix)}`, null);
    else if (ta && tb) {
      c.comparer(`${nom} : quotients`, bornesTranche(a, ta), bornesTranche(b, tb));
      c.comparer(`${nom} : prix`, euros(ta.prix), euros(tb.prix));
      c.comparer(`${nom} : libellé`, ta.libelle ?? '(aucun)', tb.libelle ?? '(aucun)');
    }
  }
}

function comparerActivites(a: Activite, b: Activite): Changement[] {
  const c = new Collecte();
  c.comparer('Libellé', a.libelle, b.libelle);
  c.comparer('Unité', LIBELLES_UNITES[a.unite], LIBELLES_UNITES[b.unite]);
  comparerGrilles(c, a.grille, b.grille);
  const nonResident = (x: Activite) => (x.prixNonResident === undefined ? 'non fixé (la grille s’applique)' : euros(x.prixNonResident));
  const sansQuotient = (x: Activite) => (x.prixSansQuotient === undefined ? 'non fixé (le tarif le plus élevé s’applique)' : euros(x.prixSansQuotient));
  c.comparer('Tarif hors commune', nonResident(a), nonResident(b));
  c.comparer('Tarif sans quotient connu', sansQuotient(a), sansQuotient(b));
  c.comparer('Réductions selon le rang de l’enfant', resumeReductions(a), resumeReductions(b));
  return c.changements;
}

/** The sections that changed, in the order of the file; an empty list means the same policy. */
export function comparerPolitiques(a: PolitiqueTarifaire, b: PolitiqueTarifaire): SectionDiff[] {
  const sections: SectionDiff[] = [];
  const general = new Collecte();
  general.comparer('Commune', `${a.commune.nom} (${a.commune.codeInsee})`, `${b.commune.nom} (${b.commune.codeInsee})`);
  general.comparer('Numéro de la délibération', a.deliberation.numero ?? 'non précisé', b.deliberation.numero ?? 'non précisé');
  general.comparer('Date de la délibération', date(a.deliberation.date), date(b.deliberation.date));
  general.comparer('Intitulé de la délibération', a.deliberation.intitule ?? 'non précisé', b.deliberation.intitule ?? 'non précisé');
  general.comparer('Source', a.deliberation.source ?? 'non précisée', b.deliberation.source ?? 'non précisée');
  general.comparer('Début de validité', date(a.validite.du), date(b.validite.du));
  general.comparer(
    'Fin de validité',
    a.validite.au ? date(a.validite.au) : 'jusqu’à une nouvelle version',
    b.validite.au ? date(b.validite.au) : 'jusqu’à une nouvelle version',
  );
  if (general.changements.length > 0) sections.push({ titre: 'Délibération et validité', changements: general.changements });

  const q = new Collecte();
  const qa = a.quotient;
  const qb = b.quotient;
  q.comparer('Formule', FORMULES[qa.formule] ?? qa.formule, FORMULES[qb.formule] ?? qb.formule);
  const coefs = (x: typeof qa) =>
    x.coefficients
      ? `adulte ${formatNombre(x.coefficients.adulte)}, enfant ${formatNombre(x.coefficients.enfant)}, adulte rattaché ${formatNombre(x.coefficients.adulteRattache)}, autre personne à charge ${formatNombre(x.coefficients.autrePersonneACharge)}, parent isolé +${formatNombre(x.coefficients.majorationParentIsole)}, invalidité +${formatNombre(x.coefficients.majorationInvalidite)}`
      : 'sans objet';
  q.comparer('Coefficients', coefs(qa), coefs(qb));
  q.comparer('Période', qa.periode === 'mensuelle' ? 'par mois' : 'par an', qb.periode === 'mensuelle' ? 'par mois' : 'par an');
  q.comparer(
    'Arrondi du quotient',
    `${qa.arrondi.unite === 'euro' ? 'à l’euro' : 'au centime'} ${ARRONDIS[qa.arrondi.mode]}`,
    `${qb.arrondi.unite === 'euro' ? 'à l’euro' : 'au centime'} ${ARRONDIS[qb.arrondi.mode]}`,
  );
  const annee = (x: typeof qa) => `revenus de l’année N-${x.anneeRevenus.ecart}${x.anneeRevenus.repliAnneePrecedente ? ', à défaut l’année précédente' : ''}`;
  q.comparer('Année des revenus', annee(qa), annee(qb));
  q.comparer(
    'Plusieurs foyers fiscaux',
    PLUSIEURS_FOYERS_FISCAUX[qa.plusieursFoyers] ?? qa.plusieursFoyers,
    PLUSIEURS_FOYERS_FISCAUX[qb.plusieursFoyers] ?? qb.plusieursFoyers,
  );
  q.comparer(
    'Enfant en résidence alternée',
    `compte pour ${formatNombre(qa.residenceAlternee.poidsEnfant)}`,
    `compte pour ${formatNombre(qb.residenceAlternee.poidsEnfant)}`,
  );
  q.comparer(
    'Durée de validité du quotient',
    qa.dureeValidite === 'annee-scolaire' ? 'année scolaire' : 'année civile',
    qb.dureeValidite === 'annee-scolaire' ? 'année scolaire' : 'année civile',
  );
  q.comparer('Début de l’année scolaire', qa.debutAnneeScolaire, qb.debutAnneeScolaire);
  q.comparer(
    'Prise d’effet',
    qa.priseEffet === 'date-de-la-demande' ? 'à la date de la demande' : 'le premier jour du mois suivant',
    qb.priseEffet === 'date-de-la-demande' ? 'à la date de la demande' : 'le premier jour du mois suivant',
  );
  q.comparer('Rétroactivité', ouiNon(qa.retroactivite), ouiNon(qb.retroactivite));
  q.comparer('Arrondi des prix calculés', `au centime ${ARRONDIS[a.arrondiPrix]}`, `au centime ${ARRONDIS[b.arrondiPrix]}`);
  if (q.changements.length > 0) sections.push({ titre: 'Calcul du quotient familial', changements: q.changements });

  const ids = [...new Set([...a.activites.map((x) => x.id), ...b.activites.map((x) => x.id)])];
  for (const id of ids) {
    const xa = a.activites.find((x) => x.id === id);
    const xb = b.activites.find((x) => x.id === id);
    if (xa && !xb)
      sections.push({ titre: `Activité supprimée : ${xa.libelle}`, changements: [{ sujet: 'Grille', avant: resumeGrille(xa.grille), apres: null }] });
    else if (!xa && xb)
      sections.push({ titre: `Activité ajoutée : ${xb.libelle}`, changements: [{ sujet: 'Grille', avant: null, apres: resumeGrille(xb.grille) }] });
    else if (xa && xb) {
      const changements = comparerActivites(xa, xb);
      if (changements.length > 0) sections.push({ titre: `Activité : ${xb.libelle}`, changements });
    }
  }
  return sections;
}

export interface LigneDiff {
  readonly type: 'egale' | 'ajoutee' | 'retiree';
  readonly texte: string;
  /** Line number in the old text; null for an added line. */
  readonly avant: number | null;
  /** Line number in the new text; null for a removed line. */
  readonly apres: number | null;
}

/** Beyond this, the table of the longest common subsequence would cost too much memory. */
const MAX_CELLULES = 4_000_000;

/**
 * Line diff of two texts (longest common subsequence), or null when they are too long to compare
 * here. A complement to the structured comparison, for comments and layout.
 */
export function diffLignes(avant: string, apres: string): LigneDiff[] | null {
  const a = avant.replace(/\r\n/g, '\n').split('\n');
  const b = apres.replace(/\r\n/g, '\n').split('\n');
  // Common head and tail cost nothing and shrink the table.
  let debut = 0;
  while (debut < a.length && debut < b.length && a[debut] === b[debut]) debut++;
  let fin = 0;
  while (fin < a.length - debut && fin < b.length - debut && a[a.length - 1 - fin] === b[b.length - 1 - fin]) fin++;
  const ma = a.slice(debut, a.length - fin);
  const mb = b.slice(debut, b.length - fin);
  if ((ma.length + 1) * (mb.length + 1) > MAX_CELLULES) return null;
  const w = mb.length + 1;
  const lcs = new Uint32Array((ma.length + 1) * w);
  for (let i = ma.length - 1; i >= 0; i--) {
    for (let j = mb.length - 1; j >= 0; j--) {
      lcs[i * w + j] = ma[i] === mb[j] ? (lcs[(i + 1) * w + j + 1] ?? 0) + 1 : Math.max(lcs[(i + 1) * w + j] ?? 0, lcs[i * w + j + 1] ?? 0);
    }
  }
  const out: LigneDiff[] = [];
  for (let k = 0; k < debut; k++) out.push({ type: 'egale', texte: a[k] ?? '', avant: k + 1, apres: k + 1 });
  let i = 0;
  let j = 0;
  while (i < ma.length || j < mb.length) {
    if (i < ma.length && j < mb.length && ma[i] === mb[j]) {
      out.push({ type: 'egale', texte: ma[i] ?? '', avant: debut + i + 1, apres: debut + j + 1 });
      i++;
      j++;
    } else if (i < ma.length && (j === mb.length || (lcs[(i + 1) * w + j] ?? 0) >= (lcs[i * w + j + 1] ?? 0))) {
      // Removed lines before added ones, as people read a change.
      out.push({ type: 'retiree', texte: ma[i] ?? '', avant: debut + i + 1, apres: null });
      i++;
    } else {
      out.push({ type: 'ajoutee', texte: mb[j] ?? '', avant: null, apres: debut + j + 1 });
      j++;
    }
  }
  for (let k = a.length - fin; k < a.length; k++) out.push({ type: 'egale', texte: a[k] ?? '', avant: k + 1, apres: k + 1 - a.length + b.length });
  return out;
}

/** Only the changed lines and `contexte` lines around them; `null` marks a gap. */
export function avecContexte(lignes: readonly LigneDiff[], contexte = 2): Array<LigneDiff | null> {
  const garder = lignes.map(() => false);
  lignes.forEach((l, k) => {
    if (l.type === 'egale') return;
    for (let d = Math.max(0, k - contexte); d <= Math.min(lignes.length - 1, k + contexte); d++) garder[d] = true;
  });
  const out: Array<LigneDiff | null> = [];
  lignes.forEach((l, k) => {
    if (garder[k]) out.push(l);
    else if (out.length > 0 && out[out.length - 1] !== null) out.push(null);
  });
  if (out[out.length - 1] === null) out.pop();
  return out;
}
