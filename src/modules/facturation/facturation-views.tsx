import type { ErrorDetail } from '../../domain/errors.ts';
import { ANCRE_ERREURS, Erreurs, TextField, errorOf } from '../../http/ui/components.tsx';

/** The page of the billing export: one date, one button; what the file holds, column by column. */
export function FacturationPage({ date, errors }: { date: string; errors: readonly ErrorDetail[] }) {
  const error = errorOf(errors, 'date');
  return (
    <>
      <h1>Export pour la facturation</h1>
      <Erreurs errors={errors} />
      <p class="lead">
        Téléchargez le quotient familial en vigueur à une date pour chaque famille qui en a un, avec la tranche de chaque activité, au format CSV pour le
        logiciel de facturation ou un tableur.
      </p>
      <form method="get" action={`/agents/facturation/export.csv#${ANCRE_ERREURS}`}>
        <TextField
          id="date"
          label="Date des quotients"
          hint="Au format JJ/MM/AAAA, par exemple 01/09/2026."
          value={date}
          inputMode="numeric"
          size="moyen"
          {...(error ? { error } : {})}
        />
        <button class="button" type="submit">
          Télécharger le fichier CSV
        </button>
      </form>
      <p>Le téléchargement est enregistré dans le journal d’audit, avec la date choisie et le nombre de familles.</p>

      <h2>Contenu du fichier</h2>
      <p>
        Une ligne par famille ; les familles sans quotient en vigueur à cette date n’y figurent pas (le tarif sans quotient s’applique). Le fichier ne contient
        aucune donnée fiscale : ni revenu, ni nombre de parts, ni nom.
      </p>
      <div class="table-wrapper">
        <table class="donnees">
          <caption>Colonnes du fichier, dans l’ordre</caption>
          <thead>
            <tr>
              <th scope="col">Colonne</th>
              <th scope="col">Contenu</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Référence famille</th>
              <td>La référence du dossier de la famille, par exemple F-ABCD-EFGH.</td>
            </tr>
            <tr>
              <th scope="row">Quotient familial</th>
              <td>En centimes d’euro, sans séparateur : 123456 signifie 1 234,56 €.</td>
            </tr>
            <tr>
              <th scope="row">Période du quotient</th>
              <td>« mensuelle » ou « annuelle », selon la politique tarifaire.</td>
            </tr>
            <tr>
              <th scope="row">Valide du, valide au</th>
              <td>Premier et dernier jour d’application, au format AAAA-MM-JJ.</td>
            </tr>
            <tr>
              <th scope="row">Origine</th>
              <td>« calcule » à partir des données de la DGFiP, « manuel » s’il a été fixé par un instructeur.</td>
            </tr>
            <tr>
              <th scope="row">Calculé le</th>
              <td>Date et heure du calcul, en temps universel (UTC).</td>
            </tr>
            <tr>
              <th scope="row">Tranche et prix de chaque activité</th>
              <td>Deux colonnes par activité : le code de la tranche (vide pour un taux d’effort) et le prix unitaire en centimes.</td>
            </tr>
          </tbody>
        </table>
      </div>
      <p class="muted">
        Le fichier est encodé en UTF-8, les colonnes sont séparées par des points-virgules. Les logiciels peuvent aussi lire ces données par l’API de la
        commune, décrite par le document <a href="/api/v1/openapi.json">OpenAPI</a>.
      </p>
    </>
  );
}
