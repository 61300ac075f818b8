import type { ComponentChildren } from 'preact';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { STATUTS } from '../../domain/demande.ts';
import type { CompteConnecte } from '../comptes/comptes-service.ts';
import type { FamillesService, HistoriqueDemande } from '../familles/familles-service.ts';
import { QuotientEnVigueur } from './quotient-views.tsx';

/** The requests still on their way: the family waits, nothing to redo. */
const EN_COURS = new Set(['brouillon', 'consentie', 'en_file', 'en_cours', 'a_verifier']);
/** The requests the family can correct and relaunch, its consent still valid. */
const A_REPRENDRE = new Set(['a_ressaisir', 'echouee']);

/**
 * « Mon espace »: the QF in force (value, tranche, validity, prices, source; never the RFR) and the
 * one thing to do next, said plainly. The sign-in routes render it inside their page.
 */
export function contenuMonEspace(familles: Pick<FamillesService, 'historique' | 'composition'>) {
  return async (compte: CompteConnecte): Promise<ComponentChildren> => {
    const [historique, composition] = await Promise.all([familles.historique(compte.familleId), familles.composition(compte.familleId)]);
    const enVigueur = historique.find((d) => d.quotient?.etat === 'en_vigueur')?.quotient;
    // Without a QF in force, the next one (computed now, applied from a later day) is not « nothing »: no new request to make.
    const aVenir = enVigueur ? undefined : historique.find((d) => d.quotient?.etat === 'a_venir')?.quotient;
    const affiche = enVigueur ?? aVenir;
    return (
      <>
        {affiche ? <QuotientEnVigueur q={affiche} aVenir={aVenir !== undefined} /> : null}
        <section aria-labelledby="a-faire" class="encart">
          <h2 id="a-faire">{affiche ? 'Et maintenant ?' : 'Ce qu’il reste à faire'}</h2>
          <Suite historique={historique} aCompleter={composition.aCompleter} valideAu={affiche?.valideAu} valideDu={aVenir?.valideDu} />
        </section>
      </>
    );
  };
}

function Suite({
  historique,
  aCompleter,
  valideAu,
  valideDu,
}: {
  historique: readonly HistoriqueDemande[];
  aCompleter: boolean;
  valideAu: string | undefined;
  /** Set when the QF shown takes effect later. */
  valideDu?: string | undefined;
}) {
  const derniere = historique[0];
  if (derniere && EN_COURS.has(derniere.statut)) {
    return (
      <p>
        Votre demande {derniere.reference} est {STATUTS[derniere.statut].libelle.toLowerCase()} : {STATUTS[derniere.statut].explication}{' '}
        <a href={`/mon-quotient/demandes/${derniere.id}`}>Suivre ma demande {derniere.reference}</a>
      </p>
    );
  }
  if (!valideAu && derniere && A_REPRENDRE.has(derniere.statut)) {
    return (
      <>
        <p>Votre demande {derniere.reference} n’a pas abouti. Votre accord reste valable : corrigez le numéro fiscal et relancez-la.</p>
        <p>
          <a class="button" href={`/mon-quotient/demandes/${derniere.id}`}>
            Corriger et relancer ma demande
          </a>
        </p>
      </>
    );
  }
  if (aCompleter) {
    return (
      <>
        <p>Pour commencer, indiquez qui compose votre foyer : les parents et les enfants.</p>
        <p>
          <a class="button" href="/mon-foyer">
            Compléter mon foyer
          </a>
        </p>
      </>
    );
  }
  if (valideAu) {
    return (
      <p>
        Rien à faire : ce quotient s’applique {valideDu ? `du ${formatDateFrancaise(valideDu)} ` : ''}jusqu’au {formatDateFrancaise(valideAu)}. Si votre
        situation a changé depuis (naissance, séparation, perte d’emploi…), vous pouvez <a href="/mon-quotient">faire une nouvelle demande</a>.
      </p>
    );
  }
  return (
    <>
      <p>Vous n’avez pas de quotient familial en vigueur : faites votre demande, elle prend quelques minutes.</p>
      <p>
        <a class="button" href="/mon-quotient">
          Faire ma demande
        </a>
      </p>
    </>
  );
}
