import type { ComponentChildren } from 'preact';

export function Alert({ kind, title, children }: { kind: 'info' | 'error' | 'success' | 'warning'; title: string; children?: ComponentChildren }) {
  return (
    <div class={`alert alert--${kind}`} role={kind === 'error' ? 'alert' : undefined}>
      <h2 class="alert__title">{title}</h2>
      {children}
    </div>
  );
}

export function PostalAddress({ lines, codePostal, ville }: { lines: readonly string[]; codePostal: string; ville: string }) {
  return (
    <address>
      {lines.map((line) => (
        <span key={line}>
          {line}
          <br />
        </span>
      ))}
      {codePostal} {ville}
    </address>
  );
}
