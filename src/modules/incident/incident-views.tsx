import type { ErrorDetail } from '../../domain/errors.ts';
import { Alert, Csrf, Erreurs, Flash, RadioGroup, TextAreaField, TextField, errorOf } from '../../http/ui/components.tsx';
import { Ariane, BASE, dateHeure } from '../administration/ui.tsx';
import type { EtatIntegrite } from './garde-integrite.ts';
import { MOTIF_MAX } from './incident-service.ts';
import { INTERRUPTEURS, LIBELLES_INTERRUPTEURS, type CodeInterrupteur, type EtatIncidents, type Interrupteur } from './interrupteurs.ts';

export const PAGE_INCIDENT = `${BASE}/incident`;

/** The form that was posted and failed, so that its errors and its values come back on it alone. */
export type FormulaireIncident = {
  readonly formulaire: CodeInterrupteur | 'sessions';
  readonly errors: readonly ErrorDetail[];
  readonly valeurs: Readonly<Record<string, string>>;
};

export const CIBLES = [
  ['famille', 'Une famille (ses comptes, sur tous les appareils)'],
  ['agent', 'Un agent'],
  ['tous', 'Tout le monde : familles et agents, vous compris'],
] as const;

function EtatInterrupteur({ i }: { i: Interrupteur }) {
  const l = LIBELLES_INTERRUPTEURS[i.code];
  return (
    <dl class="facts">
      <dt>État</dt>
      <dd>
        <strong>{i.actif ? l.actif : l.inactif}</strong>
        {i.le ? ` depuis le ${dateHeure(i.le)}` : ''}
      </dd>
      {i.le ? (
        <>
          <dt>{i.actif ? 'Décidé par' : 'Dernière décision par'}</dt>
          <dd>{i.parLibelle ?? i.par ?? 'inconnu'}</dd>
          <dt>Motif</dt>
          <dd>{i.motif}</dd>
        </>
      ) : null}
    </dl>
  );
}

function Integrite({ etat }: { etat: EtatIntegrite }) {
  switch (etat.etat) {
    case 'arret':
    case 'a_verifier':
      return (
        <Alert kind="error" title={`Arrêt d’intégrité depuis le ${dateHeure(etat.depuis)}`}>
          <p>{etat.etat === 'arret' ? etat.rapport.message : 'Une autre instance a trouvé le journal d’audit altéré ; la vérification est en cours.'}</p>
          <p>
            Aucun appel à la DGFiP ni aucune nouvelle demande jusqu’à ce qu’un auditeur reconnaisse l’altération après enquête, depuis la page « Intégrité du
            journal » de l’espace Contrôle. Cet arrêt ne se lève pas ici.
          </p>
        </Alert>
      );
    case 'reconnu':
      return (
        <Alert kind="warning" title="Altération du journal reconnue">
          <p>
            Un auditeur a reconnu l’altération le {dateHeure(etat.reconnaissance.le)} : « {etat.reconnaissance.motif} ». Les opérations ont repris ; une
            nouvelle altération les arrêterait de nouveau.
          </p>
        </Alert>
      );
    case 'intact':
      return <p>Journal d’audit intact à la dernière vérification, le {dateHeure(etat.verifieLe)}.</p>;
    case 'inconnu':
      return <p>Le journal d’audit n’a pas encore été vérifié par cette instance.</p>;
  }
}

export function IncidentPage({
  csrf,
  etat,
  integrite,
  flash,
  echec,
}: {
  csrf: string;
  etat: EtatIncidents;
  integrite: EtatIntegrite;
  flash: string | null;
  echec: FormulaireIncident | null;
}) {
  const errors = echec?.errors ?? [];
  const valeur = (formulaire: FormulaireIncident['formulaire'], nom: string) => (echec?.formulaire === formulaire ? (echec.valeurs[nom] ?? '') : '');
  return (
    <>
      <Ariane etapes={[]} />
      <Erreurs errors={errors} />
      <Flash message={flash} />
      <h1>Mesures d’incident</h1>
      <p class="lead">
        Couper un service ou fermer des accès le temps d’un incident. Chaque mesure prend effet en quelques secondes sur toutes les instances de Quotient et
        s’inscrit au journal d’audit avec son motif. La nuit, l’exploitant peut prendre les mêmes mesures avec la commande « quotient incident ».
      </p>

      <h2>Intégrité du journal d’audit</h2>
      <Integrite etat={integrite} />

      {INTERRUPTEURS.map((code) => {
        const i = etat.interrupteurs[code];
        const l = LIBELLES_INTERRUPTEURS[code];
        const id = `motif-${code}`;
        const error = echec?.formulaire === code ? errorOf(errors, id) : undefined;
        return (
          <section key={code} class="incident-mesure" aria-labelledby={`titre-${code}`}>
            <h2 id={`titre-${code}`}>{l.nom}</h2>
            <EtatInterrupteur i={i} />
            <p>{l.effet}</p>
            <form method="post" action={`${PAGE_INCIDENT}/interrupteurs`}>
              <Csrf token={csrf} />
              <input type="hidden" name="interrupteur" value={code} />
              <input type="hidden" name="etat" value={i.actif ? 'off' : 'on'} />
              <TextAreaField
                id={id}
                name="motif"
                label="Motif (obligatoire)"
                hint="Inscrit au journal d’audit et affiché aux agents. Jamais de numéro fiscal."
                value={valeur(code, 'motif')}
                rows={2}
                maxLength={MOTIF_MAX}
                {...(error ? { error } : {})}
              />
              <button class={i.actif ? 'button button--secondary' : 'button'} type="submit">
                {i.actif ? l.desactiver : l.activer}
              </button>
            </form>
          </section>
        );
      })}

      <section class="incident-mesure" aria-labelledby="titre-sessions">
        <h2 id="titre-sessions">Révoquer des sessions</h2>
        <p>
          Les personnes concernées sont déconnectées à leur prochaine action, sur toutes les instances. Un agent peut se reconnecter : pour l’en empêcher,
          désactivez-le dans « Agents et rôles ».
        </p>
        <form method="post" action={`${PAGE_INCIDENT}/sessions`}>
          <Csrf token={csrf} />
          <RadioGroup
            className="incident-choix"
            name="cible"
            legend="Sessions de qui ?"
            options={CIBLES}
            value={valeur('sessions', 'cible') || undefined}
            errors={echec?.formulaire === 'sessions' ? errors : []}
          />
          <TextField
            id="famille"
            label="Référence de la famille"
            hint="Si « une famille » : par exemple F-ABCD-2345."
            value={valeur('sessions', 'famille')}
            size="moyen"
            {...(echec?.formulaire === 'sessions' && errorOf(errors, 'famille') ? { error: errorOf(errors, 'famille') as string } : {})}
          />
          <TextField
            id="agent"
            type="email"
            label="Adresse électronique de l’agent"
            hint="Si « un agent »."
            value={valeur('sessions', 'agent')}
            {...(echec?.formulaire === 'sessions' && errorOf(errors, 'agent') ? { error: errorOf(errors, 'agent') as string } : {})}
          />
          <TextAreaField
            id="motif-sessions"
            name="motif"
            label="Motif (obligatoire)"
            hint="Inscrit au journal d’audit. Jamais de numéro fiscal."
            value={valeur('sessions', 'motif')}
            rows={2}
            maxLength={MOTIF_MAX}
            {...(echec?.formulaire === 'sessions' && errorOf(errors, 'motif-sessions') ? { error: errorOf(errors, 'motif-sessions') as string } : {})}
          />
          <button class="button" type="submit">
            Révoquer les sessions
          </button>
        </form>
      </section>
      <p>
        <a href={BASE}>Retour à l’administration</a>
      </p>
    </>
  );
}
