import { Fragment, type ComponentChildren } from 'preact';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { STATUTS } from '../../domain/demande.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { donneesEnClair, type Habilitation } from '../../domain/habilitation.ts';
import type { PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import {
  ANCRE_ERREURS,
  Alert,
  ChampNumeroFiscal,
  CheckboxField,
  Csrf,
  Erreurs,
  FieldError,
  Flash,
  RadioGroup,
  TextAreaField,
  errorOf,
} from '../../http/ui/components.tsx';
import { CLE_FAMILLE } from '../../http/formulaire.ts';
import { ChampAvis } from '../../http/ui/champ-avis.tsx';
import { CarteQuotient, DetailPrix, TableauPrix, lignesParTranche } from '../../http/ui/prix.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import type { EtatDemande } from '../demandes/demandes-service.ts';
import { motifPourLaFamille } from '../demandes/motifs.ts';
import { AVIS_FAMILLES } from '../incident/interrupteurs.ts';
import type { AccordEnCours, DonneesUtilisees, CompositionFamille } from '../familles/familles-service.ts';
import { ChampsComposition } from '../familles/formulaire-composition.tsx';
import type { RenouvellementFamille } from '../renouvellement/renouvellement-service.ts';
import { CaseRenouvellement, ExplicationRenouvellement, MentionRenouvellement, SectionRenouvellement } from './renouvellement-views.tsx';

/** Where the family is in the four steps, said in words (not only by a visual bar). */
function Etape({ n }: { n: 1 | 2 | 3 | 4 }) {
  const noms = ['Ce qui va se passer', 'Votre accord', 'Votre numéro fiscal', 'Votre résultat'];
  return (
    <p class="muted etape">
      Étape {n} sur 4 : {noms[n - 1]}
    </p>
  );
}

const date = (iso: string | null | undefined) => (iso ? formatDateFrancaise(iso.slice(0, 10)) : '—');
const nomParent = (p: CompositionFamille['parents'][number]) => `${p.prenoms} ${p.nomUsage ?? p.nomNaissance}`;

/**
 * The parents whose avis may be asked: those who live in the household. A parent who lives
 * elsewhere (separated parents) is not part of it; should no parent be marked as living there,
 * all are listed rather than none.
 */
export function parentsCohabitants(composition: CompositionFamille): CompositionFamille['parents'] {
  const la = composition.parents.filter((p) => p.cohabite);
  return la.length > 0 ? la : composition.parents;
}

/** « 2 enfants, dont 1 en résidence alternée », as the household is summed up to the family. */
function enfantsEnClair(composition: CompositionFamille): string {
  const n = composition.enfants.length;
  const alternee = composition.enfants.filter((e) => e.residence === 'alternee').length;
  if (n === 0) return 'aucun enfant déclaré';
  const total = `${n} enfant${n > 1 ? 's' : ''}`;
  if (alternee === 0) return total;
  return alternee === n ? `${total} en résidence alternée` : `${total}, dont ${alternee} en résidence alternée`;
}

/** What the household's shape changes for the request: who is not asked, and the children in alternating residence. */
function CompositionEtAvis({ composition }: { composition: CompositionFamille }) {
  const ailleurs = composition.parents.filter((p) => !parentsCohabitants(composition).includes(p));
  const alternee = composition.enfants.some((e) => e.residence === 'alternee');
  if (ailleurs.length === 0 && !alternee) return null;
  return (
    <>
      {ailleurs.map((p) => (
        <p key={p.rang}>{nomParent(p)} vit ailleurs : son avis d’imposition n’est pas demandé, seuls comptent les revenus de votre foyer.</p>
      ))}
      {alternee ? (
        <p>
          Pour les enfants en résidence alternée, votre quotient est calculé avec votre avis d’imposition, où ils comptent pour moitié. L’autre parent peut
          faire calculer le sien de son côté.
        </p>
      ) : null}
    </>
  );
}

function deliberationEnClair(politique: PolitiqueTarifaire): string {
  const d = politique.deliberation;
  const acte = `${d.numero ? ` n°\u00a0${d.numero}` : ''}${d.date ? ` du ${formatDateFrancaise(d.date)}` : ''}`;
  return acte
    ? `la délibération${acte} du conseil municipal${d.intitule ? ` («\u00a0${d.intitule}\u00a0»)` : ''}`
    : 'la délibération tarifaire du conseil municipal';
}

function Contact({ commune }: { commune: CommuneConfig }) {
  const c = commune.contact;
  return (
    <p>
      {c.service} : <a href={`mailto:${c.email}`}>{c.email}</a>
      {c.telephone ? <>, {c.telephone}</> : null}
      {c.horaires ? <> ({c.horaires})</> : null}.
    </p>
  );
}

// -------------------------------------------------------------------------------------------
// Step 1: what will happen

export function InformationPage({
  commune,
  politique,
  composition,
  franceConnect,
}: {
  commune: CommuneConfig;
  politique: PolitiqueTarifaire;
  composition: CompositionFamille;
  franceConnect: boolean;
}) {
  const h: Habilitation = commune.habilitation;
  const conservation = commune.conservation;
  return (
    <>
      <Etape n={1} />
      <h1>Calculer mon quotient familial</h1>
      <p class="lead">
        Avec votre accord, {commune.commune.nom} demande directement à la Direction générale des Finances publiques (DGFiP) les informations de votre avis
        d’impôt sur le revenu utiles au calcul. Vous n’avez aucun justificatif à fournir.
      </p>

      <h2>Les informations demandées à la DGFiP</h2>
      <p>Pour l’avis d’imposition de chaque déclarant concerné, et seulement celles-ci :</p>
      <ul>
        {donneesEnClair(h).map((d) => (
          <li key={d}>{d}</li>
        ))}
      </ul>
      <p>
        Elles viennent directement de la DGFiP (service « API Impôt particulier »), pour l’avis des revenus de l’année précédente, ou de l’année d’avant si le
        dernier avis n’est pas encore établi.
      </p>

      <h2>Pourquoi</h2>
      <p>{h.finalite}</p>
      <p>
        Base légale : {h.baseLegale} Les tarifs appliqués sont ceux fixés par {deliberationEnClair(politique)}.
      </p>

      <h2>Combien de temps</h2>
      <p>
        Votre numéro fiscal n’est jamais conservé : il sert à la demande, puis il est oublié. Les informations reçues de la DGFiP sont chiffrées et gardées
        pendant la validité de votre quotient familial et {conservation.donneesFiscalesMoisApresValidite} mois après, le temps de pouvoir le contester. Votre
        demande et son résultat sont gardés {conservation.demandesMois} mois après la fin de validité du quotient.
      </p>

      <h2>Vos droits</h2>
      <p>
        Vous pouvez consulter les données utilisées, en demander la rectification, contester le calcul, retirer votre accord pour les mises à jour futures et
        télécharger vos données depuis <a href="/mes-donnees">Mes données</a>. Pour toute question :
      </p>
      <Contact commune={commune} />
      <p>
        Délégué à la protection des données : <a href={`mailto:${commune.dpo.email}`}>{commune.dpo.email}</a>. Vous pouvez aussi saisir la CNIL.
      </p>

      <h2>Si vous ne souhaitez pas donner votre accord</h2>
      <p>
        C’est votre droit. Vous pouvez présenter votre avis d’imposition papier au guichet du {commune.contact.service}
        {commune.contact.horaires ? ` (${commune.contact.horaires})` : ''}. Sans quotient familial, le tarif le plus élevé de chaque activité s’applique.
      </p>

      <h2>Votre foyer</h2>
      {composition.aCompleter ? (
        <Alert kind="warning" title="Complétez d’abord votre foyer">
          <p>Indiquez les parents et les enfants de votre foyer : le calcul en dépend, et les déclarants de l’avis sont comparés aux parents déclarés.</p>
          <p>
            <a class="button" href="/mon-foyer">
              Compléter mon foyer
            </a>
          </p>
        </Alert>
      ) : (
        <>
          <p>
            Parents déclarés : {parentsCohabitants(composition).map(nomParent).join(' et ')}
            {composition.parents
              .filter((p) => !parentsCohabitants(composition).includes(p))
              .map((p) => ` ; autre parent, qui vit ailleurs : ${nomParent(p)}`)
              .join('')}{' '}
            ; {enfantsEnClair(composition)}. <a href="/mon-foyer">Modifier mon foyer</a>
          </p>
          <CompositionEtAvis composition={composition} />
          {franceConnect ? (
            <p>
              Connecté(e) avec FranceConnect, vous n’aurez pas à saisir votre propre numéro fiscal : après votre accord, vous vous reconnecterez à FranceConnect
              et l’avis sera demandé à la DGFiP dès votre retour (la connexion ne vaut qu’une minute).
            </p>
          ) : null}
          <p>
            <a class="button" href="/mon-quotient/accord">
              Continuer
            </a>
          </p>
        </>
      )}
    </>
  );
}

// -------------------------------------------------------------------------------------------
// Step 2: consent

const SITUATIONS: ReadonlyArray<readonly [string, string]> = [
  ['commune', 'Oui, mariés ou pacsés : un seul avis d’imposition'],
  ['separee', 'Non, chacun a son propre avis d’imposition (parents non mariés ni pacsés)'],
];

export function AccordPage({
  csrf,
  commune,
  composition,
  errors,
  values,
  renouvellement = null,
}: {
  csrf: string;
  commune: CommuneConfig;
  composition: CompositionFamille;
  errors: readonly ErrorDetail[];
  values: Readonly<Record<string, string>>;
  /** The standing consent's maximum duration when the commune offers it; null: not offered. */
  renouvellement?: number | null;
}) {
  const declarants = parentsCohabitants(composition);
  const deux = declarants.length === 2;
  const donnees = donneesEnClair(commune.habilitation).join(', ');
  return (
    <>
      <Erreurs errors={errors} />
      <Etape n={2} />
      <h1>Votre accord</h1>
      <CompositionEtAvis composition={composition} />
      <form method="post" action={`/mon-quotient/accord#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        {deux ? (
          <RadioGroup
            name="situation"
            legend="Les deux parents font-ils une seule déclaration de revenus ?"
            options={SITUATIONS}
            value={values.situation}
            errors={errors}
          />
        ) : null}
        <fieldset class="field">
          <legend>Accord de chaque déclarant</legend>
          <p class="hint">
            Chaque personne dont l’avis sera demandé donne son accord. Avec deux avis, les deux parents doivent cocher. Avec un seul avis, l’accord du premier
            déclarant suffit.
          </p>
          {declarants.map((p) => {
            const id = `accord-${p.rang}`;
            const error = errorOf(errors, id);
            return (
              <div key={id} class={error ? 'field--error' : undefined}>
                {error ? <FieldError id={id} error={error} /> : null}
                <CheckboxField
                  id={id}
                  name={id}
                  value="oui"
                  label={`${nomParent(p)} accepte que ${commune.commune.nom} demande à la DGFiP les informations de son avis d’imposition`}
                  hint={`Soit : ${donnees}. Pour : ${commune.habilitation.finalite}`}
                  checked={values[id] === 'oui'}
                />
              </div>
            );
          })}
        </fieldset>
        {renouvellement !== null ? (
          <fieldset class="field">
            <legend>Chaque année, sans refaire la demande (facultatif)</legend>
            <ExplicationRenouvellement />
            {declarants.map((p) => (
              <CaseRenouvellement
                key={p.rang}
                rang={p.rang}
                nom={nomParent(p)}
                dureeMaxAns={renouvellement}
                checked={values[`renouvellement-${p.rang}`] === 'oui'}
                errors={errors}
              />
            ))}
            <MentionRenouvellement />
          </fieldset>
        ) : null}
        <p class="muted">Texte de l’accord, version {commune.habilitation.versionTexteConsentement}. L’accord est enregistré avec sa date et l’heure.</p>
        <button class="button" type="submit">
          Donner mon accord et continuer
        </button>
      </form>
      <p>
        <a href="/mon-quotient">Revenir aux explications</a>
      </p>
    </>
  );
}

// -------------------------------------------------------------------------------------------
// Step 3: numéros fiscaux

function AideNumeroFiscal() {
  return (
    <details class="aide">
      <summary>Où trouver le numéro fiscal ?</summary>
      <p>
        Il figure en haut à gauche de la première page de votre avis d’impôt sur le revenu, dans le cadre « Vos références », à la ligne « Numéro fiscal ». Il
        comporte 13 chiffres et commence par 0, 1, 2 ou 3. Vous le trouvez aussi dans votre espace particulier sur impots.gouv.fr, rubrique « Mon profil ».
      </p>
      <p>Chaque déclarant a son propre numéro : sur un avis commun, les deux numéros figurent ; un seul suffit.</p>
    </details>
  );
}

export interface NumeroAttendu {
  readonly rang: 1 | 2;
  readonly nom: string;
  /** FranceConnect may be used for this declarant's avis (the habilitation allows it, FranceConnect is set up). */
  readonly franceConnect: boolean;
  /**
   * The way shown chosen: FranceConnect for the parent signed in with it, the numéro fiscal
   * otherwise; the état civil for a declarant asked that way (chosen on its own page).
   */
  readonly voie: 'franceconnect' | 'numero' | 'etat_civil';
}

/**
 * For each declarant, how their avis is asked: with FranceConnect (the declarant signs in with
 * their own account and the DGFiP is called on their return) or with their numéro fiscal. Without
 * JavaScript both stay visible: the number is read only when « numéro fiscal » is chosen.
 */
function NumerosASaisir({ attendus, errors }: { attendus: readonly NumeroAttendu[]; errors: readonly ErrorDetail[] }) {
  if (attendus.length === 0) return null;
  return (
    <>
      <AideNumeroFiscal />
      {attendus.map((a) =>
        a.franceConnect ? (
          <div key={a.rang} class="field">
            <RadioGroup
              name={`voie-${a.rang}`}
              legend={`Comment demander l’avis de ${a.nom} ?`}
              hint="FranceConnect : la personne se connecte avec son propre compte, puis la DGFiP est interrogée aussitôt (la connexion ne vaut qu’une minute)."
              options={[
                ['franceconnect', `Avec FranceConnect, ${a.nom} se connecte`],
                ['numero', 'En saisissant son numéro fiscal'],
              ]}
              value={a.voie}
              errors={errors}
            />
            <ChampNumeroFiscal rang={a.rang} nom={a.nom} errors={errors} cle={CLE_FAMILLE} />
          </div>
        ) : (
          <ChampNumeroFiscal key={a.rang} rang={a.rang} nom={a.nom} errors={errors} cle={CLE_FAMILLE} />
        ),
      )}
      <p class="muted">Le numéro fiscal n’est ni enregistré ni affiché de nouveau : il sert à la demande, puis il est oublié.</p>
      {attendus.some((a) => a.franceConnect) ? (
        <p class="muted">
          Avec FranceConnect, vous quittez ce site pour vous connecter, puis vous y revenez : votre accord est déjà donné, l’avis est demandé à la DGFiP dès
          votre retour.
        </p>
      ) : null}
    </>
  );
}

export function NumeroPage({
  csrf,
  attendus,
  errors,
  etatCivil = false,
}: {
  csrf: string;
  attendus: readonly NumeroAttendu[];
  errors: readonly ErrorDetail[];
  /** The commune may ask by état civil: a way through for a family that does not find its numéro. */
  etatCivil?: boolean;
}) {
  // The title follows the way proposed: a family signed in with FranceConnect is not asked « your numéro fiscal » first.
  const fc = attendus.some((a) => a.voie === 'franceconnect');
  return (
    <>
      <Erreurs errors={errors} />
      <Etape n={3} />
      <h1>{fc ? 'Comment demander votre avis' : attendus.length === 1 ? 'Votre numéro fiscal' : 'Les numéros fiscaux des deux parents'}</h1>
      <form method="post" action={`/mon-quotient/numero#${ANCRE_ERREURS}`} novalidate autoComplete="off">
        <Csrf token={csrf} />
        <NumerosASaisir attendus={attendus} errors={errors} />
        <button class="button" type="submit">
          Envoyer la demande
        </button>
      </form>
      {etatCivil && attendus.length > 0 ? (
        <p>
          <a class="button button--secondary" href="/mon-quotient/etat-civil">
            Je n’ai pas mon numéro fiscal
          </a>{' '}
          La DGFiP peut aussi retrouver l’avis à partir de l’état civil (nom, prénoms, date et lieu de naissance).
        </p>
      ) : null}
    </>
  );
}

// -------------------------------------------------------------------------------------------
// Step 4: waiting, result, other outcomes

export function AttentePage({ etat, refreshSeconds }: { etat: EtatDemande; refreshSeconds: number }) {
  const file = etat.file ?? { position: 1, attenteMinutes: 1 };
  return (
    <>
      <Etape n={4} />
      <h1>Votre demande est en attente</h1>
      {file.suspension ? (
        <p class="lead">{AVIS_FAMILLES[file.suspension.cause]} Vous n’avez rien à faire.</p>
      ) : etat.motifCode === 'dgfip_identifiants_refuses' && etat.motif ? (
        // Held after the DGFiP refused our credentials: why it waits, not the quota's sentence.
        <p class="lead">{etat.motif} Vous n’avez rien à faire.</p>
      ) : (
        <p class="lead">La DGFiP limite le nombre de demandes par minute : la vôtre passera dès qu’un créneau se libère. Vous n’avez rien à faire.</p>
      )}
      <dl class="facts">
        <dt>Référence</dt>
        <dd>{etat.reference}</dd>
        <dt>Position</dt>
        <dd>{file.position === 1 ? 'la prochaine à passer' : `${file.position}e dans la file`}</dd>
        <dt>Attente estimée</dt>
        <dd>
          {file.suspension
            ? 'inconnue tant que les demandes à la DGFiP sont suspendues'
            : `environ ${file.attenteMinutes} minute${file.attenteMinutes > 1 ? 's' : ''} (estimation prudente)`}
        </dd>
      </dl>
      <p>
        Cette page se met à jour toute seule toutes les {refreshSeconds} secondes. Vous pouvez aussi la fermer : le résultat vous attendra dans{' '}
        <a href="/mes-demandes">Mes demandes</a>, et un courriel vous préviendra si une adresse est connue.
      </p>
      <p>
        <a class="button button--secondary" href={`/mon-quotient/demandes/${etat.id}`}>
          Actualiser maintenant
        </a>
      </p>
    </>
  );
}

/** The form that gives again the numéro fiscal of each declarant whose avis was not obtained. */
export interface Ressaisie {
  readonly csrf: string;
  readonly attendus: readonly NumeroAttendu[];
  readonly errors: readonly ErrorDetail[];
  /** The page where the état civil is given instead (« Je n'ai pas mon numéro fiscal »), when the commune may use it. */
  readonly etatCivil?: string;
  /** The declarants last asked by état civil: the form offers their numéro fiscal, the état civil page corrects it. */
  readonly parEtatCivil?: ReadonlyArray<1 | 2>;
}

export function StatutPage({ etat, commune, ressaisie }: { etat: EtatDemande; commune: CommuneConfig; ressaisie?: Ressaisie }) {
  const attendus = ressaisie?.attendus ?? [];
  const fc = attendus.some((a) => a.voie === 'franceconnect');
  // Waiting for a FranceConnect sign-in is not a number to type again: said as it is.
  const s = fc
    ? {
        libelle: 'Connexion FranceConnect à faire',
        explication: 'Par sécurité, la connexion FranceConnect ne sert qu’une minute : elle est refaite juste avant de demander l’avis à la DGFiP.',
      }
    : STATUTS[etat.statut];
  // FranceConnect failed (expired in the queue, refused by the DGFiP): the family chooses how to go on, nothing switches by itself.
  const fcEchoue = etat.motifCode === 'franceconnect_expire' || etat.motifCode === 'franceconnect_refuse';
  const parEtatCivil = attendus.filter((a) => ressaisie?.parEtatCivil?.includes(a.rang));
  return (
    <>
      {ressaisie ? <Erreurs errors={ressaisie.errors} /> : null}
      <h1>
        Demande {etat.reference} : {s.libelle.toLowerCase()}
      </h1>
      <p class="lead">{s.explication}</p>
      {motifPourLaFamille(etat.motifCode, etat.motif) ? <p>Motif : {motifPourLaFamille(etat.motifCode, etat.motif)}</p> : null}
      {ressaisie && attendus.length > 0 ? (
        <>
          {fc ? (
            <>
              <h2>{etat.motifCode === 'franceconnect_attendu' ? 'Connexion FranceConnect de l’autre déclarant' : 'Reconnectez-vous avec FranceConnect'}</h2>
              <p>
                Votre accord reste valable.{' '}
                {attendus
                  .filter((a) => a.voie === 'franceconnect')
                  .map((a) => a.nom)
                  .join(' et ')}{' '}
                se connecte avec FranceConnect : l’avis est demandé à la DGFiP dès le retour sur ce site.
                {fcEchoue ? ' Vous pouvez aussi, si vous le préférez, saisir le numéro fiscal ou donner l’état civil à la place.' : ''}
              </p>
            </>
          ) : parEtatCivil.length > 0 ? (
            <>
              <h2>Donner le numéro fiscal, ou de nouveau l’état civil</h2>
              <p>
                Votre accord reste valable : saisissez le numéro fiscal de {parEtatCivil.map((a) => a.nom).join(' et ')} pour relancer la demande, ou donnez de
                nouveau l’état civil.
              </p>
            </>
          ) : etat.statut === 'a_verifier' ? (
            <>
              <h2>Vérifiez le numéro fiscal saisi</h2>
              <p>
                Un chiffre mal tapé suffit pour que l’avis ne soit pas trouvé. Si vous vous êtes trompé, corrigez{' '}
                {attendus.length > 1 ? 'les numéros fiscaux' : 'le numéro fiscal'} et relancez la demande : votre accord reste valable, inutile de le redonner.
                Sinon, vous n’avez rien à faire : un agent va vérifier.
              </p>
            </>
          ) : (
            <>
              <h2>Saisir de nouveau le numéro fiscal</h2>
              <p>
                Votre accord reste valable : il suffit de saisir de nouveau {attendus.length > 1 ? 'les numéros fiscaux' : 'le numéro fiscal'} pour relancer la
                demande.
              </p>
            </>
          )}
          <form method="post" action={`/mon-quotient/demandes/${etat.id}/ressaisie#${ANCRE_ERREURS}`} novalidate autoComplete="off">
            <Csrf token={ressaisie.csrf} />
            <NumerosASaisir attendus={attendus} errors={ressaisie.errors} />
            <button class="button" type="submit">
              Relancer la demande
            </button>
          </form>
          {ressaisie.etatCivil ? (
            <p>
              <a class="button button--secondary" href={ressaisie.etatCivil}>
                {parEtatCivil.length > 0 ? 'Saisir de nouveau l’état civil' : 'Je n’ai pas mon numéro fiscal'}
              </a>{' '}
              La DGFiP peut aussi retrouver l’avis à partir de l’état civil (nom, prénoms, date et lieu de naissance).
            </p>
          ) : null}
        </>
      ) : null}
      {etat.statut === 'a_verifier' || etat.statut === 'a_ressaisir' || etat.statut === 'echouee' ? (
        <>
          <h2>Vous avez votre avis d’imposition ?</h2>
          <p>
            Envoyez-le (PDF ou photo) : un agent de la mairie fixera votre quotient au vu du document, qui sera ensuite détruit.{' '}
            <a href={`/mon-quotient/demandes/${etat.id}/avis`}>Envoyer mon avis d’imposition</a>
          </p>
        </>
      ) : null}
      {etat.statut === 'a_ressaisir' || etat.statut === 'echouee' || etat.statut === 'expiree' ? (
        <p>
          <a class="button" href="/mon-quotient">
            Faire une nouvelle demande
          </a>
        </p>
      ) : null}
      <h2>Une question ?</h2>
      <Contact commune={commune} />
      <p>
        <a href="/mes-demandes">Toutes mes demandes</a>
      </p>
    </>
  );
}

const SOURCES: Record<string, string> = { impot_particulier: 'DGFiP, API Impôt particulier', 'impot-particulier': 'DGFiP, API Impôt particulier' };
const sourceEnClair = (s: string | null) => (s === null ? 'DGFiP' : (SOURCES[s] ?? `DGFiP (${s})`));

export function ResultatPage({ etat, donnees, commune }: { etat: EtatDemande; donnees: DonneesUtilisees; commune: CommuneConfig }) {
  const q = etat.quotient;
  if (!q) return <StatutPage etat={etat} commune={commune} />;
  // Set by hand by an instructor: no avis was read for it, the page must not say otherwise.
  const manuel = q.origine === 'manuel';
  return (
    <>
      <Etape n={4} />
      <h1>Votre quotient familial</h1>
      <CarteQuotient libelle="Quotient familial" cents={q.cents} periode={q.periode}>
        Valable du {date(q.valideDu)} au {date(q.valideAu)}.
      </CarteQuotient>
      <dl class="facts">
        <dt>Référence</dt>
        <dd>{etat.reference}</dd>
        {manuel ? (
          <>
            <dt>Établi par</dt>
            <dd>un agent de la commune, au vu d’un document présenté par la famille</dd>
          </>
        ) : null}
        {(manuel ? [] : donnees.foyersFiscaux).map((f) => (
          <Fragment key={f.parent}>
            <dt>{donnees.foyersFiscaux.length > 1 ? `Avis du parent ${f.parent}` : 'Avis utilisé'}</dt>
            <dd>
              revenus {f.anneeRevenus ?? '—'}, source : {sourceEnClair(f.source)}, reçu le {date(f.recuLe)}
              {f.voie === 'franceconnect' ? ' (via FranceConnect)' : ''}
            </dd>
          </Fragment>
        ))}
      </dl>
      {donnees.explication ? <p>Calcul : {donnees.explication}</p> : null}

      <TableauPrix caption="Prix des activités" lignes={lignesParTranche(q.prix)} />
      <DetailPrix prix={q.prix} />
      <h2>Ces données sont-elles exactes ?</h2>
      <p>
        Si un chiffre ou votre situation vous paraît inexact, dites-le : un agent vérifiera.{' '}
        <a href={`/mon-quotient/demandes/${etat.id}/contestation`}>Signaler une erreur</a>
      </p>
      <p class="no-print">
        <a class="button button--secondary" href={`/mon-quotient/demandes/${etat.id}/attestation`}>
          Attestation à imprimer
        </a>{' '}
        <a href="/mes-demandes">Toutes mes demandes</a>
      </p>
    </>
  );
}

export function ContestationPage({
  csrf,
  etat,
  errors,
  motif,
  piece,
}: {
  csrf: string;
  etat: EtatDemande;
  errors: readonly ErrorDetail[];
  motif: string;
  /** The commune's limits for a document joined (as for an avis); no file field without them. */
  piece?: { readonly tailleMaxKo: number; readonly joursMax: number };
}) {
  return (
    <>
      <Erreurs errors={errors} />
      <h1>Signaler une erreur</h1>
      <p class="lead">Demande {etat.reference}. Expliquez ce qui vous paraît inexact ; un agent vous répondra.</p>
      <form
        method="post"
        action={`/mon-quotient/demandes/${etat.id}/contestation#${ANCRE_ERREURS}`}
        {...(piece ? { enctype: 'multipart/form-data' } : {})}
        novalidate
      >
        <Csrf token={csrf} />
        <TextAreaField
          id="motif"
          label="Ce qui vous paraît inexact"
          hint="Par exemple : « le nombre d’enfants à charge a changé depuis l’avis ». N’indiquez pas votre numéro fiscal."
          value={motif}
          error={errorOf(errors, 'motif')}
          rows={6}
          maxLength={2000}
        />
        {piece ? (
          <ChampAvis
            id="piece"
            label="Un document à l’appui (facultatif)"
            document="Par exemple votre avis d’imposition, ou un justificatif du changement : un PDF, ou une photo nette de toutes les pages"
            tailleMaxKo={piece.tailleMaxKo}
            joursMax={piece.joursMax}
            error={errorOf(errors, 'piece')}
          />
        ) : null}
        <button class="button" type="submit">
          Envoyer
        </button>
      </form>
    </>
  );
}

export function MessagePage({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <>
      <h1>{title}</h1>
      {children}
    </>
  );
}

// -------------------------------------------------------------------------------------------
// History and rights

export function MesDonneesPage({
  message,
  accords,
  composition,
  renouvellements = [],
  renouvellementPropose = false,
}: {
  message?: string;
  accords: readonly AccordEnCours[];
  composition: CompositionFamille;
  /** The family's standing consents for renewal, in force and ended. */
  renouvellements?: readonly RenouvellementFamille[];
  /** The commune offers the standing consent: its section shows even when there is none. */
  renouvellementPropose?: boolean;
}) {
  const nom = (rang: 1 | 2) => {
    const p = composition.parents.find((x) => x.rang === rang);
    return p ? nomParent(p) : `parent ${rang}`;
  };
  return (
    <>
      <h1>Mes données et mes droits</h1>
      <Flash message={message} />
      <h2>Consulter et télécharger</h2>
      <ul>
        <li>
          <a href="/mes-donnees/export">Lire toutes mes données</a> (foyer, demandes, accords, quotients, données reçues de la DGFiP, état civil gardé pour le
          renouvellement)
        </li>
        <li>
          <a href="/mes-donnees/export.json" download="mes-donnees-quotient.json">
            Télécharger mes données (fichier JSON)
          </a>
        </li>
      </ul>
      <h2>Retirer mon accord</h2>
      <p>
        Votre accord permet à la mairie d’interroger la DGFiP pour vos demandes. Si vous le retirez, plus aucune interrogation ne sera faite sans un nouvel
        accord, y compris pour les mises à jour annuelles : les accords de renouvellement sont retirés aussi. Les quotients déjà calculés restent appliqués
        jusqu’à la fin de leur validité.
      </p>
      {accords.length === 0 ? (
        <p>
          <strong>Aucun accord en cours.</strong> La mairie n’interrogera pas la DGFiP pour vous sans un nouvel accord, donné lors d’une prochaine demande.
        </p>
      ) : (
        <>
          <p>Accords en cours :</p>
          <ul>
            {accords.map((a) => (
              <li key={`${a.reference}-${a.parent}`}>
                Accord de {nom(a.parent)} donné le {date(a.recueilliLe)} pour la demande {a.reference}
              </li>
            ))}
          </ul>
          <p>
            <a class="button button--secondary" href="/mes-donnees/retrait">
              Retirer mon accord
            </a>
          </p>
        </>
      )}
      {renouvellementPropose || renouvellements.length > 0 ? <SectionRenouvellement accords={renouvellements} nom={nom} /> : null}
      <h2>Rectifier ou contester</h2>
      <p>
        Pour corriger votre foyer, allez sur <a href="/mon-foyer">Mon foyer</a>. Pour contester un calcul, ouvrez la demande depuis{' '}
        <a href="/mes-demandes">Mes demandes</a>.
      </p>
    </>
  );
}

/** The step before a withdrawal: what it does, then one button to do it and one to go back. */
export function ConfirmationRetraitPage({ csrf, action, renouvellementDe }: { csrf: string; action: string; renouvellementDe?: string }) {
  return (
    <>
      <h1>{renouvellementDe ? `Retirer l’accord de renouvellement de ${renouvellementDe} ?` : 'Retirer mon accord ?'}</h1>
      {renouvellementDe ? (
        <p class="lead">
          La commune ne redemandera plus chaque année l’avis d’imposition de {renouvellementDe}, et l’état civil gardé pour cela sera effacé. Pour un prochain
          calcul, il faudra donner un nouvel accord.
        </p>
      ) : (
        <p class="lead">
          Plus aucune demande ne sera faite à la DGFiP pour votre foyer sans un nouvel accord, y compris les mises à jour annuelles. Les quotients déjà calculés
          restent appliqués jusqu’à la fin de leur validité.
        </p>
      )}
      <form method="post" action={action}>
        <Csrf token={csrf} />
        <button class="button" type="submit">
          {renouvellementDe ? 'Oui, retirer cet accord' : 'Oui, retirer mon accord'}
        </button>
      </form>
      <p>
        <a href="/mes-donnees">Non, revenir à mes données</a>
      </p>
    </>
  );
}

export function ExportTextePage({ texte }: { texte: string }) {
  return (
    <>
      <h1>Toutes mes données</h1>
      <pre class="export-texte">{texte}</pre>
      <p class="no-print">
        <a href="/mes-donnees/export.json" download="mes-donnees-quotient.json">
          Télécharger le fichier JSON
        </a>{' '}
        · <a href="/mes-donnees">Mes données et mes droits</a>
      </p>
    </>
  );
}

// -------------------------------------------------------------------------------------------
// Mon foyer

export function CompositionPage({
  csrf,
  values,
  errors,
  enregistre,
  parent1FranceConnect = false,
}: {
  csrf: string;
  values: Readonly<Record<string, string>>;
  errors: readonly ErrorDetail[];
  enregistre: boolean;
  /** Signed in with FranceConnect: parent 1's identity is FranceConnect's, shown read-only. */
  parent1FranceConnect?: boolean;
}) {
  return (
    <>
      <Erreurs errors={errors} />
      <h1>Mon foyer</h1>
      {enregistre ? <Alert kind="success" title="Votre foyer est enregistré." /> : null}
      <p class="lead">
        Les parents et les enfants de votre foyer. Les noms et dates des parents sont comparés à ceux de l’avis d’imposition : écrivez-les comme sur l’avis.
      </p>
      <form method="post" action={`/mon-foyer#${ANCRE_ERREURS}`} novalidate>
        <Csrf token={csrf} />
        <ChampsComposition
          espace="famille"
          values={values}
          errors={errors}
          parent1FranceConnect={parent1FranceConnect}
          enfantsIntro={
            <p>
              Un enfant en résidence alternée vit la moitié du temps chez chacun de ses parents séparés : chaque parent fait calculer son propre quotient
              familial avec son propre avis d’imposition, où l’enfant compte pour moitié.
            </p>
          }
        />
        <CheckboxField id="hors-commune" value="oui" label="Notre famille n’habite pas la commune" checked={values['hors-commune'] === 'oui'} />
        <button class="button" type="submit">
          Enregistrer mon foyer
        </button>
      </form>
    </>
  );
}
