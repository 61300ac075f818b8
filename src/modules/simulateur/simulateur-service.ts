import { isQuotientError } from '../../domain/errors.ts';
import { formatNombre } from '../../domain/money.ts';
import type { Activite, PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { baseFromSimulation, computeQuotientFamilial, type QuotientFamilial, type SimulationInput } from '../../domain/quotient-familial.ts';
import { NB_PARTS_MAX, RFR_MAX } from '../../domain/situation-fiscale.ts';
import { gridPrice, priceActivites, type PrixActivite } from '../../domain/tarification.ts';
import { anneesRevenusAcceptees, periodeValidite } from '../../domain/validite-quotient.ts';

/**
 * The public simulator: what a family typed (query parameters, as strings) becomes either a list
 * of field errors in French or a QF with the price of each activity. Nothing here is stored.
 */

/** The form fields; their names are also the query parameters, visible in the address bar. */
export type Champ = 'rfr' | 'parts' | 'personnes' | 'adultes' | 'enfants' | 'rang';

export const PARAM_HORS_COMMUNE = 'hors-commune';

export const LIBELLES_CHAMPS: Record<Champ, string> = {
  rfr: 'Revenu fiscal de référence',
  parts: 'Nombre de parts',
  personnes: 'Nombre de personnes du foyer',
  adultes: 'Nombre d’adultes du foyer',
  enfants: 'Nombre d’enfants à charge',
  rang: 'Rang de l’enfant',
};

/** What the form asks, decided by the policy: its formula, and whether rank or residence matter. */
export interface Formulaire {
  readonly champs: readonly Champ[];
  readonly horsCommune: boolean;
  /** Highest child rank that changes a price (1 when no reduction exists). */
  readonly rangMax: number;
}

export function formulaireFor(politique: PolitiqueTarifaire): Formulaire {
  const diviseur: Champ[] =
    politique.quotient.formule === 'rfr-parts' ? ['parts'] : politique.quotient.formule === 'revenu-personnes' ? ['personnes'] : ['adultes', 'enfants'];
  const rangMax = Math.max(1, ...politique.activites.flatMap((a) => a.reductionsRang.map((r) => r.rang)));
  return {
    champs: ['rfr', ...diviseur, ...(rangMax > 1 ? (['rang'] as const) : [])],
    horsCommune: politique.activites.some((a) => a.prixNonResident !== undefined),
    rangMax,
  };
}

/** What the person typed, kept as typed so that the form shows it back. */
export interface Saisie {
  readonly valeurs: Partial<Record<Champ, string>>;
  readonly horsCommune: boolean;
}

export interface ErreurChamp {
  /** Null for a problem that no single field explains. */
  readonly champ: Champ | null;
  readonly message: string;
}

export interface LignePrix {
  readonly prix: PrixActivite;
  /** « Tranche 3 », « Taux d’effort 0,36 % (prix plancher) », « Tarif hors commune ». */
  readonly base: string;
}

export interface Estimation {
  readonly quotient: QuotientFamilial;
  readonly lignes: readonly LignePrix[];
  readonly resident: boolean;
  readonly rang: number;
}

export type Issue =
  | { readonly kind: 'vide' }
  | { readonly kind: 'erreurs'; readonly saisie: Saisie; readonly erreurs: readonly ErreurChamp[] }
  | { readonly kind: 'estimation'; readonly saisie: Saisie; readonly estimation: Estimation };

/** Longer than any number a person types; anything longer is not worth parsing. */
const MAX_LENGTH = 40;
const SPACES = /[\s\u00a0\u202f\u2009]/g;

type Lecture = { ok: true; value: number } | { ok: false; message: string };
const fail = (message: string): Lecture => ({ ok: false, message });

/**
 * The RFR as French people type it: `48000`, `48 000`, `48 000 €`, `48 000,00`. A point or a
 * comma followed by three digits (`48.000`, `48,000`) could be a thousands separator or a decimal
 * mark: it is refused with a hint rather than guessed.
 */
function lireRfr(raw: string): Lecture {
  const text = raw.replace(SPACES, '').replace(/(€|euros?|eur)$/i, '');
  const example = 'par exemple 48 000';
  if (/^-\d/.test(text)) return fail('Le revenu fiscal de référence ne peut pas être négatif.');
  if (/^\d+[.,]\d{3}$/.test(text) || /^\d{1,3}(\.\d{3})+$/.test(text)) {
    return fail(`Saisissez le montant sans point ni virgule entre les milliers, ${example}.`);
  }
  const match = /^(\d+)(?:,(\d{1,2}))?$/.exec(text);
  if (!match) return fail(`Saisissez le revenu fiscal de référence en chiffres, ${example}.`);
  const [, euros = '', centimes = ''] = match;
  if (/[1-9]/.test(centimes)) return fail(`Saisissez le montant en euros, sans les centimes, comme sur l’avis (${example}).`);
  const digits = euros.replace(/^0+(?=\d)/, '');
  if (digits.length > String(RFR_MAX).length || Number(digits) > RFR_MAX)
    return fail('Ce montant est trop élevé : vérifiez le revenu fiscal de référence saisi.');
  return { ok: true, value: Number(digits) };
}

/** Parts go by quarters: `1`, `1,25`, `2.5`, `3 parts`. */
function lireParts(raw: string): Lecture {
  const text = raw.replace(SPACES, '').replace(/parts?$/i, '');
  if (/^-\d/.test(text)) return fail('Le nombre de parts ne peut pas être négatif.');
  const match = /^(\d+)(?:[.,](\d+))?$/.exec(text);
  if (!match) return fail('Saisissez le nombre de parts en chiffres, par exemple 2 ou 2,5.');
  const [, entier = '', decimales = ''] = match;
  const value = Number(`${entier}.${decimales || '0'}`);
  if (entier.replace(/^0+(?=\d)/, '').length > 3 || value > NB_PARTS_MAX) return fail('Ce nombre de parts est trop élevé : vérifiez la valeur saisie.');
  if (value === 0) return fail('Le nombre de parts doit être supérieur à 0 : une personne seule a au moins 1 part.');
  if (decimales.replace(/0+$/, '').length > 2 || !Number.isInteger(value * 4)) {
    return fail('Le nombre de parts va de quart en quart (1\u00a0; 1,25\u00a0; 1,5\u00a0; 2\u00a0; 2,5…) : vérifiez la valeur sur votre avis.');
  }
  return { ok: true, value };
}

function lireEntier(raw: string, bornes: { min: number; max: number; nom: string; exemple: string; tropPetit: string }): Lecture {
  const text = raw.replace(SPACES, '');
  if (/^-\d/.test(text)) return fail(bornes.tropPetit);
  if (!/^\d+$/.test(text)) return fail(`Saisissez un nombre entier ${bornes.nom}, par exemple ${bornes.exemple}.`);
  const value = Number(text.replace(/^0+(?=\d)/, '').slice(0, 6));
  if (text.replace(/^0+(?=\d)/, '').length > 6 || value > bornes.max) return fail(`Ce nombre ${bornes.nom} est trop élevé : vérifiez la valeur saisie.`);
  if (value < bornes.min) return fail(bornes.tropPetit);
  return { ok: true, value };
}

const MESSAGES_VIDE: Record<Champ, string> = {
  rfr: 'Indiquez votre revenu fiscal de référence, en euros (0 si votre avis indique 0).',
  parts: 'Indiquez le nombre de parts de votre avis d’imposition, par exemple 2 ou 2,5.',
  personnes: 'Indiquez le nombre de personnes de votre foyer, vous compris.',
  adultes: 'Indiquez le nombre d’adultes du foyer : 1 ou 2.',
  enfants: 'Indiquez le nombre d’enfants à charge, 0 s’il n’y en a pas.',
  rang: 'Choisissez le rang de l’enfant dans la liste.',
};

function lire(champ: Champ, raw: string, formulaire: Formulaire): Lecture {
  switch (champ) {
    case 'rfr':
      return lireRfr(raw);
    case 'parts':
      return lireParts(raw);
    case 'personnes':
      return lireEntier(raw, { min: 1, max: 60, nom: 'de personnes', exemple: '4', tropPetit: 'Le foyer compte au moins une personne : vous.' });
    case 'adultes':
      return lireEntier(raw, { min: 1, max: 2, nom: 'd’adultes', exemple: '2', tropPetit: 'Le foyer compte au moins un adulte.' });
    case 'enfants':
      return lireEntier(raw, { min: 0, max: 30, nom: 'd’enfants', exemple: '2', tropPetit: 'Le nombre d’enfants ne peut pas être négatif.' });
    case 'rang': {
      const lecture = lireEntier(raw, { min: 1, max: formulaire.rangMax, nom: 'de rang', exemple: '1', tropPetit: MESSAGES_VIDE.rang });
      return lecture.ok ? lecture : fail(MESSAGES_VIDE.rang);
    }
  }
}

/** Domain field names (errors of `baseFromSimulation`) to the form's. */
const CHAMPS_DOMAINE: Record<string, Champ> = { rfr: 'rfr', nbParts: 'parts', nbPersonnes: 'personnes', adultes: 'adultes', enfants: 'enfants' };

function baseLabel(activite: Activite | undefined, prix: PrixActivite, quotient: QuotientFamilial, politique: PolitiqueTarifaire): string {
  if (prix.origine === 'non-resident') return 'Tarif hors commune';
  if (!activite) return '—';
  const grille = activite.grille;
  if (grille.type === 'tranches') {
    const tranche = grille.tranches.find((t) => t.code === prix.tranche);
    return tranche?.libelle ?? `Tranche ${prix.tranche ?? '—'}`;
  }
  const borne = gridPrice(grille, quotient.cents, politique.arrondiPrix).borne;
  return `Taux d’effort ${formatNombre(grille.taux)} %${borne === 'plancher' ? ' (prix plancher)' : borne === 'plafond' ? ' (prix plafond)' : ''}`;
}

/** The simulator's parameters as the form sent them (one text each), absent when not sent. */
export type Parametres = Readonly<Partial<Record<Champ | typeof PARAM_HORS_COMMUNE, string>>>;

/**
 * The simulator's answer to a query. `vide` when the form was not submitted (no known parameter):
 * the page then shows the empty form. Never throws for any input a person can send.
 */
export function simuler(politique: PolitiqueTarifaire, query: Parametres): Issue {
  const formulaire = formulaireFor(politique);
  const connus = [...formulaire.champs, PARAM_HORS_COMMUNE] as const;
  if (!connus.some((name) => query[name] !== undefined)) return { kind: 'vide' };

  const valeurs: Partial<Record<Champ, string>> = {};
  for (const champ of formulaire.champs) {
    const raw = query[champ];
    // Shown back in the form: bounded so that a long parameter does not swell the page.
    if (raw !== undefined) valeurs[champ] = raw.slice(0, MAX_LENGTH + 1);
  }
  const saisie: Saisie = { valeurs, horsCommune: formulaire.horsCommune && query[PARAM_HORS_COMMUNE] !== undefined };

  const erreurs: ErreurChamp[] = [];
  const nombres: Partial<Record<Champ, number>> = {};
  for (const champ of formulaire.champs) {
    const raw = (valeurs[champ] ?? '').trim();
    if (raw === '') {
      // An absent rank is the first child: the field has a default.
      if (champ === 'rang') nombres.rang = 1;
      else erreurs.push({ champ, message: MESSAGES_VIDE[champ] });
      continue;
    }
    if (raw.length > MAX_LENGTH) {
      erreurs.push({ champ, message: `Valeur trop longue : saisissez un nombre, par exemple ${champ === 'rfr' ? '48 000' : '2'}.` });
      continue;
    }
    const lecture = lire(champ, raw, formulaire);
    if (lecture.ok) nombres[champ] = lecture.value;
    else erreurs.push({ champ, message: lecture.message });
  }
  if (erreurs.length > 0) return { kind: 'erreurs', saisie, erreurs };

  const input: SimulationInput = {
    rfr: nombres.rfr ?? 0,
    ...(nombres.parts === undefined ? {} : { nbParts: nombres.parts }),
    ...(nombres.personnes === undefined ? {} : { nbPersonnes: nombres.personnes }),
    ...(nombres.adultes === undefined ? {} : { adultes: nombres.adultes }),
    ...(nombres.enfants === undefined ? {} : { enfants: nombres.enfants }),
  };
  const rang = nombres.rang ?? 1;
  const resident = !saisie.horsCommune;
  try {
    const quotient = computeQuotientFamilial(politique.quotient, baseFromSimulation(input));
    const prix = priceActivites(politique, { quotient, resident, rangEnfant: rang });
    const lignes = prix.map((p) => ({
      prix: p,
      base: baseLabel(
        politique.activites.find((a) => a.id === p.id),
        p,
        quotient,
        politique,
      ),
    }));
    return { kind: 'estimation', saisie, estimation: { quotient, lignes, resident, rang } };
  } catch (error) {
    // The checks above mirror the domain's; should they drift apart, the person still reads the
    // domain's French message next to the field, rather than an error page.
    if (!isQuotientError(error) || error.kind !== 'invalid') throw error;
    const details = error.details.length > 0 ? error.details : [{ path: '', message: error.message }];
    return {
      kind: 'erreurs',
      saisie,
      erreurs: details.map((d) => {
        const champ = CHAMPS_DOMAINE[d.path] ?? null;
        // Domain messages are written to follow a field name.
        return { champ, message: champ ? `${LIBELLES_CHAMPS[champ]} : ${d.message}` : d.message };
      }),
    };
  }
}

/** Which avis the family should read: the income year the policy takes for the period of `today`. */
export interface AvisAttendu {
  /** « l’année scolaire 2025-2026 » or « l’année 2025 ». */
  readonly periode: string;
  readonly anneeRevenus: number;
  /** The year before, when the policy accepts the previous avis as long as the latest is not out. */
  readonly repli: number | null;
}

export function avisAttendu(politique: PolitiqueTarifaire, today: string): AvisAttendu {
  const regle = politique.quotient;
  const periode = periodeValidite(regle, today);
  const [anneeRevenus = 0, repli] = anneesRevenusAcceptees(regle, today);
  const debut = Number(periode.du.slice(0, 4));
  return {
    periode: regle.dureeValidite === 'annee-scolaire' ? `l’année scolaire ${debut}-${debut + 1}` : `l’année ${debut}`,
    anneeRevenus,
    repli: repli ?? null,
  };
}
