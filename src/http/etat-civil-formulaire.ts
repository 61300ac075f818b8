import { z } from 'zod';
import { parseDateSaisie } from '../domain/dates.ts';
import type { ErrorDetail } from '../domain/errors.ts';
import { lieuNaissanceDgfip, longueursEtatCivil, naissancePlausible, nomPlausible } from '../domain/etat-civil.ts';
import { ressembleANumeroFiscal } from '../domain/numero-fiscal.ts';
import { communesDuCode, normaliserNomCommune, rechercherCommunes, type Commune } from '../infra/communes/communes.ts';
import type { EtatCivil } from '../sources/etat-civil/etat-civil.ts';
import { lireChamps, texte } from './formulaire.ts';

/**
 * The état civil form of the portal and the counter, one fieldset per declarant (`ec-<rang>-…`),
 * read into what R2P and SFiP take. The commune of birth is searched without script: the form is
 * posted back with `action=rechercher-<rang>` and shown again with the matching communes as
 * choices. A post-back rather than a GET form, so that the état civil typed never goes into a URL.
 */
export interface LectureEtatCivil {
  /** The états civils read, when nothing is to correct and no search was asked. */
  readonly etatsCivils?: ReadonlyMap<1 | 2, EtatCivil>;
  readonly errors: ErrorDetail[];
  /** The communes to choose from, per declarant, after a search or an ambiguous name. */
  readonly candidats: ReadonlyMap<1 | 2, readonly Commune[]>;
  /** True when the person asked for a search: no error is shown for fields not yet filled. */
  readonly recherche: boolean;
}

const champs = z.record(z.string(), texte());
const CHAMPS_COMMUNS = ['action', 'accord-etat-civil'];

/** Reads the form for `rangs`; `aujourdhui` (ISO) bounds the birth date. */
export function lireEtatsCivils(rangs: ReadonlyArray<1 | 2>, body: unknown, aujourdhui: string, options: { accord?: boolean } = {}): LectureEtatCivil {
  // Only this form's fields: the same page may carry a numéro fiscal for another declarant, read by its own reader.
  const posted = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const v = lireChamps(champs, Object.fromEntries(Object.entries(posted).filter(([k]) => k.startsWith('ec-') || CHAMPS_COMMUNS.includes(k)))) as Record<
    string,
    string
  >;
  const get = (name: string) => (v[name] ?? '').trim();
  const action = get('action');
  const errors: ErrorDetail[] = [];
  const candidats = new Map<1 | 2, readonly Commune[]>();
  const etatsCivils = new Map<1 | 2, EtatCivil>();
  const recherche = action.startsWith('rechercher-');
  for (const rang of rangs) {
    const id = (champ: string) => `ec-${rang}-${champ}`;
    const erreur = (champ: string, message: string) => errors.push({ path: id(champ), message });
    if (action === `rechercher-${rang}`) {
      const trouves = rechercherCommunes(get(id('commune')));
      candidats.set(rang, trouves);
      if (trouves.length === 0) erreur('commune', 'Aucune commune ne correspond : vérifiez l’orthographe, ou tapez le début du nom.');
      continue;
    }
    if (recherche) continue;
    const nom = get(id('nom'));
    const prenoms = get(id('prenoms'));
    for (const [champ, valeur, libelle] of [
      ['nom', nom, 'le nom de naissance'],
      ['prenoms', prenoms, 'les prénoms'],
    ] as const) {
      if (valeur === '') erreur(champ, `Indiquez ${libelle}, comme sur l’acte de naissance.`);
      else if (ressembleANumeroFiscal(valeur)) erreur(champ, 'Ce champ semble contenir un numéro fiscal : retirez-le.');
      else if (!nomPlausible(valeur))
        erreur(champ, champ === 'nom' ? 'Le nom de naissance ne contient pas de chiffre.' : 'Les prénoms ne contiennent pas de chiffre.');
    }
    for (const e of longueursEtatCivil({ nom, prenoms })) erreur(e.champ, e.message);
    const sexe = get(id('sexe'));
    if (sexe !== '' && sexe !== 'F' && sexe !== 'M') erreur('sexe-F', 'Choisissez « femme » ou « homme ».');
    const naissanceSaisie = get(id('naissance'));
    const naissance = naissanceSaisie === '' ? null : parseDateSaisie(naissanceSaisie);
    if (naissanceSaisie === '') erreur('naissance', 'Indiquez la date de naissance, par exemple 09/04/1981.');
    else if (naissance === null || !naissancePlausible(naissance, aujourdhui))
      erreur('naissance', 'La date de naissance s’écrit JJ/MM/AAAA, par exemple 09/04/1981.');
    let lieu: ReturnType<typeof lieuNaissanceDgfip> = null;
    if (get(id('ne')) === 'etranger') {
      const pays = get(id('pays')) === 'autre' ? get(id('code-pays')) : get(id('pays'));
      lieu = /^99[0-9]{3}$/.test(pays) && pays !== '99100' ? lieuNaissanceDgfip(pays) : null;
      if (!lieu) erreur('pays', 'Choisissez le pays de naissance, ou donnez son code INSEE (5 chiffres commençant par 99).');
    } else {
      const choisi = get(id('code-commune'));
      const saisie = get(id('commune'));
      let commune: Commune | undefined = choisi !== '' ? communesDuCode(choisi)[0] : undefined;
      if (!commune && saisie !== '') {
        const exacts = rechercherCommunes(saisie, 50).filter(
          (c) => normaliserNomCommune(c.nom) === normaliserNomCommune(saisie) || c.code === saisie.toUpperCase(),
        );
        if (new Set(exacts.map((c) => c.code)).size === 1) commune = exacts[0];
        else {
          candidats.set(rang, exacts.length > 0 ? exacts : rechercherCommunes(saisie));
          erreur('commune', 'Choisissez la commune de naissance dans la liste proposée.');
        }
      }
      // Optional, as for the DGFiP: without it, homonyms cannot be told apart, which the answer then says.
      if (commune) lieu = lieuNaissanceDgfip(commune.code);
    }
    if (errors.some((e) => e.path.startsWith(`ec-${rang}-`))) continue;
    etatsCivils.set(rang, {
      nom,
      prenoms,
      ...(sexe === 'F' || sexe === 'M' ? { sexe } : {}),
      ...(naissance ? { dateNaissance: naissance } : {}),
      ...(lieu ?? {}),
    });
  }
  if (options.accord && !recherche && get('accord-etat-civil') !== 'oui') {
    errors.push({ path: 'accord-etat-civil', message: 'Cochez la case d’accord : sans elle, l’état civil ne peut pas être transmis à la DGFiP.' });
  }
  return { ...(errors.length === 0 && !recherche ? { etatsCivils } : {}), errors, candidats, recherche };
}

/** The form's fields pre-filled from a declared parent: the household already gives names and birth date. */
export function valeursEtatCivil(
  rang: 1 | 2,
  parent: { nomNaissance: string; prenoms: string; dateNaissance: string | null } | undefined,
): Record<string, string> {
  if (!parent) return {};
  const d = parent.dateNaissance;
  return {
    [`ec-${rang}-nom`]: parent.nomNaissance,
    [`ec-${rang}-prenoms`]: parent.prenoms,
    ...(d ? { [`ec-${rang}-naissance`]: `${d.slice(8, 10)}/${d.slice(5, 7)}/${d.slice(0, 4)}` } : {}),
  };
}
