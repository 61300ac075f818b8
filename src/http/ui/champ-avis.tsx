import { formatDateFrancaise } from '../../domain/dates.ts';
import { FieldError } from './components.tsx';

/** What the views show of an uploaded avis: what it is, never what it says. */
export interface AvisEnCours {
  readonly id: string;
  readonly format: string;
  readonly taille: number;
  readonly deposeLe: string;
  readonly expireLe: string;
}

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
  document = 'Le PDF téléchargé depuis votre espace impots.gouv.fr, ou une photo nette de toutes les pages',
}: {
  id?: string;
  label: string;
  /** What to send, in the hint (the avis by default; the contestation form takes any supporting document). */
  document?: string;
  tailleMaxKo: number;
  joursMax: number;
  error: string | undefined;
}) {
  return (
    <div class={`field${error !== undefined ? ' field--error' : ''}`}>
      <label for={id}>{label}</label>
      <span class="hint" id={`${id}-aide`}>
        {document} (JPEG ou PNG), {tailleEnClair(tailleMaxKo)} au plus. Le fichier est chiffré, vu seulement par l’agent qui instruit votre dossier, et détruit
        dès sa décision (au plus tard {joursMax} jours après l’envoi).
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

/** The day of an ISO instant, in Paris (where the family and the agents are). */
export function jourDe(iso: string): string {
  return formatDateFrancaise(new Date(iso).toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' }));
}

const FORMATS: Record<string, string> = { pdf: 'Document PDF', jpeg: 'Photo JPEG', png: 'Image PNG' };
export const formatEnClair = (format: string) => FORMATS[format] ?? format;

/** On an instructor's case: the avis the family sent, to open in a new tab (each opening journaled). */
export function AvisDuDossier({ avis }: { avis: readonly AvisEnCours[] }) {
  if (avis.length === 0) return null;
  return (
    <section aria-labelledby="avis-depose-titre">
      <h2 id="avis-depose-titre">Avis d’imposition envoyé par la famille</h2>
      <ul>
        {avis.map((a) => (
          <li key={a.id}>
            <a href={`/agents/instruction/avis/${a.id}`} target="_blank" rel="noopener">
              Ouvrir le document ({formatEnClair(a.format).toLowerCase()}, {Math.max(1, Math.round(a.taille / 1024))} Ko, envoyé le {jourDe(a.deposeLe)})
            </a>
          </li>
        ))}
      </ul>
      <p class="hint">
        Le document montre le numéro fiscal : ne le recopiez nulle part. Chaque ouverture est enregistrée au journal ; il est détruit à votre décision (au plus
        tard le {jourDe(avis.at(-1)?.expireLe ?? new Date().toISOString())}).
      </p>
    </section>
  );
}
