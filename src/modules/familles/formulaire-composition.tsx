/**
 * The form of a family's composition (its parents and children: the household the commune knows,
 * not a foyer fiscal), one for the family's « Mon foyer » (portail) and the counter's creation of
 * a family (guichet): the same fields, the same rules (those of `domain/etat-civil.ts`), the same
 * parser to the families service's input. Only the words change with who reads them: the family
 * is addressed as « vous », the agent reads about « le foyer ».
 */
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { formatDateCourte, parseDateSaisie } from '../../domain/dates.ts';
import { NAISSANCE_MIN, NOM_MAX, naissancePlausible, nomPlausible } from '../../domain/etat-civil.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { NUMERO_FISCAL_EGARE, champsEnErreur, texteBrut } from '../../http/formulaire.ts';
import { RadioGroup, TextField, errorOf } from '../../http/ui/components.tsx';
import type { CompositionFamille } from './familles-service.ts';

/** Who fills the form in: the family on its portal, or an agent at the counter. */
export type Espace = 'famille' | 'agents';

export const ENFANTS_MAX = 6;

type Option = readonly [string, string];

interface Mots {
  /** The question whether the second parent lives in the household, its hint, answers and message. */
  readonly parent2: string;
  readonly parent2Aide?: string;
  readonly parent2Options: readonly Option[];
  readonly parent2Message: string;
  readonly residences: readonly Option[];
  /** A child's name: the label of its field, and how a message names it. */
  readonly nomEnfant: { readonly label: string; readonly libelle: string };
}

/** The words of the form, by who reads it. */
const MOTS: Record<Espace, Mots> = {
  famille: {
    parent2: 'Le second parent vit-il avec vous ?',
    parent2Aide: 'S’il vit ailleurs, son avis d’imposition n’est pas demandé : seuls comptent les revenus du foyer où vivent les enfants.',
    parent2Options: [
      ['oui', 'Oui, il ou elle vit avec nous'],
      ['ailleurs', 'Non, il ou elle vit ailleurs (parents séparés)'],
    ],
    parent2Message: 'Indiquez si le second parent vit avec vous.',
    residences: [
      ['exclusive', 'Il ou elle vit avec nous'],
      ['alternee', 'En résidence alternée : la moitié du temps chez chacun des deux parents'],
    ],
    nomEnfant: { label: 'Nom de naissance', libelle: 'le nom de naissance' },
  },
  agents: {
    parent2: 'Le second parent vit-il dans le foyer ?',
    parent2Options: [
      ['oui', 'Oui, il ou elle vit dans le foyer'],
      ['ailleurs', 'Non, il ou elle vit ailleurs (parents séparés)'],
    ],
    parent2Message: 'Indiquez si le second parent vit dans le foyer.',
    residences: [
      ['exclusive', 'Vit dans le foyer'],
      ['alternee', 'En résidence alternée : la moitié du temps chez chacun des deux parents'],
    ],
    nomEnfant: { label: 'Nom', libelle: 'le nom' },
  },
};

const CHAMPS_PARENT = ['prenoms', 'nomNaissance', 'nomUsage', 'dateNaissance'] as const;
const CHAMPS_ENFANT = ['prenoms', 'nom', 'dateNaissance'] as const;
const RANGS_ENFANTS = Array.from({ length: ENFANTS_MAX }, (_, i) => i + 1);

/**
 * Every field of the household's part of the form, read as typed; the rules are checked together,
 * below, the numéro fiscal's shape included (the same `ressembleANumeroFiscal`), so that every error shows at once.
 */
const CHAMPS = z.object(
  Object.fromEntries(
    [
      ...[1, 2].flatMap((n) => CHAMPS_PARENT.map((f) => `parent${n}-${f}`)),
      'parent2-foyer',
      ...RANGS_ENFANTS.flatMap((i) => [...CHAMPS_ENFANT.map((f) => `enfant${i}-${f}`), `enfant${i}-residence`]),
    ].map((id) => [id, texteBrut()]),
  ),
);

/** The household's part of the families service's input (`FamilleSaisie`). */
export interface CompositionSaisie {
  readonly parents: Array<{ prenoms: string; nomNaissance: string; nomUsage: string | null; dateNaissance: string | null; cohabite?: boolean }>;
  readonly enfants: Array<{ prenoms: string; nom: string; dateNaissance: string | null; residence: 'exclusive' | 'alternee' }>;
}

/**
 * The household's fields to the families service's input, with one French message per field in
 * error (all of them at once, so that the form is corrected in one go):
 * - the first parent is always asked; the second when any of their fields is filled, or when they
 *   live elsewhere; a child when any field is filled, or in alternating residence;
 * - first names and birth name are required, no name holds a digit nor more than `NOM_MAX`
 *   characters, a birth date is a real date from 1900 to today (`aujourdhui`, ISO);
 * - at the counter the parents' birth dates are required: the agent copies them from identity
 *   papers, and the duplicate check looks families up by name and birth date;
 * - a field holding something shaped like a numéro fiscal is refused, whatever else it breaks.
 */
export function schemaComposition(espace: Espace, aujourdhui: string) {
  const mots = MOTS[espace];
  return CHAMPS.transform((champs, ctx): CompositionSaisie => {
    const { signaler, enErreur } = champsEnErreur(ctx);
    /** The field as typed, trimmed; a numéro fiscal's shape is flagged and reads as empty. */
    const brut = (id: string) => (champs[id] ?? '').trim();
    const valeur = (id: string) => {
      const v = brut(id);
      if (!ressembleANumeroFiscal(v)) return v;
      if (!enErreur(id)) signaler(id, NUMERO_FISCAL_EGARE);
      return '';
    };
    // An answer is one of the options, or refused with the question's message (a numéro fiscal is no answer either).
    const choix = (name: string, options: readonly Option[], message: string) => {
      const v = brut(name);
      if (v === '') return options[0]?.[0] as string;
      if (options.some(([o]) => o === v)) return v;
      signaler(`${name}-${options[0]?.[0] ?? ''}`, message);
      return options[0]?.[0] as string;
    };
    const nom = (id: string, libelle: string, qui: string, exige: string | null) => {
      const v = valeur(id);
      if (enErreur(id)) return v;
      if (v === '') {
        if (exige !== null) signaler(id, `Indiquez ${libelle} ${exige}.`);
      } else if (!nomPlausible(v)) signaler(id, `Un nom ou un prénom ne contient pas de chiffres : vérifiez ${libelle} ${qui}.`);
      else if (v.length > NOM_MAX) signaler(id, `Vérifiez ${libelle} ${qui} : ${NOM_MAX} caractères au plus.`);
      return v;
    };
    const naissance = (id: string, qui: string, exigee: boolean): string | null => {
      const v = valeur(id);
      if (enErreur(id)) return null;
      if (v === '') {
        if (exigee) signaler(id, `Indiquez la date de naissance ${qui}, au format JJ/MM/AAAA.`);
        return null;
      }
      const iso = parseDateSaisie(v);
      if (iso !== null && iso < NAISSANCE_MIN) signaler(id, `La date de naissance ${qui} est antérieure à 1900 : vérifiez l’année, au format JJ/MM/AAAA.`);
      else if (iso === null || !naissancePlausible(iso, aujourdhui))
        signaler(id, `La date de naissance ${qui} doit être une date passée au format JJ/MM/AAAA, par exemple 09/04/1981.`);
      else return iso;
      return null;
    };
    const remplie = (prefix: string, fields: readonly string[]) => fields.some((f) => brut(`${prefix}-${f}`) !== '');

    const parent = (n: 1 | 2, qui: string, exige: string | null) => {
      const p = `parent${n}`;
      if (exige === null && !remplie(p, CHAMPS_PARENT)) return undefined;
      const requis = exige ?? qui;
      return {
        prenoms: nom(`${p}-prenoms`, 'les prénoms', qui, requis),
        nomNaissance: nom(`${p}-nomNaissance`, 'le nom de naissance', qui, requis),
        nomUsage: nom(`${p}-nomUsage`, 'le nom d’usage', qui, null) || null,
        dateNaissance: naissance(`${p}-dateNaissance`, qui, espace === 'agents'),
      };
    };
    const p1 = parent(1, 'du premier parent', 'du premier parent');
    const ouVitP2 = choix('parent2-foyer', mots.parent2Options, mots.parent2Message);
    const p2 = parent(2, 'du second parent', ouVitP2 === 'ailleurs' ? 'du second parent, qui vit ailleurs' : null);
    const enfants: CompositionSaisie['enfants'] = [];
    for (const i of RANGS_ENFANTS) {
      const e = `enfant${i}`;
      const qui = `de l’enfant ${i}`;
      const residence = choix(`${e}-residence`, mots.residences, `Indiquez où vit l’enfant ${i}.`) as 'exclusive' | 'alternee';
      const exige = residence === 'alternee' ? `${qui}, en résidence alternée` : remplie(e, CHAMPS_ENFANT) ? qui : null;
      if (exige === null) continue;
      enfants.push({
        prenoms: nom(`${e}-prenoms`, 'les prénoms', qui, exige),
        nom: nom(`${e}-nom`, mots.nomEnfant.libelle, qui, exige),
        dateNaissance: naissance(`${e}-dateNaissance`, qui, false),
        residence,
      });
    }
    return { parents: [...(p1 ? [p1] : []), ...(p2 ? [{ ...p2, cohabite: ouVitP2 === 'oui' }] : [])], enfants };
  });
}

/** A families service's error path (`parents[0].nomNaissance`) to the form's field (`parent1-nomNaissance`); the rest on top of the form. */
export function champDeLaComposition(detail: ErrorDetail): ErrorDetail {
  const m = /^(parents|enfants)\[(\d+)\]\.(\w+)$/.exec(detail.path);
  if (m) return { path: `${m[1] === 'parents' ? 'parent' : 'enfant'}${Number(m[2]) + 1}-${m[3]}`, message: detail.message };
  return detail.path === 'courriel' ? detail : { path: '', message: detail.message };
}

/** Parent 1's fields FranceConnect vouches for, as the form names them. */
export const CHAMPS_FRANCECONNECT = ['parent1-prenoms', 'parent1-nomNaissance', 'parent1-dateNaissance'] as const;

/** The household as recorded, in the form's fields: what « Mon foyer » shows to be corrected. */
export function valeursDeLaComposition(composition: CompositionFamille): Record<string, string> {
  const v: Record<string, string> = {};
  for (const p of composition.parents) {
    v[`parent${p.rang}-prenoms`] = p.prenoms;
    v[`parent${p.rang}-nomNaissance`] = p.nomNaissance;
    v[`parent${p.rang}-nomUsage`] = p.nomUsage ?? '';
    v[`parent${p.rang}-dateNaissance`] = p.dateNaissance ? formatDateCourte(p.dateNaissance) : '';
    if (p.rang === 2) v['parent2-foyer'] = p.cohabite ? 'oui' : 'ailleurs';
  }
  composition.enfants.slice(0, ENFANTS_MAX).forEach((e, i) => {
    v[`enfant${i + 1}-prenoms`] = e.prenoms;
    v[`enfant${i + 1}-nom`] = e.nom;
    v[`enfant${i + 1}-dateNaissance`] = e.dateNaissance ? formatDateCourte(e.dateNaissance) : '';
    v[`enfant${i + 1}-residence`] = e.residence;
  });
  return v;
}

// -------------------------------------------------------------------------------------------
// The fieldsets

const AIDE_DATE = 'Au format JJ/MM/AAAA, par exemple 09/04/1981.';

function Champ({
  id,
  label,
  values,
  errors,
  hint,
  readOnly = false,
}: {
  id: string;
  label: string;
  values: Readonly<Record<string, string>>;
  errors: readonly ErrorDetail[];
  hint?: string;
  readOnly?: boolean;
}) {
  const error = errorOf(errors, id);
  return (
    <TextField
      id={id}
      label={label}
      value={values[id] ?? ''}
      autoComplete="off"
      {...(hint ? { hint } : {})}
      {...(error ? { error } : {})}
      {...(readOnly ? { readOnly } : {})}
    />
  );
}

/** Why parent 1's identity cannot be changed on a FranceConnect account. */
export const EXPLICATION_FRANCECONNECT =
  'Ces informations viennent de FranceConnect : le premier parent est la personne connectée avec FranceConnect. Elles ne peuvent pas être modifiées ici ; seul le nom d’usage peut l’être.';

interface PersonneProps {
  readonly espace: Espace;
  readonly prefix: string;
  readonly legend: string;
  readonly enfant: boolean;
  readonly values: Readonly<Record<string, string>>;
  readonly errors: readonly ErrorDetail[];
  readonly children?: ComponentChildren;
  /** Names and birth date from FranceConnect: shown, sent back as they are, not editable. */
  readonly franceConnect?: boolean;
}

function Personne({ espace, prefix, legend, enfant, values, errors, children, franceConnect = false }: PersonneProps) {
  return (
    // At the counter, each person in its frame: the agent copies several identity papers in a row.
    <fieldset class={espace === 'agents' ? 'field guichet-personne' : 'field'}>
      <legend>{legend}</legend>
      {franceConnect ? (
        <p class="hint" id={`${prefix}-franceconnect`}>
          {EXPLICATION_FRANCECONNECT}
        </p>
      ) : null}
      <Champ id={`${prefix}-prenoms`} label="Prénoms" values={values} errors={errors} readOnly={franceConnect} />
      {enfant ? (
        <Champ id={`${prefix}-nom`} label={MOTS[espace].nomEnfant.label} values={values} errors={errors} />
      ) : (
        <Champ id={`${prefix}-nomNaissance`} label="Nom de naissance" values={values} errors={errors} readOnly={franceConnect} />
      )}
      {enfant ? null : <Champ id={`${prefix}-nomUsage`} label="Nom d’usage (facultatif)" values={values} errors={errors} />}
      <Champ
        id={`${prefix}-dateNaissance`}
        label={enfant ? 'Date de naissance (facultatif)' : 'Date de naissance'}
        hint={AIDE_DATE}
        values={values}
        errors={errors}
        readOnly={franceConnect}
      />
      {children}
    </fieldset>
  );
}

/**
 * The parents and the children of the household, under their headings; `enfantsIntro` comes
 * between the children's heading and their fieldsets. The values are the form's fields, as typed
 * or as recorded (`valeursDeLaComposition`).
 */
export function ChampsComposition({
  espace,
  values,
  errors,
  enfantsIntro,
  parent1FranceConnect = false,
}: {
  espace: Espace;
  values: Readonly<Record<string, string>>;
  errors: readonly ErrorDetail[];
  enfantsIntro?: ComponentChildren;
  /** A FranceConnect account's « Mon foyer »: parent 1's identity is FranceConnect's. */
  parent1FranceConnect?: boolean;
}) {
  const mots = MOTS[espace];
  const choix = espace === 'agents' ? 'guichet-choix' : undefined;
  return (
    <>
      <h2>Les parents</h2>
      <Personne espace={espace} prefix="parent1" legend="Premier parent" enfant={false} values={values} errors={errors} franceConnect={parent1FranceConnect} />
      <Personne espace={espace} prefix="parent2" legend="Second parent (facultatif)" enfant={false} values={values} errors={errors}>
        <RadioGroup
          name="parent2-foyer"
          legend={mots.parent2}
          {...(mots.parent2Aide ? { hint: mots.parent2Aide } : {})}
          options={mots.parent2Options}
          value={values['parent2-foyer'] ?? 'oui'}
          errors={errors}
          {...(choix ? { className: choix } : {})}
        />
      </Personne>
      <h2>Les enfants</h2>
      {enfantsIntro}
      {RANGS_ENFANTS.map((i) => (
        <Personne key={i} espace={espace} prefix={`enfant${i}`} legend={`Enfant ${i} (facultatif)`} enfant={true} values={values} errors={errors}>
          <RadioGroup
            name={`enfant${i}-residence`}
            legend={`Où vit l’enfant ${i} ?`}
            options={mots.residences}
            value={values[`enfant${i}-residence`] ?? 'exclusive'}
            errors={errors}
            {...(choix ? { className: choix } : {})}
          />
        </Personne>
      ))}
    </>
  );
}
