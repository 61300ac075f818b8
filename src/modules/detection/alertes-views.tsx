import type { ErrorDetail } from '../../domain/errors.ts';
import type { StatutAlerte } from '../../infra/db/schema.ts';
import { SousNavControle } from '../../http/espace-agents.tsx';
import { Alert, Csrf, Erreurs, Flash, TextAreaField } from '../../http/ui/components.tsx';
import { TableEntrees } from '../../http/ui/table-entrees.tsx';
import type { EntreeLisible } from '../controle/lecture-journal.ts';
import type { AlerteStockee, DetailAlerte } from './alertes-store.ts';

export const LIBELLES_STATUT: Record<StatutAlerte, string> = { ouverte: 'Ouvertes', acquittee: 'Acquittées', cloturee: 'Closes' };
const STATUT_SINGULIER: Record<StatutAlerte, string> = { ouverte: 'ouverte', acquittee: 'acquittée', cloturee: 'close' };
const GRAVITE: Record<string, string> = { info: 'Information', avertissement: 'Avertissement', critique: 'Critique' };

const HEURE = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeStyle: 'medium', timeZone: 'Europe/Paris' });
const quand = (iso: string) => HEURE.format(new Date(iso));

/** Who or what an alert is about: an agent by name, anything else (an account, an address, an instance) by its key. */
function Concerne({ cle, noms }: { cle: string; noms: Readonly<Record<string, string>> }) {
  const nom = noms[cle];
  return nom ? (
    <>
      Agent <strong>{nom}</strong>
    </>
  ) : (
    <code>{cle}</code>
  );
}

export function AlertesPage({
  statut,
  alertes,
  comptes,
  noms,
  flash,
}: {
  statut: StatutAlerte;
  alertes: readonly AlerteStockee[];
  comptes: Record<StatutAlerte, number>;
  /** The agents among the alerts' keys, by their journal id (`agent:<id>`). */
  noms: Readonly<Record<string, string>>;
  flash: string | null;
}) {
  return (
    <>
      <SousNavControle courant="/agents/controle/alertes" />
      <h1>Alertes de sécurité</h1>
      <Flash message={flash} />
      <p class="lead">
        Les alertes levées par les règles de détection (échecs de connexion, refus d’accès, recherche de numéros fiscaux, lectures ou exports inhabituels, refus
        de la DGFiP, quota, intégrité du journal, silence d’une instance). Chacune a été envoyée au RSSI et au DPO par les canaux configurés.
      </p>
      <nav aria-label="Statut des alertes">
        <ul class="onglets">
          {(['ouverte', 'acquittee', 'cloturee'] as const).map((s) => (
            <li key={s}>
              <a href={`/agents/controle/alertes?statut=${s}`} aria-current={s === statut ? 'page' : undefined}>
                {LIBELLES_STATUT[s]} ({comptes[s]})
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <h2>{LIBELLES_STATUT[statut]}</h2>
      {alertes.length === 0 ? (
        <p>Aucune alerte {STATUT_SINGULIER[statut]}.</p>
      ) : (
        <div class="table-wrapper" role="region" aria-label={`Alertes ${LIBELLES_STATUT[statut].toLowerCase()}`} tabIndex={0}>
          <table class="donnees controle-table">
            <caption>Alertes {LIBELLES_STATUT[statut].toLowerCase()}, la plus récente d’abord</caption>
            <thead>
              <tr>
                <th scope="col">Alerte</th>
                <th scope="col">Gravité</th>
                <th scope="col">Concerne</th>
                <th scope="col">Occurrences</th>
                <th scope="col">Dernière</th>
              </tr>
            </thead>
            <tbody>
              {alertes.map((a) => (
                <tr key={a.id}>
                  <td>
                    <a href={`/agents/controle/alertes/${a.id}`}>{a.titre}</a>
                  </td>
                  <td>{GRAVITE[a.gravite] ?? a.gravite}</td>
                  <td>
                    <Concerne cle={a.cle} noms={noms} />
                  </td>
                  <td>{a.occurrences}</td>
                  <td>{quand(a.derniereLe)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

export interface FormulaireMotif {
  readonly action: 'acquittement' | 'cloture';
  readonly errors: readonly ErrorDetail[];
  readonly motif: string;
}

export function AlertePage({
  csrf,
  detail,
  entrees,
  noms,
  formulaire,
  flash,
}: {
  csrf: string;
  detail: DetailAlerte;
  /** The journal entries behind it, as the journal's page shows them. */
  entrees: readonly EntreeLisible[];
  /** The agent it concerns and the people who moved it, by their journal id (`agent:<id>`). */
  noms: Readonly<Record<string, string>>;
  formulaire: FormulaireMotif | null;
  flash: string | null;
}) {
  const { alerte, evenements } = detail;
  const errors = formulaire?.errors ?? [];
  const champ = (action: FormulaireMotif['action']) => {
    const id = `motif-${action}`;
    const erreur = formulaire?.action === action ? errors.find((e) => e.path === id)?.message : undefined;
    return (
      <TextAreaField
        id={id}
        name="motif"
        label="Motif"
        hint="Ce que vous avez constaté ou fait : il est inscrit au journal d’audit (5 à 500 caractères, sans numéro fiscal)."
        value={formulaire?.action === action ? formulaire.motif : ''}
        rows={3}
        maxLength={500}
        {...(erreur !== undefined ? { error: erreur } : {})}
      />
    );
  };
  return (
    <>
      <Erreurs errors={errors} />
      <SousNavControle courant="/agents/controle/alertes" />
      <p>
        <a href={`/agents/controle/alertes?statut=${alerte.statut}`}>Retour aux alertes {LIBELLES_STATUT[alerte.statut].toLowerCase()}</a>
      </p>
      <h1>{alerte.titre}</h1>
      <Flash message={flash} />
      <Alert
        kind={alerte.gravite === 'critique' ? 'error' : 'warning'}
        title={`${GRAVITE[alerte.gravite] ?? alerte.gravite} — alerte ${STATUT_SINGULIER[alerte.statut]}`}
      >
        <p>{alerte.message}</p>
      </Alert>
      <dl class="facts">
        <dt>Règle</dt>
        <dd>
          <code>{alerte.regle}</code>
        </dd>
        <dt>Concerne</dt>
        <dd>
          <Concerne cle={alerte.cle} noms={noms} />
        </dd>
        <dt>Première détection</dt>
        <dd>{quand(alerte.premiereLe)}</dd>
        <dt>Dernière détection</dt>
        <dd>{quand(alerte.derniereLe)}</dd>
        <dt>Occurrences</dt>
        <dd>
          {alerte.occurrences} (envoyée {alerte.notifications} fois)
        </dd>
        {alerte.acquittement ? (
          <>
            <dt>Acquittée</dt>
            <dd>
              le {quand(alerte.acquittement.le)} par {noms[alerte.acquittement.par] ?? alerte.acquittement.par} : « {alerte.acquittement.motif} »
            </dd>
          </>
        ) : null}
        {alerte.cloture ? (
          <>
            <dt>Close</dt>
            <dd>
              le {quand(alerte.cloture.le)} par {noms[alerte.cloture.par] ?? alerte.cloture.par} : « {alerte.cloture.motif} »
            </dd>
          </>
        ) : null}
      </dl>
      <h2>Ce qui l’a déclenchée</h2>
      {entrees.length > 0 ? <TableEntrees entrees={entrees} caption="Entrées du journal à l’origine de l’alerte, la plus récente d’abord" /> : null}
      {evenements > 0 ? (
        <p>
          {evenements} échec{evenements > 1 ? 's' : ''} de connexion depuis cette adresse (non inscrits au journal : le compte essayé peut ne pas exister).
        </p>
      ) : null}
      {entrees.length === 0 && evenements === 0 ? <p>Un état constaté (quota, intégrité, silence, campagne) plutôt que des entrées du journal.</p> : null}
      {alerte.statut === 'ouverte' ? (
        <form method="post" action={`/agents/controle/alertes/${alerte.id}/acquittement`}>
          <h2>Acquitter</h2>
          <p>Acquitter dit que vous vous en occupez : l’alerte n’est plus renvoyée, les nouvelles détections s’y ajoutent.</p>
          <Csrf token={csrf} />
          {champ('acquittement')}
          <p>
            <button class="button" type="submit">
              Acquitter l’alerte
            </button>
          </p>
        </form>
      ) : null}
      {alerte.statut !== 'cloturee' ? (
        <form method="post" action={`/agents/controle/alertes/${alerte.id}/cloture`}>
          <h2>Clore</h2>
          <p>Clore dit que l’affaire est réglée : une nouvelle détection lèvera une nouvelle alerte.</p>
          <Csrf token={csrf} />
          {champ('cloture')}
          <p>
            <button class="button button--secondary" type="submit">
              Clore l’alerte
            </button>
          </p>
        </form>
      ) : null}
    </>
  );
}
