import { STATUTS, type StatutDemande } from '../../domain/demande.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { ChampAvis, formatEnClair, jourDe } from '../../http/ui/champ-avis.tsx';
import { Alert, Csrf, Erreurs, errorOf, ANCRE_ERREURS } from '../../http/ui/components.tsx';
import type { AvisDepose } from './avis-service.ts';

export interface DemandeAvis {
  readonly id: string;
  readonly reference: string;
  readonly statut: StatutDemande;
}

/** The family's page to send its avis for one request, or to see that it was received. */
export function AvisPage({
  demande,
  enCours,
  csrf,
  errors,
  tailleMaxKo,
  joursMax,
  attendu,
}: {
  demande: DemandeAvis;
  enCours: readonly AvisDepose[];
  csrf: string;
  errors: readonly ErrorDetail[];
  tailleMaxKo: number;
  joursMax: number;
  /** The request still takes an avis (it waits for an agent, or stopped on the DGFiP's side). */
  attendu: boolean;
}) {
  const recu = enCours.at(-1);
  return (
    <>
      <Erreurs errors={errors} />
      <h1>Envoyer mon avis d’imposition</h1>
      <p class="lead">
        Demande {demande.reference} ({STATUTS[demande.statut].libelle.toLowerCase()}). La mairie n’a pas pu obtenir votre avis auprès de la DGFiP : vous pouvez
        l’envoyer vous-même, et un agent fixera votre quotient familial au vu du document.
      </p>
      {recu ? (
        <Alert kind="success" title="Votre avis est bien reçu">
          <p>
            {formatEnClair(recu.format)} envoyé le {jourDe(recu.deposeLe)}. Un agent de la mairie va l’examiner ; vous serez prévenu(e) de sa décision. Le
            document sera détruit dès la décision, et au plus tard le {jourDe(recu.expireLe)}.
          </p>
        </Alert>
      ) : null}
      {attendu ? (
        <form method="post" action={`/mon-quotient/demandes/${demande.id}/avis#${ANCRE_ERREURS}`} enctype="multipart/form-data" novalidate>
          <Csrf token={csrf} />
          <ChampAvis
            label={recu ? 'Remplacer le document envoyé' : 'Votre avis d’imposition'}
            tailleMaxKo={tailleMaxKo}
            joursMax={joursMax}
            error={errorOf(errors, 'avis')}
          />
          <button class="button" type="submit">
            {recu ? 'Envoyer ce nouveau document' : 'Envoyer mon avis'}
          </button>
        </form>
      ) : (
        <p>Cette demande n’attend plus de document.</p>
      )}
      <h2>Ce que devient votre avis</h2>
      <p>
        Votre avis montre votre numéro fiscal : c’est la seule exception à notre règle de ne jamais le conserver. Le fichier est gardé chiffré, n’est ni lu par
        un programme ni recopié, et seul l’agent qui instruit votre demande peut l’ouvrir (chaque ouverture est enregistrée). Il est détruit dès la décision de
        l’agent, au plus tard {joursMax} jours après l’envoi. Voir la page <a href="/confidentialite">Données personnelles</a>.
      </p>
      <p>
        <a href={`/mon-quotient/demandes/${demande.id}`}>Revenir à ma demande</a>
      </p>
    </>
  );
}
