import { donneesEnClair, type Habilitation } from '../../domain/habilitation.ts';

/**
 * The blank consent form the counter prints for a family that comes without one: the text in
 * force (its version), what is asked of the DGFiP and why, and one box per declarant to sign.
 * The numéro fiscal is not written on it: the family shows its avis, the agent types the number
 * once, and it is never kept (the form goes in the family's file, the number does not).
 */
const RESSOURCES: Readonly<Record<Habilitation['scopes'][number], string>> = {
  RessourceIR: 'l’avis d’impôt sur le revenu de l’année demandée',
  RessourceIRDerniere: 'le dernier avis d’impôt sur le revenu établi',
  RessourceIRDerniere2: 'les deux derniers avis d’impôt sur le revenu établis',
  api_r2p_resolution_spi: 'la recherche du numéro fiscal à partir de l’état civil',
  sfip_donnees_fiscales_usagers: 'les données fiscales à partir de l’état civil',
};

const annees = (offsets: readonly number[]) =>
  [...offsets]
    .sort()
    .map((n) => `revenus de l’année ${n === 1 ? 'précédente' : `N-${n}`}`)
    .join(', ou à défaut ');

export function FormulaireAccordPage({ commune, habilitation }: { commune: string; habilitation: Habilitation }) {
  return (
    <article class="formulaire-accord">
      <p class="no-print">
        <a href="/agents/guichet">Revenir à l’accueil des familles</a>
      </p>
      <p class="no-print">
        <button type="button" class="button" data-imprimer hidden>
          Imprimer le formulaire
        </button>{' '}
        Imprimez ce formulaire vierge (commande Imprimer du navigateur) : la famille le remplit et le signe, puis vous saisissez sa demande.
      </p>
      <h1>{commune} — accord pour le calcul du quotient familial</h1>
      <p class="muted">Texte de l’accord, version {habilitation.versionTexteConsentement}</p>
      <h2>Ce que vous acceptez</h2>
      <p>
        J’accepte que {commune} demande à la Direction générale des Finances publiques (DGFiP) les informations suivantes de mon avis d’impôt sur le revenu :{' '}
        {donneesEnClair(habilitation).join(', ')}.
      </p>
      <p>Pour : {habilitation.finalite}</p>
      <h2>Ce qui est demandé à la DGFiP</h2>
      <ul>
        {habilitation.scopes.map((s) => (
          <li key={s}>{RESSOURCES[s]}</li>
        ))}
        <li>{annees(habilitation.annees)}</li>
      </ul>
      <p>Base légale : {habilitation.baseLegale}</p>
      <p>
        Seules ces informations sont demandées ; celles qui ne servent pas au calcul sont écartées dès leur réception. Votre numéro fiscal n’est pas écrit sur
        ce formulaire : présentez votre avis d’imposition, l’agent le saisit une fois, il n’est jamais conservé. Vous pouvez retirer votre accord à tout moment
        auprès du service.
      </p>
      <h2>Signature de chaque déclarant dont l’avis est demandé</h2>
      <p class="hint">Un couple marié ou pacsé a un seul avis : la signature de l’un des deux suffit. Sinon, chaque parent signe pour son propre avis.</p>
      <div class="formulaire-accord__signatures">
        {[1, 2].map((n) => (
          <section key={n} class="formulaire-accord__case" aria-label={`Déclarant ${n}`}>
            <h3>Déclarant {n}</h3>
            <p>Nom de naissance : </p>
            <p>Nom d’usage : </p>
            <p>Prénoms : </p>
            <p>Date de naissance : </p>
            <p>Fait à : </p>
            <p>Le : </p>
            <p>Signature :</p>
            <div class="formulaire-accord__signature" />
          </section>
        ))}
      </div>
      <p class="muted">Réservé au service : référence de la famille, date de réception, agent.</p>
      <script src="/static/imprimer.js" defer />
    </article>
  );
}
