import { ISSUES, LIBELLES_ISSUE, LIBELLES_STATUT_CAMPAGNE } from '../../domain/campagne.ts';
import { Alert } from '../../http/ui/components.tsx';
import type { EtatCampagne } from '../campagnes/campagnes-service.ts';
import { LIBELLES_RAISONS_DGFIP } from '../controle/libelles.ts';
import { dateHeureParis, jourFrancais } from '../controle/periode.ts';
import type { FileAttente } from './file-attente.ts';
import { GraphiqueBarres, GraphiqueMinutes } from './graphiques.tsx';
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
        <GraphiqueMinutes
          id="tdb-quota-minutes"
          titre="Appels à la DGFiP par minute, dernière heure (toutes les instances)"
          minutes={tdb.quota.parMinute}
          limite={tdb.quota.limite}
        />
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

      <FileAttenteSection file={tdb.file} />
      <CampagnesSection campagnes={tdb.campagnes} />
    </>
  );
}

function FileAttenteSection({ file }: { file: FileAttente }) {
  return (
    <section aria-labelledby="tdb-file">
      <h2 id="tdb-file">File d’attente (toutes les instances)</h2>
      <dl class="facts">
        <dt>Demandes en ligne et au guichet</dt>
        <dd>
          {nombre.format(file.enLigne.enAttente)} en attente de leur appel, {nombre.format(file.enLigne.enCours)} en cours d’appel
          {file.enLigne.plusAncienne ? ` ; la plus ancienne attend depuis le ${dateHeureParis(file.enLigne.plusAncienne)}` : ''}.
        </dd>
        <dt>Campagnes en cours</dt>
        <dd>
          {nombre.format(file.campagnes.aTraiter)} famille(s) à traiter, dont {nombre.format(file.campagnes.enCours)} en cours de traitement. Elles passent
          après les demandes en ligne.
        </dd>
      </dl>
      {file.instances.length > 0 ? (
        <div class="table-wrapper" role="region" aria-label="La file par instance" tabIndex={0}>
          <table class="donnees">
            <caption>La file par instance de Quotient</caption>
            <thead>
              <tr>
                <th scope="col">Instance</th>
                <th scope="col">Dernier signe de vie</th>
                <th scope="col" class="number">
                  Demandes en attente
                </th>
                <th scope="col" class="number">
                  Demandes en cours d’appel
                </th>
                <th scope="col" class="number">
                  Familles de campagne en cours
                </th>
              </tr>
            </thead>
            <tbody>
              {file.instances.map((i) => (
                <tr key={i.id}>
                  <th scope="row" class="tdb-instance">
                    {i.id}
                  </th>
                  <td>
                    {i.vueLe ? dateHeureParis(i.vueLe) : 'inconnu'}
                    {i.vivante ? '' : ' (arrêtée : ses demandes sont à ressaisir)'}
                  </td>
                  <td class="number">{nombre.format(i.enAttente)}</td>
                  <td class="number">{nombre.format(i.enCours)}</td>
                  <td class="number">{nombre.format(i.elements)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p>Aucune instance ne s’est encore signalée.</p>
      )}
    </section>
  );
}

function resultats(c: EtatCampagne): string {
  const faits = ISSUES.filter((i) => c.progression.parIssue[i] > 0).map((i) => `${LIBELLES_ISSUE[i]} : ${nombre.format(c.progression.parIssue[i])}`);
  return faits.length === 0 ? 'aucun pour le moment' : faits.join(' ; ');
}

function CampagnesSection({ campagnes }: { campagnes: readonly EtatCampagne[] }) {
  return (
    <section aria-labelledby="tdb-campagnes">
      <h2 id="tdb-campagnes">Campagnes</h2>
      {campagnes.length === 0 ? (
        <p>Aucune campagne en cours ni terminée depuis 7 jours.</p>
      ) : (
        <div class="table-wrapper" role="region" aria-label="Campagnes en cours et récentes" tabIndex={0}>
          <table class="donnees">
            <caption>Campagnes en cours et terminées depuis 7 jours</caption>
            <thead>
              <tr>
                <th scope="col">Campagne</th>
                <th scope="col">Statut</th>
                <th scope="col">Avancement</th>
                <th scope="col">Résultats</th>
                <th scope="col">Fin estimée</th>
              </tr>
            </thead>
            <tbody>
              {campagnes.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    {c.libelle} ({c.reference})
                  </th>
                  <td>{LIBELLES_STATUT_CAMPAGNE[c.statut]}</td>
                  <td>
                    {nombre.format(c.progression.traites)} sur {nombre.format(c.progression.total)} ({c.progression.pourcentage} %)
                  </td>
                  <td>{resultats(c)}</td>
                  <td>{finEstimee(c)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function finEstimee(c: EtatCampagne): string {
  if (c.statut === 'terminee' || c.statut === 'annulee')
    return c.termineeLe ? `${c.statut === 'annulee' ? 'annulée' : 'terminée'} le ${dateHeureParis(c.termineeLe)}` : '—';
  if (c.statut !== 'en_cours') return 'à son démarrage ou sa reprise';
  return c.finEstimee ? `vers le ${dateHeureParis(new Date(c.finEstimee).toISOString())}, au quota actuel` : 'inconnue : aucun créneau libre pour le moment';
}
