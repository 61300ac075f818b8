import type { ComponentChildren } from 'preact';

/** Small pieces shared by the pages of the administration. */

export const BASE = '/agents/administration';

const DATE_HEURE = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'long', timeStyle: 'short' });

/** `3 mars 2026 à 14:05`, Paris time; `jamais` for a missing instant. */
export function dateHeure(iso: string | null, absent = 'jamais'): string {
  if (!iso) return absent;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : DATE_HEURE.format(new Date(t));
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
