/**
 * Bar charts drawn on the server as SVG: no script, no library. The picture is one image for
 * assistive technologies (role img, its title and a description that lists every figure), each
 * bar carries its own <title> for a pointer, and the same figures follow in a table, which is
 * what screen readers and small screens read.
 */
export interface Donnee {
  readonly libelle: string;
  readonly nombre: number;
}

const LARGEUR = 520;
const MARGE = 4;
const LIGNE = 44;
const HAUTEUR_BARRE = 16;
const nombre = new Intl.NumberFormat('fr-FR');

export function GraphiqueBarres({
  id,
  titre,
  donnees,
  unite,
  entete,
}: {
  id: string;
  titre: string;
  donnees: readonly Donnee[];
  unite: string;
  entete: string;
}) {
  const max = Math.max(0, ...donnees.map((d) => d.nombre));
  const largeurUtile = LARGEUR - 2 * MARGE - 48;
  const hauteur = donnees.length * LIGNE + MARGE;
  const description = donnees.map((d) => `${d.libelle} : ${nombre.format(d.nombre)}`).join(' ; ');
  const total = donnees.reduce((a, d) => a + d.nombre, 0);
  return (
    <figure class="tdb-figure" aria-labelledby={`${id}-legende`}>
      <figcaption id={`${id}-legende`} class="tdb-legende">
        {titre}
      </figcaption>
      <svg
        xmlns="http://www.w3.org/2000/svg"
        class="tdb-graphique"
        viewBox={`0 0 ${LARGEUR} ${hauteur}`}
        width={LARGEUR}
        height={hauteur}
        role="img"
        aria-labelledby={`${id}-titre ${id}-desc`}
      >
        <title id={`${id}-titre`}>{titre}</title>
        <desc id={`${id}-desc`}>{description === '' ? 'Aucune donnée.' : `${description}.`}</desc>
        {donnees.map((d, i) => {
          const y = MARGE + i * LIGNE;
          const w = max === 0 ? 0 : Math.round((d.nombre / max) * largeurUtile);
          return (
            <g key={`${i}-${d.libelle}`} class="tdb-ligne">
              <title>{`${d.libelle} : ${nombre.format(d.nombre)} ${unite}`}</title>
              <text class="tdb-texte" x={MARGE} y={y + 14}>
                {d.libelle}
              </text>
              <rect class="tdb-fond" x={MARGE} y={y + 20} width={largeurUtile} height={HAUTEUR_BARRE} />
              <rect class="tdb-barre" x={MARGE} y={y + 20} width={w} height={HAUTEUR_BARRE} />
              <text class="tdb-valeur" x={MARGE + largeurUtile + 8} y={y + 33}>
                {nombre.format(d.nombre)}
              </text>
            </g>
          );
        })}
      </svg>
      <div class="table-wrapper" role="region" aria-label={`${titre} : tableau des valeurs`} tabIndex={0}>
        <table class="donnees tdb-table">
          <caption>{`${titre} : les valeurs`}</caption>
          <thead>
            <tr>
              <th scope="col">{entete}</th>
              <th scope="col" class="number">
                Nombre
              </th>
            </tr>
          </thead>
          <tbody>
            {donnees.map((d, i) => (
              <tr key={`${i}-${d.libelle}`}>
                <th scope="row">{d.libelle}</th>
                <td class="number">{nombre.format(d.nombre)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">Total</th>
              <td class="number">{nombre.format(total)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </figure>
  );
}

/** One minute of the quota's use: the two kinds of calls stacked. */
export interface MinuteEmpilee {
  /** `2026-12-02T14:05` (UTC). */
  readonly minute: string;
  readonly enLigne: number;
  readonly campagne: number;
}

const heureParis = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', hour: '2-digit', minute: '2-digit' });
/** « 14:05 » in Paris time, for a UTC minute key. */
export const minuteParis = (minute: string): string => heureParis.format(new Date(`${minute}:00.000Z`));

const COLONNES_LARGEUR = 600;
const COLONNES_HAUTEUR = 180;
const AXE = 22;

/**
 * Stacked columns, one per minute: online calls below (solid), campaign calls above (hatched, so
 * that the two read apart without colour), the quota as a dashed line. The picture is one image
 * with a description of the totals; every minute's figures follow in a table.
 */
export function GraphiqueMinutes({ id, titre, minutes, limite }: { id: string; titre: string; minutes: readonly MinuteEmpilee[]; limite: number }) {
  const max = Math.max(limite, 1, ...minutes.map((m) => m.enLigne + m.campagne));
  const utile = COLONNES_HAUTEUR - AXE - MARGE;
  const pas = (COLONNES_LARGEUR - 2 * MARGE) / Math.max(minutes.length, 1);
  const largeur = Math.max(pas - 2, 1);
  const y = (n: number) => MARGE + utile - (n / max) * utile;
  const enLigne = minutes.reduce((a, m) => a + m.enLigne, 0);
  const campagne = minutes.reduce((a, m) => a + m.campagne, 0);
  const pic = Math.max(0, ...minutes.map((m) => m.enLigne + m.campagne));
  const premiere = minutes[0];
  const derniere = minutes[minutes.length - 1];
  const description =
    `De ${premiere ? minuteParis(premiere.minute) : '—'} à ${derniere ? minuteParis(derniere.minute) : '—'} (heure de Paris) : ` +
    `${nombre.format(enLigne)} appel(s) pour les demandes en ligne et au guichet, ${nombre.format(campagne)} pour les campagnes ; ` +
    `au plus ${nombre.format(pic)} en une minute, pour un quota de ${nombre.format(limite)}.`;
  return (
    <figure class="tdb-figure" aria-labelledby={`${id}-legende`}>
      <figcaption id={`${id}-legende`} class="tdb-legende">
        {titre}
      </figcaption>
      <ul class="tdb-cles">
        <li>
          <span class="tdb-cle tdb-cle--en-ligne" aria-hidden="true" /> Demandes en ligne et au guichet
        </li>
        <li>
          <span class="tdb-cle tdb-cle--campagne" aria-hidden="true" /> Campagnes
        </li>
        <li>
          <span class="tdb-cle tdb-cle--quota" aria-hidden="true" /> Quota ({nombre.format(limite)} par minute)
        </li>
      </ul>
      <svg
        xmlns="http://www.w3.org/2000/svg"
        class="tdb-graphique tdb-graphique--large"
        viewBox={`0 0 ${COLONNES_LARGEUR} ${COLONNES_HAUTEUR}`}
        width={COLONNES_LARGEUR}
        height={COLONNES_HAUTEUR}
        role="img"
        aria-labelledby={`${id}-titre ${id}-desc`}
      >
        <title id={`${id}-titre`}>{titre}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        <defs>
          <pattern id={`${id}-hachures`} patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">
            <rect class="tdb-hachures-fond" width="6" height="6" />
            <line class="tdb-hachures" x1="0" y1="0" x2="0" y2="6" />
          </pattern>
        </defs>
        <rect class="tdb-fond" x={MARGE} y={MARGE} width={COLONNES_LARGEUR - 2 * MARGE} height={utile} />
        {minutes.map((m, i) => {
          const x = MARGE + i * pas + 1;
          const hautEnLigne = y(m.enLigne);
          const hautTotal = y(m.enLigne + m.campagne);
          return (
            <g key={m.minute} class="tdb-minute">
              <title>{`${minuteParis(m.minute)} : ${nombre.format(m.enLigne)} en ligne, ${nombre.format(m.campagne)} de campagne`}</title>
              {m.enLigne > 0 ? <rect class="tdb-barre" x={x} y={hautEnLigne} width={largeur} height={MARGE + utile - hautEnLigne} /> : null}
              {m.campagne > 0 ? (
                <rect class="tdb-barre-campagne" fill={`url(#${id}-hachures)`} x={x} y={hautTotal} width={largeur} height={hautEnLigne - hautTotal} />
              ) : null}
            </g>
          );
        })}
        <line class="tdb-quota" x1={MARGE} x2={COLONNES_LARGEUR - MARGE} y1={y(limite)} y2={y(limite)} />
        <text class="tdb-texte" x={MARGE} y={COLONNES_HAUTEUR - 4}>
          {premiere ? minuteParis(premiere.minute) : ''}
        </text>
        <text class="tdb-texte" x={COLONNES_LARGEUR - MARGE} y={COLONNES_HAUTEUR - 4} text-anchor="end">
          {derniere ? minuteParis(derniere.minute) : ''}
        </text>
      </svg>
      <details class="tdb-details">
        <summary>Les valeurs, minute par minute</summary>
        <div class="table-wrapper" role="region" aria-label={`${titre} : tableau des valeurs`} tabIndex={0}>
          <table class="donnees tdb-table">
            <caption>{`${titre} : les valeurs`}</caption>
            <thead>
              <tr>
                <th scope="col">Minute (heure de Paris)</th>
                <th scope="col" class="number">
                  En ligne et guichet
                </th>
                <th scope="col" class="number">
                  Campagnes
                </th>
              </tr>
            </thead>
            <tbody>
              {minutes.map((m) => (
                <tr key={m.minute}>
                  <th scope="row">{minuteParis(m.minute)}</th>
                  <td class="number">{nombre.format(m.enLigne)}</td>
                  <td class="number">{nombre.format(m.campagne)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td class="number">{nombre.format(enLigne)}</td>
                <td class="number">{nombre.format(campagne)}</td>
              </tr>
            </tfoot>
          </table>
        </div>
      </details>
    </figure>
  );
}
