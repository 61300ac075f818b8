import type { ComponentChildren } from 'preact';
import { AVIS_FAMILLES, LIBELLES_INTERRUPTEURS, type EtatIncidents, type SuspensionAppels } from '../../modules/incident/interrupteurs.ts';
import type { EtatIntegrite } from '../../modules/incident/garde-integrite.ts';

/** What the pages of one request are told about incidents: read once per request (`src/http/incidents.tsx`). */
export interface AvisIncident {
  readonly appels: SuspensionAppels | null;
  readonly incidents: EtatIncidents;
  readonly integrite: EtatIntegrite;
}

const DATE_HEURE = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'long', timeStyle: 'short' });
const quand = (iso: string | null) => (iso && !Number.isNaN(Date.parse(iso)) ? ` depuis le ${DATE_HEURE.format(new Date(iso))}` : '');

function Bandeau({ kind, children }: { kind: 'error' | 'warning' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`alert alert--${kind} bandeau-incident`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

/**
 * The notice at the top of every page while an incident measure is in force. Families read only
 * what concerns them (their requests wait, or cannot be made); agents read every measure, who took
 * it and why, and the integrity halt.
 */
export function BandeauIncident({ avis, agents }: { avis: AvisIncident | null | undefined; agents: boolean }) {
  if (!avis) return null;
  if (!agents) {
    return avis.appels ? (
      <Bandeau kind="warning">
        <p>{AVIS_FAMILLES[avis.appels.cause]}</p>
      </Bandeau>
    ) : null;
  }
  const { integrite } = avis;
  const actifs = Object.values(avis.incidents.interrupteurs).filter((i) => i.actif);
  return (
    <>
      {integrite.etat === 'arret' || integrite.etat === 'a_verifier' ? (
        <Bandeau kind="error">
          <p>
            <strong>Arrêt d’intégrité{quand(integrite.depuis)}.</strong>{' '}
            {integrite.etat === 'arret'
              ? integrite.rapport.message
              : 'Une autre instance a trouvé le journal d’audit altéré ; la vérification est en cours ici.'}{' '}
            Aucun appel à la DGFiP ni aucune nouvelle demande jusqu’à ce qu’un auditeur reconnaisse l’altération après enquête (Contrôle, Intégrité du journal).
          </p>
        </Bandeau>
      ) : null}
      {actifs.map((i) => (
        <Bandeau key={i.code} kind="warning">
          <p>
            <strong>
              {LIBELLES_INTERRUPTEURS[i.code].nom} : {LIBELLES_INTERRUPTEURS[i.code].actif}
              {quand(i.le)}
            </strong>
            {i.parLibelle ? `, par ${i.parLibelle}` : ''}
            {i.motif ? ` : « ${i.motif} »` : ''}.
          </p>
        </Bandeau>
      ))}
    </>
  );
}
