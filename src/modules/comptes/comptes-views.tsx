import type { ComponentChildren } from 'preact';
import type { ErrorDetail } from '../../domain/errors.ts';
import { Csrf, Erreurs, Flash, TextField, errorOf } from '../../http/ui/components.tsx';
import type { CapturedCourriel } from '../../infra/mail/mailer.ts';
import { PASSWORD_MIN_LENGTH, PHRASE_LONGUEUR_MIN, PHRASE_MOTS_MIN, type CompteConnecte } from './comptes-service.ts';

/** The fields of these pages: an error on another path (FranceConnect, the whole form) has no link. */
const CHAMPS = { email: 'email', password: 'password', prenoms: 'prenoms', nom: 'nom' };

function Field({
  id,
  label,
  type,
  autoComplete,
  value,
  hint,
  errors,
}: {
  id: string;
  label: string;
  type: 'text' | 'email' | 'password';
  autoComplete: string;
  value?: string;
  hint?: string;
  errors: readonly ErrorDetail[];
}) {
  const error = errorOf(errors, id);
  return (
    <TextField id={id} label={label} type={type} autoComplete={autoComplete} value={value ?? ''} {...(hint ? { hint } : {})} {...(error ? { error } : {})} />
  );
}

export const PASSWORD_HINT = `Au moins ${PASSWORD_MIN_LENGTH} caractères, avec au moins trois sortes de caractères parmi : minuscules, majuscules, chiffres, autres signes ; ou bien une phrase d’au moins ${PHRASE_MOTS_MIN} mots et ${PHRASE_LONGUEUR_MIN} caractères, par exemple « le vélo rouge dort au jardin ».`;

export function ConnexionPage({
  csrf,
  franceConnect,
  errors,
  email,
  message,
}: {
  csrf: string;
  franceConnect: boolean;
  errors: readonly ErrorDetail[];
  email?: string;
  message?: string;
}) {
  return (
    <>
      <Erreurs errors={errors} champs={CHAMPS} />
      <h1>Se connecter</h1>
      <Flash message={message} />
      <div class="connexion-choix">
        {franceConnect ? (
          <section aria-labelledby="titre-fc">
            <h2 id="titre-fc">Avec FranceConnect</h2>
            <p>
              FranceConnect est la solution proposée par l’État pour vous connecter avec un compte que vous possédez déjà (impots.gouv.fr, ameli.fr, l’Identité
              Numérique La Poste…).
            </p>
            <form method="post" action="/connexion/franceconnect">
              <Csrf token={csrf} />
              <button class="fc-button" type="submit">
                <span class="fc-button__ligne1">S’identifier avec</span>
                <span class="fc-button__ligne2">FranceConnect</span>
              </button>
            </form>
            <a class="fc-info" href="https://franceconnect.gouv.fr/" target="_blank" rel="noopener noreferrer">
              Qu’est-ce que FranceConnect ? <span class="visually-hidden">(nouvelle fenêtre)</span>
            </a>
          </section>
        ) : null}
        <section aria-labelledby="titre-local">
          <h2 id="titre-local">Avec votre adresse électronique</h2>
          <form method="post" action="/connexion#erreurs" novalidate>
            <Csrf token={csrf} />
            <Field id="email" label="Adresse électronique" type="email" autoComplete="username" value={email} errors={errors} />
            <Field id="password" label="Mot de passe" type="password" autoComplete="current-password" errors={errors} />
            <button class="button" type="submit">
              Se connecter
            </button>
          </form>
          <p>
            <a href="/mot-de-passe-oublie">Mot de passe oublié ?</a>
          </p>
          <p>
            Pas encore de compte ? <a href="/inscription">Créer un compte</a>
          </p>
        </section>
      </div>
    </>
  );
}

export function InscriptionPage({ csrf, errors, values }: { csrf: string; errors: readonly ErrorDetail[]; values: Record<string, string> }) {
  return (
    <>
      <Erreurs errors={errors} champs={CHAMPS} />
      <h1>Créer un compte</h1>
      <p class="lead">Pour les familles qui n’utilisent pas FranceConnect. Vous recevrez un courriel pour confirmer votre adresse.</p>
      <form method="post" action="/inscription#erreurs" class="simulateur-form" novalidate>
        <Csrf token={csrf} />
        <Field id="prenoms" label="Prénoms" type="text" autoComplete="given-name" value={values.prenoms} errors={errors} />
        <Field id="nom" label="Nom de naissance" type="text" autoComplete="family-name" value={values.nom} errors={errors} />
        <Field id="email" label="Adresse électronique" type="email" autoComplete="email" value={values.email} errors={errors} />
        <Field id="password" label="Mot de passe" type="password" autoComplete="new-password" hint={PASSWORD_HINT} errors={errors} />
        <button class="button" type="submit">
          Créer mon compte
        </button>
      </form>
    </>
  );
}

export function MessagePage({ title, children }: { title: string; children: preact.ComponentChildren }) {
  return (
    <>
      <h1>{title}</h1>
      {children}
    </>
  );
}

export function ConfirmationPage({ csrf, token, valid }: { csrf: string; token: string; valid: boolean }) {
  if (!valid) {
    return (
      <MessagePage title="Lien expiré">
        <p>Ce lien n’est plus valable : il a déjà servi ou a expiré.</p>
        <p>
          <a href="/connexion">Se connecter</a> · <a href="/inscription">Créer un compte</a>
        </p>
      </MessagePage>
    );
  }
  return (
    <MessagePage title="Confirmer votre adresse électronique">
      <form method="post" action="/inscription/confirmation">
        <Csrf token={csrf} />
        <input type="hidden" name="jeton" value={token} />
        <button class="button" type="submit">
          Confirmer mon adresse
        </button>
      </form>
    </MessagePage>
  );
}

export function OubliPage({ csrf, errors, email }: { csrf: string; errors: readonly ErrorDetail[]; email?: string }) {
  return (
    <>
      <Erreurs errors={errors} champs={CHAMPS} />
      <h1>Mot de passe oublié</h1>
      <p class="lead">Indiquez l’adresse électronique de votre compte : nous y enverrons un lien pour choisir un nouveau mot de passe.</p>
      <form method="post" action="/mot-de-passe-oublie#erreurs" class="simulateur-form" novalidate>
        <Csrf token={csrf} />
        <Field id="email" label="Adresse électronique" type="email" autoComplete="email" value={email} errors={errors} />
        <button class="button" type="submit">
          Recevoir un lien
        </button>
      </form>
    </>
  );
}

export function NouveauMotDePassePage({ csrf, token, errors }: { csrf: string; token: string; errors: readonly ErrorDetail[] }) {
  return (
    <>
      <Erreurs errors={errors} champs={CHAMPS} />
      <h1>Choisir un nouveau mot de passe</h1>
      <form method="post" action="/mot-de-passe/nouveau#erreurs" class="simulateur-form" novalidate>
        <Csrf token={csrf} />
        <input type="hidden" name="jeton" value={token} />
        <Field id="password" label="Nouveau mot de passe" type="password" autoComplete="new-password" hint={PASSWORD_HINT} errors={errors} />
        <button class="button" type="submit">
          Enregistrer
        </button>
      </form>
    </>
  );
}

/** Signing out is a posted form, not a link: it changes state, so it carries the CSRF token. */
function Deconnexion({ csrf, secondaire }: { csrf: string; secondaire: boolean }) {
  return (
    <form method="post" action="/deconnexion">
      <Csrf token={csrf} />
      <button class={secondaire ? 'button button--secondary' : 'button'} type="submit">
        Se déconnecter
      </button>
    </form>
  );
}

export function MonEspacePage({ compte, csrf, dossier = null }: { compte: CompteConnecte; csrf: string; dossier?: ComponentChildren }) {
  return (
    <>
      <h1>Mon espace</h1>
      <p class="lead">Vous êtes connecté en tant que {compte.displayName}.</p>
      {dossier}
      <dl class="facts">
        <dt>Connexion</dt>
        <dd>{compte.kind === 'franceconnect' ? 'FranceConnect' : `Adresse électronique (${compte.email ?? ''})`}</dd>
        <dt>Référence du foyer</dt>
        <dd>{compte.familleReference}</dd>
      </dl>
      <nav aria-label="Mon espace">
        <ul>
          <li>
            <a href="/mon-quotient">Calculer mon quotient familial</a>
          </li>
          <li>
            <a href="/mes-demandes">Mes demandes et mes quotients</a>
          </li>
          <li>
            <a href="/mon-foyer">Mon foyer</a>
          </li>
          <li>
            <a href="/mes-donnees">Mes données et mes droits</a>
          </li>
        </ul>
      </nav>
      <Deconnexion csrf={csrf} secondaire />
    </>
  );
}

export function DeconnexionPage({ csrf, signedIn }: { csrf: string; signedIn: boolean }) {
  return signedIn ? (
    <MessagePage title="Se déconnecter">
      <Deconnexion csrf={csrf} secondaire={false} />
    </MessagePage>
  ) : (
    <MessagePage title="Vous êtes déconnecté">
      <p>Votre session est terminée.</p>
      <p>
        <a class="button" href="/connexion">
          Se reconnecter
        </a>
      </p>
    </MessagePage>
  );
}

/** The links of a captured message, clickable (they are the demo's way to confirm an address). */
function linkify(text: string) {
  return text.split(/(https?:\/\/[^\s]+)/g).map((part, i) =>
    i % 2 === 1 ? (
      <a key={i} href={part}>
        {part}
      </a>
    ) : (
      part
    ),
  );
}

export function OutboxPage({ messages }: { messages: readonly CapturedCourriel[] }) {
  return (
    <div class="outbox">
      <h1>Courriels envoyés (démonstration)</h1>
      <p class="lead">En démonstration, les courriels ne quittent pas la machine : le serveur SMTP local les garde ici, en mémoire.</p>
      {messages.length === 0 ? <p>Aucun courriel pour le moment.</p> : null}
      {[...messages].reverse().map((m, i) => (
        // An article per message, not a section: several messages share a subject, and landmarks must be told apart.
        <article key={`${m.receivedAt}-${i}`}>
          <h2>{m.subject}</h2>
          <p class="muted">
            À {m.to.join(', ')} · {m.receivedAt}
          </p>
          <pre>{linkify(m.text)}</pre>
        </article>
      ))}
    </div>
  );
}
