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
