import { formatDateFrancaise } from '../../domain/dates.ts';
import { eurosToCents, formatEuros, formatNombre } from '../../domain/money.ts';
import type { Activite, PolitiqueTarifaire } from '../../domain/politique-tarifaire.ts';
import { CheckboxField, ErrorSummary, SelectField, TextField } from '../../http/ui/components.tsx';
import { CarteQuotient, DetailPrix, TableauPrix, parUnite } from '../../http/ui/prix.tsx';
import type { CommuneConfig } from '../../infra/config/commune-config.ts';
import {
  LIBELLES_CHAMPS,
  PARAM_HORS_COMMUNE,
  formulaireFor,
  type AvisAttendu,
  type Champ,
  type ErreurChamp,
  type Estimation,
  type Issue,
  type Saisie,
} from './simulateur-service.ts';

/** Where the form sends the browser: the error summary or the result, whichever answers. */
export const ANCRE_REPONSE = 'resultat';

const euros = (value: number) => formatEuros(eurosToCents(value) ?? 0);
const rangLabel = (rang: number) => (rang === 1 ? '1er enfant' : `${rang}e enfant`);

/** The formula of the policy in one plain sentence, as a family would say it. */
export function formuleEnClair(politique: PolitiqueTarifaire): string {
  const q = politique.quotient;
  const parMois = q.periode === 'mensuelle' ? 'divisé par 12 pour obtenir un montant par mois, puis ' : '';
  switch (q.formule) {
    case 'rfr-parts':
      return `Votre quotient familial est votre revenu fiscal de référence ${parMois}divisé par le nombre de parts de votre avis d’imposition.`;
    case 'revenu-personnes':
      return `Votre quotient familial est votre revenu fiscal de référence ${parMois}divisé par le nombre de personnes de votre foyer.`;
    case 'coefficients': {
      const k = q.coefficients;
      const coefficients = k
        ? [
            `${formatNombre(k.adulte)} par adulte`,
            `${formatNombre(k.enfant)} par enfant`,
            ...(k.majorationParentIsole > 0 ? [`${formatNombre(k.majorationParentIsole)} de plus pour un parent qui élève seul ses enfants`] : []),
          ].join(', ')
        : '';
      return `Votre quotient familial est votre revenu fiscal de référence ${parMois}divisé par la somme des coefficients des membres de votre foyer (${coefficients}).`;
    }
    case 'ressources-personnes':
      return `Votre quotient familial est la somme de vos ressources mensuelles, déclarées par vous et vérifiées par un agent sur justificatifs${q.periode === 'annuelle' ? ', multipliée par 12' : ''}, divisée par le nombre de personnes de votre foyer.`;
  }
}

/** One line per activity: how its price follows from the QF. */
export function grilleEnClair(activite: Activite): string {
  const g = activite.grille;
  const unite = parUnite(activite.unite);
  const base =
    g.type === 'taux-effort'
      ? `${formatNombre(g.taux)} % du quotient familial, au moins ${euros(g.plancher)} et au plus ${euros(g.plafond)} ${unite}`
      : `${g.tranches.length} tranche${g.tranches.length > 1 ? 's' : ''} de quotient, de ${euros(Math.min(...g.tranches.map((t) => t.prix)))} à ${euros(Math.max(...g.tranches.map((t) => t.prix)))} ${unite}`;
  const horsCommune = activite.prixNonResident !== undefined ? ` ; ${euros(activite.prixNonResident)} pour les familles qui n’habitent pas la commune` : '';
  const reductions = activite.reductionsRang.map((r) => ` ; ${formatNombre(r.pourcentage)} % de réduction à partir du ${rangLabel(r.rang)}`).join('');
  return `${base}${horsCommune}${reductions}.`;
}

function Deliberation({ politique }: { politique: PolitiqueTarifaire }) {
  const d = politique.deliberation;
  const acte = `${d.numero ? ` n°\u00a0${d.numero}` : ''}${d.date ? ` du ${formatDateFrancaise(d.date)}` : ''}`;
  const v = politique.validite;
  const periode = v.au ? `du ${formatDateFrancaise(v.du)} au ${formatDateFrancaise(v.au)}` : `à partir du ${formatDateFrancaise(v.du)}`;
  return (
    <p>
      Ces règles sont celles {acte ? `de la délibération${acte} du conseil municipal` : 'votées par le conseil municipal'}
      {d.intitule ? `, «\u00a0${d.intitule}\u00a0»` : ''}, applicables {periode}.
    </p>
  );
}

function AvisAUtiliser({ politique, avis }: { politique: PolitiqueTarifaire; avis: AvisAttendu }) {
  const plusieursAvis = {
    'somme-rfr-somme-parts':
      'Parents non mariés ni pacsés, chacun avec son avis : additionnez vos deux revenus fiscaux de référence et vos deux nombres de parts.',
    'somme-rfr-recompte-personnes':
      politique.quotient.formule === 'revenu-personnes'
        ? 'Parents non mariés ni pacsés, chacun avec son avis : additionnez vos deux revenus fiscaux de référence et comptez toutes les personnes du foyer.'
        : 'Parents non mariés ni pacsés, chacun avec son avis : lors de la demande, vos deux avis seront réunis et les personnes du foyer recomptées ; cette estimation ne porte que sur un avis.',
    refuser:
      'Si votre famille a deux avis d’imposition (parents non mariés ni pacsés), votre demande sera examinée par un agent ; cette estimation ne porte que sur un avis.',
  }[politique.quotient.plusieursFoyers];
  return (
    <details class="aide">
      <summary>{'Quel avis d’imposition utiliser\u00a0?'}</summary>
      <div class="aide__contenu">
        <p>
          Pour {avis.periode}, la commune retient l’avis d’impôt {avis.anneeRevenus + 1} sur les revenus de {avis.anneeRevenus}
          {avis.repli !== null ? ` ; tant que vous ne l’avez pas reçu, l’avis ${avis.repli + 1} sur les revenus de ${avis.repli}` : ''}. Vous le retrouvez dans
          votre espace particulier sur impots.gouv.fr. Si vous n’êtes pas imposable, votre avis de non-imposition comporte les mêmes informations.
        </p>
        <p>
          Le revenu fiscal de référence et le nombre de parts figurent sur la première page de l’avis, dans le cadre {'«\u00a0Vos références\u00a0»'}, en haut à
          gauche.
        </p>
        <p>{plusieursAvis}</p>
      </div>
    </details>
  );
}

const HINTS: Record<Champ, string> = {
  rfr: 'Sur la première page de votre avis d’impôt sur le revenu, cadre « Vos références ». Par exemple : 48 000.',
  parts: 'Dans le même cadre de l’avis, ligne « Nombre de parts ». Par exemple : 1\u00a0; 2\u00a0; 2,5.',
  personnes: 'Vous compris : les adultes et les enfants qui vivent avec vous.',
  adultes: '1 si vous élevez seul vos enfants, 2 pour un couple.',
  enfants: 'Les enfants à votre charge qui vivent avec vous.',
  rang: 'Certaines activités coûtent moins cher à partir du 2e enfant inscrit.',
};

function Formulaire({
  politique,
  commune,
  saisie,
  erreurs,
  avis,
}: {
  politique: PolitiqueTarifaire;
  commune: CommuneConfig;
  saisie: Saisie | null;
  erreurs: readonly ErreurChamp[];
  avis: AvisAttendu;
}) {
  const formulaire = formulaireFor(politique);
  const erreur = (champ: Champ) => erreurs.find((e) => e.champ === champ)?.message;
  const valeur = (champ: Champ) => saisie?.valeurs[champ];
  return (
    <form method="get" action={`/simulateur#${ANCRE_REPONSE}`} class="simulateur-form" aria-labelledby="formulaire-titre">
      <h2 id="formulaire-titre">Vos informations</h2>
      <AvisAUtiliser politique={politique} avis={avis} />
      {formulaire.champs.map((champ) =>
        champ === 'rang' ? (
          <SelectField
            key={champ}
            id="rang"
            label={LIBELLES_CHAMPS.rang}
            hint={HINTS.rang}
            value={valeur('rang') ?? '1'}
            error={erreur('rang')}
            options={Array.from({ length: formulaire.rangMax }, (_, i) => ({
              value: String(i + 1),
              label: i + 1 === formulaire.rangMax ? `${rangLabel(i + 1)}${i > 0 ? ' et suivants' : ''}` : rangLabel(i + 1),
            }))}
          />
        ) : (
          <TextField
            key={champ}
            id={champ}
            label={champ === 'rfr' ? `${LIBELLES_CHAMPS.rfr} (en euros)` : LIBELLES_CHAMPS[champ]}
            hint={HINTS[champ]}
            value={valeur(champ)}
            error={erreur(champ)}
            inputMode={champ === 'parts' ? 'decimal' : 'numeric'}
            size={champ === 'rfr' ? 'moyen' : 'court'}
            suffix={champ === 'rfr' ? '€' : undefined}
          />
        ),
      )}
      {formulaire.horsCommune ? (
        <CheckboxField
          id={PARAM_HORS_COMMUNE}
          value="oui"
          label="Votre famille n’habite pas la commune"
          hint={`Certaines activités ont alors un prix unique, quel que soit le quotient familial. ${commune.commune.nom} vérifie l’adresse lors de la demande.`}
          checked={saisie?.horsCommune ?? false}
        />
      ) : null}
      <button type="submit" class="button">
        Calculer mon quotient et mes tarifs
      </button>
      <p class="muted form-note">
        Les chiffres saisis apparaissent dans l’adresse de la page de résultat : sur un ordinateur partagé, fermez la page après usage.
      </p>
    </form>
  );
}

function Resultat({ estimation }: { estimation: Estimation }) {
  const { quotient, lignes, resident, rang } = estimation;
  const pour = `${resident ? 'pour une famille qui habite la commune' : 'pour une famille qui n’habite pas la commune'}${rang > 1 ? `, pour le ${rangLabel(rang)}` : ''}`;
  return (
    <section id={ANCRE_REPONSE} class="resultat" tabIndex={-1} aria-labelledby="resultat-titre">
      <h2 id="resultat-titre">Votre estimation</h2>
      <CarteQuotient libelle="Quotient familial estimé" cents={quotient.cents} periode={quotient.periode}>
        {quotient.explication}
      </CarteQuotient>

      <TableauPrix caption={`Prix des activités ${pour}`} colonneTarif="Tarif appliqué" lignes={lignes.map(({ prix, base }) => ({ prix, tarif: base }))} />

      <h3>Le détail de chaque prix</h3>
      <DetailPrix prix={lignes.map(({ prix }) => prix)} />

      <div class="alert alert--warning">
        <h3 class="alert__title">Une estimation, pas encore votre tarif</h3>
        <p>
          Votre tarif sera calculé lors de votre demande, à partir de votre avis d’imposition transmis par la Direction générale des Finances publiques avec
          votre accord. Il peut différer de cette estimation si un chiffre saisi ne correspond pas à l’avis retenu ou si votre situation est particulière.
        </p>
        <p>
          <a class="button" href="/mon-quotient">
            Faire ma demande
          </a>{' '}
          <a href="/#etapes">Comment faire votre demande</a>
        </p>
      </div>
      <p>
        <a href="/simulateur">Faire une nouvelle simulation</a>
      </p>
    </section>
  );
}

export interface SimulateurPageProps {
  readonly commune: CommuneConfig;
  readonly politique: PolitiqueTarifaire;
  readonly issue: Issue;
  readonly avis: AvisAttendu;
}

export function SimulateurPage({ commune, politique, issue, avis }: SimulateurPageProps) {
  const erreurs = issue.kind === 'erreurs' ? issue.erreurs : [];
  const saisie = issue.kind === 'vide' ? null : issue.saisie;
  return (
    <>
      {erreurs.length > 0 ? <ErrorSummary id={ANCRE_REPONSE} errors={erreurs.map((e) => ({ href: e.champ ? `#${e.champ}` : null, text: e.message }))} /> : null}
      <h1>Estimez votre quotient familial et vos tarifs</h1>
      <p class="lead">
        Avec quelques chiffres de votre avis d’impôt sur le revenu, voyez votre quotient familial et le prix de chaque activité de {commune.commune.nom}, selon
        les tarifs votés par le conseil municipal.
      </p>
      <ul class="assurances">
        <li>Sans connexion ni justificatif.</li>
        <li>Rien n’est enregistré : les chiffres saisis servent au calcul, puis sont oubliés.</li>
        <li>Une estimation : votre tarif sera fixé lors de votre demande.</li>
      </ul>

      <Formulaire politique={politique} commune={commune} saisie={saisie} erreurs={erreurs} avis={avis} />

      {issue.kind === 'estimation' ? <Resultat estimation={issue.estimation} /> : null}

      <section aria-labelledby="calcul-titre" class="calcul">
        <h2 id="calcul-titre">Comment le calcul est fait</h2>
        <p>{formuleEnClair(politique)}</p>
        <p>Le prix de chaque activité dépend ensuite de ce quotient :</p>
        <ul>
          {politique.activites.map((a) => (
            <li key={a.id}>
              <strong>{a.libelle} :</strong> {grilleEnClair(a)}
            </li>
          ))}
        </ul>
        <Deliberation politique={politique} />
      </section>
    </>
  );
}
