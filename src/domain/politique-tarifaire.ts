import { z } from 'zod';
import { SOURCES_QUOTIENT } from './choix-quotient.ts';
import { isIsoDate } from './dates.ts';
import { QuotientError, type ErrorDetail } from './errors.ts';
import { eurosToCents, formatEuros, MODES_ARRONDI, rationalFromDecimal } from './money.ts';
import { ressembleANumeroFiscal, ressembleANumeroFiscalHorsAdresses } from './numero-fiscal.ts';
import { formatFieldPath, invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The politique tarifaire: what a council délibération fixes, as data an administrator can read
 * (usually a YAML file, parsed outside the domain). One value = one version of the policy; a
 * commune keeps several and `politiqueInForce` picks the one of a date.
 *
 * Amounts are written in euros (as in the délibération) with at most two decimals, so that the
 * conversion to cents is exact; every computation then works in cents.
 */

export const FORMULES = ['rfr-parts', 'revenu-personnes', 'coefficients', 'ressources-personnes'] as const;
export type FormuleQuotient = (typeof FORMULES)[number];

/**
 * The formulas computed from the DGFiP's data (the RFR of the avis). `ressources-personnes` divides
 * the monthly resources the family declared, checked by an agent: no DGFiP data enters it.
 */
export const FORMULES_DGFIP: readonly FormuleQuotient[] = ['rfr-parts', 'revenu-personnes', 'coefficients'];

export function formuleDgfip(formule: FormuleQuotient): boolean {
  return FORMULES_DGFIP.includes(formule);
}

export const COMBINAISONS_FOYERS_FISCAUX = ['somme-rfr-somme-parts', 'somme-rfr-recompte-personnes', 'refuser'] as const;
export type CombinaisonFoyersFiscaux = (typeof COMBINAISONS_FOYERS_FISCAUX)[number];

export const UNITES = ['repas', 'heure', 'demi-journee', 'journee', 'seance', 'semaine', 'mois', 'trimestre', 'annee', 'forfait'] as const;
export type Unite = (typeof UNITES)[number];

export const LIBELLES_UNITES: Record<Unite, string> = {
  repas: 'repas',
  heure: 'heure',
  'demi-journee': 'demi-journée',
  journee: 'journée',
  seance: 'séance',
  semaine: 'semaine',
  mois: 'mois',
  trimestre: 'trimestre',
  annee: 'année',
  forfait: 'forfait',
};

/** Ceiling of any price or QF bound, far above reality; keeps cents within safe integers. */
const MONTANT_MAX = 1_000_000;

const texte = (max: number) => z.string().trim().min(1).max(max);

const montant = z
  .number()
  .min(0, 'un montant ne peut pas être négatif')
  .max(MONTANT_MAX)
  .refine((x) => eurosToCents(x) !== null, { message: 'montant en euros avec au plus deux décimales (centimes)' });

const dateIso = z.string().refine(isIsoDate, { message: 'date attendue au format AAAA-MM-JJ (date réelle du calendrier)' });

/** A decimal written with at most 4 decimals (0.36 %, coefficient 0.5): exact as a fraction. */
const decimal = (message: string) => z.number().refine((x) => Number.isFinite(x) && 10_000n % rationalFromDecimal(x).d === 0n, { message });

const coefficient = decimal('coefficient avec au plus quatre décimales').pipe(z.number().min(0).max(10));

const coefficientsSchema = z.strictObject({
  /** Each declarant of the foyer. */
  adulte: coefficient,
  /** Each child at charge living in the foyer. */
  enfant: coefficient,
  /** Each adult child attached to the foyer (boxes J, N). */
  adulteRattache: coefficient,
  /** Each other person at charge (box R). */
  autrePersonneACharge: coefficient,
  /** Added once when one adult lives alone with children. */
  majorationParentIsole: coefficient,
  /** Added for each disabled person at charge (boxes G, I, R). */
  majorationInvalidite: coefficient,
});

export const regleQuotientSchema = z
  .strictObject({
    formule: z.enum(FORMULES),
    /** Which QF prices the family (see `choix-quotient.ts`); default the avis d'imposition's. */
    source: z.enum(SOURCES_QUOTIENT).default('fiscal'),
    coefficients: coefficientsSchema.optional(),
    periode: z.enum(['mensuelle', 'annuelle']),
    arrondi: z.strictObject({ unite: z.enum(['centime', 'euro']), mode: z.enum(MODES_ARRONDI) }),
    /** Income year = year the validity period starts − `ecart`; `repli` also accepts the year before. */
    anneeRevenus: z.strictObject({ ecart: z.number().int().min(0).max(3), repliAnneePrecedente: z.boolean() }),
    plusieursFoyers: z.enum(COMBINAISONS_FOYERS_FISCAUX),
    /** How much a child in alternating residence counts, in persons or coefficients (0.5 = half). */
    residenceAlternee: z.strictObject({ poidsEnfant: decimal('poids avec au plus quatre décimales').pipe(z.number().min(0).max(1)) }),
    dureeValidite: z.enum(['annee-scolaire', 'annee-civile']),
    /** First day of the school year, `MM-JJ`. */
    debutAnneeScolaire: z
      .string()
      .regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$/, 'jour de l’année attendu au format MM-JJ (par exemple 09-01)')
      .refine((v) => isIsoDate(`2001-${v}`), { message: 'ce jour n’existe pas (un 29 février ne convient pas)' })
      .default('09-01'),
    priseEffet: z.enum(['date-de-la-demande', 'premier-jour-du-mois-suivant']),
    retroactivite: z.boolean(),
  })
  .superRefine((q, ctx) => {
    if (q.formule === 'coefficients' && !q.coefficients) {
      ctx.addIssue({ code: 'custom', path: ['coefficients'], message: 'champ obligatoire avec la formule « coefficients »' });
    }
    if (q.formule !== 'coefficients' && q.coefficients) {
      ctx.addIssue({
        code: 'custom',
        path: ['coefficients'],
        message: `inutile avec la formule « ${q.formule} » : retirez-le ou choisissez la formule « coefficients »`,
      });
    }
    if (q.source !== 'fiscal' && q.periode !== 'mensuelle') {
      ctx.addIssue({
        code: 'custom',
        path: ['periode'],
        message: `le quotient de la CAF et de la MSA est mensuel : avec la source « ${q.source} », la période doit être « mensuelle »`,
      });
    }
    if (q.plusieursFoyers === 'somme-rfr-somme-parts' && q.formule !== 'rfr-parts') {
      ctx.addIssue({ code: 'custom', path: ['plusieursFoyers'], message: 'additionner les parts n’a de sens qu’avec la formule « rfr-parts »' });
    }
  });

const tauxEffortSchema = z
  .strictObject({
    type: z.literal('taux-effort'),
    /** Percent of the QF: 0.36 means 0.36 %. */
    taux: decimal('taux en pourcentage avec au plus quatre décimales (0.36 pour 0,36 %)').pipe(z.number().gt(0).max(100)),
    plancher: montant,
    plafond: montant,
  })
  .superRefine((g, ctx) => {
    if (g.plancher > g.plafond) {
      ctx.addIssue({ code: 'custom', path: ['plafond'], message: `le plafond (${g.plafond} €) est inférieur au plancher (${g.plancher} €)` });
    }
  });

/** What a text of the policy (a label, a name, a comment) says when it is shaped like a numéro fiscal. */
export const TEXTE_NUMERO_FISCAL_POLITIQUE =
  'ce texte ressemble à un numéro fiscal : retirez-le. Les textes de la politique tarifaire sont enregistrés et montrés aux familles ; un numéro fiscal n’y a jamais sa place.';

const trancheSchema = z.strictObject({
  code: z.union([texte(20), z.number().int().min(0)]).transform(String),
  libelle: texte(100).optional(),
  /** QF bounds in euros; see `borneIncluse`. The last bracket has no `max`. */
  min: montant,
  max: montant.optional(),
  prix: montant,
});

const tranchesSchema = z
  .strictObject({
    type: z.literal('tranches'),
    /** Which bound belongs to the bracket: `min` (100 ≤ QF < 300) or `max` (100 < QF ≤ 300). */
    borneIncluse: z.enum(['min', 'max']),
    /**
     * `ouverte`: the last bracket has no `max`. `plafonnee`: the délibération's grid stops at a
     * `max` (Paris); a higher QF pays the last bracket's price, so every QF still has one.
     */
    derniereTranche: z.enum(['ouverte', 'plafonnee']).default('ouverte'),
    tranches: z.array(trancheSchema).min(1),
  })
  .superRefine((g, ctx) => {
    const euros = (x: number) => formatEuros(eurosToCents(x) ?? 0, { wholeEuros: true });
    const seen = new Set<string>();
    g.tranches.forEach((t, i) => {
      const at = (field: string) => ['tranches', i, field];
      if (seen.has(t.code)) ctx.addIssue({ code: 'custom', path: at('code'), message: `le code « ${t.code} » est déjà utilisé par une autre tranche` });
      seen.add(t.code);
      if (t.max !== undefined && t.max <= t.min) {
        ctx.addIssue({ code: 'custom', path: at('max'), message: `le maximum (${euros(t.max)}) doit dépasser le minimum (${euros(t.min)})` });
      }
      if (i === 0) {
        if (t.min !== 0)
          ctx.addIssue({
            code: 'custom',
            path: at('min'),
            message: `la première tranche doit commencer à 0 €, pas à ${euros(t.min)} : les quotients plus bas n’auraient pas de tarif`,
          });
      } else {
        const previous = g.tranches[i - 1];
        if (previous && previous.max !== undefined && t.min !== previous.max) {
          ctx.addIssue({
            code: 'custom',
            path: at('min'),
            message:
              t.min < previous.max
                ? `chevauche la tranche précédente : elle commence à ${euros(t.min)} alors que la précédente va jusqu’à ${euros(previous.max)}`
                : `laisse un trou entre ${euros(previous.max)} et ${euros(t.min)} : la tranche doit commencer où finit la précédente`,
          });
        }
      }
      const last = i === g.tranches.length - 1;
      if (!last && t.max === undefined) {
        ctx.addIssue({ code: 'custom', path: at('max'), message: 'champ obligatoire : seule la dernière tranche est sans maximum' });
      }
      if (last && t.max !== undefined && g.derniereTranche === 'ouverte') {
        ctx.addIssue({
          code: 'custom',
          path: at('max'),
          message:
            'la dernière tranche doit rester ouverte (sans maximum) pour couvrir tous les quotients ; si la grille de la délibération s’arrête à ce maximum, écrivez « derniereTranche: plafonnee » dans la grille',
        });
      }
      if (last && t.max === undefined && g.derniereTranche === 'plafonnee') {
        ctx.addIssue({
          code: 'custom',
          path: at('max'),
          message:
            'champ obligatoire avec « derniereTranche: plafonnee » : le maximum de la dernière tranche, au-delà duquel son tarif continue de s’appliquer',
        });
      }
    });
  });

const reductionRangSchema = z.strictObject({
  /** From this child rank on (2 = second child). */
  rang: z.number().int().min(2).max(20),
  pourcentage: decimal('pourcentage avec au plus quatre décimales').pipe(z.number().gt(0).max(100)),
});

/** Words that name an accueil du jeune enfant (EAJE) in an activity's id or label. */
const MOTS_EAJE = /cr[eè]che|halte[- ]garderie|multi[- ]?accueil|\beaje\b|accueil du jeune enfant|jardin d[’']enfants/i;

/** An EAJE activity: marked `eaje: true`, or named like one (the restriction must not hang on a forgotten flag). */
export function activiteEaje(a: { readonly id: string; readonly libelle: string; readonly eaje?: boolean | undefined }): boolean {
  return a.eaje === true || MOTS_EAJE.test(a.id) || MOTS_EAJE.test(a.libelle);
}

/** Why an EAJE activity cannot be priced on a QF computed from the DGFiP's data. */
export const MESSAGE_EAJE_DGFIP =
  'une activité d’accueil du jeune enfant (crèche, halte-garderie, multi-accueil : EAJE) ne peut pas être tarifée sur un quotient calculé avec les données de la DGFiP : les conditions d’utilisation de l’API excluent les EAJE, dont la participation des familles suit le barème national de la CNAF. Retirez cette activité de la politique, ou tarifez-la dans une politique à la formule « ressources-personnes » (ressources déclarées par la famille)';

const conditionRegleSchema = z
  .strictObject({
    /** Registration after the deadline the commune set (Roncq: +2,50 € when not pre-registered in time). */
    inscriptionTardive: z.boolean().optional(),
    /** true: families living in the commune; false: the others. */
    resident: z.boolean().optional(),
    /** Child rank among the family's children enrolled, both bounds included (1 = first child). */
    rangMin: z.number().int().min(1).max(20).optional(),
    rangMax: z.number().int().min(1).max(20).optional(),
    /** true: the family has no QF on file (the default price applies). */
    sansQuotient: z.boolean().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.rangMin !== undefined && c.rangMax !== undefined && c.rangMax < c.rangMin) {
      ctx.addIssue({ code: 'custom', path: ['rangMax'], message: `le rang maximum (${c.rangMax}) est inférieur au rang minimum (${c.rangMin})` });
    }
  });

export const EFFETS_REGLE = ['ajout', 'remise', 'majoration', 'reduction'] as const;
export type EffetRegle = (typeof EFFETS_REGLE)[number];

const pourcentageRegle = decimal('pourcentage avec au plus quatre décimales').pipe(z.number().gt(0).max(100));

const regleSchema = z
  .strictObject({
    libelle: texte(120),
    /** All the conditions written must hold; none written = always. */
    si: conditionRegleSchema.default({}),
    /** Activities the rule applies to; absent = every activity. */
    activites: z.array(z.string()).min(1).optional(),
    /** Euros added to the unit price. */
    ajout: montant.optional(),
    /** Euros taken off the unit price (never below 0 €). */
    remise: montant.optional(),
    /** Percent added to the unit price. */
    majoration: pourcentageRegle.optional(),
    /** Percent taken off the unit price. */
    reduction: pourcentageRegle.optional(),
  })
  .superRefine((r, ctx) => {
    const effets = EFFETS_REGLE.filter((e) => r[e] !== undefined);
    if (effets.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message:
          effets.length === 0
            ? 'indiquez l’effet de la règle : « ajout » (euros ajoutés), « remise » (euros retirés), « majoration » ou « reduction » (en pourcentage)'
            : `une règle n’a qu’un effet : choisissez entre ${effets.map((e) => `« ${e} »`).join(' et ')} (écrivez deux règles au besoin)`,
      });
    }
  });

const activiteSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,59}$/, 'identifiant en minuscules, chiffres et tirets (par exemple restauration-scolaire)'),
  libelle: texte(120),
  unite: z.enum(UNITES),
  grille: z.discriminatedUnion('type', [tauxEffortSchema, tranchesSchema]),
  /** An accueil du jeune enfant (crèche): never priced on the DGFiP's data, see `MESSAGE_EAJE_DGFIP`. */
  eaje: z.boolean().optional(),
  /** Flat price for families living outside the commune, whatever their QF. Absent: the grid applies to them too. */
  prixNonResident: montant.optional(),
  /** Price when no QF is known. Absent: the highest price of the grid. */
  prixSansQuotient: montant.optional(),
  /** Reductions by child rank; they apply to the grid price and the default price, not to the flat non-resident price. */
  reductionsRang: z
    .array(reductionRangSchema)
    .default([])
    .superRefine((list, ctx) => {
      list.forEach((r, i) => {
        const previous = list[i - 1];
        if (previous && r.rang <= previous.rang) {
          ctx.addIssue({ code: 'custom', path: [i, 'rang'], message: 'les rangs doivent être donnés dans l’ordre croissant, sans doublon' });
        }
      });
    }),
});

export const politiqueTarifaireSchema = z
  .strictObject({
    /** Version of this file format (not of the policy). */
    format: z.literal(1),
    commune: z.strictObject({
      nom: texte(120),
      codeInsee: z.string().regex(/^(?:[0-9]{5}|2[AB][0-9]{3})$/, 'code INSEE à 5 caractères, entre guillemets (ex. "92012")'),
    }),
    deliberation: z
      .strictObject({
        numero: texte(60).optional(),
        date: dateIso.optional(),
        intitule: texte(300).optional(),
        source: texte(500).optional(),
      })
      .refine((d) => d.numero !== undefined || d.date !== undefined || d.source !== undefined, {
        message: 'indiquez au moins le numéro, la date ou la source de la délibération',
      }),
    /** The days this version applies to; `au` absent = until a later version. */
    validite: z.strictObject({ du: dateIso, au: dateIso.optional() }).superRefine((v, ctx) => {
      if (v.au !== undefined && v.au < v.du) ctx.addIssue({ code: 'custom', path: ['au'], message: 'la fin de validité précède son début' });
    }),
    quotient: regleQuotientSchema,
    /** Rounding to the cent of computed prices (taux d'effort, reductions). */
    arrondiPrix: z.enum(MODES_ARRONDI),
    activites: z.array(activiteSchema).min(1),
    /** Surcharges and reductions, applied in this order after the grid (or flat) price and the child-rank reductions. */
    regles: z.array(regleSchema).default([]),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.activites.forEach((a, i) => {
      if (seen.has(a.id))
        ctx.addIssue({ code: 'custom', path: ['activites', i, 'id'], message: `l’identifiant « ${a.id} » est déjà utilisé par une autre activité` });
      seen.add(a.id);
      if (formuleDgfip(p.quotient.formule) && activiteEaje(a)) {
        ctx.addIssue({ code: 'custom', path: ['activites', i, a.eaje === true ? 'eaje' : 'libelle'], message: MESSAGE_EAJE_DGFIP });
      }
    });
    p.regles.forEach((r, i) => {
      r.activites?.forEach((id, j) => {
        if (!seen.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['regles', i, 'activites', j],
            message: `aucune activité n’a l’identifiant « ${id} » ; identifiants possibles : ${[...seen].map((x) => `« ${x} »`).join(', ')}`,
          });
        }
      });
    });
  });

export type PolitiqueTarifaire = z.output<typeof politiqueTarifaireSchema>;
export type PolitiqueTarifaireInput = z.input<typeof politiqueTarifaireSchema>;
export type RegleQuotient = PolitiqueTarifaire['quotient'];
export type Coefficients = z.output<typeof coefficientsSchema>;
export type Activite = PolitiqueTarifaire['activites'][number];
export type Grille = Activite['grille'];
export type GrilleTauxEffort = Extract<Grille, { type: 'taux-effort' }>;
export type GrilleTranches = Extract<Grille, { type: 'tranches' }>;
export type Tranche = GrilleTranches['tranches'][number];
export type RegleTarif = PolitiqueTarifaire['regles'][number];

/** What an integer says when its digits are a numéro fiscal's (no amount, rate or rank of a policy has 13 digits; a tranche's code is shown as text). */
export const NOMBRE_NUMERO_FISCAL_POLITIQUE = 'ce nombre ressemble à un numéro fiscal : retirez-le.';

/** What a field's name (a key of the file) says when it is shaped like a numéro fiscal; the key itself is never quoted. */
export const CLE_NUMERO_FISCAL_POLITIQUE = 'le nom d’un champ ici ressemble à un numéro fiscal : retirez-le.';

/** Far deeper than any policy: a deeper value is left to the schema, which refuses it. */
const PROFONDEUR_MAX = 64;

/**
 * The one normaliser of free text (`ressembleANumeroFiscal`), applied to every text of a policy
 * given as a plain object: each string, at any depth, and each field's name. A policy cites its
 * sources by their web address: the slashes of an address are not separators between digits
 * (`ressembleANumeroFiscalHorsAdresses`). Numbers stay numbers, but an integer whose digits are
 * a numéro fiscal's is refused too (a tranche's numeric code is shown as text). One detail per
 * field, naming its path, never its value.
 */
export function textesNumeroFiscalPolitique(input: unknown): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  const pile: Array<{ valeur: unknown; chemin: PropertyKey[] }> = [{ valeur: input, chemin: [] }];
  while (pile.length > 0) {
    const { valeur, chemin } = pile.pop() as { valeur: unknown; chemin: PropertyKey[] };
    if (typeof valeur === 'string') {
      if (ressembleANumeroFiscalHorsAdresses(valeur)) details.push({ path: formatFieldPath(chemin), message: TEXTE_NUMERO_FISCAL_POLITIQUE });
    } else if (typeof valeur === 'number') {
      // An integer only: a decimal's digits are an amount's, whatever float noise its writing shows; the schema bounds it.
      if (Number.isSafeInteger(valeur) && ressembleANumeroFiscal(String(valeur)))
        details.push({ path: formatFieldPath(chemin), message: NOMBRE_NUMERO_FISCAL_POLITIQUE });
    } else if (valeur !== null && typeof valeur === 'object' && chemin.length < PROFONDEUR_MAX) {
      const entrees: Array<[PropertyKey, unknown]> = Array.isArray(valeur) ? valeur.map((v, i) => [i, v]) : Object.entries(valeur);
      if (!Array.isArray(valeur) && entrees.some(([cle]) => ressembleANumeroFiscal(String(cle))))
        details.push({ path: formatFieldPath(chemin), message: CLE_NUMERO_FISCAL_POLITIQUE });
      // Reversed onto the stack: the details come in the order of the file.
      for (const [cle, v] of entrees.reverse()) if (!ressembleANumeroFiscal(String(cle))) pile.push({ valeur: v, chemin: [...chemin, cle] });
    }
  }
  return details;
}

/** The code of a policy refused for a text shaped like a numéro fiscal: that text is never shown back. */
export const CODE_POLITIQUE_NUMERO_FISCAL = 'politique_numero_fiscal';

/** The policy refused for a text shaped like a numéro fiscal: typed for programs, French for people, the fields named. */
export function politiqueNumeroFiscal(details: ErrorDetail[]): QuotientError {
  return new QuotientError(
    'invalid',
    CODE_POLITIQUE_NUMERO_FISCAL,
    'La politique tarifaire contient un texte qui ressemble à un numéro fiscal : retirez-le des champs indiqués.',
    { details },
  );
}

/**
 * Validates a policy given as a plain object (a parsed YAML file, a database row). Throws a
 * `QuotientError` (`invalid`, `politique_tarifaire_invalide`) with one detail per faulty field;
 * first, `politique_numero_fiscal` when a text of it is shaped like a numéro fiscal (the other
 * checks' messages may quote a value: none runs on such a text).
 */
export function parsePolitiqueTarifaire(input: unknown): PolitiqueTarifaire {
  const numeros = textesNumeroFiscalPolitique(input);
  if (numeros.length > 0) throw politiqueNumeroFiscal(numeros);
  const result = politiqueTarifaireSchema.safeParse(input, parseOptions);
  if (!result.success) {
    throw invalidInput('politique_tarifaire_invalide', 'La politique tarifaire est invalide : corrigez les champs indiqués.', result.error.issues);
  }
  return result.data;
}

/** The version in force on a date: the latest start among those whose period covers it. */
export function politiqueInForce(politiques: readonly PolitiqueTarifaire[], date: string): PolitiqueTarifaire | null {
  let best: PolitiqueTarifaire | null = null;
  for (const p of politiques) {
    if (p.validite.du > date || (p.validite.au !== undefined && p.validite.au < date)) continue;
    if (!best || p.validite.du > best.validite.du) best = p;
  }
  return best;
}

export function findActivite(politique: PolitiqueTarifaire, id: string): Activite | undefined {
  return politique.activites.find((a) => a.id === id);
}
