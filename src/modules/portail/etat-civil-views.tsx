import { CLE_FAMILLE } from '../../http/formulaire.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { AccordEtatCivil, ChampsEtatCivil } from '../../http/ui/etat-civil.tsx';
import { ANCRE_ERREURS, ChampNumeroFiscal, Csrf, Erreurs, RadioGroup } from '../../http/ui/components.tsx';
import type { Commune } from '../../infra/communes/communes.ts';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import type { NumeroAttendu } from './portail-views.tsx';

/**
 * Step 3 without a numéro fiscal (or its re-entry): the état civil of each declarant, pre-filled
 * from the household. With two declarants, or FranceConnect offered, each declarant's avis may be
 * asked another way on the same page (one parent by état civil, the other by numéro fiscal or with
 * FranceConnect): the choice is a radio per declarant, and without JavaScript every field stays
 * visible, read only for the way chosen.
 */
export function EtatCivilPage({
  csrf,
  action,
  attendus,
  choix,
  voie,
  valeurs,
  errors,
  candidats,
  retour,
}: {
  csrf: string;
  /** Where the form is posted: the new request's step, or the request asked again. */
  action: string;
  /** Each declarant, with the way chosen (`etat_civil` by default on this page). */
  attendus: readonly NumeroAttendu[];
  /** Each declarant may be asked another way here. */
  choix: boolean;
  voie: VoieEtatCivil;
  valeurs: Readonly<Record<string, string>>;
  errors: readonly ErrorDetail[];
  candidats: ReadonlyMap<1 | 2, readonly Commune[]>;
  /** « J'ai finalement mon numéro fiscal ». */
  retour: string;
}) {
  return (
    <>
      <Erreurs errors={errors} />
      <p class="muted">Étape 3 sur 4 : votre numéro fiscal, ou à défaut votre état civil</p>
      <h1>Sans numéro fiscal : votre état civil</h1>
      <p class="lead">
        La DGFiP peut retrouver votre avis d’imposition à partir de l’état civil de {attendus.length > 1 ? 'chaque déclarant' : 'la personne qui déclare'}. Les
        noms et dates de naissance de votre foyer sont déjà remplis : vérifiez-les, et ajoutez le lieu de naissance.
      </p>
      {choix ? (
        <p>
          Pour chaque déclarant, choisissez comment demander son avis : par son état civil, par son numéro fiscal si vous l’avez, ou avec FranceConnect quand il
          est proposé. Seuls les champs de la voie choisie sont utilisés.
        </p>
      ) : null}
      <form method="post" action={`${action}#${ANCRE_ERREURS}`} novalidate autoComplete="off">
        <Csrf token={csrf} />
        {attendus.map((a) => (
          <div key={a.rang}>
            {choix ? (
              <RadioGroup
                name={`voie-${a.rang}`}
                legend={`Comment demander l’avis de ${a.nom} ?`}
                options={[
                  ['etat_civil', 'Par son état civil'],
                  ['numero', 'Par son numéro fiscal'],
                  ...(a.franceConnect ? ([['franceconnect', `Avec FranceConnect, ${a.nom} se connecte`]] as const) : []),
                ]}
                value={a.voie}
                errors={errors}
              />
            ) : null}
            <ChampsEtatCivil rang={a.rang} nom={a.nom} valeurs={valeurs} errors={errors} candidats={candidats.get(a.rang)} />
            {choix ? <ChampNumeroFiscal rang={a.rang} nom={a.nom} errors={errors} cle={CLE_FAMILLE} /> : null}
          </div>
        ))}
        <AccordEtatCivil voie={voie} coche={valeurs['accord-etat-civil'] === 'oui'} errors={errors} />
        <button class="button" type="submit" name="action" value="envoyer">
          Envoyer la demande
        </button>
      </form>
      <p>
        <a href={retour}>J’ai finalement mon numéro fiscal</a>
      </p>
    </>
  );
}
