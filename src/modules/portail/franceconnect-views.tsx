/** Where each other way is chosen after a FranceConnect sign-in failed: never a silent switch, the family picks. */
export interface AutresVoies {
  /** Sign in with FranceConnect again (the consent already given stands). */
  readonly franceConnect: string;
  /** Type the numéro fiscal instead. */
  readonly numero: string;
  /** « Je n'ai pas mon numéro fiscal »: the état civil, when the commune may use it. */
  readonly etatCivil?: string;
}

/** The three ways on, said as choices: FranceConnect again, the numéro fiscal, the état civil. */
export function ChoixAutresVoies({ voies }: { voies: AutresVoies }) {
  return (
    <>
      <h2>Comment continuer ?</h2>
      <ul class="liste-actions">
        <li>
          <a class="button" href={voies.franceConnect}>
            Se reconnecter avec FranceConnect
          </a>
        </li>
        <li>
          <a class="button button--secondary" href={voies.numero}>
            Saisir le numéro fiscal
          </a>
        </li>
        {voies.etatCivil ? (
          <li>
            <a class="button button--secondary" href={voies.etatCivil}>
              Je n’ai pas mon numéro fiscal
            </a>{' '}
            la DGFiP retrouve l’avis à partir de l’état civil (nom, prénoms, date et lieu de naissance).
          </li>
        ) : null}
      </ul>
    </>
  );
}

/** FranceConnect refused the return, gave no consent to the data, or the person who signed in is not the declarant expected. */
export function FranceConnectAvisPage({ titre, message, voies }: { titre: string; message: string; voies: AutresVoies }) {
  return (
    <>
      <h1>{titre}</h1>
      <p class="lead">{message}</p>
      <ChoixAutresVoies voies={voies} />
    </>
  );
}
