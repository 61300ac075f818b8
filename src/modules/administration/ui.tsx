import type { ComponentChildren } from 'preact';
import type { ErrorDetail } from '../../domain/errors.ts';
import { Alert, ErrorSummary } from '../../http/ui/components.tsx';

/** Small pieces shared by the pages of the administration. */

export const ANCRE_ERREURS = 'erreurs';
export const BASE = '/agents/administration';

const DATE_HEURE = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'long', timeStyle: 'short' });

/** `3 mars 2026 à 14:05`, Paris time; `jamais` for a missing instant. */
export function dateHeure(iso: string | null, absent = 'jamais'): string {
  if (!iso) return absent;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : DATE_HEURE.format(new Date(t));
}

export function Csrf({ token }: { token: string }) {
  return <input type="hidden" name="_csrf" value={token} />;
}

/**
 * The error summary of a form: each problem links to its field when the path names one (`champs`
 * maps a path to the id of its input), else to `defaut`.
 */
export function Erreurs({ errors, champs, defaut }: { errors: readonly ErrorDetail[]; champs: Readonly<Record<string, string>>; defaut?: string }) {
  if (errors.length === 0) return null;
  return (
    <ErrorSummary
      id={ANCRE_ERREURS}
      errors={errors.map((e) => {
        const cible = champs[e.path] ?? defaut ?? null;
        const texte = champs[e.path] || e.path === '(formulaire)' ? e.message : `${e.path} : ${e.message}`;
        return { href: cible ? `#${cible}` : null, text: texte };
      })}
    />
  );
}

export const erreurDe = (errors: readonly ErrorDetail[], path: string): string | undefined => {
  const mine = errors.filter((e) => e.path === path);
  return mine.length > 0 ? mine.map((e) => e.message).join(' ') : undefined;
};

export function Flash({ message }: { message: string | undefined }) {
  return message ? <Alert kind="success" title={message} /> : null;
}

/** Where the page sits in the administration, for a person who arrived by a link. */
export function Ariane({ etapes }: { etapes: ReadonlyArray<{ href: string; label: string }> }) {
  return (
    <nav aria-label="Fil d’Ariane" class="administration-ariane">
      <ol>
        <li>
          <a href={BASE}>Administration</a>
        </li>
        {etapes.map((e) => (
          <li key={e.href}>
            <a href={e.href}>{e.label}</a>
          </li>
        ))}
      </ol>
    </nav>
  );
}

/** A data table; `legendeCachee` when a heading just above already says what the caption would. */
export function Tableau({ caption, legendeCachee = false, children }: { caption: string; legendeCachee?: boolean; children: ComponentChildren }) {
  return (
    // Focusable and named: a keyboard user can scroll a wide table on a phone.
    <div class="table-wrapper administration-tableau" role="region" aria-label={caption} tabIndex={0}>
      <table class="donnees">
        <caption class={legendeCachee ? 'visually-hidden' : undefined}>{caption}</caption>
        {children}
      </table>
    </div>
  );
}
