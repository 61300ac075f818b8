import type { ErrorDetail } from '../../domain/errors.ts';
import { SousNavControle } from '../../http/espace-agents.tsx';
import { TableEntrees, Tableau } from '../../http/ui/table-entrees.tsx';
import { ANCRE_ERREURS, Alert, Csrf, Erreurs, FieldError, Flash, SelectField, TextAreaField, TextField, errorOf } from '../../http/ui/components.tsx';
import type { Agent } from '../agents/agents-service.ts';
import type { EtatIntegrite } from '../incident/garde-integrite.ts';
import {
  COMMENTAIRE_MAX,
  TAILLE_MAX,
  VERDICTS,
  type CodeVerdict,
  type ControleDetail,
  type ControleResume,
  type VerdictControle,
} from './controles-periodiques.ts';
import type { ExportSaisi } from './export-journal.ts';
import type { Verification } from './integrite-journal.ts';
import type { EntreeLisible, FiltreSaisi, PageJournal } from './lecture-journal.ts';
import { CODES_CONNUS, FAMILLES_ACTIONS, LIBELLES_ACTEURS, LIBELLES_RESULTATS, libelleAction } from './libelles.ts';
import { dateHeureParis, jourFrancais } from './periode.ts';

const erreurDe = (errors: readonly ErrorDetail[], path: string) => errors.find((e) => e.path === path)?.message;

const optionsAgents = (agents: readonly Agent[], vide: string) => [
  { value: '', label: vide },
  ...agents.map((a) => ({ value: a.id, label: `${a.prenom} ${a.nom}${a.actif ? '' : ' (désactivé)'}` })),
];

export function AccueilControle({ derniere }: { derniere: Verification | null }) {
  return (
    <>
      <h1>Contrôle</h1>
      <p class="lead">
        Le journal d’audit trace chaque consultation des données d’une famille et chaque action des agents, des familles et du système. Il ne contient aucune
        donnée fiscale.
      </p>
      <ul class="tuiles">
        <li class="tuile">
          <h2>
            <a href="/agents/controle/journal">Journal d’audit</a>
          </h2>
          <p>Rechercher qui a fait quoi, quand, sur quelle famille.</p>
        </li>
        <li class="tuile">
          <h2>
            <a href="/agents/controle/exports">Exports par personne</a>
          </h2>
          <p>Tout ce qui concerne une famille ou un agent sur une période : demande d’accès, incident à notifier sous 72 heures.</p>
        </li>
        <li class="tuile">
          <h2>
            <a href="/agents/controle/controles">Contrôles par échantillon</a>
          </h2>
          <p>Tirer au sort des consultations de dossiers par les agents et vérifier qu’elles étaient justifiées.</p>
        </li>
        <li class="tuile">
          <h2>
            <a href="/agents/controle/integrite">Intégrité du journal</a>
          </h2>
          <p>
            {derniere
              ? `Dernière vérification le ${dateHeureParis(derniere.le)} : ${derniere.intact ? 'journal intact' : 'journal altéré'}.`
              : 'Aucune vérification enregistrée.'}
          </p>
        </li>
        <li class="tuile">
          <h2>
            <a href="/agents/controle/alertes">Alertes de sécurité</a>
          </h2>
          <p>Les alertes levées par les règles de détection : voir ce qui les a déclenchées, les acquitter, les clore.</p>
        </li>
      </ul>
    </>
  );
}

export function JournalPage({
  csrf,
  agents,
  saisi,
  errors,
  page,
  avant,
  recherche,
  perimee = false,
}: {
  csrf: string;
  agents: readonly Agent[];
  saisi: FiltreSaisi;
  errors: readonly ErrorDetail[];
  page: PageJournal | null;
  avant: number | undefined;
  /** The handle of the search shown, for its next pages; none for the journal opened afresh. */
  recherche?: string | undefined;
  /** The address named a search that is no longer the last one. */
  perimee?: boolean;
}) {
  const suite = (n: number) => `/agents/controle/journal?${recherche !== undefined ? `recherche=${recherche}&` : ''}avant=${n}`;
  const recentes = recherche !== undefined ? `/agents/controle/journal?recherche=${recherche}` : '/agents/controle/journal';
  const actionErreur = erreurDe(errors, 'action');
  return (
    <>
      <Erreurs errors={errors} />
      <SousNavControle courant="/agents/controle/journal" />
      <h1>Journal d’audit</h1>
      <p>
        Chaque consultation de cette page est elle-même enregistrée dans le journal, avec les critères utilisés. Chaque recherche part des seuls critères du
        formulaire.
      </p>
      {perimee ? <Alert kind="info" title="Cette recherche n’est plus disponible : indiquez de nouveau vos critères." /> : null}
      {/* Posted, and kept in the session: what is typed here never appears in an address (history, logs). */}
      <form method="post" action={`/agents/controle/journal#${ANCRE_ERREURS}`} class="controle-filtres controle-filtres--grille">
        <Csrf token={csrf} />
        <fieldset>
          <legend>Qui</legend>
          <SelectField
            id="agent"
            label="Agent"
            options={optionsAgents(agents, 'Tous les agents')}
            value={saisi.agent ?? ''}
            {...optional('error', erreurDe(errors, 'agent'))}
          />
          <p class="muted">ou n’importe quel acteur :</p>
          <SelectField
            id="acteurType"
            label="Type d’acteur"
            options={[{ value: '', label: 'Tous' }, ...Object.entries(LIBELLES_ACTEURS).map(([value, label]) => ({ value, label }))]}
            value={saisi.acteurType ?? ''}
            {...optional('error', erreurDe(errors, 'acteurType'))}
          />
          <TextField
            id="acteurId"
            label="Identifiant de l’acteur"
            hint="Par exemple l’identifiant d’un compte de famille ou d’une clé d’API."
            value={saisi.acteurId ?? ''}
            {...optional('error', erreurDe(errors, 'acteurId'))}
          />
        </fieldset>
        <fieldset>
          <legend>Quoi et sur quelle famille</legend>
          <div class={`field${actionErreur ? ' field--error' : ''}`}>
            <label for="action">Action</label>
            <span class="hint" id="action-aide">
              Un code précis (famille.consultee) ou une famille de codes terminée par un point (demande.). Choisissez dans la liste ou tapez le code.
            </span>
            {actionErreur ? <FieldError id="action" error={actionErreur} /> : null}
            <input
              id="action"
              name="action"
              type="text"
              list="actions-connues"
              autoComplete="off"
              spellcheck={false}
              class="input--moyen"
              value={saisi.action ?? ''}
              aria-describedby={actionErreur ? 'action-aide action-erreur' : 'action-aide'}
              aria-invalid={actionErreur ? 'true' : undefined}
            />
            <datalist id="actions-connues">
              {FAMILLES_ACTIONS.map((f) => (
                <option key={f.code} value={f.code}>
                  {f.libelle}
                </option>
              ))}
              {CODES_CONNUS.map((c) => (
                <option key={c} value={c}>
                  {libelleAction(c)}
                </option>
              ))}
            </datalist>
          </div>
          <TextField
            id="famille"
            label="Référence de la famille ou d’une de ses demandes"
            hint="Par exemple F-ABCD-EFGH : les entrées sur la famille, ses demandes, ses comptes et ses contestations."
            value={saisi.famille ?? ''}
            size="moyen"
            {...optional('error', erreurDe(errors, 'famille'))}
          />
          <SelectField
            id="resultat"
            label="Résultat"
            options={[{ value: '', label: 'Tous' }, ...Object.entries(LIBELLES_RESULTATS).map(([value, label]) => ({ value, label }))]}
            value={saisi.resultat ?? ''}
            {...optional('error', erreurDe(errors, 'resultat'))}
          />
        </fieldset>
        <fieldset>
          <legend>Quand</legend>
          <TextField
            id="du"
            label="Du"
            hint="Format JJ/MM/AAAA, heure de Paris ; ce jour compris."
            value={saisi.du ?? ''}
            size="moyen"
            {...optional('error', erreurDe(errors, 'du'))}
          />
          <TextField
            id="au"
            label="Au"
            hint="Format JJ/MM/AAAA ; ce jour compris."
            value={saisi.au ?? ''}
            size="moyen"
            {...optional('error', erreurDe(errors, 'au'))}
          />
        </fieldset>
        <p>
          <button class="button" type="submit">
            Rechercher
          </button>{' '}
          <button class="button button--secondary" type="submit" name="effacer" value="oui">
            Effacer les critères
          </button>
        </p>
      </form>
      {page ? (
        <section aria-labelledby="resultats-titre">
          <h2 id="resultats-titre">Entrées</h2>
          <p>
            Critères : {page.resume}.{avant !== undefined ? ` Entrées antérieures à la n° ${avant}.` : ''}
          </p>
          {page.entrees.length === 0 ? (
            <Alert kind="info" title="Aucune entrée ne correspond à ces critères." />
          ) : (
            <TableEntrees
              entrees={page.entrees}
              caption={`Entrées du journal, de la plus récente à la plus ancienne (${page.entrees.length} sur cette page)`}
            />
          )}
          <p class="controle-pages">
            {/* Only the search's handle and the cursor travel in the address; the criteria stay in the session. */}
            {avant !== undefined ? <a href={recentes}>Revenir aux entrées les plus récentes</a> : null}
            {page.suivante !== null ? <a href={suite(page.suivante)}>Entrées plus anciennes</a> : null}
          </p>
        </section>
      ) : null}
    </>
  );
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

function Radio({ name, value, label, checked, hint }: { name: string; value: string; label: string; checked: boolean; hint?: string }) {
  const id = `${name}-${value}`;
  return (
    <div class="radio">
      <input type="radio" id={id} name={name} value={value} checked={checked} aria-describedby={hint ? `${id}-aide` : undefined} />
      <label for={id}>
        {label}
        {hint ? (
          <span class="hint" id={`${id}-aide`}>
            {hint}
          </span>
        ) : null}
      </label>
    </div>
  );
}

export function ExportsPage({ csrf, agents, saisi, errors }: { csrf: string; agents: readonly Agent[]; saisi: ExportSaisi; errors: readonly ErrorDetail[] }) {
  const sujetErreur = erreurDe(errors, 'sujet-famille');
  const formatErreur = erreurDe(errors, 'format-csv');
  return (
    <>
      <Erreurs errors={errors} />
      <SousNavControle courant="/agents/controle/exports" />
      <h1>Exports par personne</h1>
      <p class="lead">
        Toutes les entrées du journal qui concernent une famille ou un agent sur une période : pour répondre à une demande d’accès (RGPD, article 15) ou
        documenter un incident à notifier à la CNIL sous 72 heures.
      </p>
      <p>
        Pour une famille : ce qui a été fait sur son dossier, ses demandes, ses comptes et ses contestations, ce qu’elle a fait elle-même et ce que les agents
        ont fait pour elle. Pour un agent : ce qu’il a fait et ce qui a été fait sur son compte. L’export est enregistré dans le journal.
      </p>
      <form method="post" action={`/agents/controle/exports/fichier#${ANCRE_ERREURS}`} class="controle-filtres">
        <Csrf token={csrf} />
        <fieldset class={sujetErreur ? 'field--error' : undefined} aria-describedby={sujetErreur ? 'sujet-erreur' : undefined}>
          <legend>Personne concernée</legend>
          {sujetErreur ? <FieldError id="sujet" error={sujetErreur} /> : null}
          <Radio name="sujet" value="famille" label="Une famille" checked={saisi.sujet === 'famille'} />
          <TextField
            id="famille"
            label="Référence de la famille (ou d’une de ses demandes)"
            hint="Par exemple F-ABCD-EFGH."
            value={saisi.famille ?? ''}
            size="moyen"
            {...optional('error', erreurDe(errors, 'famille'))}
          />
          <Radio name="sujet" value="agent" label="Un agent" checked={saisi.sujet === 'agent'} />
          <SelectField
            id="agent"
            label="Agent"
            options={optionsAgents(agents, 'Choisissez un agent')}
            value={saisi.agent ?? ''}
            {...optional('error', erreurDe(errors, 'agent'))}
          />
        </fieldset>
        <fieldset>
          <legend>Période</legend>
          <TextField
            id="du"
            label="Du"
            hint="Format JJ/MM/AAAA ; laissez vide pour partir de la plus ancienne entrée conservée."
            value={saisi.du ?? ''}
            size="moyen"
            {...optional('error', erreurDe(errors, 'du'))}
          />
          <TextField
            id="au"
            label="Au"
            hint="Format JJ/MM/AAAA, ce jour compris ; laissez vide pour aller jusqu’à maintenant."
            value={saisi.au ?? ''}
            size="moyen"
            {...optional('error', erreurDe(errors, 'au'))}
          />
        </fieldset>
        <fieldset class={formatErreur ? 'field--error' : undefined}>
          <legend>Format du fichier</legend>
          {formatErreur ? <FieldError id="format" error={formatErreur} /> : null}
          <Radio
            name="format"
            value="csv"
            label="CSV (tableur)"
            hint="Séparateur point-virgule, UTF-8, s’ouvre dans Excel ou LibreOffice."
            checked={saisi.format !== 'json'}
          />
          <Radio name="format" value="json" label="JSON" hint="Pour un traitement automatique." checked={saisi.format === 'json'} />
        </fieldset>
        <p>
          <button class="button" type="submit">
            Télécharger l’export
          </button>
        </p>
      </form>
    </>
  );
}

export function ControlesPage({
  csrf,
  controles,
  saisi,
  errors,
}: {
  csrf: string;
  controles: readonly ControleResume[];
  saisi: { du?: string; au?: string; taille?: string };
  errors: readonly ErrorDetail[];
}) {
  return (
    <>
      <Erreurs errors={errors} />
      <SousNavControle courant="/agents/controle/controles" />
      <h1>Contrôles par échantillon</h1>
      <p class="lead">
        Un contrôle tire au sort des consultations de dossiers de familles par des agents sur une période ; vous vérifiez pour chacune qu’elle était justifiée,
        puis vous consignez vos observations.
      </p>
      <h2>Nouveau contrôle</h2>
      <p>Le tirage est reproductible : la graine aléatoire est conservée avec le contrôle, et l’échantillon se retrouve à l’identique à partir d’elle.</p>
      <form method="post" action={`/agents/controle/controles#${ANCRE_ERREURS}`} class="controle-filtres">
        <Csrf token={csrf} />
        <TextField
          id="du"
          label="Premier jour de la période"
          hint="Format JJ/MM/AAAA."
          value={saisi.du ?? ''}
          size="moyen"
          {...optional('error', erreurDe(errors, 'du'))}
        />
        <TextField
          id="au"
          label="Dernier jour de la période"
          hint="Format JJ/MM/AAAA, ce jour compris."
          value={saisi.au ?? ''}
          size="moyen"
          {...optional('error', erreurDe(errors, 'au'))}
        />
        <TextField
          id="taille"
          label="Nombre de consultations à tirer"
          hint={`Entre 1 et ${TAILLE_MAX}.`}
          value={saisi.taille ?? '20'}
          inputMode="numeric"
          size="court"
          {...optional('error', erreurDe(errors, 'taille'))}
        />
        <p>
          <button class="button" type="submit">
            Tirer l’échantillon
          </button>
        </p>
      </form>
      <h2>Contrôles précédents</h2>
      {controles.length === 0 ? (
        <p>Aucun contrôle pour le moment.</p>
      ) : (
        <Tableau caption="Contrôles, du plus récent au plus ancien">
          <thead>
            <tr>
              <th scope="col">Période</th>
              <th scope="col" class="number">
                Consultations tirées
              </th>
              <th scope="col">Créé</th>
              <th scope="col">État</th>
            </tr>
          </thead>
          <tbody>
            {controles.map((c) => (
              <tr key={c.id}>
                <td>
                  <a href={`/agents/controle/controles/${c.id}`}>
                    Du {jourFrancais(c.du)} au {jourFrancais(c.au)}
                  </a>
                </td>
                <td class="number">{c.taille}</td>
                <td>
                  le {dateHeureParis(c.creeLe)} par {c.creePar}
                </td>
                <td>{c.closLe ? `Clos le ${dateHeureParis(c.closLe)}` : 'En cours'}</td>
              </tr>
            ))}
          </tbody>
        </Tableau>
      )}
    </>
  );
}

export function ControlePage({
  csrf,
  controle,
  errors,
  observations,
  message,
  verdictSaisi = null,
}: {
  csrf: string;
  controle: ControleDetail;
  errors: readonly ErrorDetail[];
  observations: string | null;
  message: string | null;
  /** A verdict refused, shown again on its entry's form. */
  verdictSaisi?: { sequence: number; verdict: string; commentaire: string } | null;
}) {
  const erreur = erreurDe(errors, 'observations');
  const valeur = observations ?? controle.observations ?? '';
  return (
    <>
      <Erreurs errors={errors} />
      <SousNavControle courant="/agents/controle/controles" />
      <h1>
        Contrôle du {jourFrancais(controle.du)} au {jourFrancais(controle.au)}
      </h1>
      <Flash message={message} />
      <dl class="facts">
        <dt>Créé</dt>
        <dd>
          le {dateHeureParis(controle.creeLe)} par {controle.creePar}
        </dd>
        <dt>Échantillon</dt>
        <dd>
          {controle.taille} consultation(s) tirée(s) parmi {controle.population} sur la période
          {controle.borne !== null ? `, jusqu’à l’entrée n° ${controle.borne} du journal (dernière à la création du contrôle)` : ''}
        </dd>
        <dt>Graine du tirage</dt>
        <dd>
          <code>{controle.graine}</code>
        </dd>
        <dt>Reproductibilité</dt>
        <dd>
          {controle.reproductible
            ? 'Le tirage refait à partir de la graine redonne exactement cet échantillon.'
            : 'Attention : le tirage refait à partir de la graine ne redonne pas cet échantillon (entrées purgées ou journal modifié). Vérifiez l’intégrité du journal.'}
        </dd>
        <dt>État</dt>
        <dd>{controle.closLe ? `Clos le ${dateHeureParis(controle.closLe)}` : 'En cours'}</dd>
      </dl>
      <h2>Consultations à vérifier</h2>
      <p>
        Pour chaque consultation, vérifiez auprès du service que l’agent avait une raison de consulter ce dossier (demande en cours, rendez-vous,
        contestation…).
      </p>
      {controle.entrees.length === 0 ? (
        <Alert kind="info" title="Aucune consultation de dossier par un agent sur cette période." />
      ) : (
        <>
          <TableEntrees entrees={controle.entrees} caption="Consultations tirées au sort, dans l’ordre du journal" />
          <h2>Verdict sur chaque accès</h2>
          <p>
            {Object.keys(controle.verdicts).length} accès examiné(s) sur {controle.entrees.length}. Un accès non conforme demande un commentaire : ce qui
            manquait, la suite donnée.
          </p>
          <ul class="controle-verdicts">
            {controle.entrees.map((e) => (
              <VerdictAcces
                key={e.seq}
                csrf={csrf}
                controleId={controle.id}
                entree={e}
                verdict={controle.verdicts[e.seq] ?? null}
                clos={controle.closLe !== null}
                saisi={verdictSaisi?.sequence === e.seq ? verdictSaisi : null}
                errors={verdictSaisi?.sequence === e.seq ? errors : []}
              />
            ))}
          </ul>
        </>
      )}
      <h2>Observations</h2>
      {controle.closLe ? (
        <div class="controle-observations">{controle.observations ?? 'Aucune observation.'}</div>
      ) : (
        <form method="post" action={`/agents/controle/controles/${controle.id}/observations#${ANCRE_ERREURS}`}>
          <Csrf token={csrf} />
          <TextAreaField
            id="observations"
            label="Vos observations"
            hint="Par exemple : consultations justifiées, ou celles qui restent à expliquer et les suites données. Pas de donnée fiscale."
            value={valeur}
            error={erreur}
            rows={6}
          />
          <p class="controle-actions">
            <button class="button button--secondary" type="submit" name="clore" value="non">
              Enregistrer les observations
            </button>
            <button class="button" type="submit" name="clore" value="oui">
              Enregistrer et clore le contrôle
            </button>
          </p>
          <p class="muted">Un contrôle clos ne peut plus être modifié.</p>
        </form>
      )}
    </>
  );
}

/** One sampled access: what it was, the verdict given, and the form to give or change it while the control is open. */
function VerdictAcces({
  csrf,
  controleId,
  entree: e,
  verdict,
  clos,
  saisi,
  errors,
}: {
  csrf: string;
  controleId: string;
  entree: EntreeLisible;
  verdict: VerdictControle | null;
  clos: boolean;
  saisi: { verdict: string; commentaire: string } | null;
  errors: readonly ErrorDetail[];
}) {
  const titre = `Accès n° ${e.seq}`;
  const choix = saisi?.verdict ?? verdict?.verdict ?? '';
  const erreurVerdict = erreurDe(errors, `verdict-${e.seq}-conforme`);
  const erreurCommentaire = erreurDe(errors, `commentaire-${e.seq}`);
  return (
    <li id={`acces-${e.seq}`} class="controle-verdict">
      <h3>
        {titre} : {e.actionLibelle ?? e.action}
        {e.acteurNom ? `, par ${e.acteurNom}` : ''}
        {e.cibleLibelle ? `, ${e.cibleLibelle}` : ''}, le {e.date}
      </h3>
      <p>
        {verdict ? (
          <>
            Verdict : <strong>{VERDICTS[verdict.verdict]}</strong>
            {verdict.commentaire ? ` — « ${verdict.commentaire} »` : ''} (par {verdict.par}, le {dateHeureParis(verdict.le)}).
          </>
        ) : (
          'Pas encore de verdict.'
        )}
      </p>
      {clos ? null : (
        <form method="post" action={`/agents/controle/controles/${controleId}/verdicts/${e.seq}#${ANCRE_ERREURS}`} novalidate>
          <Csrf token={csrf} />
          <fieldset class={`field${erreurVerdict ? ' field--error' : ''}`}>
            <legend>Verdict sur l’accès n° {e.seq}</legend>
            {erreurVerdict ? <FieldError id={`verdict-${e.seq}`} error={erreurVerdict} /> : null}
            {(Object.keys(VERDICTS) as CodeVerdict[]).map((v) => (
              <div key={v} class="radio">
                <input type="radio" id={`verdict-${e.seq}-${v}`} name="verdict" value={v} checked={choix === v} />
                <label for={`verdict-${e.seq}-${v}`}>{VERDICTS[v]}</label>
              </div>
            ))}
          </fieldset>
          <TextAreaField
            id={`commentaire-${e.seq}`}
            name="commentaire"
            label="Commentaire (obligatoire si non conforme)"
            value={saisi?.commentaire ?? verdict?.commentaire ?? ''}
            error={erreurCommentaire}
            rows={2}
            maxLength={COMMENTAIRE_MAX}
          />
          <button class="button button--secondary" type="submit">
            Enregistrer le verdict
          </button>
        </form>
      )}
    </li>
  );
}

const ETATS_ANCRE: Record<string, string> = {
  valide: 'présente et valide',
  absente: 'absente',
  invalide: 'invalide (signature ou contenu)',
  autre_journal: 'appartient à un autre journal',
};

/** The integrity halt, and the acknowledgement form while it lasts. */
function ArretIntegrite({
  csrf,
  integrite,
  reconnuPar,
  reconnaissance,
}: {
  csrf: string;
  integrite: EtatIntegrite;
  reconnuPar: string | null;
  reconnaissance: { errors: readonly ErrorDetail[]; motif: string };
}) {
  if (integrite.etat === 'reconnu') {
    return (
      <Alert kind="warning" title="Altération reconnue : les opérations ont repris">
        <p>
          Reconnue le {dateHeureParis(integrite.reconnaissance.le)} par {reconnuPar ?? integrite.reconnaissance.par.id} : « {integrite.reconnaissance.motif} ».
        </p>
        <p>{integrite.rapport.message} Toute nouvelle altération, où qu’elle soit, arrêterait de nouveau les opérations fiscales.</p>
      </Alert>
    );
  }
  if (integrite.etat !== 'arret' && integrite.etat !== 'a_verifier') return null;
  const error = errorOf(reconnaissance.errors, 'motif-reconnaissance');
  return (
    <>
      <Alert kind="error" title={`Opérations fiscales arrêtées depuis le ${dateHeureParis(integrite.depuis)}`}>
        <p>{integrite.etat === 'arret' ? integrite.rapport.message : 'Une autre instance a trouvé le journal altéré ; la vérification est en cours.'}</p>
        <p>
          Tant que l’altération n’est pas reconnue : aucun appel à la DGFiP, aucune nouvelle demande (au portail comme au guichet). Les demandes déjà en file
          attendent.
        </p>
      </Alert>
      <h2>Reconnaître l’altération</h2>
      <p>
        Après enquête (quelles entrées, qui, comment, ce qui a été fait), reconnaissez l’altération pour que les opérations reprennent. La reconnaissance est
        inscrite au journal avec votre motif et ne vaut que pour cette altération : toute autre, même plus tard, arrêtera de nouveau les opérations.
      </p>
      <form method="post" action="/agents/controle/integrite/reconnaissance">
        <Csrf token={csrf} />
        <TextAreaField
          id="motif-reconnaissance"
          name="motif"
          label="Conclusion de l’enquête (obligatoire)"
          hint="Inscrite au journal d’audit. Jamais de numéro fiscal."
          value={reconnaissance.motif}
          rows={3}
          maxLength={500}
          {...(error ? { error } : {})}
        />
        <p>
          <button class="button" type="submit">
            Reconnaître l’altération et reprendre
          </button>
        </p>
      </form>
    </>
  );
}

export function IntegritePage({
  csrf,
  derniere,
  integrite,
  reconnuPar,
  flash,
  reconnaissance,
}: {
  csrf: string;
  derniere: Verification | null;
  integrite: EtatIntegrite;
  reconnuPar: string | null;
  flash: string | null;
  reconnaissance: { errors: readonly ErrorDetail[]; motif: string };
}) {
  return (
    <>
      <SousNavControle courant="/agents/controle/integrite" />
      <Erreurs errors={reconnaissance.errors} />
      <Flash message={flash} />
      <h1>Intégrité du journal</h1>
      <p class="lead">
        Chaque entrée du journal est chaînée à la précédente et scellée par une clé conservée hors de la base ; une ancre, hors de la base elle aussi, retient
        la dernière entrée. La vérification recalcule toute la chaîne.
      </p>
      {derniere === null ? (
        <Alert kind="info" title="Le journal n’a encore jamais été vérifié depuis cet écran." />
      ) : (
        <Alert kind={derniere.intact ? 'success' : 'error'} title={derniere.intact ? 'Journal intact' : 'Journal altéré'}>
          <p>{derniere.message}</p>
          <dl class="facts">
            <dt>Vérifié</dt>
            <dd>
              le {dateHeureParis(derniere.le)} par {derniere.par}, en {new Intl.NumberFormat('fr-FR').format(derniere.dureeMs)} ms
            </dd>
            {derniere.sequenceRompue !== null ? (
              <>
                <dt>Première séquence rompue</dt>
                <dd>n° {derniere.sequenceRompue}</dd>
              </>
            ) : null}
            <dt>Ancre externe</dt>
            <dd>
              {ETATS_ANCRE[derniere.ancre.etat] ?? derniere.ancre.etat}
              {derniere.ancre.sequence !== null ? `, séquence n° ${derniere.ancre.sequence}` : ''}
            </dd>
          </dl>
          {derniere.intact ? null : (
            <p>Ne modifiez rien : conservez la base, la clé et l’ancre, et prévenez le responsable de la sécurité des systèmes d’information (RSSI).</p>
          )}
        </Alert>
      )}
      <ArretIntegrite csrf={csrf} integrite={integrite} reconnuPar={reconnuPar} reconnaissance={reconnaissance} />
      <form method="post" action="/agents/controle/integrite">
        <Csrf token={csrf} />
        <p>
          <button class="button" type="submit">
            Vérifier maintenant
          </button>
        </p>
        <p class="muted">
          Sur un journal de plusieurs millions d’entrées, la vérification prend quelques secondes ; l’exploitant peut aussi la lancer avec la commande «
          quotient audit verify ».
        </p>
      </form>
    </>
  );
}
