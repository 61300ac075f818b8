import type { ErrorDetail } from '../../domain/errors.ts';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { formatEuros, formatNombre } from '../../domain/money.ts';
import { LIBELLES_UNITES, type Activite, type PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import type { PrixActivite } from '../../domain/tarification.ts';
import { ANCRE_ERREURS, Alert, Csrf, Erreurs, Flash, SelectField, TextAreaField, TextField, errorOf } from '../../http/ui/components.tsx';
import type { ApercuActivite, LigneApercu, Resultat } from './apercu.ts';
import { avecContexte, bornesTranche, euros, type LigneDiff, type SectionDiff } from './politique-diff.ts';
import { ID_CONFIGURATION, LIBELLES_STATUTS, type VersionPolitique } from './politiques-service.ts';
import { Ariane, BASE, dateHeure, Tableau } from './ui.tsx';

const POLITIQUES = `${BASE}/politiques`;
const ARIANE = { href: POLITIQUES, label: 'Politique tarifaire' };

/** Agents' names by id, for "déposée par". */
export type Noms = ReadonlyMap<string, string>;

const nomDe = (noms: Noms, id: string | null) => (id === null ? '' : (noms.get(id) ?? 'agent inconnu'));
const dateEffet = (v: VersionPolitique) => (v.origine === 'configuration' ? 'dès l’installation' : v.effetLe ? formatDateFrancaise(v.effetLe) : 'non fixée');

function Statut({ v }: { v: VersionPolitique }) {
  return <span class={`administration-statut administration-statut--${v.statut}`}>{LIBELLES_STATUTS[v.statut]}</span>;
}

export function PolitiquesPage({
  versions,
  enVigueur,
  noms,
  flash,
}: {
  versions: readonly VersionPolitique[];
  enVigueur: VersionPolitique;
  noms: Noms;
  flash?: string;
}) {
  const programmees = versions.filter((v) => v.statut === 'programmee');
  return (
    <>
      <Ariane etapes={[]} />
      <h1>Politique tarifaire</h1>
      <Flash message={flash} />
      <p class="lead">
        Version en vigueur aujourd’hui : <a href={`${POLITIQUES}/${enVigueur.id}`}>{enVigueur.libelle}</a>.
      </p>
      {programmees.map((p) => (
        <p key={p.id}>
          Programmée : <a href={`${POLITIQUES}/${p.id}`}>{p.libelle}</a>, à partir du {dateEffet(p)}.
        </p>
      ))}
      <p>
        Chaque demande est calculée avec la version en vigueur le jour où elle a été faite. Une nouvelle version s’applique aux demandes faites à partir de sa
        date d’effet ; les quotients déjà calculés ne changent pas.
      </p>
      <p class="administration-actions">
        <a class="button" href={`${POLITIQUES}/nouvelle`}>
          Déposer une nouvelle version
        </a>
        <a class="button button--secondary" href={`${POLITIQUES}/comparaison`}>
          Comparer deux versions
        </a>
      </p>
      <Tableau caption="Versions de la politique tarifaire">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">État</th>
            <th scope="col">Date d’effet</th>
            <th scope="col">Déposée</th>
            <th scope="col">Activée</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr key={v.id}>
              <th scope="row">
                <a href={`${POLITIQUES}/${v.id}`}>{v.libelle}</a>
              </th>
              <td>
                <Statut v={v} />
              </td>
              <td>{dateEffet(v)}</td>
              <td>{v.origine === 'configuration' ? 'fichier de configuration' : `${dateHeure(v.deposeeLe)} par ${nomDe(noms, v.deposeePar)}`}</td>
              <td>{v.activeeLe ? `${dateHeure(v.activeeLe)} par ${nomDe(noms, v.activeePar)}` : '—'}</td>
            </tr>
          ))}
        </tbody>
      </Tableau>
    </>
  );
}

// The textarea is not `contenu`: the layout's <main> already has that id (skip link).
const CHAMPS_DEPOT = { libelle: 'libelle', contenu: 'texte' } as const;

export function DepotPage({
  csrf,
  libelle,
  contenu,
  errors,
  message,
}: {
  csrf: string;
  libelle: string;
  contenu: string;
  errors: readonly ErrorDetail[];
  message?: string;
}) {
  const dansLeTexte = errors.filter((e) => !(e.path in CHAMPS_DEPOT)).length;
  const renvoi =
    dansLeTexte === 1
      ? 'Le problème est indiqué en haut de la page avec son emplacement.'
      : `Les ${dansLeTexte} problèmes sont indiqués en haut de la page avec leur emplacement.`;
  const erreurContenu = errorOf(errors, 'contenu') ?? (dansLeTexte > 0 ? `${message ?? 'La politique est invalide.'} ${renvoi}` : undefined);
  return (
    <>
      <Erreurs errors={errors} champs={CHAMPS_DEPOT} defaut="texte" emplacements />
      <Ariane etapes={[ARIANE]} />
      <h1>Déposer une nouvelle version</h1>
      <p class="lead">
        La version est vérifiée, puis enregistrée sans être appliquée : vous pourrez la comparer, l’essayer sur des cas de test, puis l’activer à une date.
      </p>
      <details class="aide">
        <summary>Comment coller le fichier ?</summary>
        <div class="aide__contenu">
          <p>
            Ouvrez le fichier YAML de la politique dans un éditeur de texte (Bloc-notes, TextEdit…), sélectionnez tout le texte, copiez-le et collez-le dans le
            champ ci-dessous.
          </p>
          <p>
            Le format est celui du fichier de configuration de la commune (<code>format: 1</code>, commune, délibération, validité, quotient, activités). Partez
            de la version en vigueur pour ne rien oublier.
          </p>
        </div>
      </details>
      <form method="post" action={`${POLITIQUES}#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <TextField
          id="libelle"
          label="Nom de la version (facultatif)"
          hint="Par exemple « Tarifs 2026-2027 ». Sans nom, celui de la délibération est repris."
          value={libelle}
          error={errorOf(errors, 'libelle')}
        />
        <TextAreaField
          id="texte"
          label="Texte de la politique tarifaire (YAML)"
          hint="Le texte complet du fichier, commentaires compris."
          value={contenu}
          error={erreurContenu}
          rows={24}
          spellcheck={false}
          autoComplete="off"
          className="administration-yaml"
        />
        <button class="button" type="submit">
          Vérifier et déposer
        </button>
      </form>
    </>
  );
}

function GrilleActivite({ a }: { a: Activite }) {
  const g = a.grille;
  return (
    <section class="administration-activite">
      <h3>
        {a.libelle} <span class="muted">(prix par {LIBELLES_UNITES[a.unite]})</span>
      </h3>
      {g.type === 'taux-effort' ? (
        <p>
          Taux d’effort de {formatNombre(g.taux)} % du quotient, au moins {euros(g.plancher)} et au plus {euros(g.plafond)}.
        </p>
      ) : (
        <Tableau caption={`Tranches : ${a.libelle}`}>
          <thead>
            <tr>
              <th scope="col">Tranche</th>
              <th scope="col">Quotient familial</th>
              <th scope="col" class="number">
                Prix
              </th>
            </tr>
          </thead>
          <tbody>
            {g.tranches.map((t) => (
              <tr key={t.code}>
                <th scope="row">{t.libelle ?? t.code}</th>
                <td>{bornesTranche(g, t)}</td>
                <td class="number">{euros(t.prix)}</td>
              </tr>
            ))}
          </tbody>
        </Tableau>
      )}
      <ul>
        <li>Familles hors commune : {a.prixNonResident === undefined ? 'la grille s’applique' : euros(a.prixNonResident)}.</li>
        <li>Sans quotient connu : {a.prixSansQuotient === undefined ? 'le tarif le plus élevé de la grille' : euros(a.prixSansQuotient)}.</li>
        {a.reductionsRang.length > 0 ? (
          <li>Réductions : {a.reductionsRang.map((r) => `${formatNombre(r.pourcentage)} % à partir du ${r.rang}e enfant`).join(' ; ')}.</li>
        ) : null}
      </ul>
    </section>
  );
}

function Deliberation({ p }: { p: PolitiqueTarifaire }) {
  const d = p.deliberation;
  return (
    <>
      {[d.numero ? `n° ${d.numero}` : null, d.date ? `du ${formatDateFrancaise(d.date)}` : null, d.intitule ?? null].filter(Boolean).join(', ') ||
        'non précisée'}
      {d.source ? (
        <>
          {' '}
          (source : <span class="administration-source">{d.source}</span>)
        </>
      ) : null}
    </>
  );
}

/**
 * The step between « Activer » and the activation: what will happen, said once more, and a second
 * button. A plain page (no script), so that it holds without JavaScript and on every browser.
 */
export function ConfirmationActivationPage({
  csrf,
  version: v,
  enVigueur,
  effet,
  saisie,
  statut,
}: {
  csrf: string;
  version: VersionPolitique;
  enVigueur: VersionPolitique;
  /** The date read (AAAA-MM-JJ). */
  effet: string;
  /** The date as typed, sent again with the confirmation. */
  saisie: string;
  statut: 'active' | 'programmee';
}) {
  const url = `${POLITIQUES}/${v.id}`;
  return (
    <>
      <Ariane etapes={[ARIANE, { href: url, label: v.libelle }]} />
      <h1>Confirmer l’activation</h1>
      <Alert kind="warning" title={`Activer la version « ${v.libelle} » ?`}>
        {statut === 'active' ? (
          <p>
            Elle s’appliquera dès aujourd’hui, {formatDateFrancaise(effet)}, à toutes les nouvelles demandes, et remplacera la version en vigueur «{' '}
            {enVigueur.libelle} ». Les prix des familles calculés à partir de maintenant en dépendront.
          </p>
        ) : (
          <p>
            Elle sera programmée : les demandes faites à partir du {formatDateFrancaise(effet)} seront calculées avec elle. D’ici là, la version «{' '}
            {enVigueur.libelle} » reste en vigueur.
          </p>
        )}
        {v.politique ? (
          <p>
            Délibération : <Deliberation p={v.politique} />.
          </p>
        ) : null}
        <p>L’activation est enregistrée dans le journal d’audit à votre nom. Elle ne peut pas être annulée ; une autre version pourra la remplacer.</p>
      </Alert>
      <form method="post" action={`${url}/activation#${ANCRE_ERREURS}`}>
        <Csrf token={csrf} />
        <input type="hidden" name="effet" value={saisie} />
        <input type="hidden" name="confirme" value="oui" />
        <p class="controle-actions">
          <button class="button" type="submit">
            Confirmer l’activation
          </button>{' '}
          <a class="button button--secondary" href={url}>
            Annuler
          </a>
        </p>
      </form>
    </>
  );
}

export interface VersionPageProps {
  readonly csrf: string;
  readonly version: VersionPolitique;
  readonly enVigueur: VersionPolitique;
  readonly noms: Noms;
  readonly aujourdhui: string;
  readonly effet: string;
  readonly errors: readonly ErrorDetail[];
  readonly flash?: string;
}

export function VersionPage({ csrf, version: v, enVigueur, noms, aujourdhui, effet, errors, flash }: VersionPageProps) {
  const p = v.politique;
  const autreCommune = p && enVigueur.politique && p.commune.codeInsee !== enVigueur.politique.commune.codeInsee;
  return (
    <>
      <Erreurs errors={errors} champs={{ effet: 'effet' }} emplacements />
      <Ariane etapes={[ARIANE]} />
      <h1>{v.libelle}</h1>
      <Flash message={flash} />
      {v.erreur ? (
        <Alert kind="error" title="Cette version ne respecte plus les règles de la politique tarifaire : elle n’est jamais appliquée.">
          <p>{v.erreur}</p>
        </Alert>
      ) : null}
      {autreCommune ? (
        <Alert kind="warning" title="Cette version porte sur une autre commune que la version en vigueur.">
          <p>
            Elle indique {p.commune.nom} ({p.commune.codeInsee}) ; la version en vigueur indique {enVigueur.politique?.commune.nom} (
            {enVigueur.politique?.commune.codeInsee}). Vérifiez qu’il s’agit du bon fichier.
          </p>
        </Alert>
      ) : null}
      <dl class="facts">
        <dt>État</dt>
        <dd>
          <Statut v={v} />
          {v.id === enVigueur.id ? ' (appliquée aux demandes faites aujourd’hui)' : ''}
        </dd>
        <dt>Date d’effet</dt>
        <dd>{dateEffet(v)}</dd>
        {v.origine === 'depot' ? (
          <>
            <dt>Déposée</dt>
            <dd>
              {dateHeure(v.deposeeLe)} par {nomDe(noms, v.deposeePar)}
            </dd>
            <dt>Activée</dt>
            <dd>{v.activeeLe ? `${dateHeure(v.activeeLe)} par ${nomDe(noms, v.activeePar)}` : 'non'}</dd>
          </>
        ) : (
          <>
            <dt>Origine</dt>
            <dd>Fichier de configuration de la commune, appliqué tant qu’aucune version déposée n’est en vigueur.</dd>
          </>
        )}
        {p ? (
          <>
            <dt>Délibération</dt>
            <dd>
              <Deliberation p={p} />
            </dd>
            <dt>Validité</dt>
            <dd>
              à partir du {formatDateFrancaise(p.validite.du)}
              {p.validite.au ? ` jusqu’au ${formatDateFrancaise(p.validite.au)}` : ''}
            </dd>
          </>
        ) : null}
        <dt>Empreinte</dt>
        <dd>
          <code>{v.empreinte.slice(0, 16)}</code>
        </dd>
      </dl>

      {p ? (
        <>
          <h2>Vérifier avant d’activer</h2>
          <ul>
            <li>
              <a href={`${POLITIQUES}/${v.id}/apercu`}>Aperçu sur des cas de test</a>, comparé à la version en vigueur
            </li>
            {v.id !== enVigueur.id ? (
              <li>
                <a href={`${POLITIQUES}/comparaison?de=${encodeURIComponent(enVigueur.id)}&a=${encodeURIComponent(v.id)}`}>
                  Différences avec la version en vigueur
                </a>
              </li>
            ) : null}
          </ul>
        </>
      ) : null}

      {v.statut === 'brouillon' && p ? (
        <section aria-labelledby="activer-titre">
          <h2 id="activer-titre">Activer cette version</h2>
          <p>
            À partir de la date d’effet, les nouvelles demandes sont calculées avec cette version. Une date future programme la version ; aujourd’hui (
            {formatDateFrancaise(aujourdhui)}), elle s’applique tout de suite et remplace la version en vigueur.
          </p>
          <form method="post" action={`${POLITIQUES}/${v.id}/activation#${ANCRE_ERREURS}`} novalidate>
            <Csrf token={csrf} />
            <TextField
              id="effet"
              label="Date d’effet"
              hint="Au format JJ/MM/AAAA, par exemple 01/09/2026. Ni passée, ni avant le début de validité fixé par la délibération."
              value={effet}
              error={errorOf(errors, 'effet')}
              size="moyen"
            />
            <button class="button" type="submit">
              Activer cette version
            </button>
          </form>
        </section>
      ) : null}

      {v.statut === 'brouillon' || v.statut === 'programmee' ? (
        <section aria-labelledby="abandon-titre">
          <h2 id="abandon-titre">Abandonner cette version</h2>
          <p>Elle reste dans la liste, mais ne sera jamais appliquée.</p>
          <form method="post" action={`${POLITIQUES}/${v.id}/abandon`}>
            <Csrf token={csrf} />
            <button class="button button--secondary" type="submit">
              Abandonner cette version
            </button>
          </form>
        </section>
      ) : null}

      {p ? (
        <>
          <h2>Activités et prix</h2>
          {p.activites.map((a) => (
            <GrilleActivite key={a.id} a={a} />
          ))}
        </>
      ) : null}
      <details class="aide">
        <summary>Texte de la version (YAML)</summary>
        <div class="aide__contenu">
          <pre class="administration-yaml">{v.contenu}</pre>
        </div>
      </details>
    </>
  );
}

function prixEnClair(p: PrixActivite): string {
  const prix = `${formatEuros(p.cents)} par ${LIBELLES_UNITES[p.unite]}`;
  if (p.origine === 'non-resident') return `${prix} (tarif hors commune)`;
  return p.tranche !== null ? `Tranche ${p.tranche} : ${prix}` : `${prix} (taux d’effort)`;
}

function CelluleResultat({ r }: { r: Resultat }) {
  return <td>{r.prix ? prixEnClair(r.prix) : <span class="muted">{r.manque}</span>}</td>;
}

function ecart(l: LigneApercu): string {
  const a = l.enVigueur.prix;
  const b = l.candidate.prix;
  if (!a || !b) return '—';
  const d = b.cents - a.cents;
  if (d === 0) return a.tranche === b.tranche ? 'aucun' : 'aucun (autre tranche)';
  return d > 0 ? `+${formatEuros(d)}` : `−${formatEuros(-d)}`;
}

function quotientCas(l: LigneApercu): string {
  const a = l.enVigueur.quotient;
  const b = l.candidate.quotient;
  if (a === null && b === null) return '—';
  if (a === b || b === null) return formatEuros(a ?? 0);
  if (a === null) return formatEuros(b);
  return `${formatEuros(a)} → ${formatEuros(b)}`;
}

export interface ApercuPageProps {
  readonly version: VersionPolitique;
  readonly enVigueur: VersionPolitique;
  readonly activites: readonly ApercuActivite[];
  readonly quotients: string;
  readonly erreurs: readonly string[];
}

export function ApercuPage({ version: v, enVigueur, activites, quotients, erreurs }: ApercuPageProps) {
  const meme = v.id === enVigueur.id;
  return (
    <>
      <Ariane etapes={[ARIANE, { href: `${POLITIQUES}/${v.id}`, label: v.libelle }]} />
      <h1>Aperçu : {v.libelle}</h1>
      <p class="lead">
        {meme
          ? 'Cette version est celle en vigueur : les deux colonnes sont identiques.'
          : `Les prix de cette version, à côté de ceux de la version en vigueur aujourd’hui (${enVigueur.libelle}), pour des cas fictifs.`}
      </p>
      <form method="get" action={`${POLITIQUES}/${v.id}/apercu`} class="simulateur-form">
        <TextField
          id="quotients"
          label="Quotients familiaux à essayer, en euros"
          hint="Séparés par des points-virgules, par exemple 320 ; 1 333,33 ; 2 500. Vide : une série de quotients de 0 à 3 000 €."
          value={quotients}
          {...(erreurs.length > 0 ? { error: erreurs.join(' ') } : {})}
        />
        <button class="button" type="submit">
          Recalculer
        </button>
      </form>
      <p class="muted">
        Les foyers fictifs en bas de chaque tableau montrent l’effet de la formule du quotient (revenu fiscal de référence, parts, personnes du foyer). Aucune
        donnée de famille n’est utilisée.
      </p>
      {activites.map((a) => (
        <section key={a.id}>
          <h2>{a.libelle}</h2>
          <Tableau caption={`${a.libelle} : prix selon la version`} legendeCachee>
            <thead>
              <tr>
                <th scope="col">Cas</th>
                <th scope="col" class="number">
                  Quotient
                </th>
                <th scope="col">Version en vigueur</th>
                <th scope="col">Nouvelle version</th>
                <th scope="col" class="number">
                  Écart
                </th>
              </tr>
            </thead>
            <tbody>
              {a.lignes.map((l) => (
                <tr key={l.cas.libelle}>
                  <th scope="row">{l.cas.libelle}</th>
                  <td class="number">{quotientCas(l)}</td>
                  <CelluleResultat r={l.enVigueur} />
                  <CelluleResultat r={l.candidate} />
                  <td class="number">{ecart(l)}</td>
                </tr>
              ))}
            </tbody>
          </Tableau>
        </section>
      ))}
    </>
  );
}

export interface ComparaisonPageProps {
  readonly versions: readonly VersionPolitique[];
  readonly de: VersionPolitique | null;
  readonly a: VersionPolitique | null;
  readonly sections: readonly SectionDiff[] | null;
  readonly lignes: readonly LigneDiff[] | null | 'trop-long';
}

/** Old and new line numbers, as a column a reader can follow in either file. */
const numeros = (l: LigneDiff) => `${String(l.avant ?? '').padStart(4)} ${String(l.apres ?? '').padStart(4)}`;

function LignesYaml({ lignes }: { lignes: readonly LigneDiff[] }) {
  const extrait = avecContexte(lignes);
  if (extrait.length === 0) return <p>Les deux textes sont identiques.</p>;
  return (
    <>
      <p class="muted">Pour chaque ligne : son numéro dans la version de référence, puis dans la version comparée.</p>
      <pre class="administration-diff">
        {extrait.map((l, k) =>
          l === null ? (
            <span key={`gap-${k}`} class="muted">
              {'…\n'}
            </span>
          ) : l.type === 'ajoutee' ? (
            <ins key={`a-${k}`}>
              <span class="visually-hidden">ajoutée : </span>
              {`+ ${numeros(l)}  ${l.texte}\n`}
            </ins>
          ) : l.type === 'retiree' ? (
            <del key={`r-${k}`}>
              <span class="visually-hidden">retirée : </span>
              {`- ${numeros(l)}  ${l.texte}\n`}
            </del>
          ) : (
            <span key={`e-${k}`}>{`  ${numeros(l)}  ${l.texte}\n`}</span>
          ),
        )}
      </pre>
    </>
  );
}

export function ComparaisonPage({ versions, de, a, sections, lignes }: ComparaisonPageProps) {
  const options = versions.map((v) => ({ value: v.id, label: `${v.libelle} (${LIBELLES_STATUTS[v.statut].toLowerCase()})` }));
  return (
    <>
      <Ariane etapes={[ARIANE]} />
      <h1>Comparer deux versions</h1>
      <form method="get" action={`${POLITIQUES}/comparaison`} class="simulateur-form administration-comparaison">
        <SelectField id="de" label="Version de référence" options={options} value={de?.id ?? ID_CONFIGURATION} />
        <SelectField id="a" label="Version comparée" options={options} value={a?.id ?? ID_CONFIGURATION} />
        <button class="button" type="submit">
          Comparer
        </button>
      </form>
      {de && a && de.id === a.id ? <Alert kind="info" title="Choisissez deux versions différentes." /> : null}
      {de && a && de.id !== a.id && sections ? (
        <>
          <h2>
            Ce qui change de « {de.libelle} » à « {a.libelle} »
          </h2>
          {sections.length === 0 ? (
            <p>
              {de.empreinte === a.empreinte
                ? 'Les deux versions sont identiques.'
                : 'Les deux versions fixent les mêmes règles et les mêmes prix : seuls des commentaires ou la mise en forme du texte changent.'}
            </p>
          ) : (
            sections.map((s) => (
              <section key={s.titre}>
                <h3>{s.titre}</h3>
                <Tableau caption={s.titre} legendeCachee>
                  <thead>
                    <tr>
                      <th scope="col">Élément</th>
                      <th scope="col">Avant</th>
                      <th scope="col">Après</th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.changements.map((c) => (
                      <tr key={c.sujet}>
                        <th scope="row">{c.sujet}</th>
                        <td>{c.avant ?? <span class="muted">absent</span>}</td>
                        <td>{c.apres ?? <span class="muted">supprimé</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </Tableau>
              </section>
            ))
          )}
          <details class="aide">
            <summary>Différences ligne à ligne du texte YAML</summary>
            <div class="aide__contenu">
              {lignes === 'trop-long' || lignes === null ? (
                <p>Les textes sont trop longs pour une comparaison ligne à ligne ici.</p>
              ) : (
                <LignesYaml lignes={lignes} />
              )}
            </div>
          </details>
        </>
      ) : null}
    </>
  );
}
