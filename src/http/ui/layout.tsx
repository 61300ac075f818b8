import type { ComponentChildren } from 'preact';
import { BandeauIncident } from './bandeau-incident.tsx';
import type { PageContext } from './page-context.ts';

export const FOOTER_LINKS = [
  { href: '/mentions-legales', label: 'Mentions légales' },
  { href: '/accessibilite', label: 'Accessibilité : non conforme' },
  { href: '/confidentialite', label: 'Données personnelles' },
  { href: '/contact', label: 'Contact' },
] as const;

interface LayoutProps {
  readonly ctx: PageContext;
  /** The page's own title; the commune and the service are appended. */
  readonly title: string;
  readonly children: ComponentChildren;
  /** The back-office: its own home link and name, and a bar of its sections under the header. */
  readonly espace?: { readonly accueil: string; readonly nom: string; readonly barre: ComponentChildren };
}

/** The frame of every page: skip link, header with the commune's name, main, footer with the mandatory links. */
export function Layout({ ctx, title, children, espace }: LayoutProps) {
  const { commune } = ctx;
  const accessibilityLabel = `Accessibilité : ${commune.accessibilite.etat}`;
  return (
    <html lang="fr">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${title} – Quotient familial – ${commune.commune.nom}`}</title>
        <link rel="stylesheet" href="/static/quotient.css" />
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <a class="skip-link" href="#contenu">
          Aller au contenu
        </a>
        <header class="site-header">
          <div class="container site-header__inner">
            <a class="site-header__brand" href={espace?.accueil ?? '/'}>
              <span class="site-header__commune">{commune.commune.nom}</span>
              <span class="site-header__service">{espace?.nom ?? 'Quotient familial'}</span>
            </a>
            {espace ? null : <NavigationFamille ctx={ctx} />}
          </div>
          {espace ? <div class="container espace-barre">{espace.barre}</div> : null}
        </header>
        <main id="contenu" class="container site-main" tabIndex={-1}>
          <BandeauIncident avis={ctx.incident} agents={espace !== undefined} />
          {children}
        </main>
        <footer class="site-footer">
          <div class="container">
            <p class="site-footer__contact">
              Une question ? {commune.contact.service} : <a href={`mailto:${commune.contact.email}`}>{commune.contact.email}</a>
              {commune.contact.telephone ? (
                <>
                  , <a href={`tel:${commune.contact.telephone.replace(/[^+0-9]/g, '')}`}>{commune.contact.telephone}</a>
                </>
              ) : null}
            </p>
            <nav aria-label="Pied de page">
              <ul class="site-footer__links">
                {FOOTER_LINKS.map((link) => (
                  <li key={link.href}>
                    <a href={link.href} aria-current={ctx.currentPath === link.href ? 'page' : undefined}>
                      {link.href === '/accessibilite' ? accessibilityLabel : link.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          </div>
        </footer>
      </body>
    </html>
  );
}

/** The families' way in, on every public page: who is signed in and where to go, or where to sign in. */
function NavigationFamille({ ctx }: { ctx: PageContext }) {
  const courant = (href: string) => (ctx.currentPath === href ? 'page' : undefined);
  return (
    <nav class="site-header__nav" aria-label="Mon compte">
      <ul>
        {ctx.famille ? (
          <>
            <li>
              <a href="/mon-espace" aria-current={courant('/mon-espace')}>
                Mon espace
              </a>
            </li>
            <li>
              <a href="/deconnexion" aria-current={courant('/deconnexion')}>
                Se déconnecter
              </a>
            </li>
          </>
        ) : (
          <li>
            <a href="/connexion" aria-current={courant('/connexion')}>
              Se connecter
            </a>
          </li>
        )}
      </ul>
    </nav>
  );
}
