import { Alert } from '../../http/ui/components.tsx';
import { LIBELLES_RAISONS_DGFIP } from '../controle/libelles.ts';
import { dateHeureParis, jourFrancais } from '../controle/periode.ts';
import { GraphiqueBarres } from './graphiques.tsx';
import type { EtatDgfip, TableauDeBord } from './tableau-de-bord-service.ts';

const nombre = new Intl.NumberFormat('fr-FR');

const ETATS: Record<EtatDgfip, { kind: 'success' | 'warning' | 'error' | 'info'; titre: string; texte: string }> = {
  bon: { kind: 'success', titre: 'Connexion à la DGFiP : bonne', texte: 'Les derniers appels ont tous reçu une réponse.' },
  perturbe: {
    kind: 'warning',
    titre: 'Connexion à la DGFiP : perturbée',
    texte: 'Certains des derniers appels ont échoué ; les demandes concernées sont réessayées automatiquement.',
  },
  en_panne: {
    kind: 'error',
    titre: 'Connexion à la DGFiP : en échec',
    texte: 'Les trois derniers appels ont échoué. Prévenez le service informatique (DSI) ; les demandes attendent dans la file.',
  },
  inconnu: {
    kind: 'info',
    titre: 'Connexion à la DGFiP : pas d’appel récent',
    texte: 'Aucun appel à la DGFiP depuis 24 heures : son état n’est pas connu. Aucun appel de test n’est fait, pour ne pas consommer le quota.',
  },
};

const raison = (r: string | null) => (r === null ? '' : (LIBELLES_RAISONS_DGFIP[r] ?? r));

export function TableauDeBordPage({ tdb, politique }: { tdb: TableauDeBord; politique: string }) {
  const etat = ETATS[tdb.dgfip.etat];
  const q = tdb.quotients;
  return (
    <>
      <h1>Tableau de bord</h1>
      <p class="lead">Chiffres d’ensemble au {dateHeureParis(tdb.calculeLe)}. Aucune information sur une famille en particulier n’apparaît ici.</p>

      <section aria-labelledby="tdb-demandes">
        <h2 id="tdb-demandes">Demandes</h2>
        <p>{nombre.format(tdb.totalDemandes)} demande(s) enregistrée(s) au total.</p>
        <GraphiqueBarres id="tdb-statuts" titre="Demandes par statut" entete="Statut" unite="demande(s)" donnees={tdb.demandesParStatut} />
        <GraphiqueBarres id="tdb-canaux" titre="Demandes par canal" entete="Canal" unite="demande(s)" donnees={tdb.demandesParCanal} />
      </section>

      <section aria-labelledby="tdb-quotients">
        <h2 id="tdb-quotients">Quotients en vigueur</h2>
        <p>
          {nombre.format(q.enVigueur)} famille(s) ont un quotient valable le {jourFrancais(q.date)}, selon la politique tarifaire en vigueur ({politique}).
        </p>
        {q.grilles.length > 0 ? <p>Chaque quotient est compté dans la tranche retenue lors de son calcul, même si la grille a changé depuis.</p> : null}
        {q.grilles.map((g, i) => (
          <GraphiqueBarres
            key={`grille-${i}`}
            id={`tdb-tranches-${i}`}
            titre={`Quotients par tranche : ${g.activites.join(', ')}`}
            entete="Tranche"
            unite="famille(s)"
            donnees={g.barres}
          />
        ))}
        {q.paliers ? (
          <>
            <p>Cette politique calcule les prix au taux d’effort, sans tranches : les quotients sont regroupés par paliers de 250 €.</p>
            <GraphiqueBarres id="tdb-paliers" titre="Quotients par palier de 250 €" entete="Quotient mensuel" unite="famille(s)" donnees={q.paliers.barres} />
          </>
        ) : null}
      </section>

      <section aria-labelledby="tdb-dgfip">
        <h2 id="tdb-dgfip">DGFiP : quota et connexion</h2>
        <Alert kind={etat.kind} title={etat.titre}>
          <p>{etat.texte}</p>
        </Alert>
        <dl class="facts">
          <dt>Quota, dernière minute</dt>
          <dd>
            {nombre.format(tdb.quota.derniereMinute)} appel(s) sur {nombre.format(tdb.quota.limite)} autorisés par minute
            {tdb.quota.pauseJusqua ? ` ; la DGFiP a demandé d’attendre jusqu’à ${dateHeureParis(tdb.quota.pauseJusqua)}` : ''}.
          </dd>
          <dt>Dernière heure</dt>
          <dd>
            {nombre.format(tdb.quota.derniereHeure.reussis)} réponse(s), {nombre.format(tdb.quota.derniereHeure.echecs)} échec(s),{' '}
            {nombre.format(tdb.quota.derniereHeure.enAttenteDeCreneau)} attente(s) de créneau.
          </dd>
          <dt>24 dernières heures</dt>
          <dd>
            {nombre.format(tdb.dgfip.dernieres24h.reussis)} réponse(s), {nombre.format(tdb.dgfip.dernieres24h.echecs)} échec(s),{' '}
            {nombre.format(tdb.dgfip.dernieres24h.enAttenteDeCreneau)} attente(s) de créneau.
          </dd>
          <dt>Dernière réponse</dt>
          <dd>{tdb.dgfip.dernierSucces ? dateHeureParis(tdb.dgfip.dernierSucces) : 'aucune'}</dd>
          <dt>Dernier échec</dt>
          <dd>{tdb.dgfip.dernierEchec ? `${dateHeureParis(tdb.dgfip.dernierEchec.le)} (${raison(tdb.dgfip.dernierEchec.raison)})` : 'aucun'}</dd>
        </dl>
        {tdb.dgfip.derniersAppels.length > 0 ? (
          <div class="table-wrapper" role="region" aria-label="Derniers appels à la DGFiP" tabIndex={0}>
            <table class="donnees">
              <caption>Derniers appels à la DGFiP, du plus récent au plus ancien</caption>
              <thead>
                <tr>
                  <th scope="col">Date (heure de Paris)</th>
                  <th scope="col">Résultat</th>
                  <th scope="col">Cause</th>
                </tr>
              </thead>
              <tbody>
                {tdb.dgfip.derniersAppels.map((a, i) => (
                  <tr key={`${i}-${a.le}`}>
                    <td>{dateHeureParis(a.le)}</td>
                    <td>{a.reussi ? 'Réponse reçue' : a.raison === 'quota_depasse' ? 'En attente de créneau' : 'Échec'}</td>
                    <td>{raison(a.raison) || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </>
  );
}
