import { z } from 'zod';
import { LIBELLES_ROLE_PARENT, ROLES_PARENT, type RoleParent } from './controle-identite.ts';
import { QuotientError } from './errors.ts';
import { invalidInput, parseOptions } from './zod-francais.ts';

/**
 * The consentement: the record that a declarant agreed that the commune asks the DGFiP for the
 * listed data, for a stated purpose (arrêté of 1 September 2016; CGU of API Impôt particulier).
 * Invariant 2: no fiscal call without a recorded consent covering the data asked for, which
 * `exigerConsentement` checks just before the call.
 *
 * The data are the fields of the commune's habilitation (DGFiP field names such as `rfr` or
 * `pac.nbPac`), each kept with the French label the family read: the record must prove what was
 * shown even after the labels of the software change.
 */

export const MODES_CONSENTEMENT = ['en_ligne', 'formulaire_signe', 'courriel'] as const;
export type ModeConsentement = (typeof MODES_CONSENTEMENT)[number];

export const LIBELLES_MODE_CONSENTEMENT: Record<ModeConsentement, string> = {
  en_ligne: 'en ligne, par la famille',
  formulaire_signe: 'sur un formulaire signé, enregistré par un agent',
  courriel: 'par courriel, enregistré par un agent',
};

/** Who recorded the consent: the family online, or the agent who received the form or e-mail. */
export interface AuteurConsentement {
  readonly type: 'famille' | 'agent';
  readonly id: string;
}

export interface DonneeConsentie {
  /** Field of the habilitation (`rfr`, `nbPart`, `pac.nbPac`, `nmNaiDec1`…). */
  readonly champ: string;
  /** What the family read, in French. */
  readonly libelle: string;
}

export interface Consentement {
  /** The declarant whose fiscal data may be fetched. */
  readonly declarant: RoleParent;
  readonly donnePar: AuteurConsentement;
  readonly mode: ModeConsentement;
  /** For a signed form or an e-mail: what was received and when (« formulaire signé du 12/09/2025 »). */
  readonly piece: string | null;
  /** ISO 8601 instant with its offset. */
  readonly recueilliLe: string;
  /** Version of the consent text shown. */
  readonly versionTexte: string;
  readonly donnees: readonly DonneeConsentie[];
  /** The purpose, as stated to the family. */
  readonly finalite: string;
  /** Set when the declarant withdrew the consent; a withdrawn consent covers nothing. */
  readonly retireLe: string | null;
}

export interface OptionsConsentement {
  /**
   * Labels of the habilitation's fields. When given, a field outside it is refused and a field
   * given by its code alone takes its label from here.
   */
  readonly libelles?: Readonly<Record<string, string>>;
}

const CHAMP_RE = /^[A-Za-z][A-Za-z0-9_.]{0,49}$/;
export const texte = (max: number) => z.string().trim().min(1).max(max);
export const instant = z.iso.datetime({ offset: true, message: 'date et heure attendues au format ISO 8601 (par exemple 2025-09-02T08:15:00Z)' });

/** The fields every consent records (who, how, when, which text, which data, why), a standing one included. */
export function champsDeConsentement<const M extends readonly [string, ...string[]]>(modes: M, libelles: Readonly<Record<string, string>> | undefined) {
  const champ = z
    .string()
    .trim()
    .regex(CHAMP_RE, { message: 'nom de champ de l’habilitation attendu (par exemple « rfr » ou « pac.nbPac »)' })
    .refine((c) => !libelles || Object.hasOwn(libelles, c), { message: 'cette donnée ne figure pas dans l’habilitation de la commune' });
  // A field may be given by its code alone; its label then comes from the habilitation.
  const donnee = z.preprocess((v) => (typeof v === 'string' ? { champ: v } : v), z.strictObject({ champ, libelle: texte(300).optional() }));
  return {
    declarant: z.enum(ROLES_PARENT),
    donnePar: z.strictObject({ type: z.enum(['famille', 'agent']), id: texte(100) }),
    mode: z.enum(modes),
    piece: texte(500).nullable().default(null),
    recueilliLe: instant,
    versionTexte: texte(50),
    donnees: z.array(donnee).min(1, 'au moins une donnée').max(100),
    finalite: texte(1000),
    retireLe: instant.nullable().default(null),
  };
}

/** What every consent checks beyond its fields: each datum listed once and labelled, no withdrawal before the consent. */
export function verifierDonneesEtRetrait(
  c: { readonly donnees: ReadonlyArray<{ champ: string; libelle?: string | undefined }>; readonly retireLe: string | null; readonly recueilliLe: string },
  ctx: z.RefinementCtx,
  libelles: Readonly<Record<string, string>> | undefined,
): void {
  const vus = new Set<string>();
  c.donnees.forEach((d, i) => {
    if (vus.has(d.champ)) ctx.addIssue({ code: 'custom', path: ['donnees', i, 'champ'], message: 'donnée listée deux fois' });
    vus.add(d.champ);
    // With a catalogue, an unknown field is already reported on `champ`.
    if (d.libelle === undefined && !libelles) {
      ctx.addIssue({ code: 'custom', path: ['donnees', i, 'libelle'], message: 'indiquez le libellé montré à la famille' });
    }
  });
  if (c.retireLe !== null && Date.parse(c.retireLe) < Date.parse(c.recueilliLe)) {
    ctx.addIssue({ code: 'custom', path: ['retireLe'], message: 'le retrait ne peut pas précéder l’accord' });
  }
}

function schema(libelles: Readonly<Record<string, string>> | undefined) {
  return z.strictObject(champsDeConsentement(MODES_CONSENTEMENT, libelles)).superRefine((c, ctx) => {
    if (c.mode === 'en_ligne' && c.donnePar.type !== 'famille') {
      ctx.addIssue({ code: 'custom', path: ['donnePar', 'type'], message: 'un accord donné en ligne est donné par la famille elle-même' });
    }
    if (c.mode !== 'en_ligne' && c.donnePar.type !== 'agent') {
      ctx.addIssue({ code: 'custom', path: ['donnePar', 'type'], message: 'un accord sur formulaire signé ou par courriel est enregistré par un agent' });
    }
    if (c.mode !== 'en_ligne' && c.piece === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['piece'],
        message: 'obligatoire pour un accord sur formulaire signé ou par courriel : décrivez la pièce reçue et sa date',
      });
    }
    if (c.mode === 'en_ligne' && c.piece !== null) {
      ctx.addIssue({ code: 'custom', path: ['piece'], message: 'sans objet pour un accord donné en ligne' });
    }
    verifierDonneesEtRetrait(c, ctx, libelles);
  });
}

export type ConsentementInput = z.input<ReturnType<typeof schema>>;

/**
 * Validates a consent (from a form, the counter or storage). Throws a `QuotientError`
 * (`invalid`, `consentement_invalide`) naming each faulty field. The result is frozen.
 */
export function parseConsentement(input: unknown, options: OptionsConsentement = {}): Consentement {
  const result = schema(options.libelles).safeParse(input, parseOptions);
  if (!result.success) {
    throw invalidInput('consentement_invalide', 'Le consentement est incomplet ou incohérent.', result.error.issues);
  }
  const c = result.data;
  const donnees = c.donnees.map((d) => Object.freeze({ champ: d.champ, libelle: d.libelle ?? (options.libelles?.[d.champ] as string) }));
  return Object.freeze({ ...c, donnePar: Object.freeze({ ...c.donnePar }), donnees: Object.freeze(donnees) });
}

/** The requested fields the consent does not list, once each, in the order asked. */
export function champsNonCouverts(consentement: Consentement, champsDemandes: readonly string[]): string[] {
  const couverts = new Set(consentement.donnees.map((d) => d.champ));
  return [...new Set(champsDemandes)].filter((c) => !couverts.has(c));
}

/**
 * True when the consent allows a call asking for these fields: it is not withdrawn and lists each
 * of them. A call asking for nothing is not covered: it is a bug upstream, never a pass.
 */
export function consentementCouvre(consentement: Consentement, champsDemandes: readonly string[]): boolean {
  return consentement.retireLe === null && champsDemandes.length > 0 && champsNonCouverts(consentement, champsDemandes).length === 0;
}

/** `a`, `a et b`, `a, b et c`. */
export function listeEnFrancais(elements: readonly string[]): string {
  if (elements.length <= 1) return elements.join('');
  return `${elements.slice(0, -1).join(', ')} et ${elements[elements.length - 1]}`;
}

/** Most recent first; the rest only makes the choice independent of the order of the list. */
function plusRecentDabord(a: Consentement, b: Consentement): number {
  const ja = JSON.stringify(a);
  const jb = JSON.stringify(b);
  return Date.parse(b.recueilliLe) - Date.parse(a.recueilliLe) || (ja < jb ? -1 : ja > jb ? 1 : 0);
}

export interface AppelFiscal {
  /** The declarant whose numéro fiscal will be sent. */
  readonly declarant: RoleParent;
  /** Fields the call asks for (the habilitation's, after minimisation). */
  readonly champs: readonly string[];
  /** When the call is made (ISO instant): a consent recorded later does not count. */
  readonly le?: string;
}

/**
 * The check made just before a fiscal call (invariant 2). Returns the most recent consent of the
 * declarant that covers the call; otherwise throws a `QuotientError` (`forbidden`) saying in
 * French what is missing: `consentement_absent`, `consentement_retire` or
 * `consentement_insuffisant` (naming the uncovered data).
 */
export function exigerConsentement(consentements: readonly Consentement[], appel: AppelFiscal, options: OptionsConsentement = {}): Consentement {
  if (appel.champs.length === 0) {
    throw new QuotientError('invalid', 'appel_sans_donnee', 'Un appel à la DGFiP doit demander au moins une donnée.');
  }
  const qui = appel.declarant === 'titulaire' ? `du ${LIBELLES_ROLE_PARENT.titulaire}` : `de l’${LIBELLES_ROLE_PARENT.autre_parent}`;
  const avant = appel.le === undefined ? Number.POSITIVE_INFINITY : Date.parse(appel.le);
  const siens = consentements.filter((c) => c.declarant === appel.declarant && Date.parse(c.recueilliLe) <= avant);
  if (siens.length === 0) {
    throw new QuotientError('forbidden', 'consentement_absent', `Aucun accord ${qui} n’est enregistré : la DGFiP ne peut pas être interrogée.`);
  }
  const actifs = siens.filter((c) => c.retireLe === null);
  if (actifs.length === 0) {
    throw new QuotientError('forbidden', 'consentement_retire', `L’accord ${qui} a été retiré : la DGFiP ne peut plus être interrogée pour cette personne.`);
  }
  const couvrants = actifs.filter((c) => consentementCouvre(c, appel.champs));
  if (couvrants.length === 0) {
    // Name what the most recent consent lacks: that is the one a new consent would replace.
    const dernier = [...actifs].sort(plusRecentDabord)[0] as Consentement;
    const manquants = champsNonCouverts(dernier, appel.champs);
    throw new QuotientError(
      'forbidden',
      'consentement_insuffisant',
      `L’accord ${qui} ne couvre pas ${listeEnFrancais(manquants.map((c) => options.libelles?.[c] ?? `« ${c} »`))} : un nouvel accord est nécessaire avant d’interroger la DGFiP.`,
      { details: manquants.map((c) => ({ path: 'champs', message: `donnée non couverte : ${c}` })) },
    );
  }
  return [...couvrants].sort(plusRecentDabord)[0] as Consentement;
}
