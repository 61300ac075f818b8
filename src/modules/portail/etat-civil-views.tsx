import type { ErrorDetail } from '../../domain/errors.ts';
import { AccordEtatCivil, ChampsEtatCivil } from '../../http/ui/etat-civil.tsx';
import { ANCRE_ERREURS, Csrf, Erreurs } from '../../http/ui/components.tsx';
import type { Commune } from '../../infra/communes/communes.ts';
import type { VoieEtatCivil } from '../../sources/dgfip-source.ts';
import type { NumeroAttendu } from './portail-views.tsx';

/** Step 3 without a numéro fiscal: the état civil of each declarant, pre-filled from the household. */
export function EtatCivilPage({
  csrf,
  attendus,
  voie,
  valeurs,
  errors,
  candidats,
}: {
  csrf: string;
  attendus: readonly NumeroAttendu[];
  voie: VoieEtatCivil;
  valeurs: Readonly<Record<string, string>>;
  errors: readonly ErrorDetail[];
  candidats: ReadonlyMap<1 | 2, readonly Commune[]>;
}) {
  // Every declarant asked here is asked by état civil: FranceConnect is chosen on the numéro step, and done on its return.
  const aSaisir = attendus;
  return (
    <>
      <Erreurs errors={errors} />
      <p class="muted">Étape 3 sur 4 : votre numéro fiscal, ou à défaut votre état civil</p>
      <h1>Sans numéro fiscal : votre état civil</h1>
      <p class="lead">
        La DGFiP peut retrouver votre avis d’imposition à partir de l’état civil de {aSaisir.length > 1 ? 'chaque déclarant' : 'la personne qui déclare'}. Les
        noms et dates de naissance de votre foyer sont déjà remplis : vérifiez-les, et ajoutez le lieu de naissance.
      </p>
      <form method="post" action={`/mon-quotient/etat-civil#${ANCRE_ERREURS}`} novalidate autoComplete="off">
        <Csrf token={csrf} />
        {aSaisir.map((a) => (
          <ChampsEtatCivil key={a.rang} rang={a.rang} nom={a.nom} valeurs={valeurs} errors={errors} candidats={candidats.get(a.rang)} />
        ))}
        <AccordEtatCivil voie={voie} coche={valeurs['accord-etat-civil'] === 'oui'} errors={errors} />
        <button class="button" type="submit" name="action" value="envoyer">
          Envoyer la demande
        </button>
      </form>
      <p>
        <a href="/mon-quotient/numero">J’ai finalement mon numéro fiscal</a>
      </p>
    </>
  );
}
