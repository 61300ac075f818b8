import { formatDateFrancaise } from '../../domain/dates.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { LIBELLES_CHAMPS_DGFIP, type Habilitation } from '../../domain/habilitation.ts';
import { ANCRE_ERREURS, Alert, CheckboxField, Csrf, Erreurs, FieldError, Flash, TextField, errorOf } from '../../http/ui/components.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { Agent } from '../agents/agents-service.ts';
import { LIBELLES_ROLES, ROLES_AGENT } from '../agents/roles.ts';
import type { CleApi } from '../api/cles-api-service.ts';
import type { VersionPolitique } from './politiques-service.ts';
import { Ariane, BASE, dateHeure, Tableau } from './ui.tsx';

export function AccueilPage({ enVigueur, agentsActifs, clesActives }: { enVigueur: VersionPolitique; agentsActifs: number; clesActives: number }) {
  return (
    <>
      <h1>Administration</h1>
      <p class="lead">La configuration de Quotient pour la commune. Aucune donnée fiscale des familles n’est accessible depuis cet espace.</p>
      <ul class="tuiles">
        <li class="tuile">
          <h2>
            <a href={`${BASE}/politiques`}>Politique tarifaire</a>
          </h2>
          <p>Version en vigueur : {enVigueur.libelle}. Déposer, essayer, comparer et activer une nouvelle version.</p>
        </li>
        <li class="tuile">
          <h2>
            <a href={`${BASE}/habilitation`}>Habilitation</a>
          </h2>
          <p>Ce que la commune est autorisée à demander à la DGFiP, sur quelle base légale, et combien de temps les données sont gardées.</p>
        </li>
        <li class="tuile">
          <h2>
            <a href={`${BASE}/agents`}>Agents et rôles</a>
          </h2>
          <p>
            {agentsActifs} agent{agentsActifs > 1 ? 's' : ''} actif{agentsActifs > 1 ? 's' : ''}. Inscrire un agent, changer ses rôles, le désactiver.
          </p>
        </li>
        <li class="tuile">
          <h2>
            <a href={`${BASE}/cles-api`}>Clés d’API</a>
          </h2>
          <p>
            {clesActives} clé{clesActives > 1 ? 's' : ''} active{clesActives > 1 ? 's' : ''}. Les clés du logiciel de facturation : créer, révoquer.
          </p>
        </li>
        <li class="tuile">
          <h2>
            <a href={`${BASE}/campagnes`}>Campagnes</a>
          </h2>
          <p>
            Mettre à jour le quotient de nombreuses familles : importer une liste, vérifier sans rien enregistrer, démarrer, suivre, télécharger le rapport.
          </p>
        </li>
        <li class="tuile">
          <h2>
            <a href={`${BASE}/incident`}>Mesures d’incident</a>
          </h2>
          <p>Suspendre les appels à la DGFiP ou les campagnes, mettre le portail en maintenance, révoquer des sessions.</p>
        </li>
      </ul>
    </>
  );
}

const LIBELLES_SCOPES: Readonly<Record<string, string>> = {
  RessourceIR: 'situation d’impôt sur le revenu d’une année donnée',
  RessourceIRDerniere: 'dernière situation d’impôt sur le revenu d’une année donnée',
  RessourceIRDerniere2: 'dernière situation d’impôt sur le revenu sur deux ans (le dernier avis, sinon le précédent)',
  api_r2p_resolution_spi: 'recherche du numéro fiscal à partir de l’état civil (API R2P)',
  sfip_donnees_fiscales_usagers: 'dernières données d’imposition à partir de l’état civil (API SFiP)',
};
const LIBELLES_MODALITES: Readonly<Record<string, string>> = {
  'numero-fiscal': 'avec le numéro fiscal donné par la famille',
  franceconnect: 'avec FranceConnect, sans numéro fiscal',
  'etat-civil': 'à partir de l’état civil',
};
const annee = (n: number) => `revenus de l’année N-${n}${n === 1 ? ' (l’année précédente)' : ''}`;

export function HabilitationPage({
  habilitation: h,
  conservation,
  enVigueur,
}: {
  habilitation: Habilitation;
  conservation: CommuneConfig['conservation'];
  enVigueur: VersionPolitique;
}) {
  const d = enVigueur.politique?.deliberation;
  return (
    <>
      <Ariane etapes={[]} />
      <h1>Habilitation</h1>
      <p class="lead">
        L’autorisation accordée par la DGFiP (DataPass) au téléservice de la commune, telle que Quotient l’applique. Quotient ne demande rien d’autre.
      </p>
      <dl class="facts">
        <dt>Identifiant du téléservice</dt>
        <dd>
          <code>{h.idTeleservice}</code>
        </dd>
        <dt>Finalité</dt>
        <dd>{h.finalite}</dd>
        <dt>Base légale</dt>
        <dd>{h.baseLegale}</dd>
        <dt>Délibération tarifaire en vigueur</dt>
        <dd>
          {d
            ? [d.numero ? `n° ${d.numero}` : null, d.date ? `du ${formatDateFrancaise(d.date)}` : null, d.intitule ?? null].filter(Boolean).join(', ') ||
              'non précisée'
            : 'non précisée'}{' '}
          (<a href={`${BASE}/politiques/${enVigueur.id}`}>{enVigueur.libelle}</a>)
        </dd>
        <dt>Version du texte de consentement</dt>
        <dd>{h.versionTexteConsentement}</dd>
      </dl>
      <h2>Ressources autorisées</h2>
      <ul>
        {h.scopes.map((s) => (
          <li key={s}>
            {LIBELLES_SCOPES[s] ?? s} (<code>{s}</code>)
          </li>
        ))}
      </ul>
      <h2>Années de revenus</h2>
      <ul>
        {h.annees.map((n, i) => (
          <li key={n}>
            {i === 0 ? '' : 'à défaut, '}
            {annee(n)}
          </li>
        ))}
      </ul>
      <h2>Façons d’identifier le foyer</h2>
      <ul>
        {h.modalites.map((m) => (
          <li key={m}>{LIBELLES_MODALITES[m] ?? m}</li>
        ))}
      </ul>
      <Tableau caption="Données autorisées (les seules que Quotient demande et garde)">
        <thead>
          <tr>
            <th scope="col">Donnée</th>
            <th scope="col">Nom dans l’API</th>
          </tr>
        </thead>
        <tbody>
          {h.champs.map((c) => (
            <tr key={c}>
              <td>{LIBELLES_CHAMPS_DGFIP[c] ?? c}</td>
              <td>
                <code>{c}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </Tableau>
      <h2>Durées de conservation</h2>
      <ul>
        <li>Données fiscales : jusqu’à {conservation.donneesFiscalesMoisApresValidite} mois après la fin de validité du quotient.</li>
        <li>Demandes et résultats : {conservation.demandesMois} mois après la fin de validité du quotient (ou de la demande).</li>
        <li>Journal d’audit : {conservation.journalMois} mois.</li>
      </ul>
      <Alert kind="info" title="Modifier l’habilitation">
        <p>
          L’habilitation se modifie dans le fichier de configuration de la commune, par l’exploitant, après accord de la DGFiP. Si la variable d’environnement{' '}
          <code>DGFIP_ID_TELESERVICE</code> est renseignée, elle remplace l’identifiant ci-dessus pour la connexion.
        </p>
      </Alert>
    </>
  );
}

const roles = (a: Agent) => (a.roles.length > 0 ? a.roles.map((r) => LIBELLES_ROLES[r]).join(', ') : 'aucun');

export function AgentsPage({ agents, flash }: { agents: readonly Agent[]; flash?: string }) {
  return (
    <>
      <Ariane etapes={[]} />
      <h1>Agents et rôles</h1>
      <Flash message={flash} />
      <p>
        Un agent se connecte avec son compte professionnel ; il doit d’abord être inscrit ici avec son adresse électronique. Désactiver un agent ferme ses
        sessions immédiatement.
      </p>
      <p>
        <a class="button" href={`${BASE}/agents/nouveau`}>
          Inscrire un agent
        </a>
      </p>
      <Tableau caption="Agents inscrits">
        <thead>
          <tr>
            <th scope="col">Nom</th>
            <th scope="col">Adresse électronique</th>
            <th scope="col">Rôles</th>
            <th scope="col">État</th>
            <th scope="col">Dernière connexion</th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr key={a.id}>
              <th scope="row">
                <a href={`${BASE}/agents/${a.id}`}>
                  {a.prenom} {a.nom}
                </a>
              </th>
              <td>{a.email}</td>
              <td>{roles(a)}</td>
              <td>{a.actif ? 'Actif' : `Désactivé le ${dateHeure(a.desactiveLe, '—')}`}</td>
              <td>{dateHeure(a.derniereConnexionLe)}</td>
            </tr>
          ))}
        </tbody>
      </Tableau>
    </>
  );
}

const CHAMPS_AGENT = { email: 'email', prenom: 'prenom', nom: 'nom', roles: `roles-${ROLES_AGENT[0]}` } as const;

function Roles({ coches, errors }: { coches: readonly string[]; errors: readonly ErrorDetail[] }) {
  const erreur = errorOf(errors, 'roles');
  return (
    <fieldset class={`field administration-roles${erreur ? ' field--error' : ''}`} aria-describedby={erreur ? 'roles-erreur' : undefined}>
      <legend>Rôles</legend>
      {erreur ? <FieldError id="roles" error={erreur} /> : null}
      {ROLES_AGENT.map((r) => (
        <CheckboxField key={r} id={`roles-${r}`} name="roles" value={r} label={LIBELLES_ROLES[r]} checked={coches.includes(r)} />
      ))}
    </fieldset>
  );
}

export interface NouvelAgentValeurs {
  readonly email: string;
  readonly prenom: string;
  readonly nom: string;
  readonly roles: readonly string[];
}

export function NouvelAgentPage({ csrf, valeurs, errors }: { csrf: string; valeurs: NouvelAgentValeurs; errors: readonly ErrorDetail[] }) {
  return (
    <>
      <Erreurs errors={errors} champs={CHAMPS_AGENT} emplacements />
      <Ariane etapes={[{ href: `${BASE}/agents`, label: 'Agents et rôles' }]} />
      <h1>Inscrire un agent</h1>
      <p>L’agent pourra se connecter avec son compte professionnel dont l’adresse électronique est celle indiquée ici.</p>
      <form method="post" action={`${BASE}/agents#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <TextField
          id="email"
          label="Adresse électronique professionnelle"
          hint="Par exemple prenom.nom@ville.fr"
          value={valeurs.email}
          error={errorOf(errors, 'email')}
          inputMode="email"
          autoComplete="off"
        />
        <TextField id="prenom" label="Prénom" value={valeurs.prenom} error={errorOf(errors, 'prenom')} />
        <TextField id="nom" label="Nom" value={valeurs.nom} error={errorOf(errors, 'nom')} />
        <Roles coches={valeurs.roles} errors={errors} />
        <button class="button" type="submit">
          Inscrire l’agent
        </button>
      </form>
    </>
  );
}

export function AgentPage({
  csrf,
  agent: a,
  soiMeme,
  roles: coches,
  errors,
  flash,
}: {
  csrf: string;
  agent: Agent;
  soiMeme: boolean;
  roles: readonly string[];
  errors: readonly ErrorDetail[];
  flash?: string;
}) {
  const general = errors.filter((e) => e.path !== 'roles');
  return (
    <>
      <Erreurs errors={errors.filter((e) => e.path === 'roles')} champs={CHAMPS_AGENT} emplacements />
      <Ariane etapes={[{ href: `${BASE}/agents`, label: 'Agents et rôles' }]} />
      <h1>
        {a.prenom} {a.nom}
      </h1>
      <Flash message={flash} />
      {general.map((e) => (
        <Alert key={e.message} kind="error" title={e.message} />
      ))}
      <dl class="facts">
        <dt>Adresse électronique</dt>
        <dd>{a.email}</dd>
        <dt>État</dt>
        <dd>{a.actif ? 'Actif' : `Désactivé le ${dateHeure(a.desactiveLe, '—')}`}</dd>
        <dt>Rôles</dt>
        <dd>{roles(a)}</dd>
        <dt>Inscrit le</dt>
        <dd>{dateHeure(a.creeLe)}</dd>
        <dt>Dernière connexion</dt>
        <dd>{dateHeure(a.derniereConnexionLe)}</dd>
        <dt>Compte professionnel</dt>
        <dd>{a.lie ? 'relié (l’agent s’est déjà connecté)' : 'pas encore relié (première connexion à venir)'}</dd>
      </dl>
      <h2>Changer les rôles</h2>
      <p>
        Les nouveaux rôles s’appliquent dès la prochaine page que l’agent ouvre.
        {soiMeme ? ' Vous ne pouvez pas retirer votre propre rôle d’administration.' : ''}
      </p>
      <form method="post" action={`${BASE}/agents/${a.id}/roles#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <Roles coches={coches} errors={errors} />
        <button class="button" type="submit">
          Enregistrer les rôles
        </button>
      </form>
      {a.actif ? (
        <>
          <h2>Désactiver l’agent</h2>
          {soiMeme ? (
            <p>Vous ne pouvez pas désactiver votre propre compte : demandez-le à un autre administrateur.</p>
          ) : (
            <>
              <p>L’agent ne peut plus se connecter, et ses sessions ouvertes sont fermées immédiatement. Vous pourrez le réactiver.</p>
              <form method="post" action={`${BASE}/agents/${a.id}/desactivation`}>
                <Csrf token={csrf} />
                <button class="button button--secondary" type="submit">
                  Désactiver {a.prenom} {a.nom}
                </button>
              </form>
            </>
          )}
        </>
      ) : (
        <>
          <h2>Réactiver l’agent</h2>
          <p>L’agent pourra de nouveau se connecter, avec les rôles ci-dessus.</p>
          <form method="post" action={`${BASE}/agents/${a.id}/reactivation`}>
            <Csrf token={csrf} />
            <button class="button" type="submit">
              Réactiver {a.prenom} {a.nom}
            </button>
          </form>
        </>
      )}
    </>
  );
}

export function ClesApiPage({
  csrf,
  jeton,
  cles,
  noms,
  libelle,
  errors,
  flash,
}: {
  csrf: string;
  jeton: string;
  cles: readonly CleApi[];
  noms: ReadonlyMap<string, string>;
  libelle: string;
  errors: readonly ErrorDetail[];
  flash?: string;
}) {
  const actives = cles.filter((c) => c.revoqueeLe === null);
  return (
    <>
      <Erreurs errors={errors} champs={{ libelle: 'libelle' }} emplacements />
      <Ariane etapes={[]} />
      <h1>Clés d’API</h1>
      <Flash message={flash} />
      <p>
        Le logiciel de facturation lit les quotients et les tranches par l’API de Quotient avec une clé. Une clé n’est montrée qu’une fois, à sa création :
        Quotient n’en garde qu’une empreinte. Révoquez une clé dès qu’elle n’est plus utilisée ou qu’elle a pu être vue par quelqu’un d’autre.
      </p>
      <Tableau caption="Clés d’API">
        <thead>
          <tr>
            <th scope="col">Logiciel</th>
            <th scope="col">Début de la clé</th>
            <th scope="col">Créée</th>
            <th scope="col">Dernière utilisation</th>
            <th scope="col">État</th>
          </tr>
        </thead>
        <tbody>
          {cles.length === 0 ? (
            <tr>
              <td colSpan={5}>Aucune clé pour l’instant.</td>
            </tr>
          ) : (
            cles.map((c) => (
              <tr key={c.id}>
                <th scope="row">{c.libelle}</th>
                <td>
                  <code>{c.prefixe}…</code>
                </td>
                <td>
                  {dateHeure(c.creeeLe)} par {noms.get(c.creeePar) ?? 'agent inconnu'}
                </td>
                <td>{dateHeure(c.derniereUtilisationLe)}</td>
                <td>
                  {c.revoqueeLe ? (
                    `Révoquée le ${dateHeure(c.revoqueeLe)}`
                  ) : (
                    <form method="post" action={`${BASE}/cles-api/${c.id}/revocation`} class="administration-inline">
                      <Csrf token={csrf} />
                      Active{' '}
                      <button class="button button--secondary button--small" type="submit">
                        Révoquer<span class="visually-hidden"> la clé « {c.libelle} »</span>
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </Tableau>
      <p class="muted">
        {actives.length} clé{actives.length > 1 ? 's' : ''} active{actives.length > 1 ? 's' : ''}.
      </p>
      <h2>Créer une clé</h2>
      <form method="post" action={`${BASE}/cles-api#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <input type="hidden" name="jeton" value={jeton} />
        <TextField
          id="libelle"
          label="Logiciel qui utilisera la clé"
          hint="Par exemple « Facturation périscolaire (éditeur X) »."
          value={libelle}
          error={errorOf(errors, 'libelle')}
        />
        <button class="button" type="submit">
          Créer la clé
        </button>
      </form>
    </>
  );
}

export function CleCreeePage({ cle, secret }: { cle: CleApi; secret: string }) {
  return (
    <>
      <Ariane etapes={[{ href: `${BASE}/cles-api`, label: 'Clés d’API' }]} />
      <h1>Clé créée : {cle.libelle}</h1>
      <Alert kind="warning" title="Copiez la clé maintenant : elle ne sera plus jamais affichée.">
        <p>Transmettez-la à l’éditeur du logiciel par un moyen sûr (pas par un courriel non chiffré). Si elle est perdue, révoquez-la et créez-en une autre.</p>
      </Alert>
      <p>
        <label for="secret">Clé d’API</label>
      </p>
      <p>
        <input id="secret" class="administration-secret" type="text" readOnly value={secret} spellcheck={false} autoComplete="off" />
      </p>
      <p>
        Le logiciel l’envoie dans l’en-tête de chaque appel : <code>Authorization: Bearer &lt;la clé&gt;</code>.
      </p>
      <p>
        <a class="button" href={`${BASE}/cles-api`}>
          J’ai copié la clé
        </a>
      </p>
    </>
  );
}
