import type { Attestation, AttestationHorsVigueur } from '../../domain/attestation.ts';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { formatEuros } from '../../domain/money.ts';
import { TableauPrix } from './prix.tsx';

// The attestation of quotient familial as a page: the family's and the counter's are this one, and
// its PDF says the same (src/modules/attestations/attestation-pdf.ts).

const periode = (p: string) => (p === 'annuelle' ? 'par an' : 'par mois');
const jour = (iso: string) => formatDateFrancaise(iso);

/** The attestation itself, as printed: who attests, for whom, the QF, its period and source, and how to check it. */
export function AttestationDocument({ attestation: a, qrCode }: { attestation: Attestation; qrCode: string }) {
  return (
    <article class="attestation" aria-labelledby="attestation-titre">
      <p class="attestation__emetteur">{a.commune}</p>
      <h1 id="attestation-titre">Attestation de quotient familial</h1>
      <p>{a.commune} atteste que le quotient familial de la famille ci-dessous, établi pour le calcul des tarifs municipaux, est le suivant.</p>
      <dl class="facts">
        <dt>Famille</dt>
        <dd>référence {a.familleReference}</dd>
        <dt>{a.titulaires.length > 1 ? 'Titulaires' : 'Titulaire'}</dt>
        <dd>{a.titulaires.join(' et ') || '—'}</dd>
        <dt>Quotient familial</dt>
        <dd>
          <strong class="attestation__quotient">
            {formatEuros(a.quotient.cents)} {periode(a.quotient.periode)}
          </strong>
        </dd>
        <dt>Période de validité</dt>
        <dd>
          du {jour(a.validite.du)} au {jour(a.validite.au)}
        </dd>
        <dt>Source</dt>
        <dd>{a.source}</dd>
        <dt>Demande</dt>
        <dd>{a.demandeReference}</dd>
        <dt>Établie le</dt>
        <dd>{jour(a.etablieLe)}</dd>
      </dl>
      <TableauPrix caption="Tranche et prix des activités" lignes={a.lignes.map((l) => ({ prix: l.prix, tarif: l.tranche }))} />
      <section class="attestation__verification" aria-labelledby="attestation-verifier">
        <div class="attestation__verification-texte">
          <h2 id="attestation-verifier">Vérifier cette attestation</h2>
          <p>
            Code de vérification : <strong class="code-verification">{a.code}</strong>
          </p>
          <p>
            Saisissez ce code sur <a href={a.urlVerifier}>{a.urlVerifier}</a>, ou scannez le QR code : la page dit si l’attestation est valable, remplacée ou
            expirée, avec la tranche et la période de validité, sans autre donnée.
          </p>
        </div>
        <img class="attestation__qr" src={qrCode} width={144} height={144} alt={`QR code : adresse de vérification ${a.urlVerification}`} />
      </section>
      <p class="muted">
        Cette attestation n’indique ni le revenu fiscal de référence ni le numéro fiscal. Elle vaut pour la période indiquée, tant qu’un quotient plus récent ne
        l’a pas remplacée. Pour toute question : {[a.contact.service, a.contact.email, a.contact.telephone].filter(Boolean).join(', ')}.
      </p>
    </article>
  );
}

/** Under the attestation, not printed: print it (with JavaScript), download its PDF, go back. */
export function ActionsAttestation({ pdf, retour }: { pdf: string; retour: { href: string; libelle: string } }) {
  return (
    <>
      <p class="no-print attestation__actions">
        {/* Shown by /static/imprimer.js; without JavaScript, the browser's own Print command does the same. */}
        <button type="button" class="button" data-imprimer hidden>
          Imprimer
        </button>{' '}
        <a class="button button--secondary" href={pdf}>
          Télécharger en PDF
        </a>{' '}
        <a href={retour.href}>{retour.libelle}</a>
      </p>
      <script src="/static/imprimer.js" defer />
    </>
  );
}

/** A QF whose attestation can no longer be made: why, and where the one in force is. */
export function AttestationHorsVigueurPage({
  etat,
  lien,
  retour,
}: {
  etat: AttestationHorsVigueur;
  lien: (demandeId: string) => string;
  retour: { href: string; libelle: string };
}) {
  return (
    <>
      <h1>Attestation de quotient familial</h1>
      {etat.statut === 'remplacee' ? (
        <p class="lead">
          Le quotient de la demande {etat.demandeReference} a été remplacé par un quotient plus récent
          {etat.remplacePar ? ` (demande ${etat.remplacePar.reference})` : ''} : son attestation n’est plus valable.
        </p>
      ) : (
        <p class="lead">
          Le quotient de la demande {etat.demandeReference} était valable du {jour(etat.validite.du)} au {jour(etat.validite.au)} : sa période est terminée, son
          attestation n’est plus valable.
        </p>
      )}
      {etat.remplacePar ? (
        <p>
          <a class="button" href={lien(etat.remplacePar.demandeId)}>
            Attestation du quotient en vigueur
          </a>
        </p>
      ) : null}
      <p>
        <a href={retour.href}>{retour.libelle}</a>
      </p>
    </>
  );
}

/**
 * The attestation page of either space: the attestation with its actions while its QF holds, else
 * why not. `chemin` gives a request's attestation address in that space; `qrCode` is the image of a
 * valid one.
 */
export function PageAttestation({
  attestation,
  qrCode,
  chemin,
  retour,
}: {
  attestation: Attestation | AttestationHorsVigueur;
  qrCode: string | null;
  chemin: (demandeId: string) => string;
  retour: { href: string; libelle: string };
}) {
  if (attestation.statut !== 'valable') return <AttestationHorsVigueurPage etat={attestation} lien={chemin} retour={retour} />;
  return (
    <>
      <AttestationDocument attestation={attestation} qrCode={qrCode ?? ''} />
      <ActionsAttestation pdf={`${chemin(attestation.demandeId)}.pdf`} retour={retour} />
    </>
  );
}
