import { Fragment } from 'preact';
import { LIBELLES_MODE_CONSENTEMENT } from '../../domain/consentement.ts';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { LIBELLES_CANAL, STATUTS, type CanalDemande, type StatutDemande } from '../../domain/demande.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { donneesEnClair, type Habilitation } from '../../domain/habilitation.ts';
import { formatEuros } from '../../domain/money.ts';
import { CLE_AGENT } from '../../http/formulaire.ts';
import { ANCRE_ERREURS, Alert, ChampNumeroFiscal, CheckboxField, Csrf, Erreurs, RadioGroup, TextField, errorOf } from '../../http/ui/components.tsx';
import { CarteQuotient, TableauPrix, lignesParTranche } from '../../http/ui/prix.tsx';
import type { EtatDemande } from '../demandes/demandes-service.ts';
import type { FamilleTrouvee, CompositionFamille, ResultatRecherche } from '../familles/familles-service.ts';
import { ChampsComposition } from '../familles/formulaire-composition.tsx';
import type { AccordRecu, FicheFamille } from './guichet-service.ts';
import { CaseRenouvellementGuichet, RenouvellementsFiche } from './renouvellement-views.tsx';

/**
 * The counter's pages. They show what the commune knows of a household and the results of its
 * requests (QF, validity, tranche, prices), never fiscal detail: no RFR, no parts, no names read
 * on an avis. A numéro fiscal typed here is never shown again, not even after an error.
 */

export type Valeurs = Record<string, string>;

const date = (iso: string | null | undefined) => (iso ? formatDateFrancaise(iso.slice(0, 10)) : '—');
type Parent = CompositionFamille['parents'][number];
export const nomParent = (p: Pick<Parent, 'prenoms' | 'nomNaissance' | 'nomUsage'>) => `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}`;
const naissance = (p: Pick<Parent, 'nomNaissance' | 'nomUsage' | 'dateNaissance'>) =>
  [p.nomUsage && p.nomUsage !== p.nomNaissance ? `nom de naissance ${p.nomNaissance}` : null, p.dateNaissance ? `né(e) le ${date(p.dateNaissance)}` : null]
    .filter(Boolean)
    .join(', ');

/** The parents whose avis may be asked: those who live in the household (all of them if none is marked so). */
export function declarantsPossibles(composition: CompositionFamille): CompositionFamille['parents'] {
  const la = composition.parents.filter((p) => p.cohabite);
  return la.length > 0 ? la : composition.parents;
}

function Champ({
  id,
  label,
  values,
  errors,
  hint,
  autoComplete = 'off',
  inputMode,
}: {
  id: string;
  label: string;
  values: Valeurs;
  errors: readonly ErrorDetail[];
  hint?: string;
  autoComplete?: string;
  inputMode?: 'email' | 'numeric';
}) {
  const error = errorOf(errors, id);
  return (
    <TextField
      id={id}
      label={label}
      value={values[id] ?? ''}
      autoComplete={autoComplete}
      {...(inputMode ? { inputMode } : {})}
      {...(hint ? { hint } : {})}
      {...(error ? { error } : {})}
    />
  );
}

// -------------------------------------------------------------------------------------------
// Find a family

export function RecherchePage({
  csrf,
  values,
  errors,
  resultat,
}: {
  csrf: string;
  values: Valeurs;
  errors: readonly ErrorDetail[];
  resultat: ResultatRecherche | null;
}) {
  return (
    <>
      <Erreurs errors={errors} />
      <h1>Accueil des familles</h1>
      <p class="lead">Retrouvez la famille qui se présente ou qui a écrit, puis saisissez sa demande reçue sur papier ou par courriel.</p>
      <p>
        La famille n’a pas de formulaire d’accord ? <a href="/agents/guichet/formulaire-accord">Imprimer un formulaire d’accord vierge</a>
      </p>
      <form method="post" action={`/agents/guichet/recherche#${ANCRE_ERREURS}`} novalidate class="guichet-recherche">
        <Csrf token={csrf} />
        <h2>Rechercher une famille</h2>
        <p class="hint">Par la référence de la famille, ou par le nom ou la date de naissance d’un parent (les deux ensemble désignent le même parent).</p>
        <Champ
          id="reference"
          label="Référence de la famille (facultatif)"
          hint="Par exemple F-AB2C-DE3F : elle figure sur les courriers et les attestations."
          values={values}
          errors={errors}
        />
        <Champ
          id="nom"
          label="Nom ou prénom d’un parent (facultatif)"
          hint="Nom de naissance, nom d’usage ou prénom ; majuscules et accents sans importance."
          values={values}
          errors={errors}
        />
        <Champ
          id="naissance"
          label="Date de naissance d’un parent (facultatif)"
          hint="Au format JJ/MM/AAAA, par exemple 09/04/1981."
          values={values}
          errors={errors}
        />
        <button class="button" type="submit">
          Rechercher
        </button>
      </form>
      {resultat ? <Resultats resultat={resultat} /> : null}
      <h2>Nouvelle famille</h2>
      <p>Si la famille n’est pas encore connue du service, créez-la avant de saisir sa demande.</p>
      <p>
        <a class="button button--secondary" href="/agents/guichet/familles/nouvelle">
          Créer une famille
        </a>
      </p>
    </>
  );
}

function ListeFamilles({ familles, caption }: { familles: readonly FamilleTrouvee[]; caption: string }) {
  return (
    <div class="table-wrapper">
      <table class="donnees">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Famille</th>
            <th scope="col">Parents</th>
            <th scope="col">Enfants</th>
          </tr>
        </thead>
        <tbody>
          {familles.map((f) => (
            <tr key={f.id}>
              <th scope="row">
                <a href={`/agents/guichet/familles/${f.id}`}>{f.reference}</a>
                {f.resident ? null : <span class="guichet-mention"> (hors commune)</span>}
              </th>
              <td>
                <ul class="guichet-liste">
                  {f.parents.map((p) => (
                    <li key={p.rang}>
                      {nomParent(p)}
                      {naissance(p) ? `, ${naissance(p)}` : ''}
                      {p.cohabite ? '' : ' (vit ailleurs)'}
                    </li>
                  ))}
                </ul>
              </td>
              <td>{f.enfants}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Resultats({ resultat }: { resultat: ResultatRecherche }) {
  const n = resultat.familles.length;
  return (
    <section aria-labelledby="resultats-titre">
      <h2 id="resultats-titre">{n === 0 ? 'Aucune famille trouvée' : n === 1 ? 'Une famille trouvée' : `${n} familles trouvées`}</h2>
      {n === 0 ? (
        <p>Vérifiez l’orthographe ou cherchez avec la date de naissance seule. Si la famille n’est pas connue, créez-la.</p>
      ) : (
        <ListeFamilles familles={resultat.familles} caption="Familles correspondant à la recherche" />
      )}
      {resultat.tronque ? <p>Trop de résultats : précisez la recherche (date de naissance, référence).</p> : null}
    </section>
  );
}

// -------------------------------------------------------------------------------------------
// Create a family

const RESIDENT: ReadonlyArray<readonly [string, string]> = [
  ['oui', 'Oui, la famille habite la commune'],
  ['non', 'Non, elle habite une autre commune'],
];

export function CreationPage({
  csrf,
  values,
  errors,
  doublons,
}: {
  csrf: string;
  values: Valeurs;
  errors: readonly ErrorDetail[];
  doublons: readonly FamilleTrouvee[];
}) {
  return (
    <>
      <Erreurs errors={errors} />
      <h1>Créer une famille</h1>
      <p class="lead">
        Recopiez les noms et dates de naissance des parents comme sur leurs papiers d’identité : ils seront comparés à ceux de l’avis d’imposition.
      </p>
      {doublons.length > 0 ? (
        <Alert kind="warning" title="Cette famille existe peut-être déjà">
          <p>Un parent de même nom et de même date de naissance est déjà connu. Ouvrez la famille existante plutôt que d’en créer une seconde :</p>
          <ListeFamilles familles={doublons} caption="Familles déjà connues avec ce parent" />
        </Alert>
      ) : null}
      <form method="post" action={`/agents/guichet/familles#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <ChampsComposition espace="agents" values={values} errors={errors} />
        <h2>Résidence et contact</h2>
        <RadioGroup
          className="guichet-choix"
          name="resident"
          legend="La famille habite-t-elle la commune ?"
          hint="Les familles d’une autre commune paient le tarif hors commune."
          options={RESIDENT}
          value={values.resident ?? 'oui'}
          errors={errors}
        />
        <Champ
          id="courriel"
          label="Adresse électronique de contact (facultatif)"
          hint="Pour prévenir la famille quand son résultat est prêt."
          inputMode="email"
          values={values}
          errors={errors}
        />
        {doublons.length > 0 ? (
          <CheckboxField id="doublon" value="confirme" label="J’ai vérifié : il s’agit d’une autre famille, la créer quand même" checked={false} />
        ) : null}
        <button class="button" type="submit">
          Créer la famille
        </button>
      </form>
      <p>
        <a href="/agents/guichet">Revenir à la recherche</a>
      </p>
    </>
  );
}

// -------------------------------------------------------------------------------------------
// The family's page

/** The QF, its validity, and the price of each activity with its tranche: what the counter may see. */
function Resultat({ etat, titre }: { etat: EtatDemande; titre: string }) {
  const q = etat.quotient;
  if (!q) return null;
  return (
    <>
      <CarteQuotient libelle={titre} cents={q.cents} periode={q.periode}>
        Valable du {date(q.valideDu)} au {date(q.valideAu)} (demande {etat.reference}).
      </CarteQuotient>
      <TableauPrix caption="Prix des activités" lignes={lignesParTranche(q.prix)} className="donnees" />
    </>
  );
}

function Composition({ composition }: { composition: CompositionFamille }) {
  return (
    <dl class="facts">
      <dt>Référence</dt>
      <dd>{composition.reference}</dd>
      {composition.parents.map((p) => (
        <Fragment key={p.rang}>
          <dt>{p.rang === 1 ? 'Premier parent' : 'Second parent'}</dt>
          <dd>
            {nomParent(p)}
            {naissance(p) ? `, ${naissance(p)}` : ''}
            {p.cohabite ? '' : ' ; vit ailleurs'}
          </dd>
        </Fragment>
      ))}
      <dt>Enfants</dt>
      <dd>
        {composition.enfants.length === 0 ? (
          'aucun enfant déclaré'
        ) : (
          <ul class="guichet-liste">
            {composition.enfants.map((e, i) => (
              <li key={i}>
                {e.prenoms} {e.nom}
                {e.dateNaissance ? `, né(e) le ${date(e.dateNaissance)}` : ''}
                {e.residence === 'alternee' ? ', en résidence alternée' : ''}
              </li>
            ))}
          </ul>
        )}
      </dd>
      <dt>Résidence</dt>
      <dd>{composition.resident ? 'habite la commune' : 'habite une autre commune'}</dd>
      <dt>Contact</dt>
      <dd>{composition.courriel ?? 'aucune adresse électronique'}</dd>
    </dl>
  );
}

export function FichePage({ fiche }: { fiche: FicheFamille }) {
  const { composition } = fiche;
  return (
    <>
      <p class="no-print">
        <a href="/agents/guichet">Revenir à la recherche</a>
      </p>
      <h1>Famille {composition.parents.map(nomParent).join(' et ')}</h1>
      {fiche.contestationsEnCours.length > 0 ? (
        <Alert
          kind="warning"
          title={
            fiche.contestationsEnCours.length === 1
              ? 'Une contestation de la famille est en attente de réponse'
              : `${fiche.contestationsEnCours.length} contestations de la famille sont en attente de réponse`
          }
        >
          <ul>
            {fiche.contestationsEnCours.map((c) => (
              <li key={c.id}>
                Déposée le {date(c.ouverteLe)}
                {c.demande ? `, sur la demande ${c.demande}` : ''} : un instructeur l’examine ; la famille recevra sa réponse.
              </li>
            ))}
          </ul>
        </Alert>
      ) : null}
      <h2>Foyer</h2>
      <Composition composition={composition} />
      <h2>Quotient familial</h2>
      {fiche.quotient ? (
        <Resultat etat={fiche.quotient} titre="Quotient familial retenu" />
      ) : (
        <p>Aucun quotient familial en cours de validité : sans quotient, le tarif le plus élevé de chaque activité s’applique.</p>
      )}
      <p>
        <a class="button" href={`/agents/guichet/familles/${fiche.id}/demande`}>
          Saisir une demande reçue sur papier ou par courriel
        </a>
      </p>
      <h2>Renouvellement chaque année</h2>
      <RenouvellementsFiche
        accords={fiche.renouvellements}
        nom={(rang) => {
          const p = composition.parents.find((x) => x.rang === rang);
          return p ? nomParent(p) : `parent ${rang}`;
        }}
      />
      <h2>Demandes</h2>
      {fiche.demandes.length === 0 ? (
        <p>Aucune demande pour le moment.</p>
      ) : (
        <div class="table-wrapper">
          <table class="donnees">
            <caption>Demandes de la famille, de la plus récente à la plus ancienne</caption>
            <thead>
              <tr>
                <th scope="col">Référence</th>
                <th scope="col">Date</th>
                <th scope="col">Canal</th>
                <th scope="col">État</th>
                <th scope="col">Quotient familial</th>
              </tr>
            </thead>
            <tbody>
              {fiche.demandes.map((d) => (
                <tr key={d.id}>
                  <th scope="row">
                    <a href={`/agents/guichet/demandes/${d.id}`}>{d.reference}</a>
                  </th>
                  <td>{date(d.creeeLe)}</td>
                  <td>{LIBELLES_CANAL[d.canal as CanalDemande] ?? d.canal}</td>
                  <td>
                    {STATUTS[d.statut as StatutDemande]?.libelle ?? d.statut}
                    {d.consentementRetire ? ' (accord retiré)' : ''}
                  </td>
                  <td>{d.quotient ? `${formatEuros(d.quotient.cents)} ${d.quotient.periode === 'annuelle' ? 'par an' : 'par mois'}` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

// -------------------------------------------------------------------------------------------
// A request received on paper or by e-mail: step 1, the consents

export const MODES_GUICHET: ReadonlyArray<readonly [AccordRecu['mode'], string]> = [
  ['formulaire_signe', 'Formulaire d’accord signé, remis ou envoyé par courrier'],
  ['courriel', 'Courriel de la personne'],
];

/** With two parents in the household: one joint avis (whose number is typed) or one avis each. */
export const AVIS = (p1: string, p2: string): ReadonlyArray<readonly [string, string]> => [
  ['commun-1', `Un seul avis, commun aux deux parents (mariés ou pacsés) : accord et numéro fiscal de ${p1}`],
  ['commun-2', `Un seul avis, commun aux deux parents (mariés ou pacsés) : accord et numéro fiscal de ${p2}`],
  ['deux', 'Deux avis, un par parent (ni mariés ni pacsés) : accord et numéro fiscal de chacun'],
];

export function EnTeteDemande({ composition, familleId, etape }: { composition: CompositionFamille; familleId: string; etape: 1 | 2 }) {
  return (
    <>
      <p class="muted etape">
        Étape {etape} sur 2 : {etape === 1 ? 'l’accord de la famille' : 'le numéro fiscal'}
      </p>
      <h1>{etape === 1 ? 'Demande reçue sur papier ou par courriel' : 'Numéro fiscal'}</h1>
      <p>
        Famille <a href={`/agents/guichet/familles/${familleId}`}>{composition.parents.map(nomParent).join(' et ')}</a> ({composition.reference}).
      </p>
    </>
  );
}

export function AccordPage({
  csrf,
  familleId,
  composition,
  habilitation,
  agent,
  values,
  errors,
  renouvellement = null,
}: {
  csrf: string;
  familleId: string;
  composition: CompositionFamille;
  habilitation: Habilitation;
  agent: string;
  values: Valeurs;
  errors: readonly ErrorDetail[];
  /** The standing consent's maximum duration when the commune offers it; null: not offered. */
  renouvellement?: number | null;
}) {
  const declarants = declarantsPossibles(composition);
  const deux = declarants.length === 2;
  return (
    <>
      <Erreurs errors={errors} />
      <EnTeteDemande composition={composition} familleId={familleId} etape={1} />
      <p class="lead">
        Enregistrez l’accord de chaque déclarant dont l’avis d’imposition sera demandé à la DGFiP. Sans accord écrit, ne saisissez pas la demande.
      </p>
      <details class="aide">
        <summary>Ce que le formulaire ou le courriel doit contenir</summary>
        <p>
          L’accord de la personne pour que la commune demande à la DGFiP {donneesEnClair(habilitation).join(', ')}, pour : {habilitation.finalite}
        </p>
        <p>
          Texte de l’accord en vigueur : version {habilitation.versionTexteConsentement} (
          <a href="/agents/guichet/formulaire-accord">formulaire vierge à imprimer</a>).
        </p>
      </details>
      <form method="post" action={`/agents/guichet/familles/${familleId}/demande#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        {deux ? (
          <RadioGroup
            className="guichet-choix"
            name="avis"
            legend="Quels avis d’imposition demander ?"
            hint="Un couple marié ou pacsé a un seul avis : l’accord et le numéro fiscal d’un des deux suffisent."
            options={AVIS(nomParent(declarants[0] as Parent), nomParent(declarants[1] as Parent))}
            value={values.avis}
            errors={errors}
          />
        ) : null}
        {declarants.map((p) => (
          <fieldset key={p.rang} class="field guichet-personne">
            <legend>Accord de {nomParent(p)}</legend>
            {deux ? <p class="hint">À remplir si son avis est demandé.</p> : null}
            <RadioGroup
              className="guichet-choix"
              name={`mode-${p.rang}`}
              legend="Comment l’accord a-t-il été donné ?"
              options={MODES_GUICHET}
              value={values[`mode-${p.rang}`]}
              errors={errors}
            />
            <Champ
              id={`date-${p.rang}`}
              label="Date de l’accord"
              hint="Date de signature du formulaire ou d’envoi du courriel, au format JJ/MM/AAAA."
              values={values}
              errors={errors}
            />
            <Champ
              id={`piece-${p.rang}`}
              label="Référence de la pièce"
              hint="Numéro du formulaire, ou objet et date du courriel, pour retrouver la pièce. N’y écrivez pas le numéro fiscal."
              values={values}
              errors={errors}
            />
            {renouvellement !== null ? (
              <CaseRenouvellementGuichet rang={p.rang} dureeMaxAns={renouvellement} checked={values[`renouvellement-${p.rang}`] === 'oui'} errors={errors} />
            ) : null}
          </fieldset>
        ))}
        <p class="muted">L’accord est enregistré comme reçu par vous, {agent}, avec la date indiquée.</p>
        <button class="button" type="submit">
          Enregistrer l’accord et continuer
        </button>
      </form>
    </>
  );
}

// -------------------------------------------------------------------------------------------
// Step 2: the numéros fiscaux, typed once

function AideNumeroFiscal() {
  return (
    <details class="aide">
      <summary>Où trouver le numéro fiscal ?</summary>
      <p>
        En haut à gauche de la première page de l’avis d’impôt sur le revenu, dans le cadre « Vos références », à la ligne « Numéro fiscal ». Il comporte 13
        chiffres et commence par 0, 1, 2 ou 3. Il figure aussi sur la déclaration de revenus préremplie.
      </p>
      <p>
        Sur un avis commun à deux déclarants, les deux numéros figurent : un seul suffit. Ne recopiez ni la référence de l’avis ni le numéro de télédéclarant.
      </p>
    </details>
  );
}

function NumeroChamps({ attendus, errors }: { attendus: ReadonlyArray<{ rang: 1 | 2; nom: string }>; errors: readonly ErrorDetail[] }) {
  return (
    <>
      <AideNumeroFiscal />
      {attendus.map((a) => (
        <ChampNumeroFiscal key={a.rang} rang={a.rang} nom={a.nom} errors={errors} cle={CLE_AGENT} />
      ))}
      <p class="muted">Le numéro fiscal n’est ni enregistré ni affiché de nouveau : il sert à la demande à la DGFiP, puis il est oublié.</p>
    </>
  );
}

export function NumeroPage({
  csrf,
  familleId,
  composition,
  accords,
  errors,
  etatCivil = false,
}: {
  csrf: string;
  familleId: string;
  composition: CompositionFamille;
  accords: readonly AccordRecu[];
  errors: readonly ErrorDetail[];
  /** The commune may ask by état civil: for a paper form that gives no numéro fiscal. */
  etatCivil?: boolean;
}) {
  const nom = (rang: 1 | 2) => {
    const p = composition.parents.find((x) => x.rang === rang);
    return p ? nomParent(p) : `parent ${rang}`;
  };
  return (
    <>
      <Erreurs errors={errors} />
      <EnTeteDemande composition={composition} familleId={familleId} etape={2} />
      <h2>Accords enregistrés</h2>
      <ul>
        {accords.map((a) => (
          <li key={a.rang}>
            {nom(a.rang)} : accord {LIBELLES_MODE_CONSENTEMENT[a.mode]}, donné le {date(a.date)} ; pièce « {a.piece} ».
          </li>
        ))}
      </ul>
      <p>
        <a href={`/agents/guichet/familles/${familleId}/demande`}>Modifier l’accord</a>
      </p>
      <form method="post" action={`/agents/guichet/familles/${familleId}/demande/numero#${ANCRE_ERREURS}`} novalidate autoComplete="off">
        <Csrf token={csrf} />
        <h2>{accords.length > 1 ? 'Les numéros fiscaux' : 'Le numéro fiscal'}</h2>
        <NumeroChamps attendus={accords.map((a) => ({ rang: a.rang, nom: nom(a.rang) }))} errors={errors} />
        <button class="button" type="submit">
          Envoyer la demande
        </button>
      </form>
      {etatCivil ? (
        <p>
          <a class="button button--secondary" href={`/agents/guichet/familles/${familleId}/demande/etat-civil`}>
            Saisir l’état civil à la place
          </a>{' '}
          Quand le formulaire ne donne pas le numéro fiscal.
        </p>
      ) : null}
    </>
  );
}

// -------------------------------------------------------------------------------------------
// The request: waiting, result, other outcomes

/** What the counter tells about a request that has no QF (the family-facing texts say « vous »). */
const SITUATIONS: Partial<Record<StatutDemande, string>> = {
  a_verifier:
    'Un instructeur va vérifier la demande : vous n’avez rien d’autre à faire. La famille sera prévenue du résultat, par courriel si une adresse est connue.',
  a_ressaisir: 'Le numéro fiscal a été perdu avant l’appel à la DGFiP (redémarrage du service) : saisissez-le de nouveau ; l’accord enregistré reste valable.',
  echouee: 'La DGFiP n’a pas pu répondre. Vous pouvez relancer la demande en saisissant de nouveau le numéro fiscal ; l’accord enregistré reste valable.',
  refusee: 'La demande a été refusée par un instructeur.',
  annulee: 'La demande a été annulée (par exemple après le retrait de l’accord).',
  expiree: 'La demande est restée trop longtemps sans suite et a été close.',
};

export interface Ressaisie {
  readonly csrf: string;
  readonly attendus: ReadonlyArray<{ rang: 1 | 2; nom: string }>;
  readonly errors: readonly ErrorDetail[];
}

export function DemandePage({
  etat,
  composition,
  refreshSeconds,
  ressaisie,
}: {
  etat: EtatDemande;
  composition: CompositionFamille;
  refreshSeconds: number;
  ressaisie?: Ressaisie;
}) {
  const famille = (
    <p>
      Famille <a href={`/agents/guichet/familles/${etat.familleId}`}>{composition.parents.map(nomParent).join(' et ')}</a> ({composition.reference}).
    </p>
  );
  if (etat.file) {
    const { position, attenteMinutes, suspension } = etat.file;
    return (
      <>
        <h1>Demande {etat.reference} : en attente</h1>
        {famille}
        {suspension ? (
          <p class="lead">
            {suspension.cause === 'integrite'
              ? 'Les appels à la DGFiP sont arrêtés (arrêt d’intégrité du journal d’audit) : cette demande partira dès qu’un auditeur aura reconnu l’altération.'
              : 'Les appels à la DGFiP sont suspendus (interrupteur d’incident) : cette demande partira dès la reprise.'}
          </p>
        ) : (
          <p class="lead">La DGFiP limite le nombre de demandes par minute : celle-ci passera dès qu’un créneau se libère.</p>
        )}
        <dl class="facts">
          <dt>Position</dt>
          <dd>{position === 1 ? 'la prochaine à passer' : `${position}e dans la file`}</dd>
          <dt>Attente estimée</dt>
          <dd>
            {suspension
              ? 'inconnue tant que les appels sont suspendus'
              : `environ ${attenteMinutes} minute${attenteMinutes > 1 ? 's' : ''} (estimation prudente)`}
          </dd>
        </dl>
        <p>
          Cette page se met à jour toute seule toutes les {refreshSeconds} secondes. La famille peut repartir : le résultat restera sur sa fiche, et elle sera
          prévenue par courriel si une adresse est connue.
        </p>
        <p>
          <a class="button button--secondary" href={`/agents/guichet/demandes/${etat.id}`}>
            Actualiser maintenant
          </a>
        </p>
      </>
    );
  }
  if (etat.quotient) {
    return (
      <>
        <h1>Demande {etat.reference} : quotient calculé</h1>
        {famille}
        <Resultat etat={etat} titre="Quotient familial" />
        <p class="no-print">
          <a class="button button--secondary" href={`/agents/guichet/demandes/${etat.id}/attestation`}>
            Attestation à imprimer pour la famille
          </a>
        </p>
        <p class="no-print">
          <a href={`/agents/guichet/familles/${etat.familleId}`}>Fiche de la famille</a>
        </p>
      </>
    );
  }
  const s = STATUTS[etat.statut];
  return (
    <>
      {ressaisie ? <Erreurs errors={ressaisie.errors} /> : null}
      <h1>
        Demande {etat.reference} : {s.libelle.toLowerCase()}
      </h1>
      {famille}
      <p class="lead">{SITUATIONS[etat.statut] ?? s.explication}</p>
      {/* An instructor's refusal carries a free-text justification: need to know, the counter gets a generic sentence. */}
      {etat.statut === 'refusee' ? <p>Motif : Demande refusée après vérification par un instructeur.</p> : etat.motif ? <p>Motif : {etat.motif}</p> : null}
      {ressaisie && ressaisie.attendus.length > 0 ? (
        <form method="post" action={`/agents/guichet/demandes/${etat.id}/ressaisie#${ANCRE_ERREURS}`} novalidate autoComplete="off">
          <Csrf token={ressaisie.csrf} />
          <h2>Saisir de nouveau {ressaisie.attendus.length > 1 ? 'les numéros fiscaux' : 'le numéro fiscal'}</h2>
          <NumeroChamps attendus={ressaisie.attendus} errors={ressaisie.errors} />
          <button class="button" type="submit">
            Relancer la demande
          </button>
        </form>
      ) : null}
      <p>
        <a href={`/agents/guichet/familles/${etat.familleId}`}>Fiche de la famille</a>
      </p>
    </>
  );
}
