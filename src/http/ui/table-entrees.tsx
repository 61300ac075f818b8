/**
 * The journal's entries as the auditors read them (number, date, actor, action, target, result,
 * details), on every page of « Contrôle » that shows some: the journal, a sample control, the
 * entries behind a security alert.
 */
import type { ComponentChildren } from 'preact';
import type { EntreeLisible } from '../../modules/controle/lecture-journal.ts';

/** A data table in a region that scrolls sideways on its own, so that the page never does. */
export function Tableau({ caption, children }: { caption: string; children: ComponentChildren }) {
  return (
    <div class="table-wrapper" role="region" aria-label={caption} tabIndex={0}>
      <table class="donnees controle-table">
        <caption>{caption}</caption>
        {children}
      </table>
    </div>
  );
}

/** Who acted, by name; an id only when no name is known (an account deleted since, say). */
function Acteur({ e }: { e: EntreeLisible }) {
  return (
    <>
      {e.acteurTypeLibelle}
      {e.acteurNom === null ? (
        <>
          {' '}
          <code>{e.acteurId}</code>
        </>
      ) : e.acteurNom !== '' ? (
        <>
          {' '}
          <strong>{e.acteurNom}</strong>
        </>
      ) : null}
      {e.pourLeCompteDe ? <span class="controle-secondaire">pour le compte de : {e.pourLeCompteDe}</span> : null}
    </>
  );
}

function Cible({ e }: { e: EntreeLisible }) {
  if (e.cibleType === null) return <span class="muted">—</span>;
  return (
    <>
      {e.cibleTypeLibelle} {e.cibleLibelle ? <strong class="controle-reference">{e.cibleLibelle}</strong> : null}
      <span class="controle-secondaire">
        <code>{e.cibleId}</code>
      </span>
    </>
  );
}

/** `caption` names the table and its scrolling region. */
export function TableEntrees({ entrees, caption }: { entrees: readonly EntreeLisible[]; caption: string }) {
  return (
    <Tableau caption={caption}>
      <thead>
        <tr>
          <th scope="col" class="number">
            N°
          </th>
          <th scope="col">Date (heure de Paris)</th>
          <th scope="col">Acteur</th>
          <th scope="col">Action</th>
          <th scope="col">Cible</th>
          <th scope="col">Résultat</th>
          <th scope="col">Détails</th>
        </tr>
      </thead>
      <tbody>
        {entrees.map((e) => (
          <tr key={e.seq}>
            <td class="number">{e.seq}</td>
            <td class="controle-date">{e.date}</td>
            <td>
              <Acteur e={e} />
            </td>
            <td>
              {e.actionLibelle ?? e.action}
              {e.actionLibelle ? (
                <span class="controle-secondaire">
                  <code>{e.action}</code>
                </span>
              ) : null}
            </td>
            <td>
              <Cible e={e} />
            </td>
            <td>
              <span class={`controle-resultat controle-resultat--${e.resultat}`}>{e.resultatLibelle}</span>
            </td>
            <td class="controle-details">{e.details === '' ? <span class="muted">—</span> : e.details}</td>
          </tr>
        ))}
      </tbody>
    </Tableau>
  );
}
