import { AvisDuDossier, type AvisEnCours } from '../../http/ui/champ-avis.tsx';
import type { ComponentChildren } from 'preact';
import { formatDateCourte, formatDateFrancaise } from '../../domain/dates.ts';
import { STATUTS } from '../../domain/demande.ts';
import { LIBELLES_DECISION } from '../../domain/quotient-en-vigueur.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { formatEuros, formatNombre } from '../../domain/money.ts';
import type { Declarant } from '../../domain/situation-fiscale.ts';
import { ANCRE_ERREURS, Csrf, Erreurs, FieldError, Flash, SelectField, TextAreaField, TextField, errorOf } from '../../http/ui/components.tsx';
import {
  LIBELLES_TYPE,
  MOTIFS_CONSULTATION,
  MOTIF_PAR_TYPE,
  PRECISION_MAX,
  TYPES_DOSSIER,
  type AvisDossier,
  type CodeMotifConsultation,
  type DossierContestation,
  type DossierDemande,
  type ElementFile,
  type ResumeContestation,
  type ResumeDemande,
  type TypeDossier,
} from './instruction-service.ts';

export const BASE = '/agents/instruction';

const LIBELLES_ORIGINE: Record<string, string> = {
  calcul: 'calculé automatiquement',
  instructeur: 'calculé après vérification par un instructeur',
  manuel: 'fixé à la main par un instructeur',
};

const jour = (iso: string | null | undefined) => (iso ? formatDateFrancaise(iso.slice(0, 10)) : '—');
const courte = (iso: string | null) => (iso ? formatDateCourte(iso.slice(0, 10)) : '—');

/** How long a case has waited, in words: what the instructor needs to pick the oldest. */
export function attente(depuis: string, maintenant: number): string {
  const heures = Math.floor((maintenant - Date.parse(depuis)) / 3_600_000);
  if (heures < 1) return 'moins d’une heure';
  if (heures < 24) return `${heures} heure${heures > 1 ? 's' : ''}`;
  const jours = Math.floor(heures / 24);
  return `${jours} jour${jours > 1 ? 's' : ''}`;
}

/** The fields in the order of the pages: the error summary follows it, whatever order the checks ran in. */
const ORDRE_CHAMPS = [
  'motif',
  'precision',
  'decision-confirme',
  'confirme-justification',
  'reponse',
  'suite',
  'decision-qf',
  'qf-montant',
  'qf-justification',
  'qf-piece',
  'decision-refus',
  'refus-justification',
];
const rang = (path: string) => (ORDRE_CHAMPS.includes(path) ? ORDRE_CHAMPS.indexOf(path) : ORDRE_CHAMPS.length);

/** The top of a case's page: what to correct (in the order of the page), the way back to the queue, the case's title. */
function EnTeteDossier({ titre, errors }: { titre: string; errors: readonly ErrorDetail[] }) {
  return (
    <>
      <Erreurs errors={[...errors].sort((a, b) => rang(a.path) - rang(b.path))} />
      <p>
        <a href={BASE}>Retour à la liste</a>
      </p>
      <h1>{titre}</h1>
    </>
  );
}

const withError = (errors: readonly ErrorDetail[], id: string) => {
  const error = errorOf(errors, id);
  return error ? { error } : {};
};

/** A data table that may be wider than a phone: it scrolls inside its own focusable region, never the page. */
function Tableau({ id, caption, children }: { id: string; caption: string; children: ComponentChildren }) {
  // The title stays outside the scrolling region, so that it wraps on a phone instead of being cut.
  return (
    <>
      <h3 id={`${id}-titre`} class="instruction-tableau__titre">
        {caption}
      </h3>
      <div class="table-wrapper" role="region" aria-labelledby={`${id}-titre`} tabIndex={0}>
        <table class="donnees" aria-labelledby={`${id}-titre`}>
          {children}
        </table>
      </div>
    </>
  );
}

// -------------------------------------------------------------------------------------------
// The queue

export function FilePage({
  elements,
  type,
  flash,
  maintenant,
}: {
  elements: readonly ElementFile[];
  type: TypeDossier | undefined;
  flash?: string | undefined;
  maintenant: number;
}) {
  return (
    <>
      <h1>Instruction</h1>
      <Flash message={flash} />
      <p class="lead">Les demandes que le service n’a pas pu terminer seul et les contestations des familles, les plus anciennes d’abord.</p>
      <p>Ouvrir un dossier demande d’en indiquer le motif : chaque consultation est enregistrée dans le journal d’audit.</p>
      <form method="get" action={BASE} class="instruction-filtre">
        <SelectField
          id="type"
          label="Nature du dossier"
          value={type ?? ''}
          options={[{ value: '', label: 'Toutes' }, ...TYPES_DOSSIER.map((t) => ({ value: t, label: LIBELLES_TYPE[t] }))]}
        />
        <button class="button button--secondary" type="submit">
          Filtrer
        </button>
      </form>
      {elements.length === 0 ? (
        <p>{type ? `Aucun dossier de nature « ${LIBELLES_TYPE[type]} » en attente.` : 'Aucun dossier en attente.'}</p>
      ) : (
        <>
          <h2>
            {elements.length} dossier{elements.length > 1 ? 's' : ''} en attente{type ? ` (${LIBELLES_TYPE[type].toLowerCase()})` : ''}
          </h2>
          {/* A list of cards rather than a table: it reads the same on a phone and on a desk. */}
          <ol class="instruction-file">
            {elements.map((e) => (
              <li key={e.id} class="instruction-file__dossier">
                <h3>
                  <a href={`${BASE}/${e.cible === 'demande' ? 'demandes' : 'contestations'}/${e.id}`}>{e.reference}</a>
                </h3>
                <dl class="facts">
                  <dt>Nature</dt>
                  <dd>{LIBELLES_TYPE[e.type]}</dd>
                  <dt>Motif</dt>
                  <dd>{e.raison}</dd>
                  <dt>Canal</dt>
                  <dd>{e.canal}</dd>
                  <dt>Depuis le</dt>
                  <dd>
                    {courte(e.depuis)} ({attente(e.depuis, maintenant)})
                  </dd>
                  {e.quotientEnVigueur ? (
                    <>
                      <dt>Quotient en vigueur</dt>
                      <dd>
                        la famille a déjà un quotient valable : {formatEuros(e.quotientEnVigueur.cents)}{' '}
                        {e.quotientEnVigueur.periode === 'annuelle' ? 'par an' : 'par mois'}, jusqu’au {formatDateFrancaise(e.quotientEnVigueur.valideAu)}
                      </dd>
                    </>
                  ) : null}
                </dl>
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}

// -------------------------------------------------------------------------------------------
// A request: summary, reason for the view, case, decisions

function Faits({ d }: { d: ResumeDemande }) {
  return (
    <dl class="facts">
      <dt>Statut</dt>
      <dd>{STATUTS[d.statut].libelle}</dd>
      {/* Once decided, the machine's reason gave way to what the family was told. */}
      {d.aDecider || d.contestationsOuvertes.length > 0 ? (
        <>
          <dt>Nature</dt>
          <dd>{LIBELLES_TYPE[d.type]}</dd>
          <dt>Motif</dt>
          <dd>{d.raison}</dd>
        </>
      ) : (
        <>
          <dt>Message à la famille</dt>
          <dd>{d.raison}</dd>
        </>
      )}
      <dt>Canal</dt>
      <dd>{d.canal}</dd>
      <dt>Reçue le</dt>
      <dd>{jour(d.creeeLe)}</dd>
      {d.anneeDemandee ? (
        <>
          <dt>Année demandée</dt>
          <dd>revenus {d.anneeDemandee}</dd>
        </>
      ) : null}
    </dl>
  );
}

function Resultat({ d }: { d: ResumeDemande }) {
  if (d.decisions.length === 0 && !d.quotient) return null;
  return (
    <section aria-labelledby="resultat-titre">
      <h2 id="resultat-titre">Décision et résultat</h2>
      {d.decisions.map((x, i) => (
        <p key={i}>
          <strong>{LIBELLES_DECISION[x.decision] ?? x.decision}</strong>, le {jour(x.decideeLe)} par {x.agent}.
        </p>
      ))}
      {d.quotient ? (
        <p>
          Quotient familial : <strong>{formatEuros(d.quotient.cents)}</strong> {d.quotient.periode === 'annuelle' ? 'par an' : 'par mois'},{' '}
          {LIBELLES_ORIGINE[d.quotient.origine] ?? d.quotient.origine}, valable du {jour(d.quotient.valideDu)} au {jour(d.quotient.valideAu)}.
        </p>
      ) : null}
    </section>
  );
}

export interface ValeursConsultation {
  readonly motif: string;
  readonly precision: string;
}

/**
 * The reasons, the one usual for this kind of case listed first but none selected: a reason picked
 * by default would be journaled without the instructor having chosen it.
 */
function optionsMotif(type: TypeDossier): Array<{ value: string; label: string }> {
  const usuel = MOTIF_PAR_TYPE[type];
  const autres = (Object.keys(MOTIFS_CONSULTATION) as CodeMotifConsultation[]).filter((c) => c !== usuel);
  return [{ value: '', label: 'Choisissez un motif' }, ...[usuel, ...autres].map((value) => ({ value, label: MOTIFS_CONSULTATION[value] }))];
}

/** The reason for opening a case: nothing fiscal is shown before it is given. */
function FormulaireConsultation({
  action,
  csrf,
  type,
  values,
  errors,
}: {
  action: string;
  csrf: string;
  type: TypeDossier;
  values: ValeursConsultation | null;
  errors: readonly ErrorDetail[];
}) {
  return (
    <section aria-labelledby="consultation-titre" class="encart">
      <h2 id="consultation-titre">Ouvrir le dossier</h2>
      <p>
        Les informations nécessaires à la décision (foyer, avis d’imposition) ne s’affichent qu’une fois le motif indiqué. La consultation est enregistrée dans
        le journal d’audit avec ce motif.
      </p>
      <form method="post" action={`${action}#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <SelectField id="motif" label="Motif de la consultation" value={values?.motif ?? ''} options={optionsMotif(type)} {...withError(errors, 'motif')} />
        <TextField
          id="precision"
          label="Précision (facultative, obligatoire pour « Autre motif »)"
          hint={`Une ligne, ${PRECISION_MAX} caractères au plus, par exemple « appel de la famille du 12/09 ». N’y écrivez aucun numéro fiscal.`}
          value={values?.precision ?? ''}
          {...withError(errors, 'precision')}
        />
        <button class="button" type="submit">
          Consulter le dossier
        </button>
      </form>
    </section>
  );
}

export function ResumeDemandePage({
  d,
  csrf,
  flash,
  values,
  errors,
}: {
  d: ResumeDemande;
  csrf: string;
  flash?: string | undefined;
  values: ValeursConsultation | null;
  errors: readonly ErrorDetail[];
}) {
  return (
    <>
      <EnTeteDossier titre={`Demande ${d.reference}`} errors={errors} />
      <Flash message={flash} />
      <Faits d={d} />
      <Resultat d={d} />
      <FormulaireConsultation action={`${BASE}/demandes/${d.id}/consultation`} csrf={csrf} type={d.type} values={values} errors={errors} />
    </>
  );
}

function nom(p: { nomNaissance: string; nomUsage: string | null }) {
  return p.nomUsage ? `${p.nomNaissance} (nom d’usage ${p.nomUsage})` : p.nomNaissance;
}

function CompositionConnue({ d }: { d: DossierDemande }) {
  const f = d.famille;
  return (
    <section aria-labelledby="foyer-titre">
      <h2 id="foyer-titre">Le foyer connu de la commune</h2>
      <p>
        Famille {f.reference}, {f.resident ? 'résidant dans la commune' : 'ne résidant pas dans la commune'}.
      </p>
      <Tableau id="parents" caption="Parents déclarés par la famille">
        <thead>
          <tr>
            <th scope="col">Parent</th>
            <th scope="col">Nom</th>
            <th scope="col">Prénoms</th>
            <th scope="col">Naissance</th>
          </tr>
        </thead>
        <tbody>
          {f.parents.map((p) => (
            <tr key={p.rang}>
              <th scope="row">
                {p.rang}
                {p.cohabite ? '' : ' (vit ailleurs)'}
              </th>
              <td>{nom(p)}</td>
              <td>{p.prenoms}</td>
              <td>{courte(p.dateNaissance)}</td>
            </tr>
          ))}
        </tbody>
      </Tableau>
      {f.enfants.length === 0 ? (
        <p>Aucun enfant déclaré.</p>
      ) : (
        <>
          <h3>Enfants déclarés</h3>
          <ul>
            {f.enfants.map((e, i) => (
              <li key={i}>
                {e.prenoms} {e.nom}, né(e) le {courte(e.dateNaissance)}
                {e.residence === 'alternee' ? ', en résidence alternée' : ''}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function Declarants({ parent, annee, declarants }: { parent: number; annee: number | null; declarants: readonly Declarant[] }) {
  return (
    <Tableau id={`declarants-${parent}`} caption={`Déclarants de l’avis obtenu avec le numéro fiscal du parent ${parent}${annee ? ` (revenus ${annee})` : ''}`}>
      <thead>
        <tr>
          <th scope="col">Déclarant</th>
          <th scope="col">Nom</th>
          <th scope="col">Prénoms</th>
          <th scope="col">Naissance</th>
        </tr>
      </thead>
      <tbody>
        {declarants.map((x, i) => (
          <tr key={i}>
            <th scope="row">{i + 1}</th>
            <td>{nom(x)}</td>
            <td>{x.prenoms}</td>
            <td>{courte(x.dateNaissance)}</td>
          </tr>
        ))}
      </tbody>
    </Tableau>
  );
}

function etatAvis(a: AvisDossier): string {
  if (!a.recu) return 'non obtenu';
  if (!a.conserve) return 'reçu mais non conservé : il ne concernait pas la famille';
  return 'reçu';
}

function Avis({ d }: { d: DossierDemande }) {
  const montants = d.avis.some((a) => a.rfr !== undefined);
  return (
    <section aria-labelledby="avis-titre">
      <h2 id="avis-titre">Avis d’imposition</h2>
      <p class="muted">Seules les informations utiles à la décision sont affichées.</p>
      {d.avis.length === 0 ? <p>Aucun avis n’a été demandé pour cette demande : le quotient a été fixé au vu d’un document.</p> : null}
      {d.avis
        .filter((a) => a.declarants)
        .map((a) => (
          <Declarants key={a.parent} parent={a.parent} annee={a.anneeRevenus} declarants={a.declarants ?? []} />
        ))}
      {montants || d.avis.some((a) => !a.conserve) ? (
        <Tableau id="montants" caption="Avis de la demande">
          <thead>
            <tr>
              <th scope="col">Parent</th>
              <th scope="col">État</th>
              <th scope="col">Revenus</th>
              {montants ? (
                <>
                  <th scope="col" class="number">
                    Revenu fiscal de référence
                  </th>
                  <th scope="col" class="number">
                    Parts
                  </th>
                </>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {d.avis.map((a) => (
              <tr key={a.parent}>
                <th scope="row">{a.parent}</th>
                <td>{etatAvis(a)}</td>
                <td>{a.anneeRevenus ?? '—'}</td>
                {montants ? (
                  <>
                    <td class="number">{a.rfr === undefined ? '—' : formatEuros(a.rfr * 100, { wholeEuros: true })}</td>
                    <td class="number">{a.nbParts === undefined ? '—' : formatNombre(a.nbParts)}</td>
                  </>
                ) : null}
              </tr>
            ))}
          </tbody>
        </Tableau>
      ) : null}
      {d.avis.some((a) => a.avertissements) ? (
        <>
          <h3>Avertissements sur les avis</h3>
          <ul>{d.avis.flatMap((a) => (a.avertissements ?? []).map((texte) => <li key={`${a.parent}-${texte}`}>{`Parent ${a.parent} : ${texte}.`}</li>))}</ul>
        </>
      ) : null}
      {d.controleIdentite.length > 0 ? (
        <>
          <h3>Contrôle d’identité</h3>
          <ul>
            {d.controleIdentite.map((m, i) => (
              <li key={i}>{m}</li>
            ))}
          </ul>
        </>
      ) : null}
      {d.explication ? <p>Calcul retenu : {d.explication}</p> : null}
    </section>
  );
}

export interface ValeursDecision {
  readonly decision: string;
  readonly justification: string;
  readonly qf: string;
  readonly piece: string;
}

/** Field ids per decision form (three forms on one page: ids must not collide). */
export const CHAMPS_DECISION: Record<string, Record<string, string>> = {
  confirme: { justification: 'confirme-justification', decision: 'decision-confirme' },
  refuse: { justification: 'refus-justification', decision: 'decision-refus' },
  qf_manuel: { justification: 'qf-justification', piece: 'qf-piece', qf: 'qf-montant', decision: 'decision-qf' },
};

/** The QF by hand: amount, justification, document seen; shared by the decision and the answer to a contestation. */
function ChampsQfManuel({ values, errors, periode }: { values: ValeursDecision | null; errors: readonly ErrorDetail[]; periode: string }) {
  return (
    <>
      <TextField
        id="qf-montant"
        name="qf"
        label="Quotient familial, en euros"
        hint={`Le montant ${periode}, deux décimales au plus, par exemple 612,50. Les prix sont calculés selon la politique tarifaire en vigueur.`}
        inputMode="decimal"
        size="court"
        suffix="€"
        value={values?.qf ?? ''}
        {...withError(errors, 'qf-montant')}
      />
      <TextAreaField
        id="qf-justification"
        name="justification"
        label="Justification"
        hint="Pourquoi le quotient est fixé à la main. N’y recopiez ni numéro fiscal ni montant de l’avis."
        value={values?.decision === 'qf_manuel' ? values.justification : ''}
        error={errorOf(errors, 'qf-justification')}
        maxLength={2000}
        rows={4}
      />
      <TextField
        id="qf-piece"
        name="piece"
        label="Pièce examinée"
        hint="Par exemple « avis 2025 présenté au guichet le 12/09/2025 »."
        value={values?.piece ?? ''}
        {...withError(errors, 'qf-piece')}
      />
    </>
  );
}

function FormulairesDecision({
  d,
  csrf,
  values,
  errors,
  periode,
}: {
  d: DossierDemande;
  csrf: string;
  values: ValeursDecision | null;
  errors: readonly ErrorDetail[];
  periode: string;
}) {
  const action = `${BASE}/demandes/${d.id}/decision#${ANCRE_ERREURS}`;
  const v = (decision: string) => (values?.decision === decision ? values.justification : '');
  return (
    <section aria-labelledby="decider-titre">
      <h2 id="decider-titre">Décider</h2>
      {d.peutConfirmer ? (
        <form method="post" action={action} novalidate class="instruction-decision" id="decision-confirme" tabIndex={-1} aria-labelledby="confirmer-titre">
          <h3 id="confirmer-titre">Confirmer</h3>
          <p>L’avis reçu est bien celui de la famille : le quotient et les prix sont calculés à partir de cet avis, comme pour toute demande.</p>
          <Csrf token={csrf} />
          <input type="hidden" name="decision" value="confirme" />
          <TextAreaField
            id="confirme-justification"
            name="justification"
            label="Justification"
            hint="Par exemple « nom d’usage vérifié sur le livret de famille »."
            value={v('confirme')}
            error={errorOf(errors, 'confirme-justification')}
            maxLength={2000}
            rows={3}
          />
          <button class="button" type="submit">
            Confirmer et calculer le quotient
          </button>
        </form>
      ) : (
        <p id="decision-confirme" tabIndex={-1}>
          Confirmer n’est pas possible : aucun avis conservé ne permet de calculer le quotient. Fixez-le au vu d’un document, ou refusez la demande.
        </p>
      )}
      <form method="post" action={action} novalidate class="instruction-decision" id="decision-qf" tabIndex={-1} aria-labelledby="qf-titre">
        <h3 id="qf-titre">Fixer le quotient à la main</h3>
        <p>Au vu d’un document présenté par la famille (avis papier, attestation).</p>
        <Csrf token={csrf} />
        <input type="hidden" name="decision" value="qf_manuel" />
        <ChampsQfManuel values={values} errors={errors} periode={periode} />
        <button class="button" type="submit">
          Fixer le quotient
        </button>
      </form>
      <form method="post" action={action} novalidate class="instruction-decision" id="decision-refus" tabIndex={-1} aria-labelledby="refus-titre">
        <h3 id="refus-titre">Refuser</h3>
        <Csrf token={csrf} />
        <input type="hidden" name="decision" value="refuse" />
        <TextAreaField
          id="refus-justification"
          name="justification"
          label="Motif du refus"
          hint="Il est communiqué à la famille : écrivez-le simplement, sans donnée fiscale."
          value={v('refuse')}
          error={errorOf(errors, 'refus-justification')}
          maxLength={2000}
          rows={3}
        />
        <button class="button button--secondary" type="submit">
          Refuser la demande
        </button>
      </form>
    </section>
  );
}

function Consultation({ motif }: { motif: string }) {
  return <p class="instruction-trace">Consultation enregistrée dans le journal d’audit, motif : « {motif} ».</p>;
}

export function DossierDemandePage({
  d,
  csrf,
  motif,
  values,
  errors,
  periode,
  avis = [],
}: {
  d: DossierDemande;
  csrf: string;
  motif: string;
  values: ValeursDecision | null;
  errors: readonly ErrorDetail[];
  periode: string;
  avis?: readonly AvisEnCours[];
}) {
  return (
    <>
      <EnTeteDossier titre={`Demande ${d.reference}`} errors={errors} />
      <Consultation motif={motif} />
      <Faits d={d} />
      <Resultat d={d} />
      <CompositionConnue d={d} />
      <Avis d={d} />
      <AvisDuDossier avis={avis} />
      {d.aDecider ? <FormulairesDecision d={d} csrf={csrf} values={values} errors={errors} periode={periode} /> : null}
      {d.contestationsOuvertes.length > 0 ? (
        <p>
          Cette demande est contestée par la famille :{' '}
          {d.contestationsOuvertes.map((id, i) => (
            <a key={id} href={`${BASE}/contestations/${id}`}>
              {i > 0 ? ', ' : ''}voir la contestation
            </a>
          ))}
          .
        </p>
      ) : null}
    </>
  );
}

// -------------------------------------------------------------------------------------------
// Contestations

function FaitsContestation({ c }: { c: ResumeContestation }) {
  return (
    <dl class="facts">
      <dt>Reçue le</dt>
      <dd>{jour(c.ouverteLe)}</dd>
      <dt>État</dt>
      <dd>{c.statut === 'ouverte' ? 'En attente de réponse' : `Traitée le ${jour(c.traiteeLe)}`}</dd>
      <dt>Demande contestée</dt>
      <dd>{c.demande ? `${c.demande.reference} (${STATUTS[c.demande.statut].libelle.toLowerCase()})` : 'aucune'}</dd>
      {c.demande?.quotient ? (
        <>
          <dt>Quotient actuel</dt>
          <dd>
            {formatEuros(c.demande.quotient.cents)} {c.demande.quotient.periode === 'annuelle' ? 'par an' : 'par mois'}
          </dd>
        </>
      ) : null}
    </dl>
  );
}

export function ResumeContestationPage({
  c,
  csrf,
  flash,
  values,
  errors,
}: {
  c: ResumeContestation;
  csrf: string;
  flash?: string | undefined;
  values: ValeursConsultation | null;
  errors: readonly ErrorDetail[];
}) {
  return (
    <>
      <EnTeteDossier titre={`Contestation – ${c.reference}`} errors={errors} />
      <Flash message={flash} />
      <FaitsContestation c={c} />
      <FormulaireConsultation action={`${BASE}/contestations/${c.id}/consultation`} csrf={csrf} type="contestation" values={values} errors={errors} />
    </>
  );
}

export interface ValeursReponse extends ValeursDecision {
  readonly reponse: string;
  readonly suite: string;
}

export function DossierContestationPage({
  c,
  csrf,
  motif,
  values,
  errors,
  periode,
  avis = [],
}: {
  c: DossierContestation;
  csrf: string;
  motif: string;
  values: ValeursReponse | null;
  errors: readonly ErrorDetail[];
  periode: string;
  avis?: readonly AvisEnCours[];
}) {
  const suiteError = errorOf(errors, 'suite');
  return (
    <>
      <EnTeteDossier titre={`Contestation – ${c.reference}`} errors={errors} />
      <Consultation motif={motif} />
      <FaitsContestation c={c} />
      <h2>Message de la famille</h2>
      <blockquote class="instruction-message">
        <p>{c.message}</p>
      </blockquote>
      <AvisDuDossier avis={avis} />
      {c.dossier ? (
        <>
          <CompositionConnue d={c.dossier} />
          <Avis d={c.dossier} />
        </>
      ) : null}
      {c.statut !== 'ouverte' ? (
        <>
          <h2>Réponse envoyée</h2>
          <p>{c.reponse}</p>
        </>
      ) : (
        <section aria-labelledby="repondre-titre">
          <h2 id="repondre-titre">Répondre</h2>
          <form method="post" action={`${BASE}/contestations/${c.id}/reponse#${ANCRE_ERREURS}`} novalidate>
            <Csrf token={csrf} />
            <TextAreaField
              id="reponse"
              name="reponse"
              label="Réponse à la famille"
              hint="La famille la lit dans son espace. Écrivez simplement, sans donnée fiscale."
              value={values?.reponse ?? ''}
              error={errorOf(errors, 'reponse')}
              maxLength={2000}
              rows={4}
            />
            <fieldset class={`field${suiteError ? ' field--error' : ''}`} id="suite" tabIndex={-1} aria-describedby={suiteError ? 'suite-erreur' : undefined}>
              <legend>Suite donnée</legend>
              {suiteError ? <FieldError id="suite" error={suiteError} /> : null}
              <div class="radio">
                <input type="radio" id="suite-maintien" name="suite" value="maintien" checked={(values?.suite ?? 'maintien') === 'maintien'} />
                <label for="suite-maintien">Le quotient est maintenu</label>
              </div>
              <div class="radio">
                <input type="radio" id="suite-qf" name="suite" value="qf_manuel" checked={values?.suite === 'qf_manuel'} />
                <label for="suite-qf">Un nouveau quotient est fixé à la main</label>
              </div>
            </fieldset>
            <fieldset class="instruction-decision">
              <legend>Nouveau quotient (seulement si un nouveau quotient est fixé)</legend>
              {c.demande && c.demande.statut !== 'a_verifier' ? (
                <p class="muted">Le résultat contesté est clos : le nouveau quotient fera l’objet d’une nouvelle demande, décidée aussitôt.</p>
              ) : null}
              <ChampsQfManuel values={values} errors={errors} periode={periode} />
            </fieldset>
            <button class="button" type="submit">
              Envoyer la réponse
            </button>
          </form>
        </section>
      )}
    </>
  );
}
