import { Fragment } from 'preact';
import { EXEMPLE_CODE, type Verification } from '../../domain/attestation.ts';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { formatEuros } from '../../domain/money.ts';
import { ANCRE_ERREURS, Erreurs, TextField } from '../../http/ui/components.tsx';

// The public page that checks an attestation's code: a form that works without JavaScript, and
// what the code says — whether it holds, the tranche, the period; never the family's name.

const jour = (iso: string) => formatDateFrancaise(iso);
const periode = (p: string) => (p === 'annuelle' ? 'par an' : 'par mois');

export const MESSAGE_CODE_MAL_FORME = `Un code de vérification compte 12 caractères, chiffres de 2 à 9 et lettres sans O, I, L ni U, par exemple ${EXEMPLE_CODE} : vérifiez la saisie.`;

export interface VerificationProps {
  readonly commune: string;
  /** What to show again in the field (never a value shaped like a numéro fiscal). */
  readonly saisie: string;
  /** The code checked, in its canonical form, with what it says; absent before any check. */
  readonly resultat?: { readonly code: string; readonly verification: Verification };
  readonly codeMalForme?: boolean;
  /** `AAAA-MM-JJ`, to say « à partir du » of a QF whose period has not begun. */
  readonly aujourdhui: string;
}

export function VerificationPage({ commune, saisie, resultat, codeMalForme, aujourdhui }: VerificationProps) {
  const errors = codeMalForme ? [{ path: 'code', message: MESSAGE_CODE_MAL_FORME }] : [];
  return (
    <>
      <Erreurs errors={errors} />
      <h1>Vérifier une attestation de quotient familial</h1>
      <p class="lead">
        Une famille vous présente une attestation de quotient familial de {commune} ? Saisissez son code de vérification, ou scannez son QR code : cette page
        dit si l’attestation est valable, avec sa tranche et sa période de validité. Elle n’indique ni le nom de la famille ni ses revenus.
      </p>
      {resultat ? <Resultat code={resultat.code} v={resultat.verification} aujourdhui={aujourdhui} /> : null}
      <form method="get" action={`/verifier#${ANCRE_ERREURS}`} novalidate class="no-print">
        <TextField
          id="code"
          label="Code de vérification"
          hint={`12 caractères, imprimés sous le titre « Vérifier cette attestation », par exemple ${EXEMPLE_CODE}. Les tirets et les espaces sont facultatifs.`}
          value={saisie}
          error={codeMalForme ? MESSAGE_CODE_MAL_FORME : undefined}
          autoComplete="off"
        />
        <button class="button" type="submit">
          Vérifier
        </button>
      </form>
      <h2>À savoir</h2>
      <ul>
        <li>Une attestation est valable pendant sa période, tant qu’un quotient plus récent ne l’a pas remplacée : la page le dit le jour où vous vérifiez.</li>
        <li>Un code modifié ou inventé n’est jamais reconnu. En cas de doute, demandez à la famille une attestation à jour, ou contactez la mairie.</li>
      </ul>
    </>
  );
}

function Resultat({ code, v, aujourdhui }: { code: string; v: Verification; aujourdhui: string }) {
  const entete = (
    <p>
      Code vérifié : <strong class="code-verification">{code}</strong>
    </p>
  );
  if (v.statut === 'inconnue') {
    return (
      <section class="verification-resultat verification-resultat--refus" aria-labelledby="resultat">
        <h2 class="verification-resultat__statut" id="resultat">
          Code inconnu : attestation non reconnue
        </h2>
        {entete}
        <p>Aucune attestation ne porte ce code. Vérifiez la saisie ; si elle est exacte, l’attestation présentée n’a pas été établie par la mairie.</p>
      </section>
    );
  }
  const periodeTexte = `du ${jour(v.validite.du)} au ${jour(v.validite.au)}`;
  if (v.statut === 'expiree') {
    return (
      <section class="verification-resultat verification-resultat--refus" aria-labelledby="resultat">
        <h2 class="verification-resultat__statut" id="resultat">
          Attestation expirée
        </h2>
        {entete}
        <p>
          Cette attestation de {v.commune} était valable {periodeTexte} : elle ne l’est plus. Demandez à la famille une attestation à jour.
        </p>
      </section>
    );
  }
  if (v.statut === 'remplacee') {
    return (
      <section class="verification-resultat verification-resultat--refus" aria-labelledby="resultat">
        <h2 class="verification-resultat__statut" id="resultat">
          Attestation remplacée
        </h2>
        {entete}
        <p>
          Le quotient familial de cette attestation de {v.commune} ({periodeTexte}) a été remplacé par un quotient plus récent : elle n’est plus valable.
          Demandez à la famille sa nouvelle attestation.
        </p>
      </section>
    );
  }
  return (
    <section class="verification-resultat verification-resultat--valable" aria-labelledby="resultat">
      <h2 class="verification-resultat__statut" id="resultat">
        Attestation valable
      </h2>
      {entete}
      <dl class="facts">
        <dt>Commune</dt>
        <dd>{v.commune}</dd>
        <dt>Période de validité</dt>
        <dd>
          {periodeTexte}
          {v.validite.du > aujourdhui ? ` (à partir du ${jour(v.validite.du)})` : ''}
        </dd>
        {(v.tranches ?? []).map((t) => (
          <Fragment key={t.activite}>
            <dt>{t.activite}</dt>
            <dd>{t.tranche}</dd>
          </Fragment>
        ))}
        {v.quotient ? (
          <>
            <dt>Quotient familial</dt>
            <dd>
              {formatEuros(v.quotient.cents)} {periode(v.quotient.periode)}, la base des tarifs au taux d’effort
            </dd>
          </>
        ) : null}
      </dl>
    </section>
  );
}
