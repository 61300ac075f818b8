import type { ErrorDetail } from '../../domain/errors.ts';
import { libelleCommune, PAYS_NAISSANCE, type Commune } from '../../infra/communes/communes.ts';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import { CheckboxField, FieldError, RadioGroup, SelectField, TextField, errorOf } from './components.tsx';

/**
 * One declarant's état civil, as the portal and the counter ask it (`ec-<rang>-…`, read by
 * `lireEtatsCivils`). The commune is searched by a submit button of the form itself: it works
 * without script and keeps what was typed.
 */
export function ChampsEtatCivil({
  rang,
  nom,
  valeurs,
  errors,
  candidats,
}: {
  rang: 1 | 2;
  nom: string;
  valeurs: Readonly<Record<string, string>>;
  errors: readonly ErrorDetail[];
  candidats: readonly Commune[] | undefined;
}) {
  const id = (champ: string) => `ec-${rang}-${champ}`;
  const err = (champ: string) => {
    const e = errorOf(errors, id(champ));
    return e === undefined ? {} : { error: e };
  };
  const etranger = valeurs[id('ne')] === 'etranger';
  const choisi = valeurs[id('code-commune')];
  return (
    <fieldset class="field">
      <legend>
        <strong>État civil de {nom}</strong>
      </legend>
      <TextField
        id={id('nom')}
        label="Nom de naissance"
        hint="Le nom de l’acte de naissance, pas le nom d’usage."
        value={valeurs[id('nom')] ?? ''}
        autoComplete="family-name"
        {...err('nom')}
      />
      <TextField
        id={id('prenoms')}
        label="Prénoms de naissance"
        hint="Dans l’ordre de l’acte de naissance, séparés par des espaces ; le premier suffit."
        value={valeurs[id('prenoms')] ?? ''}
        autoComplete="given-name"
        {...err('prenoms')}
      />
      <RadioGroup
        name={id('sexe')}
        legend="Sexe (facultatif, il aide à distinguer des homonymes)"
        options={[
          ['F', 'Femme'],
          ['M', 'Homme'],
        ]}
        value={valeurs[id('sexe')]}
        errors={errors}
      />
      <TextField
        id={id('naissance')}
        label="Date de naissance"
        hint="JJ/MM/AAAA, par exemple 09/04/1981."
        value={valeurs[id('naissance')] ?? ''}
        inputMode="numeric"
        autoComplete="bday"
        size="moyen"
        {...err('naissance')}
      />
      <RadioGroup
        name={id('ne')}
        legend="Lieu de naissance"
        options={[
          ['france', 'En France'],
          ['etranger', 'À l’étranger'],
        ]}
        value={etranger ? 'etranger' : 'france'}
        errors={errors}
      />
      <TextField
        id={id('commune')}
        label="Commune de naissance (en France)"
        hint="Le nom de la commune, ou son code INSEE ; puis « Rechercher la commune » pour choisir dans la liste. Recommandé : sans lui, des homonymes ne peuvent pas être distingués."
        value={valeurs[id('commune')] ?? ''}
        {...err('commune')}
      />
      <button class="button button--secondary" type="submit" name="action" value={`rechercher-${rang}`} formnovalidate>
        Rechercher la commune
      </button>
      {candidats && candidats.length > 0 ? (
        <RadioGroup
          name={id('code-commune')}
          legend="Choisissez la commune de naissance"
          options={candidats.map((c) => [c.code, `${libelleCommune(c)} — code ${c.code}`] as const)}
          value={choisi}
          errors={errors}
        />
      ) : choisi ? (
        <input type="hidden" name={id('code-commune')} value={choisi} />
      ) : null}
      <SelectField
        id={id('pays')}
        label="Pays de naissance (à l’étranger)"
        options={[
          { value: '', label: '—' },
          ...PAYS_NAISSANCE.map((p) => ({ value: p.code, label: p.nom })),
          { value: 'autre', label: 'Autre pays (code INSEE ci-dessous)' },
        ]}
        value={valeurs[id('pays')] ?? ''}
        {...err('pays')}
      />
      <TextField
        id={id('code-pays')}
        label="Code INSEE d’un autre pays"
        hint="5 chiffres commençant par 99 (liste des pays et territoires étrangers de l’INSEE)."
        value={valeurs[id('code-pays')] ?? ''}
        inputMode="numeric"
        size="court"
      />
    </fieldset>
  );
}

/** Where the état civil goes, said before the family agrees: SFiP, or R2P then Impôt particulier. */
export function texteAccordEtatCivil(voie: VoieEtatCivil): string {
  const origine =
    voie === 'r2p'
      ? 'à l’API R2P de la DGFiP, qui donne le numéro fiscal correspondant, puis à l’API Impôt particulier pour l’avis ; ce numéro n’est ni affiché ni conservé'
      : 'à l’API SFiP de la DGFiP, qui retrouve la personne et donne son dernier avis d’imposition';
  return `J’accepte que la commune transmette cet état civil (nom et prénoms de naissance, sexe, date et lieu de naissance) ${origine}. L’état civil sert à cette seule demande et n’est pas enregistré.`;
}

export function AccordEtatCivil({ voie, coche, errors }: { voie: VoieEtatCivil; coche: boolean; errors: readonly ErrorDetail[] }) {
  const error = errorOf(errors, 'accord-etat-civil');
  return (
    <div class={`field${error ? ' field--error' : ''}`}>
      {error ? <FieldError id="accord-etat-civil" error={error} /> : null}
      <CheckboxField id="accord-etat-civil" value="oui" label={texteAccordEtatCivil(voie)} checked={coche} />
    </div>
  );
}
