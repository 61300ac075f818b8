import type { CommuneConfig } from '../../infra/config/commune-config.ts';

/** The way in: where a family starts, signed in or not (the portal sends an anonymous visitor to sign in first). */
function Entree({ connecte }: { connecte: boolean }) {
  return (
    <p>
      <a class="button" href={connecte ? '/mon-quotient' : '/connexion'}>
        Faire ma demande
      </a>{' '}
      {connecte ? (
        <a class="button button--secondary" href="/mon-espace">
          Mon espace
        </a>
      ) : (
        <a class="button button--secondary" href="/connexion">
          Se connecter
        </a>
      )}
    </p>
  );
}

export function AccueilPage({ commune, connecte = false }: { commune: CommuneConfig; connecte?: boolean }) {
  return (
    <>
      <h1>Votre quotient familial, calculé à partir de votre avis d’imposition</h1>
      <p class="lead">
        {commune.commune.nom} fixe le prix de la cantine, de l’accueil périscolaire, des centres de loisirs et du conservatoire selon le quotient familial de
        chaque famille. Avec votre accord, nous obtenons directement auprès de la Direction générale des Finances publiques (DGFiP) les seules informations
        nécessaires : vous n’avez aucun justificatif à envoyer.
      </p>
      <Entree connecte={connecte} />
      {connecte ? null : (
        <p>
          Pas encore de compte ? <a href="/inscription">Créer un compte</a> avec votre adresse électronique, ou connectez-vous avec FranceConnect s’il vous est
          proposé.
        </p>
      )}

      <section aria-labelledby="simulateur" class="encart">
        <h2 id="simulateur">{'Combien allez-vous payer\u00a0?'}</h2>
        <p>
          Estimez en une minute votre quotient familial et le prix de chaque activité, avec quelques chiffres de votre avis d’imposition. Sans connexion, et
          rien n’est enregistré.
        </p>
        <p>
          <a class="button" href="/simulateur">
            Estimer mes tarifs
          </a>
        </p>
      </section>

      <section aria-labelledby="etapes">
        <h2 id="etapes">Comment ça se passe</h2>
        <ol class="steps">
          <li>
            <strong>Vous lisez ce qui sera demandé</strong> à la DGFiP et pourquoi, puis vous donnez votre accord.
          </li>
          <li>
            <strong>Vous indiquez votre numéro fiscal</strong> (13 chiffres, en haut de la première page de votre avis d’imposition), et celui de l’autre parent
            s’il déclare ses revenus séparément.
          </li>
          <li>
            <strong>Vous obtenez votre quotient familial</strong> et le prix de chaque activité, avec le détail des informations utilisées.
          </li>
        </ol>
        <Entree connecte={connecte} />
      </section>

      <section aria-labelledby="calcul">
        <h2 id="calcul">Comment le quotient est calculé</h2>
        <p>
          Le quotient familial est calculé à partir du revenu fiscal de référence et du nombre de parts figurant sur votre avis d’imposition, selon les règles
          votées par le conseil municipal. Les agents qui traitent votre dossier voient le résultat, pas le détail de vos revenus.
        </p>
      </section>

      <section aria-labelledby="accompagnement">
        <h2 id="accompagnement">Vous préférez être accompagné ?</h2>
        <p>
          Le {commune.contact.service} vous reçoit
          {commune.contact.horaires ? ` (${commune.contact.horaires.charAt(0).toLowerCase()}${commune.contact.horaires.slice(1)})` : ''} : apportez votre avis
          d’imposition, un agent fera la démarche avec vous. Vous pouvez aussi nous écrire à{' '}
          <a href={`mailto:${commune.contact.email}`}>{commune.contact.email}</a>.
        </p>
        <p>
          <a href="/contact">Toutes les façons de nous joindre</a>
        </p>
      </section>
    </>
  );
}
