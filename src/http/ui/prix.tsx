import type { ComponentChildren } from 'preact';
import { libelleTranche } from '../../domain/attestation.ts';
import { formatEuros } from '../../domain/money.ts';
import { LIBELLES_UNITES, type Unite } from '../../domain/politique-tarifaire.ts';
import type { PrixActivite } from '../../domain/tarification.ts';

// A QF and the prices it gives, as the family’s result, the counter and the simulator show them.

/** `par repas`, `par demi-journée`: what a price is for. */
export const parUnite = (unite: Unite) => `par ${LIBELLES_UNITES[unite]}`;

/** The tranche of a price, or in words why it has none (non-resident or unknown QF price, taux d'effort). */
export const trancheEnClair = (p: PrixActivite) => libelleTranche(p);

/** The QF in large, per month or per year; `children` say what it covers (validity, request, explanation). */
export function CarteQuotient({ libelle, cents, periode, children }: { libelle: string; cents: number; periode: string; children: ComponentChildren }) {
  return (
    <div class="quotient-carte">
      <p class="quotient-carte__libelle">{libelle}</p>
      <p class="quotient-carte__montant">
        {formatEuros(cents)} <span class="quotient-carte__unite">{periode === 'annuelle' ? 'par an' : 'par mois'}</span>
      </p>
      <p class="quotient-carte__explication">{children}</p>
    </div>
  );
}

export interface LignePrix {
  readonly prix: PrixActivite;
  /** The second column: the tranche in words, or in the simulator the rule applied. */
  readonly tarif: string;
}

/** One row per activity: its tariff and its price per unit. `className` adds the back-office's ruled style. */
export function TableauPrix({
  caption,
  colonneTarif = 'Tranche',
  lignes,
  className,
}: {
  caption: string;
  colonneTarif?: string;
  lignes: readonly LignePrix[];
  className?: string;
}) {
  return (
    <div class="table-wrapper">
      <table class={className ? `${className} table-prix` : 'table-prix'}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Activité</th>
            <th scope="col">{colonneTarif}</th>
            <th scope="col" class="number">
              Prix
            </th>
          </tr>
        </thead>
        <tbody>
          {lignes.map(({ prix, tarif }) => (
            <tr key={prix.id}>
              <th scope="row">{prix.libelle}</th>
              <td>{tarif}</td>
              <td class="number prix">
                <span class="prix__montant">{formatEuros(prix.cents)}</span> <span class="prix__unite">{parUnite(prix.unite)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The rows of a price table by tranche: the family's result and the counter's. */
export const lignesParTranche = (prix: readonly PrixActivite[]): LignePrix[] => prix.map((p) => ({ prix: p, tarif: trancheEnClair(p) }));

/** How each price was found, one sentence per activity, under the table. */
export function DetailPrix({ prix }: { prix: readonly PrixActivite[] }) {
  return (
    <ul class="detail-prix">
      {prix.map((p) => (
        <li key={p.id}>
          <strong>{p.libelle} :</strong> {p.explication}
        </li>
      ))}
    </ul>
  );
}
