import { z } from 'zod';
import { QuotientError } from './errors.ts';
import {
  add,
  div,
  eurosToCents,
  formatEuros,
  formatNombre,
  isZero,
  mul,
  rational,
  rationalFromDecimal,
  roundRational,
  roundToStep,
  type Rational,
} from './money.ts';
import type { Coefficients, FormuleQuotient, PolitiqueTarifaire, RegleQuotient } from './politique-tarifaire.ts';
import { NB_PARTS_MAX, RFR_MAX, nbDeclarantsFoyerFiscal, type SituationFiscale } from './situation-fiscale.ts';
import { invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The quotient familial: the income of the family brought down to a monthly (or yearly) amount
 * per part, per person or per council coefficient, as the policy says. Exact fractions all along,
 * one rounding at the end, by the policy's rule.
 */

/** Who lives in the household, as the formulas by persons or coefficients need it. */
export interface CompositionFiscale {
  /** Declarants (two for a married or pacsed couple). */
  readonly adultes: number;
  /** Children at charge living only here (all persons at charge when the avis gives no detail). */
  readonly enfants: number;
  readonly enfantsResidenceAlternee: number;
  readonly adultesRattaches: number;
  readonly autresPersonnesACharge: number;
  /** Disabled persons at charge, whatever their category (they are also counted above). */
  readonly personnesInvalides: number;
}

/** A correction decided by an agent, for example a child born after the income year. */
export interface AjustementAgent {
  /** Why, in French, as it will be shown (for example « naissance en 2025 »). */
  readonly motif: string;
  /** Children to add to the household. */
  readonly enfants: number;
  /** Parts to add; required when the QF divides by parts. */
  readonly parts?: number;
}

/** One monthly resource the family declared (salary, pension, benefit…), for the formula « ressources-personnes ». */
export interface RessourceDeclaree {
  /** What it is, in the family's words (« salaire », « pension alimentaire »). */
  readonly nature: string;
  /** Monthly amount in euros, at most two decimals. */
  readonly euros: number;
}

/**
 * Resources declared by the family, never DGFiP data: they are kept apart from the avis, and a QF
 * computed from them says whether an agent has checked the documents yet.
 */
export interface RessourcesDeclarees {
  readonly mensuelles: readonly RessourceDeclaree[];
  /** Who checked the documents (an agent's name or role); null while nobody has. */
  readonly verifieesPar: string | null;
}

/** What a QF is computed from, once one or several avis (or a simulation) have been read. */
export interface BaseQuotient {
  /** RFR of each foyer fiscal, in euros (empty when only declared resources are known). */
  readonly revenus: readonly number[];
  /** Declared resources (formula « ressources-personnes »); absent or null otherwise. */
  readonly ressources?: RessourcesDeclarees | null;
  /** Sum of the parts of the avis (adjustment included); null in a simulation without parts. */
  readonly parts: number | null;
  /** Null in a simulation where only a number of persons was given. */
  readonly composition: CompositionFiscale | null;
  /** Household size typed by a person (simulator), used when the composition is unknown. */
  readonly nbPersonnes: number | null;
  readonly ajustement: AjustementAgent | null;
}

export type NatureDiviseur = 'parts' | 'personnes' | 'coefficients';

export interface QuotientFamilial {
  /** The QF in integer cents, rounded by the policy's rule. */
  readonly cents: number;
  readonly periode: 'mensuelle' | 'annuelle';
  readonly formule: FormuleQuotient;
  /** Total income used, in euros. */
  readonly revenuEuros: number;
  readonly diviseur: number;
  readonly natureDiviseur: NatureDiviseur;
  readonly nbFoyersFiscaux: number;
  /** Where the income comes from: the DGFiP's avis, or resources declared by the family. */
  readonly origineRevenus: 'dgfip' | 'declaration';
  /** For declared resources: whether an agent has checked them. Always true for DGFiP data. */
  readonly revenusVerifies: boolean;
  /** One French sentence a family can check with a pocket calculator. */
  readonly explication: string;
}

function invalid(code: string, message: string, fields: readonly string[] = []): QuotientError {
  return new QuotientError('invalid', code, message, { details: fields.map((path) => ({ path, message: 'champ obligatoire pour cette politique' })) });
}

const quarterParts = z.number().refine((n) => Number.isInteger(n * 4), { message: 'le nombre de parts est un multiple de 0,25 (1 ; 1,25 ; 1,5…)' });

const ajustementSchema = z.strictObject({
  motif: z.string().trim().min(1).max(200),
  enfants: z.number().int().min(0).max(20),
  parts: quarterParts.pipe(z.number().min(0).max(20)).optional(),
});

export function compositionFromSituation(s: SituationFiscale): CompositionFiscale {
  const d = s.detailPac;
  return {
    adultes: nbDeclarantsFoyerFiscal(s.situationFamille),
    enfants: d ? d.enfantsResidenceExclusive : s.nbPac,
    enfantsResidenceAlternee: d ? d.enfantsResidenceAlternee : 0,
    adultesRattaches: d ? d.adultesRattaches : 0,
    autresPersonnesACharge: d ? d.autresInvalides : 0,
    personnesInvalides: d ? d.dontInvalidesResidenceExclusive + d.dontInvalidesResidenceAlternee + d.autresInvalides : 0,
  };
}

function sumCompositions(list: readonly CompositionFiscale[]): CompositionFiscale {
  const zero: CompositionFiscale = {
    adultes: 0,
    enfants: 0,
    enfantsResidenceAlternee: 0,
    adultesRattaches: 0,
    autresPersonnesACharge: 0,
    personnesInvalides: 0,
  };
  return list.reduce(
    (a, c) => ({
      adultes: a.adultes + c.adultes,
      enfants: a.enfants + c.enfants,
      enfantsResidenceAlternee: a.enfantsResidenceAlternee + c.enfantsResidenceAlternee,
      adultesRattaches: a.adultesRattaches + c.adultesRattaches,
      autresPersonnesACharge: a.autresPersonnesACharge + c.autresPersonnesACharge,
      personnesInvalides: a.personnesInvalides + c.personnesInvalides,
    }),
    zero,
  );
}

function parseAjustement(input: AjustementAgent | undefined): AjustementAgent | null {
  if (input === undefined) return null;
  const result = ajustementSchema.safeParse(input, parseOptions);
  if (!result.success) throw invalidInput('ajustement_invalide', 'La correction saisie par l’agent est invalide.', result.error.issues);
  return result.data;
}

/**
 * The base of the QF of one family from its avis: one foyer fiscal, or several (unmarried
 * parents, separate taxation the year of a marriage) combined as the policy says. Situations
 * must be of the same income year: mixing years would compare incomes of different times.
 */
export function baseFromSituations(regle: RegleQuotient, situations: readonly SituationFiscale[], ajustement?: AjustementAgent): BaseQuotient {
  if (situations.length === 0) throw invalid('aucun_avis', 'Aucun avis d’imposition : le quotient familial ne peut pas être calculé.');
  if (situations.length > 1 && regle.plusieursFoyers === 'refuser') {
    throw invalid(
      'plusieurs_foyers_non_prevus',
      'La politique tarifaire de la commune ne prévoit pas de combiner plusieurs foyers fiscaux : la demande doit être examinée par un agent.',
    );
  }
  const annees = new Set(situations.map((s) => s.anneeRevenus));
  if (annees.size > 1) {
    throw invalid(
      'annees_revenus_differentes',
      `Les avis portent sur des années de revenus différentes (${[...annees].sort().join(', ')}) : ils doivent porter sur la même année.`,
    );
  }
  const adj = parseAjustement(ajustement);
  const composition = sumCompositions(situations.map(compositionFromSituation));
  const parts = situations.reduce((sum, s) => sum + s.nbParts, 0) + (adj?.parts ?? 0);
  return {
    revenus: situations.map((s) => s.rfr),
    parts,
    composition: adj ? { ...composition, enfants: composition.enfants + adj.enfants } : composition,
    nbPersonnes: null,
    ajustement: adj,
  };
}

const ressourceSchema = z.strictObject({
  nature: z.string().trim().min(1).max(60),
  euros: z
    .number()
    .min(0, 'une ressource ne peut pas être négative')
    .max(RFR_MAX / 12)
    .refine((x) => eurosToCents(x) !== null, { message: 'montant en euros avec au plus deux décimales' }),
});

const simulationSchema = z
  .strictObject({
    /** Absent for the formula « ressources-personnes », which does not use it. */
    rfr: z
      .number()
      .int('le revenu fiscal de référence est un nombre entier d’euros')
      .min(0, 'le revenu fiscal de référence ne peut pas être négatif')
      .max(RFR_MAX)
      .optional(),
    /** Monthly resources declared (formula « ressources-personnes »). */
    ressources: z.array(ressourceSchema).min(1).max(20).optional(),
    nbParts: quarterParts.pipe(z.number().gt(0, 'le nombre de parts doit être supérieur à 0').max(NB_PARTS_MAX)).optional(),
    nbPersonnes: z
      .number()
      .multipleOf(0.5, 'nombre de personnes entier ou demi (résidence alternée)')
      .gt(0, 'le foyer compte au moins une personne')
      .max(60)
      .optional(),
    adultes: z.number().int().min(1, 'au moins un adulte').max(2, 'au plus deux adultes déclarants').optional(),
    enfants: z.number().int().min(0).max(30).optional(),
  })
  .refine((s) => (s.adultes === undefined) === (s.enfants === undefined), {
    message: 'indiquez à la fois le nombre d’adultes et le nombre d’enfants',
    path: ['enfants'],
  });

export type SimulationInput = z.input<typeof simulationSchema>;

/** The base of a simulation: what a family types into the public simulator or the CLI. */
export function baseFromSimulation(input: SimulationInput): BaseQuotient {
  const result = simulationSchema.safeParse(input, parseOptions);
  if (!result.success) throw invalidInput('simulation_invalide', 'Les données de la simulation sont invalides.', result.error.issues);
  const s = result.data;
  const composition: CompositionFiscale | null =
    s.adultes !== undefined && s.enfants !== undefined
      ? { adultes: s.adultes, enfants: s.enfants, enfantsResidenceAlternee: 0, adultesRattaches: 0, autresPersonnesACharge: 0, personnesInvalides: 0 }
      : null;
  return {
    revenus: s.rfr === undefined ? [] : [s.rfr],
    ressources: s.ressources ? { mensuelles: s.ressources, verifieesPar: null } : null,
    parts: s.nbParts ?? null,
    composition,
    nbPersonnes: s.nbPersonnes ?? null,
    ajustement: null,
  };
}

/** The simulation fields, as named in messages; the CLI and the web simulator map them to their own names. */
export type ChampSimulation = 'rfr' | 'ressources' | 'nbParts' | 'nbPersonnes' | 'composition';

/**
 * What a simulation gives that the policy's formula would not use: typed for nothing, it would
 * mislead the person into thinking it counted. Each with the French reason.
 */
export function champsIgnores(regle: RegleQuotient, input: SimulationInput): Array<{ champ: ChampSimulation; raison: string }> {
  const nom = `la formule « ${regle.formule} »`;
  const donnes: Record<ChampSimulation, boolean> = {
    rfr: input.rfr !== undefined,
    ressources: input.ressources !== undefined,
    nbParts: input.nbParts !== undefined,
    nbPersonnes: input.nbPersonnes !== undefined,
    composition: input.adultes !== undefined || input.enfants !== undefined,
  };
  const utiles: Record<FormuleQuotient, readonly ChampSimulation[]> = {
    'rfr-parts': ['rfr', 'nbParts'],
    'revenu-personnes': donnes.composition ? ['rfr', 'composition'] : ['rfr', 'nbPersonnes'],
    coefficients: ['rfr', 'composition'],
    'ressources-personnes': donnes.composition ? ['ressources', 'composition'] : ['ressources', 'nbPersonnes'],
  };
  const raisons: Record<ChampSimulation, string> = {
    rfr: `${nom} ne divise pas le revenu fiscal de référence mais les ressources mensuelles déclarées`,
    ressources: `${nom} utilise le revenu fiscal de référence de l’avis, pas des ressources déclarées`,
    nbParts: `${nom} ne divise pas par le nombre de parts`,
    nbPersonnes:
      regle.formule === 'revenu-personnes' || regle.formule === 'ressources-personnes'
        ? 'la composition du foyer (adultes et enfants) donne déjà le nombre de personnes : indiquez l’un ou l’autre'
        : `${nom} ne divise pas par le nombre de personnes`,
    composition: `${nom} n’utilise pas la composition du foyer (adultes et enfants)`,
  };
  return (Object.keys(donnes) as ChampSimulation[])
    .filter((c) => donnes[c] && !utiles[regle.formule].includes(c))
    .map((champ) => ({ champ, raison: raisons[champ] }));
}

interface Diviseur {
  readonly valeur: Rational;
  readonly nature: NatureDiviseur;
  readonly texte: string;
}

const pluriel = (n: number, singulier: string, plurielForm = `${singulier}s`) => `${formatNombre(n)} ${n > 1 ? plurielForm : singulier}`;

function monoparental(c: CompositionFiscale): boolean {
  return c.adultes === 1 && c.enfants + c.enfantsResidenceAlternee > 0;
}

function diviseurPersonnes(regle: RegleQuotient, base: BaseQuotient): Diviseur {
  const c = base.composition;
  if (!c) {
    if (base.nbPersonnes === null) {
      throw invalid('personnes_manquantes', 'Cette politique divise les revenus par le nombre de personnes du foyer : indiquez ce nombre.', ['nbPersonnes']);
    }
    return { valeur: rationalFromDecimal(base.nbPersonnes), nature: 'personnes', texte: pluriel(base.nbPersonnes, 'personne') };
  }
  const poids = rationalFromDecimal(regle.residenceAlternee.poidsEnfant);
  const entiers = c.adultes + c.enfants + c.adultesRattaches + c.autresPersonnesACharge;
  const valeur = add(rational(BigInt(entiers)), mul(poids, rational(BigInt(c.enfantsResidenceAlternee))));
  const alternee =
    c.enfantsResidenceAlternee > 0
      ? `, dont ${pluriel(c.enfantsResidenceAlternee, 'enfant')} en résidence alternée compté${c.enfantsResidenceAlternee > 1 ? 's' : ''} pour ${formatNombre(regle.residenceAlternee.poidsEnfant)}`
      : '';
  const n = Number(valeur.n) / Number(valeur.d);
  return { valeur, nature: 'personnes', texte: `${pluriel(n, 'personne')}${alternee}` };
}

function diviseurCoefficients(regle: RegleQuotient, k: Coefficients, base: BaseQuotient): Diviseur {
  const c = base.composition;
  if (!c) {
    throw invalid('composition_manquante', 'Cette politique applique des coefficients par membre du foyer : indiquez le nombre d’adultes et d’enfants.', [
      'adultes',
      'enfants',
    ]);
  }
  const poidsAlternee = rationalFromDecimal(regle.residenceAlternee.poidsEnfant);
  // [count, coefficient, singular label, plural label, extra weight]
  const terms: [number, number, string, string, number | null][] = [
    [c.adultes, k.adulte, 'adulte', 'adultes', null],
    [c.enfants, k.enfant, 'enfant', 'enfants', null],
    [c.enfantsResidenceAlternee, k.enfant, 'enfant en résidence alternée', 'enfants en résidence alternée', regle.residenceAlternee.poidsEnfant],
    [c.adultesRattaches, k.adulteRattache, 'adulte rattaché', 'adultes rattachés', null],
    [c.autresPersonnesACharge, k.autrePersonneACharge, 'autre personne à charge', 'autres personnes à charge', null],
    [c.personnesInvalides, k.majorationInvalidite, 'majoration pour invalidité', 'majorations pour invalidité', null],
    [monoparental(c) ? 1 : 0, k.majorationParentIsole, 'majoration parent isolé', 'majorations parent isolé', null],
  ];
  let valeur = rational(0n);
  const parts: string[] = [];
  for (const [count, coef, singulier, plurielLabel, poids] of terms) {
    if (count === 0 || coef === 0) continue;
    let term = mul(rational(BigInt(count)), rationalFromDecimal(coef));
    if (poids !== null) term = mul(term, poidsAlternee);
    valeur = add(valeur, term);
    const suffix = poids !== null ? ` × ${formatNombre(poids)}` : '';
    parts.push(`${formatNombre(count)} ${count > 1 ? plurielLabel : singulier} × ${formatNombre(coef)}${suffix}`);
  }
  const n = Number(valeur.n) / Number(valeur.d);
  return { valeur, nature: 'coefficients', texte: `${formatNombre(n)} (coefficients : ${parts.join(' + ') || 'aucun'})` };
}

function diviseurParts(base: BaseQuotient): Diviseur {
  if (base.parts === null) {
    throw invalid('parts_manquantes', 'Cette politique divise le revenu fiscal de référence par le nombre de parts : indiquez-le.', ['nbParts']);
  }
  const adj = base.ajustement?.parts
    ? ` dont ${pluriel(base.ajustement.parts, 'part')} ajoutée${base.ajustement.parts > 1 ? 's' : ''} par décision d’un agent (${base.ajustement.motif})`
    : '';
  return { valeur: rationalFromDecimal(base.parts), nature: 'parts', texte: `${pluriel(base.parts, 'part')}${adj}` };
}

function diviseur(regle: RegleQuotient, base: BaseQuotient): Diviseur {
  const recompte = base.revenus.length > 1 && regle.plusieursFoyers === 'somme-rfr-recompte-personnes';
  switch (regle.formule) {
    case 'rfr-parts':
      if (recompte) return diviseurPersonnes(regle, base);
      if (base.ajustement && base.ajustement.enfants > 0 && base.ajustement.parts === undefined) {
        throw invalid('ajustement_parts_manquantes', 'Le quotient se calcule par parts : indiquez les parts à ajouter pour les enfants ajoutés par l’agent.');
      }
      return diviseurParts(base);
    case 'revenu-personnes':
    case 'ressources-personnes':
      return diviseurPersonnes(regle, base);
    case 'coefficients':
      if (!regle.coefficients) throw invalid('coefficients_manquants', 'La politique ne donne pas les coefficients de la formule.');
      return diviseurCoefficients(regle, regle.coefficients, base);
  }
}

const LIBELLES_ARRONDI = {
  centime: { inferieur: 'arrondi au centime inférieur', superieur: 'arrondi au centime supérieur', 'plus-proche': 'arrondi au centime le plus proche' },
  euro: { inferieur: 'arrondi à l’euro inférieur', superieur: 'arrondi à l’euro supérieur', 'plus-proche': 'arrondi à l’euro le plus proche' },
} as const;

/** The QF of a base under the policy's rule. Throws a typed error when the base lacks what the formula needs. */
export function computeQuotientFamilial(regle: RegleQuotient, base: BaseQuotient): QuotientFamilial {
  if (regle.formule === 'ressources-personnes') return quotientRessources(regle, base);
  if (base.revenus.length === 0) {
    throw invalid('rfr_manquant', 'Cette politique divise le revenu fiscal de référence de l’avis : indiquez-le.', ['rfr']);
  }
  for (const r of base.revenus) {
    if (!Number.isSafeInteger(r) || r < 0 || r > RFR_MAX) {
      throw invalid('revenu_invalide', 'Le revenu fiscal de référence doit être un nombre entier d’euros, positif ou nul.');
    }
  }
  const d = diviseur(regle, base);
  if (isZero(d.valeur) || d.valeur.n < 0n) {
    throw invalid('diviseur_nul', `Le quotient ne peut pas être calculé : le diviseur (${d.nature}) doit être supérieur à zéro.`);
  }
  const total = base.revenus.reduce((a, b) => a + b, 0);
  const mois = regle.periode === 'mensuelle' ? 12n : 1n;
  const exact = div(rational(BigInt(total) * 100n), mul(rational(mois), d.valeur));
  const cents = Number(regle.arrondi.unite === 'euro' ? roundToStep(exact, 100n, regle.arrondi.mode) : roundRational(exact, regle.arrondi.mode));

  const revenuTexte =
    base.revenus.length > 1
      ? `revenus fiscaux de référence des ${base.revenus.length} foyers fiscaux additionnés (${base.revenus.map((r) => formatEuros(r * 100, { wholeEuros: true })).join(' + ')} = ${formatEuros(total * 100, { wholeEuros: true })})`
      : `revenu fiscal de référence de ${formatEuros(total * 100, { wholeEuros: true })}`;
  const parMois = regle.periode === 'mensuelle' ? ' ÷ 12 mois' : '';
  const unite = regle.periode === 'mensuelle' ? 'par mois' : 'par an';
  const recompte = base.revenus.length > 1 && regle.formule === 'rfr-parts' && d.nature === 'personnes' ? ', les personnes du foyer étant recomptées' : '';
  const ajoutEnfants =
    base.ajustement && base.ajustement.enfants > 0 && d.nature !== 'parts'
      ? `, dont ${pluriel(base.ajustement.enfants, 'enfant')} ajouté${base.ajustement.enfants > 1 ? 's' : ''} par décision d’un agent (${base.ajustement.motif})`
      : '';
  const explication =
    `Quotient familial = ${revenuTexte}${parMois} ÷ ${d.texte}${ajoutEnfants}${recompte} = ` +
    `${formatEuros(cents)} ${unite} (${LIBELLES_ARRONDI[regle.arrondi.unite][regle.arrondi.mode]}).`;

  return {
    cents,
    periode: regle.periode,
    formule: regle.formule,
    revenuEuros: total,
    diviseur: Number(d.valeur.n) / Number(d.valeur.d),
    natureDiviseur: d.nature,
    nbFoyersFiscaux: base.revenus.length,
    origineRevenus: 'dgfip',
    revenusVerifies: true,
    explication,
  };
}

/**
 * Clamart's formula: the monthly resources the family declared (all of them, added) ÷ persons.
 * Exact in cents; the sentence names them as declared and says whether an agent checked them.
 */
function quotientRessources(regle: RegleQuotient, base: BaseQuotient): QuotientFamilial {
  const r = base.ressources;
  if (!r || r.mensuelles.length === 0) {
    throw invalid(
      'ressources_manquantes',
      'Cette politique divise les ressources mensuelles déclarées par la famille par le nombre de personnes : indiquez ces ressources.',
      ['ressources'],
    );
  }
  const centimes = r.mensuelles.map((m) => eurosToCents(m.euros) ?? -1);
  if (centimes.some((c) => c < 0)) {
    throw invalid('ressources_invalides', 'Chaque ressource déclarée est un montant mensuel en euros, positif ou nul, avec au plus deux décimales.');
  }
  const d = diviseurPersonnes(regle, base);
  if (isZero(d.valeur) || d.valeur.n < 0n) throw invalid('diviseur_nul', 'Le quotient ne peut pas être calculé : le foyer doit compter au moins une personne.');
  const totalCents = centimes.reduce((a, b) => a + b, 0);
  const parAn = regle.periode === 'annuelle' ? 12n : 1n;
  const exact = div(rational(BigInt(totalCents) * parAn), d.valeur);
  const cents = Number(regle.arrondi.unite === 'euro' ? roundToStep(exact, 100n, regle.arrondi.mode) : roundRational(exact, regle.arrondi.mode));
  const detail = r.mensuelles.map((m, i) => `${m.nature} ${formatEuros(centimes[i] ?? 0)}`).join(' + ');
  const somme = r.mensuelles.length > 1 ? `${detail} = ${formatEuros(totalCents)}` : detail;
  const verification = r.verifieesPar ? `vérifiées par ${r.verifieesPar}` : 'pas encore vérifiées par un agent';
  const unite = regle.periode === 'mensuelle' ? 'par mois' : 'par an';
  const explication =
    `Quotient familial = ressources mensuelles déclarées par la famille (${somme} ; ${verification} ; aucune donnée de la DGFiP)` +
    `${regle.periode === 'annuelle' ? ' × 12 mois' : ''} ÷ ${d.texte} = ${formatEuros(cents)} ${unite} (${LIBELLES_ARRONDI[regle.arrondi.unite][regle.arrondi.mode]}).`;
  return {
    cents,
    periode: regle.periode,
    formule: regle.formule,
    revenuEuros: totalCents / 100,
    diviseur: Number(d.valeur.n) / Number(d.valeur.d),
    natureDiviseur: d.nature,
    nbFoyersFiscaux: 0,
    origineRevenus: 'declaration',
    revenusVerifies: r.verifieesPar !== null,
    explication,
  };
}

/** The QF of a family from its avis, in one call. */
export function quotientFromSituations(politique: PolitiqueTarifaire, situations: readonly SituationFiscale[], ajustement?: AjustementAgent): QuotientFamilial {
  return computeQuotientFamilial(politique.quotient, baseFromSituations(politique.quotient, situations, ajustement));
}

/**
 * Alternating residence between separated parents: one QF per parent, each from its own avis
 * (children in alternating residence counted with the policy's weight), each parent being billed
 * on its own QF for its own weeks.
 */
export function quotientsResidenceAlternee(
  politique: PolitiqueTarifaire,
  parent1: readonly SituationFiscale[],
  parent2: readonly SituationFiscale[],
): readonly [QuotientFamilial, QuotientFamilial] {
  return [quotientFromSituations(politique, parent1), quotientFromSituations(politique, parent2)];
}
