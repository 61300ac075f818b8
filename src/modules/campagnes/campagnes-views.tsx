import { ISSUES, LIBELLES_ISSUE, LIBELLES_STATUT_CAMPAGNE, LIBELLES_TYPE_CAMPAGNE } from '../../domain/campagne.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { Alert, Csrf, Erreurs, Flash, TextField, errorOf } from '../../http/ui/components.tsx';
import { Ariane, BASE, dateHeure, Tableau } from '../administration/ui.tsx';
import type { EtatCampagne, RapportImport } from './campagnes-service.ts';

export const PAGE_CAMPAGNES = `${BASE}/campagnes`;
const nombre = new Intl.NumberFormat('fr-FR');
export type Noms = ReadonlyMap<string, string>;

const ariane = (etapes: ReadonlyArray<{ href: string; label: string }> = []) => <Ariane etapes={[{ href: PAGE_CAMPAGNES, label: 'Campagnes' }, ...etapes]} />;

function Arret({ arret }: { arret: { motif: string | null; le: string | null } | null }) {
  if (!arret) return null;
  return (
    <Alert kind="warning" title="Les campagnes sont arrêtées (mesure d’incident)">
      <p>
        Aucun élément n’est traité{arret.le ? ` depuis le ${dateHeure(arret.le)}` : ''}
        {arret.motif ? ` : « ${arret.motif} »` : ''}. La mesure se lève depuis la page « <a href={`${BASE}/incident`}>Mesures d’incident</a> ».
      </p>
    </Alert>
  );
}

export function CampagnesPage({
  campagnes,
  flash,
  arret,
}: {
  campagnes: readonly EtatCampagne[];
  flash?: string | undefined;
  arret: { motif: string | null; le: string | null } | null;
}) {
  return (
    <>
      <Ariane etapes={[]} />
      <h1>Campagnes</h1>
      <Flash message={flash} />
      <Arret arret={arret} />
      <p class="lead">
        Une campagne met à jour le quotient familial de nombreuses familles : chaque famille devient une demande, traitée comme une demande en ligne, par un
        traitement automatique au nom de l’agent qui démarre la campagne. Les familles qui font une demande en ligne passent toujours avant.
      </p>
      <p>
        <a class="button" href={`${PAGE_CAMPAGNES}/import`}>
          Importer une liste de familles
        </a>
      </p>
      {campagnes.length === 0 ? (
        <p>Aucune campagne pour le moment.</p>
      ) : (
        <Tableau caption="Campagnes, les plus récentes d’abord">
          <thead>
            <tr>
              <th scope="col">Campagne</th>
              <th scope="col">Statut</th>
              <th scope="col">Avancement</th>
              <th scope="col">Créée le</th>
            </tr>
          </thead>
          <tbody>
            {campagnes.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={`${PAGE_CAMPAGNES}/${c.id}`}>{c.libelle}</a> ({c.reference})
                </td>
                <td>{LIBELLES_STATUT_CAMPAGNE[c.statut]}</td>
                <td>
                  {nombre.format(c.progression.traites)} sur {nombre.format(c.progression.total)} ({c.progression.pourcentage} %)
                </td>
                <td>{dateHeure(c.creeeLe)}</td>
              </tr>
            ))}
          </tbody>
        </Tableau>
      )}
    </>
  );
}

export function ImportPage({
  csrf,
  libelle,
  errors,
  rapport,
}: {
  csrf: string;
  libelle: string;
  errors: readonly ErrorDetail[];
  rapport?: RapportImport | undefined;
}) {
  return (
    <>
      {ariane([{ href: `${PAGE_CAMPAGNES}/import`, label: 'Importer' }])}
      <h1>Importer une liste de familles</h1>
      <Erreurs errors={errors} champs={{ libelle: 'libelle', fichier: 'fichier' }} defaut="fichier" />
      {rapport ? <RapportImportView rapport={rapport} /> : null}
      <p>
        Un fichier CSV exporté du logiciel famille de la commune : une ligne par famille, avec sa référence, l’état civil des parents (nom de naissance, prénoms
        dans l’ordre de l’acte de naissance, date et lieu de naissance) et la preuve de l’accord de la famille (date et référence du formulaire signé). Aucun
        numéro fiscal : l’appel à la DGFiP se fait par état civil. <a href={`${PAGE_CAMPAGNES}/modele.csv`}>Télécharger le modèle de fichier</a>.
      </p>
      <form method="post" action={`${PAGE_CAMPAGNES}/import#erreurs`} enctype="multipart/form-data" class="formulaire">
        <Csrf token={csrf} />
        <TextField id="libelle" label="Nom de la campagne" hint="Par exemple « Rentrée 2026 »." value={libelle} error={errorOf(errors, 'libelle')} />
        <div class={`field${errorOf(errors, 'fichier') ? ' field--error' : ''}`}>
          <label for="fichier">Fichier CSV (5 Mio au plus)</label>
          <span class="hint" id="fichier-aide">
            Séparateur point-virgule, virgule ou tabulation ; encodage UTF-8 ou Windows (Excel « CSV »).
          </span>
          <input id="fichier" name="fichier" type="file" accept=".csv,text/csv" aria-describedby="fichier-aide" />
        </div>
        <div class="actions">
          <button type="submit" name="action" value="essai" class="button button--secondary">
            Vérifier sans rien enregistrer
          </button>
          <button type="submit" name="action" value="importer" class="button">
            Importer (la campagne ne démarre pas encore)
          </button>
        </div>
      </form>
    </>
  );
}

/** What the file would do (dry run) or why it cannot be imported. */
export function RapportImportView({ rapport: r }: { rapport: RapportImport }) {
  const ok = r.erreurs.length === 0;
  return (
    <section aria-labelledby="rapport-titre" class="rapport-import">
      <h2 id="rapport-titre">{ok ? 'Vérification du fichier : aucune erreur' : `Vérification du fichier : ${nombre.format(r.erreurs.length)} erreur(s)`}</h2>
      <dl class="facts">
        <dt>Fichier</dt>
        <dd>
          {r.fichier}
          {r.lecture ? ` (${r.lecture})` : ''}
        </dd>
        <dt>Lignes</dt>
        <dd>
          {nombre.format(r.lignesLues)} lue(s), {nombre.format(r.valides)} sans erreur
        </dd>
        <dt>Ce que ferait l’import</dt>
        <dd>
          {nombre.format(r.famillesExistantes)} famille(s) déjà connue(s) de Quotient, {nombre.format(r.famillesNouvelles)} à créer ;{' '}
          {nombre.format(r.avecFormulaire)} accord(s) sur formulaire signé, {nombre.format(r.avecAccordPermanent)} accord(s) de renouvellement en vigueur.
        </dd>
        <dt>Appels à la DGFiP</dt>
        <dd>
          environ {nombre.format(r.appelsEstimes)}, soit au moins {nombre.format(r.dureeMinutes)} minute(s) au quota, davantage si des familles font leur
          demande en ligne pendant ce temps (elles passent avant).
        </dd>
      </dl>
      {r.dejaImporte ? (
        <Alert kind="warning" title="Ce fichier a déjà été importé">
          <p>Le même fichier a servi à la campagne {r.dejaImporte}.</p>
        </Alert>
      ) : null}
      {r.erreurs.length > 0 ? (
        <>
          <h3>Erreurs à corriger dans le fichier</h3>
          <ul class="liste-erreurs">
            {r.erreurs.slice(0, 500).map((e, i) => (
              <li key={i}>{e.message}</li>
            ))}
          </ul>
          {r.erreurs.length > 500 ? <p>… et {nombre.format(r.erreurs.length - 500)} autre(s).</p> : null}
        </>
      ) : null}
      {r.avertissements.length > 0 ? (
        <>
          <h3>À vérifier (n’empêche pas l’import)</h3>
          <ul>
            {r.avertissements.slice(0, 200).map((e, i) => (
              <li key={i}>{e.message}</li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function Action({
  csrf,
  id,
  action,
  libelle,
  motif,
  secondaire,
}: {
  csrf: string;
  id: string;
  action: string;
  libelle: string;
  motif?: boolean;
  secondaire?: boolean;
}) {
  return (
    <form method="post" action={`${PAGE_CAMPAGNES}/${id}/${action}`} class="formulaire formulaire--action">
      <Csrf token={csrf} />
      {motif ? <TextField id={`motif-${action}`} name="motif" label={`Motif (${libelle.toLowerCase()})`} hint="Inscrit au journal d’audit." /> : null}
      <button type="submit" class={secondaire ? 'button button--secondary' : 'button'}>
        {libelle}
      </button>
    </form>
  );
}

export function CampagnePage({
  csrf,
  campagne: c,
  noms,
  flash,
  arret,
  errors,
  rapport,
}: {
  csrf: string;
  campagne: EtatCampagne;
  noms: Noms;
  flash?: string | undefined;
  arret: { motif: string | null; le: string | null } | null;
  errors: readonly ErrorDetail[];
  rapport?: RapportImport | undefined;
}) {
  const p = c.progression;
  return (
    <>
      {ariane([{ href: `${PAGE_CAMPAGNES}/${c.id}`, label: c.libelle }])}
      <h1>
        {c.libelle} <span class="reference">({c.reference})</span>
      </h1>
      <Flash message={flash} />
      <Erreurs errors={errors} />
      {c.statut === 'en_cours' ? <Arret arret={arret} /> : null}
      {rapport ? <RapportImportView rapport={rapport} /> : null}
      <dl class="facts">
        <dt>Statut</dt>
        <dd>
          <strong>{LIBELLES_STATUT_CAMPAGNE[c.statut]}</strong>
          {c.motif ? ` : « ${c.motif} »` : ''}
        </dd>
        <dt>Nature</dt>
        <dd>
          {LIBELLES_TYPE_CAMPAGNE[c.type]}
          {c.fichier ? ` (fichier ${c.fichier})` : ''}
        </dd>
        <dt>Créée</dt>
        <dd>
          le {dateHeure(c.creeeLe)} par {noms.get(c.creeePar) ?? c.creeePar}
        </dd>
        {c.demarreeLe ? (
          <>
            <dt>Démarrée</dt>
            <dd>
              le {dateHeure(c.demarreeLe)} par {noms.get(c.demarreePar ?? '') ?? c.demarreePar} : le traitement automatique agit en son nom
            </dd>
          </>
        ) : null}
        {c.termineeLe ? (
          <>
            <dt>{c.statut === 'annulee' ? 'Annulée' : 'Terminée'}</dt>
            <dd>le {dateHeure(c.termineeLe)}</dd>
          </>
        ) : null}
        <dt>Avancement</dt>
        <dd>
          <progress max={p.total} value={p.traites} aria-label="Avancement de la campagne">
            {p.pourcentage} %
          </progress>{' '}
          {nombre.format(p.traites)} famille(s) traitée(s) sur {nombre.format(p.total)} ({p.pourcentage} %)
        </dd>
        {c.statut === 'en_cours' ? (
          <>
            <dt>Fin estimée</dt>
            <dd>
              {c.finEstimee ? `vers le ${dateHeure(new Date(c.finEstimee).toISOString())}, au quota actuel` : 'inconnue : aucun créneau libre pour le moment'}
            </dd>
          </>
        ) : null}
      </dl>
      <Tableau caption="Résultat par famille traitée">
        <thead>
          <tr>
            <th scope="col">Résultat</th>
            <th scope="col">Familles</th>
          </tr>
        </thead>
        <tbody>
          {ISSUES.map((i) => (
            <tr key={i}>
              <td>{LIBELLES_ISSUE[i]}</td>
              <td>{nombre.format(p.parIssue[i])}</td>
            </tr>
          ))}
        </tbody>
      </Tableau>
      {p.traites > 0 ? (
        <p>
          <a href={`${PAGE_CAMPAGNES}/${c.id}/rapport.csv`} download>
            Télécharger le rapport (CSV : référence, résultat, nouvelle tranche ; aucune donnée fiscale)
          </a>
        </p>
      ) : null}
      {c.statut === 'en_cours' ? <p class="hint">Cette page se met à jour toute seule toutes les 15 secondes.</p> : null}
      <div class="actions">
        {c.actions.includes('demarrer') ? <Action csrf={csrf} id={c.id} action="demarrer" libelle="Démarrer la campagne" /> : null}
        {c.actions.includes('pause') ? <Action csrf={csrf} id={c.id} action="pause" libelle="Mettre en pause" motif secondaire /> : null}
        {c.actions.includes('reprendre') ? <Action csrf={csrf} id={c.id} action="reprendre" libelle="Reprendre" /> : null}
        {c.actions.includes('annuler') ? <Action csrf={csrf} id={c.id} action="annuler" libelle="Annuler la campagne" motif secondaire /> : null}
      </div>
    </>
  );
}
