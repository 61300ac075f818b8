import type { NumeroFiscal } from '../domain/numero-fiscal.ts';
import type { SituationFiscale } from '../domain/situation-fiscale.ts';
import type { EtatCivil } from './etat-civil/etat-civil.ts';
import { ErreurSource, type OptionsErreurSource, type RaisonsSource } from './erreur-source.ts';

/** What API Impôt particulier answers alone: by numéro fiscal, or for the person behind a FranceConnect token. */
export interface SourceParIdentifiant {
  parNumeroFiscal(spi: NumeroFiscal, options?: OptionsAppel): Promise<SituationFiscale>;
  parFranceConnect(franceConnectToken: string, options?: OptionsAppel): Promise<SituationFiscale>;
}

/**
 * The one port through which Quotient obtains a foyer fiscal's situation: by numéro fiscal, for
 * the person behind a FranceConnect token, or by état civil. The request service depends on it;
 * `DgfipSource` (`dgfip-source.ts`) implements it over API Impôt particulier, SFiP and R2P. Every
 * adapter answers a `SituationFiscale`, already minimised and naming its source, or throws a
 * `SourceFiscaleError`. Nothing else escapes an adapter — and by état civil through R2P, the
 * numéro fiscal R2P gives never leaves it.
 */
export interface FiscalSource extends SourceParIdentifiant {
  parEtatCivil(etatCivil: EtatCivil, options?: OptionsAppel): Promise<SituationFiscale>;
}

export interface OptionsAppel {
  /** The income year wanted; without it, the latest the habilitation allows (N-1, else N-2). */
  readonly anneeRevenus?: number;
  readonly signal?: AbortSignal;
  /** A campaign's call waits for a quota slot online requests leave (default: online, first). */
  readonly priorite?: 'en_ligne' | 'campagne';
}

/** Why a source could not answer; each has its French explanation and its error kind. */
export type RaisonEchec =
  | 'introuvable'
  | 'annee_indisponible'
  | 'situation_multiple'
  | 'etat_civil_ambigu'
  | 'etat_civil_introuvable'
  | 'dossier_non_communicable'
  | 'etat_civil_trop_long'
  | 'criteres_invalides'
  | 'numero_fiscal_invalide'
  | 'requete_refusee'
  | 'annee_hors_habilitation'
  | 'acces_refuse'
  | 'identifiants_refuses'
  | 'certificat_refuse'
  | 'certificat_serveur_refuse'
  | 'quota_depasse'
  | 'injoignable'
  | 'indisponible'
  | 'reponse_invalide'
  | 'situation_incomplete'
  | 'appels_suspendus'
  | 'jeton_franceconnect_refuse';

const RAISONS: RaisonsSource<RaisonEchec> = {
  introuvable: { kind: 'not_found', message: 'La DGFiP ne connaît aucun avis d’imposition pour ce numéro fiscal et cette année.' },
  annee_indisponible: { kind: 'not_found', message: 'Cette année de revenus n’est pas encore imposée : l’avis n’existe pas encore.' },
  situation_multiple: {
    kind: 'conflict',
    message: 'Plusieurs avis existent pour cette année (par exemple après un décès) : un instructeur doit examiner la demande.',
  },
  etat_civil_ambigu: {
    kind: 'conflict',
    message: 'Plusieurs personnes correspondent à cet état civil : il faut préciser la date et le lieu de naissance, ou saisir le numéro fiscal.',
  },
  etat_civil_introuvable: {
    kind: 'not_found',
    message:
      'Aucune personne ne correspond à cet état civil à la DGFiP : vérifiez le nom de naissance, les prénoms dans l’ordre de l’acte de naissance et la date de naissance, ou saisissez le numéro fiscal.',
  },
  dossier_non_communicable: {
    kind: 'forbidden',
    message:
      'La DGFiP ne communique pas ce dossier à partir de l’état civil : saisissez le numéro fiscal (en haut de l’avis d’imposition), ou présentez l’avis au guichet de la mairie.',
  },
  etat_civil_trop_long: {
    kind: 'invalid',
    message: 'Le nom de naissance (100 caractères au plus) ou un prénom (20 caractères au plus chacun) dépasse les limites de la DGFiP : rien n’a été envoyé.',
  },
  criteres_invalides: { kind: 'invalid', message: 'L’état civil transmis est incomplet ou mal formé (nom, prénom, date de naissance).' },
  numero_fiscal_invalide: { kind: 'invalid', message: 'La DGFiP juge le numéro fiscal mal formé.' },
  // A 400 other than 4001: the DGFiP read the request and refused it as malformed (its code and
  // words follow); it is neither a broken answer nor an outage.
  requete_refusee: { kind: 'invalid', message: 'La DGFiP refuse la requête comme mal formée.' },
  // Decided here, before any call: nothing was sent, so the DGFiP refused nothing.
  annee_hors_habilitation: {
    kind: 'invalid',
    message: 'Cette année de revenus n’est pas couverte par l’habilitation du téléservice : aucune demande n’a été envoyée à la DGFiP.',
  },
  acces_refuse: { kind: 'unavailable', message: 'La DGFiP refuse l’accès à cette ressource ou à cette année : vérifiez l’habilitation du téléservice.' },
  identifiants_refuses: {
    kind: 'unavailable',
    message: 'La DGFiP refuse les identifiants du téléservice (DGFIP_CLIENT_ID, DGFIP_CLIENT_SECRET ou DGFIP_SCOPE).',
  },
  certificat_refuse: { kind: 'unavailable', message: 'La DGFiP refuse le certificat client du téléservice (DGFIP_CLIENT_CERT, DGFIP_CLIENT_KEY).' },
  certificat_serveur_refuse: { kind: 'unavailable', message: 'Le certificat présenté par la passerelle de la DGFiP n’est pas reconnu (DGFIP_CA).' },
  quota_depasse: { kind: 'rate_limited', message: 'Le quota d’appels vers la DGFiP est atteint : la demande reprendra dès qu’un créneau se libère.' },
  injoignable: { kind: 'unavailable', message: 'La passerelle de la DGFiP est injoignable (adresse, réseau ou pare-feu).' },
  indisponible: { kind: 'unavailable', message: 'Le service de la DGFiP est momentanément indisponible.' },
  reponse_invalide: { kind: 'upstream', message: 'La DGFiP a renvoyé une réponse inutilisable.' },
  situation_incomplete: {
    kind: 'upstream',
    message: 'L’avis reçu ne dit pas tout ce que le calcul demande (par exemple le nombre de personnes à charge) : un instructeur doit examiner la demande.',
  },
  // Not the DGFiP's doing: Quotient holds its calls (an incident switch, the integrity halt).
  appels_suspendus: { kind: 'unavailable', message: 'Les appels à la DGFiP sont suspendus : aucun n’est envoyé pour le moment.' },
  // The person's FranceConnect token (X-FranceConnect-OAuth), not the téléservice's: they sign in again.
  jeton_franceconnect_refuse: {
    kind: 'unauthenticated',
    message: 'La DGFiP refuse la connexion FranceConnect (expirée ou retirée) : reconnectez-vous avec FranceConnect.',
  },
};

export class SourceFiscaleError extends ErreurSource<RaisonEchec> {
  constructor(raison: RaisonEchec, options: OptionsErreurSource = {}) {
    super('dgfip', RAISONS, raison, options);
  }
}

export function isSourceFiscaleError(error: unknown): error is SourceFiscaleError {
  return error instanceof SourceFiscaleError;
}
