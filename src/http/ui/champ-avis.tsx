import { FieldError } from './components.tsx';

/** What the family reads wherever it may send its avis: what is accepted, and what becomes of the file. */
export function tailleEnClair(ko: number): string {
  return ko >= 1024 ? `${(ko / 1024).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} Mo` : `${ko} Ko`;
}

/**
 * The file field of an avis d'imposition (the avis page, the contestation form): PDF or a photo,
 * the size limit, and the promise the privacy page makes (encrypted, seen by the instructor only,
 * destroyed at the decision). The form around it is `multipart/form-data`.
 */
export function ChampAvis({
  id = 'avis',
  label,
  tailleMaxKo,
  joursMax,
  error,
}: {
  id?: string;
  label: string;
  tailleMaxKo: number;
  joursMax: number;
  error: string | undefined;
}) {
  return (
    <div class={`field${error !== undefined ? ' field--error' : ''}`}>
      <label for={id}>{label}</label>
      <span class="hint" id={`${id}-aide`}>
        Le PDF téléchargé depuis votre espace impots.gouv.fr, ou une photo nette de toutes les pages (JPEG ou PNG), {tailleEnClair(tailleMaxKo)} au plus.
        Le fichier est chiffré, vu seulement par l’agent qui instruit votre dossier, et détruit dès sa décision (au plus tard {joursMax} jours après l’envoi).
      </span>
      {error !== undefined ? <FieldError id={id} error={error} /> : null}
      <input
        id={id}
        name={id}
        type="file"
        accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
        aria-describedby={error !== undefined ? `${id}-aide ${id}-erreur` : `${id}-aide`}
        aria-invalid={error !== undefined ? 'true' : undefined}
      />
    </div>
  );
}
