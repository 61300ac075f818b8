import { formatDateFrancaise } from '../../domain/dates.ts';
import { texteRenouvellement, VERSION_TEXTE_RENOUVELLEMENT } from '../../domain/consentement-renouvellement.ts';
import type { ErrorDetail } from '../../domain/errors.ts';
import { CheckboxField, FieldError, errorOf } from '../../http/ui/components.tsx';
import type { RenouvellementFamille } from '../renouvellement/renouvellement-service.ts';

const date = (iso: string | null) => (iso ? formatDateFrancaise(iso.slice(0, 10)) : '—');

/**
 * The standing consent on the consent step: one explanation (what is kept, how to withdraw), then
 * one box per declarant, apart from the consent for this request, never ticked unless the person
 * ticked it, in plain words.
 */
export function ExplicationRenouvellement() {
  return (
    <p class="hint">
      Facultatif. Chaque année, la commune demandera l’avis d’imposition à la DGFiP à partir de l’état civil, sans que vous ayez à refaire la demande. Pour
      cela, elle garde, chiffrés, les nom de naissance, prénoms, date et lieu de naissance et sexe de la personne, tels que l’avis d’imposition ou votre saisie
      les donnent — jamais le numéro fiscal. Vous pouvez retirer cet accord à tout moment dans « Mes données » : l’état civil gardé est alors effacé.
    </p>
  );
}

export function CaseRenouvellement({
  rang,
  nom,
  dureeMaxAns,
  checked,
  errors,
}: {
  rang: 1 | 2;
  nom: string;
  dureeMaxAns: number;
  checked: boolean;
  errors: readonly ErrorDetail[];
}) {
  const id = `renouvellement-${rang}`;
  const error = errorOf(errors, id);
  return (
    <div class={error ? 'field--error' : undefined}>
      {error ? <FieldError id={id} error={error} /> : null}
      <CheckboxField id={id} name={id} value="oui" label={`${nom} : ${texteRenouvellement(dureeMaxAns)}`} checked={checked} />
    </div>
  );
}

export function MentionRenouvellement() {
  return <p class="muted">Texte de l’accord de renouvellement, version {VERSION_TEXTE_RENOUVELLEMENT}.</p>;
}

const MODES: Record<string, string> = { en_ligne: 'en ligne', formulaire_signe: 'sur un formulaire signé, enregistré au guichet' };

/**
 * « Mes données »: the standing consents in force, each with who, since when, until when and what
 * it covers, and its one-click withdrawal; the ended ones below, briefly.
 */
export function SectionRenouvellement({ accords, nom }: { accords: readonly RenouvellementFamille[]; nom: (rang: 1 | 2) => string }) {
  const enVigueur = accords.filter((a) => a.etat === 'en_vigueur');
  const termines = accords.filter((a) => a.etat !== 'en_vigueur');
  return (
    <>
      <h2 id="renouvellement">Renouvellement chaque année</h2>
      {enVigueur.length === 0 ? (
        <p>
          <strong>Aucun accord de renouvellement en cours.</strong> La commune ne redemandera pas votre avis d’imposition chaque année : vous referez la demande
          vous-même.
        </p>
      ) : (
        <ul class="liste-accords">
          {enVigueur.map((a) => (
            <li key={a.id}>
              <p>
                <strong>{nom(a.parent)}</strong> accepte que la commune redemande chaque année son avis d’imposition à la DGFiP, par son état civil, depuis le{' '}
                {date(a.recueilliLe)} ({MODES[a.mode] ?? a.mode}) et au plus tard jusqu’au {date(a.expireLe)}.
              </p>
              <p class="hint">
                Données demandées : {a.donnees.join(', ')}. Pour : {/[.!?…]$/.test(a.finalite) ? a.finalite : `${a.finalite}.`}{' '}
                {a.etatCivilConserve
                  ? 'Son état civil est gardé, chiffré, pour cette demande annuelle.'
                  : 'Son état civil sera gardé, chiffré, dès que l’avis de sa demande aura été reçu et vérifié.'}
              </p>
              {/* A page asks to confirm: one click away from an irreversible deletion is too close. */}
              <p>
                <a class="button button--secondary" href={`/mes-donnees/renouvellement/${a.id}/retrait`}>
                  Retirer l’accord de renouvellement de {nom(a.parent)}
                </a>
              </p>
            </li>
          ))}
        </ul>
      )}
      {termines.length > 0 ? (
        <details class="aide">
          <summary>Accords de renouvellement terminés</summary>
          <ul>
            {termines.map((a) => (
              <li key={a.id}>
                {nom(a.parent)}, donné le {date(a.recueilliLe)} :{' '}
                {a.etat === 'expire'
                  ? `arrivé à échéance le ${date(a.expireLe)}`
                  : a.finMotif === 'remplacement'
                    ? `remplacé par un accord plus récent le ${date(a.retireLe)}`
                    : `retiré le ${date(a.retireLe)}`}
                .
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </>
  );
}
