import { QuotientError } from './errors.ts';
import { eurosToCents, formatEuros, formatNombre, mul, rational, rationalFromDecimal, roundRational, type ModeArrondi } from './money.ts';
import type { Activite, Grille, GrilleTranches, PolitiqueTarifaire, RegleTarif, Tranche, Unite } from './politique-tarifaire.ts';
import type { QuotientFamilial } from './quotient-familial.ts';

/**
 * From a QF to the price of each activity: the grid (brackets or taux d'effort), the flat price
 * of non-residents, the default price when no QF is known, and reductions by child rank. Each
 * price comes with the sentence that explains it.
 */

export interface DemandeTarif {
  /** Null when the family has no QF on file (no consent, no avis): the default price applies. */
  readonly quotient: Pick<QuotientFamilial, 'cents'> | null;
  /** False for a family living outside the commune. */
  readonly resident: boolean;
  /** Rank of the child among the family's children enrolled (1 = first); default 1. */
  readonly rangEnfant?: number;
  /** Registered after the commune's deadline (rules `si: { inscriptionTardive: true }`); default false. */
  readonly inscriptionTardive?: boolean;
}

/** One surcharge or reduction rule applied to a price, and its effect in cents (negative for a reduction). */
export interface RegleAppliquee {
  readonly libelle: string;
  readonly effetCents: number;
}

export type OriginePrix = 'grille' | 'non-resident' | 'sans-quotient';

export interface PrixActivite {
  readonly id: string;
  readonly libelle: string;
  readonly unite: Unite;
  /** Code of the bracket used; null for a taux d'effort or a flat price. */
  readonly tranche: string | null;
  /** Price per unit, integer cents. */
  readonly cents: number;
  readonly origine: OriginePrix;
  /** Percentage of the child-rank reduction applied, or null. */
  readonly reduction: number | null;
  /** The policy's rules (`regles`) that applied, in order; absent in prices stored before they existed. */
  readonly regles?: readonly RegleAppliquee[];
  readonly explication: string;
}

/** Prices of a policy are validated to whole cents; this only guards against a policy built by hand. */
function cents(euros: number): number {
  const c = eurosToCents(euros);
  if (c === null) throw new QuotientError('invalid', 'montant_invalide', `Montant invalide dans la politique tarifaire : ${euros}.`);
  return c;
}

/** Does the bracket hold this QF? The first bracket always holds 0, whatever the convention. */
export function trancheContains(grille: GrilleTranches, index: number, qfCents: number): boolean {
  const t = grille.tranches[index];
  if (!t) return false;
  const min = cents(t.min);
  const max = t.max === undefined ? null : cents(t.max);
  if (grille.borneIncluse === 'min') return qfCents >= min && (max === null || qfCents < max);
  return (qfCents > min || (index === 0 && qfCents >= min)) && (max === null || qfCents <= max);
}

export function findTranche(grille: GrilleTranches, qfCents: number): Tranche {
  const index = grille.tranches.findIndex((_, i) => trancheContains(grille, i, qfCents));
  // A capped grid (`plafonnee`): above the last maximum, the last bracket's price still applies.
  const t = index < 0 && grille.derniereTranche === 'plafonnee' && qfCents >= 0 ? grille.tranches.at(-1) : grille.tranches[index];
  // A validated grid starts at 0, has no gap and ends open: only a negative QF can fall outside.
  if (!t) throw new QuotientError('invalid', 'quotient_hors_grille', 'Le quotient familial ne correspond à aucune tranche de la grille.');
  return t;
}

export interface PrixGrille {
  readonly cents: number;
  readonly tranche: Tranche | null;
  /** Set when the taux d'effort result was raised to the floor or lowered to the ceiling. */
  readonly borne: 'plancher' | 'plafond' | null;
  /** The taux d'effort result before floor and ceiling, in cents. */
  readonly calcule: number | null;
}

/** The grid price of a QF, before any reduction. */
export function gridPrice(grille: Grille, qfCents: number, arrondi: ModeArrondi): PrixGrille {
  if (!Number.isSafeInteger(qfCents) || qfCents < 0) {
    throw new QuotientError('invalid', 'quotient_invalide', 'Le quotient familial doit être un montant positif ou nul, en centimes.');
  }
  if (grille.type === 'tranches') {
    const tranche = findTranche(grille, qfCents);
    return { cents: cents(tranche.prix), tranche, borne: null, calcule: null };
  }
  const taux = mul(rationalFromDecimal(grille.taux), rational(1n, 100n));
  const calcule = Number(roundRational(mul(rational(BigInt(qfCents)), taux), arrondi));
  const plancher = cents(grille.plancher);
  const plafond = cents(grille.plafond);
  if (calcule < plancher) return { cents: plancher, tranche: null, borne: 'plancher', calcule };
  if (calcule > plafond) return { cents: plafond, tranche: null, borne: 'plafond', calcule };
  return { cents: calcule, tranche: null, borne: null, calcule };
}

/** The highest price of a grid: the usual price when no QF is known. */
export function highestPrice(grille: Grille): number {
  return grille.type === 'taux-effort' ? cents(grille.plafond) : Math.max(...grille.tranches.map((t) => cents(t.prix)));
}

function describeTranche(grille: GrilleTranches, t: Tranche, qfCents: number): string {
  const min = formatEuros(cents(t.min), { wholeEuros: true });
  if (t.max !== undefined && grille.tranches.at(-1) === t && !grille.tranches.some((_, i) => trancheContains(grille, i, qfCents))) {
    return `quotient au-delà de ${formatEuros(cents(t.max), { wholeEuros: true })}, plafond de la grille : tarif de la dernière tranche`;
  }
  const first = grille.tranches[0] === t;
  if (t.max === undefined) return grille.borneIncluse === 'min' ? `quotient à partir de ${min}` : `quotient au-dessus de ${min}`;
  const max = formatEuros(cents(t.max), { wholeEuros: true });
  if (grille.borneIncluse === 'min') return `quotient de ${min} à moins de ${max}`;
  return first ? `quotient jusqu’à ${max} inclus` : `quotient au-dessus de ${min} et jusqu’à ${max} inclus`;
}

function rangLabel(rang: number): string {
  return rang === 1 ? '1er' : `${rang}e`;
}

/** Does the rule's condition hold for this activity and this request? */
export function regleApplicable(regle: RegleTarif, activite: Activite, demande: DemandeTarif): boolean {
  const si = regle.si;
  const rang = demande.rangEnfant ?? 1;
  return (
    (regle.activites === undefined || regle.activites.includes(activite.id)) &&
    (si.inscriptionTardive === undefined || si.inscriptionTardive === (demande.inscriptionTardive ?? false)) &&
    (si.resident === undefined || si.resident === demande.resident) &&
    (si.sansQuotient === undefined || si.sansQuotient === (demande.quotient === null)) &&
    (si.rangMin === undefined || rang >= si.rangMin) &&
    (si.rangMax === undefined || rang <= si.rangMax)
  );
}

const centPourCent = (pourcentage: number, signe: 1n | -1n) => {
  const p = rationalFromDecimal(pourcentage);
  return rational(100n * p.d + signe * p.n, 100n * p.d);
};

/** Applies the policy's rules, in order, to a price; each percentage rounded by the policy's rule, never below 0 €. */
function appliquerRegles(
  politique: PolitiqueTarifaire,
  activite: Activite,
  demande: DemandeTarif,
  depart: number,
): { cents: number; regles: RegleAppliquee[]; texte: string } {
  let prix = depart;
  const regles: RegleAppliquee[] = [];
  const phrases: string[] = [];
  for (const r of politique.regles) {
    if (!regleApplicable(r, activite, demande)) continue;
    let suivant: number;
    let effet: string;
    if (r.ajout !== undefined) {
      suivant = prix + cents(r.ajout);
      effet = `+ ${formatEuros(cents(r.ajout))}`;
    } else if (r.remise !== undefined) {
      suivant = Math.max(0, prix - cents(r.remise));
      effet = `− ${formatEuros(cents(r.remise))}`;
    } else if (r.majoration !== undefined) {
      suivant = Number(roundRational(mul(rational(BigInt(prix)), centPourCent(r.majoration, 1n)), politique.arrondiPrix));
      effet = `+ ${formatNombre(r.majoration)} %`;
    } else if (r.reduction !== undefined) {
      suivant = Number(roundRational(mul(rational(BigInt(prix)), centPourCent(r.reduction, -1n)), politique.arrondiPrix));
      effet = `− ${formatNombre(r.reduction)} %`;
    } else continue;
    regles.push({ libelle: r.libelle, effetCents: suivant - prix });
    phrases.push(` ${r.libelle} : ${effet}, soit ${formatEuros(suivant)}.`);
    prix = suivant;
  }
  return { cents: prix, regles, texte: phrases.join('') };
}

export function priceActivite(politique: PolitiqueTarifaire, activite: Activite, demande: DemandeTarif): PrixActivite {
  const sansRegles = priceSansRegles(politique, activite, demande);
  if (politique.regles.length === 0) return sansRegles;
  const r = appliquerRegles(politique, activite, demande, sansRegles.cents);
  if (r.regles.length === 0) return { ...sansRegles, regles: [] };
  return { ...sansRegles, cents: r.cents, regles: r.regles, explication: `${sansRegles.explication}${r.texte}` };
}

function priceSansRegles(politique: PolitiqueTarifaire, activite: Activite, demande: DemandeTarif): PrixActivite {
  const rang = demande.rangEnfant ?? 1;
  if (!Number.isInteger(rang) || rang < 1) {
    throw new QuotientError('invalid', 'rang_invalide', 'Le rang de l’enfant est un nombre entier à partir de 1.');
  }
  const common = { id: activite.id, libelle: activite.libelle, unite: activite.unite };

  if (!demande.resident && activite.prixNonResident !== undefined) {
    const c = cents(activite.prixNonResident);
    return {
      ...common,
      tranche: null,
      cents: c,
      origine: 'non-resident',
      reduction: null,
      explication: `Tarif des familles qui n’habitent pas la commune : ${formatEuros(c)}, quel que soit le quotient familial.`,
    };
  }

  let base: number;
  let tranche: string | null = null;
  let origine: OriginePrix;
  let explication: string;
  const nonResidentNote = demande.resident ? '' : ' Aucun tarif particulier n’est fixé pour les familles qui n’habitent pas la commune : la grille s’applique.';

  if (demande.quotient === null) {
    origine = 'sans-quotient';
    if (activite.prixSansQuotient !== undefined) {
      base = cents(activite.prixSansQuotient);
      explication = `Sans quotient familial connu, le tarif fixé dans ce cas s’applique : ${formatEuros(base)}.`;
    } else {
      base = highestPrice(activite.grille);
      explication = `Sans quotient familial connu, le tarif le plus élevé de la grille s’applique : ${formatEuros(base)}.`;
    }
  } else {
    origine = 'grille';
    const g = gridPrice(activite.grille, demande.quotient.cents, politique.arrondiPrix);
    base = g.cents;
    const qf = formatEuros(demande.quotient.cents);
    if (activite.grille.type === 'tranches' && g.tranche) {
      tranche = g.tranche.code;
      const nom = g.tranche.libelle ?? `Tranche ${g.tranche.code}`;
      explication = `${nom} (${describeTranche(activite.grille, g.tranche, demande.quotient.cents)}) : ${formatEuros(base)}.`;
    } else if (activite.grille.type === 'taux-effort') {
      const { taux, plancher, plafond } = activite.grille;
      const produit = `${formatNombre(taux)} % × ${qf} = ${formatEuros(g.calcule ?? base)}`;
      explication =
        g.borne === 'plancher'
          ? `Taux d’effort : ${produit}, porté au tarif plancher de ${formatEuros(cents(plancher))}.`
          : g.borne === 'plafond'
            ? `Taux d’effort : ${produit}, ramené au tarif plafond de ${formatEuros(cents(plafond))}.`
            : `Taux d’effort : ${produit} (entre le plancher de ${formatEuros(cents(plancher))} et le plafond de ${formatEuros(cents(plafond))}).`;
    } else {
      explication = `${formatEuros(base)}.`;
    }
  }
  explication += nonResidentNote;

  const reduction = [...activite.reductionsRang].reverse().find((r) => r.rang <= rang);
  if (!reduction) return { ...common, tranche, cents: base, origine, reduction: null, explication };
  // (100 − p) % computed on fractions: 100 − 33.3333 is not exact in floating point.
  const reste = mul(rational(BigInt(base)), centPourCent(reduction.pourcentage, -1n));
  const final = Number(roundRational(reste, politique.arrondiPrix));
  return {
    ...common,
    tranche,
    cents: final,
    origine,
    reduction: reduction.pourcentage,
    explication: `${explication} Réduction de ${formatNombre(reduction.pourcentage)} % à partir du ${rangLabel(reduction.rang)} enfant : ${formatEuros(final)}.`,
  };
}

/** Prices of every activity of the policy, in the policy's order. */
export function priceActivites(politique: PolitiqueTarifaire, demande: DemandeTarif): PrixActivite[] {
  return politique.activites.map((a) => priceActivite(politique, a, demande));
}

/** A child of the household as the prices need it: who, born when, living where. */
export interface EnfantTarif {
  readonly prenoms: string;
  /** AAAA-MM-JJ; null when unknown (ranked after the children whose date is known). */
  readonly dateNaissance: string | null;
  readonly residence: 'exclusive' | 'alternee';
}

/** The child a price line is for: its rank in the household and whether it lives with this parent part-time. */
export interface EnfantPrix {
  readonly prenoms: string;
  readonly rang: number;
  readonly residenceAlternee: boolean;
}

export interface PrixEnfant extends PrixActivite {
  readonly enfant: EnfantPrix;
}

/**
 * The child rank of each child: the eldest is the 1st, as councils count « à partir du 2e enfant »;
 * children without a known birth date come last, in the order given (a stable sort).
 */
export function rangsEnfants<T extends EnfantTarif>(enfants: readonly T[]): Array<T & { rang: number }> {
  return [...enfants]
    .map((e, i) => ({ e, i }))
    .sort((a, b) => {
      const da = a.e.dateNaissance;
      const db = b.e.dateNaissance;
      if (da !== db) return da === null ? 1 : db === null ? -1 : da < db ? -1 : 1;
      return a.i - b.i;
    })
    .map(({ e }, i) => ({ ...e, rang: i + 1 }));
}

/**
 * The billing lines per child: one per child and activity whose price differs from the family's
 * (first-child) price — a rank reduction, a rank rule — or whose child lives in alternating
 * residence (the billing software bills this household for its own weeks only, on this QF).
 * The family's prices stay the reference; these lines come on top, never instead.
 */
export function prixParEnfant(politique: PolitiqueTarifaire, demande: Omit<DemandeTarif, 'rangEnfant'>, enfants: readonly EnfantTarif[]): PrixEnfant[] {
  const famille = priceActivites(politique, { ...demande, rangEnfant: 1 });
  const lignes: PrixEnfant[] = [];
  for (const e of rangsEnfants(enfants)) {
    const alternee = e.residence === 'alternee';
    politique.activites.forEach((a, i) => {
      const p = priceActivite(politique, a, { ...demande, rangEnfant: e.rang });
      if (p.cents === famille[i]?.cents && !alternee) return;
      const note = alternee ? ' Enfant en résidence alternée : ce prix vaut pour les périodes où il vit dans ce foyer.' : '';
      lignes.push({ ...p, explication: `${p.explication}${note}`, enfant: { prenoms: e.prenoms, rang: e.rang, residenceAlternee: alternee } });
    });
  }
  return lignes;
}
