import { formatDateFrancaise } from '../../domain/dates.ts';
import { LIBELLES_ETAT_RENOUVELLEMENT, VERSION_TEXTE_RENOUVELLEMENT, texteRenouvellement } from '../../domain/consentement-renouvellement.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { CheckboxField, FieldError, errorOf } from '../../http/ui/components.tsx';
import type { RenouvellementFamille } from '../renouvellement/renouvellement-service.ts';

const date = (iso: string | null) => (iso ? formatDateFrancaise(iso.slice(0, 10)) : '—');

/** At the counter: the signed form also carries the standing consent for renewal (unticked unless the agent ticks it). */
export function CaseRenouvellementGuichet({
  rang,
  dureeMaxAns,
  checked,
  errors,
}: {
  rang: 1 | 2;
  dureeMaxAns: number;
  checked: boolean;
  errors: readonly ErrorDetail[];
}) {
  const id = `renouvellement-${rang}`;
  const error = errorOf(errors, id);
  return (
    <div class={error ? 'field--error' : undefined}>
      {error ? <FieldError id={id} error={error} /> : null}
      <CheckboxField
        id={id}
        name={id}
        value="oui"
        label="Le formulaire signé comprend aussi l’accord de renouvellement chaque année"
        hint={`À cocher seulement si la personne a signé la phrase : « ${texteRenouvellement(dureeMaxAns)} » (texte ${VERSION_TEXTE_RENOUVELLEMENT}). Jamais pour un courriel. La même pièce est enregistrée.`}
        checked={checked}
      />
    </div>
  );
}

const MODES: Record<string, string> = { en_ligne: 'en ligne', formulaire_signe: 'formulaire signé' };

/** The family's page: its standing consents, in force or ended (no état civil shown, only whether one is kept). */
export function RenouvellementsFiche({ accords, nom }: { accords: readonly RenouvellementFamille[]; nom: (rang: 1 | 2) => string }) {
  if (accords.length === 0) return <p>Aucun accord de renouvellement : la famille refait sa demande chaque année.</p>;
  return (
    <ul>
      {accords.map((a) => (
        <li key={a.id}>
          {nom(a.parent)} : {LIBELLES_ETAT_RENOUVELLEMENT[a.etat]}, donné le {date(a.recueilliLe)} ({MODES[a.mode] ?? a.mode}
          {a.piece ? `, ${a.piece}` : ''}), jusqu’au {date(a.expireLe)} au plus{a.retireLe ? `, terminé le ${date(a.retireLe)}` : ''}
          {a.etat === 'en_vigueur' ? (a.etatCivilConserve ? ' ; état civil gardé pour la demande annuelle.' : ' ; état civil pas encore gardé.') : '.'}
        </li>
      ))}
    </ul>
  );
}
