import { departementEtCommune, type Personne, type SitFam, type Situation } from './population.ts';
import { QuotientError } from '../domain/errors.ts';

/**
 * What a téléservice receives. The DGFiP answers only the fields of the contract attached to the
 * ID_Teleservice (its DataPass habilitation), sandbox included; this module renders a whole avis in
 * the DGFiP's own JSON and then keeps only the contracted fields.
 */

/** Top-level fields of the IR assiettes schemas (plus `spiDec1`/`spiDec2` of the `multiple` one). */
export const IR_FIELDS = [
  'rfr',
  'sitFam',
  'nbPart',
  'pac',
  'nmNaiDec1',
  'nmUsaDec1',
  'prnmDec1',
  'dateNaisDec1',
  'dptNaissDec1',
  'lieuNaissDec1',
  'nmNaiDec2',
  'nmUsaDec2',
  'prnmDec2',
  'dateNaisDec2',
  'dptNaissDec2',
  'lieuNaissDec2',
  'aft',
  'aftDetail',
  'sitParIso',
  'pensAlPer',
  'indDeficit',
  'revenuBrutGlobal',
  'sitPart',
  'sitParDeclaree',
  'indOptionImpotSepar',
  'mntRevbareme',
  'datRec',
  'datEtab',
  'impAvImput',
  'montTotIr',
  'revImposable',
  'numRole',
  'fipNum',
  'rev',
  'spiDec1',
  'spiDec2',
] as const;

const SUB_FIELDS: Readonly<Record<string, readonly string[]>> = {
  pac: ['nbPac', 'nbPacF', 'nbPacG', 'nbPacH', 'nbPacI', 'nbPacR', 'nbPacJ', 'nbPacN', 'nbPacP'],
  rev: ['tspr', 'rcm', 'pv', 'fonc', 'pro', 'chges', 'rici', 'alpha', 'div'],
  aftDetail: ['complementAdresse', 'voie', 'codePostal', 'commune', 'getcodePostal', 'getcommune'],
};

/**
 * The contract of a municipal QF téléservice: what the tariff policy and the identity control need
 * (DataPass scopes dgfip_rfr, dgfip_nbpart, dgfip_sitfam, dgfip_pac_nbPac, état civil of both
 * declarants, dgfip_aft).
 */
export const DEFAULT_CONTRACT: readonly string[] = [
  'rfr',
  'nbPart',
  'sitFam',
  'pac.nbPac',
  'nmNaiDec1',
  'nmUsaDec1',
  'prnmDec1',
  'dateNaisDec1',
  'nmNaiDec2',
  'nmUsaDec2',
  'prnmDec2',
  'dateNaisDec2',
  'aft',
];

/** `pac` and `pac.nbPac` are both valid: the whole object or one of its members. */
export function validateContract(fields: readonly string[]): void {
  for (const f of fields) {
    const [parent = '', child, ...rest] = f.split('.');
    const known = (IR_FIELDS as readonly string[]).includes(parent) && rest.length === 0 && (child === undefined || (SUB_FIELDS[parent] ?? []).includes(child));
    if (!known) throw new QuotientError('invalid', 'configuration_bac_a_sable', `Champ de contrat inconnu : « ${f} ».`);
  }
}

export type AftDetailKeys = 'codePostal' | 'getcodePostal';

type Json = Record<string, unknown>;

function declarant(p: Personne | undefined, n: 1 | 2): Json {
  if (!p) return {};
  const lieu = p.cogNaissance ? departementEtCommune(p.cogNaissance) : undefined;
  return {
    [`nmNaiDec${n}`]: p.nomNaissance,
    ...(p.nomUsage ? { [`nmUsaDec${n}`]: p.nomUsage } : {}),
    [`prnmDec${n}`]: p.prenoms,
    ...(p.naissance ? { [`dateNaisDec${n}`]: { jour: p.naissance.jour, mois: p.naissance.mois, annee: p.naissance.annee } } : {}),
    ...(lieu ? { [`dptNaissDec${n}`]: lieu.dept } : {}),
  };
}

const defined = (o: Json): Json => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The whole avis in the DGFiP's field names: absent values are left out, never `null`. */
export function renderSituation(s: Situation, aftDetailKeys: AftDetailKeys = 'codePostal'): Json {
  const a = s.adresse;
  const cp = aftDetailKeys === 'codePostal' ? 'codePostal' : 'getcodePostal';
  const commune = aftDetailKeys === 'codePostal' ? 'commune' : 'getcommune';
  return defined({
    rfr: s.rfr,
    sitFam: s.sitFam,
    nbPart: s.nbPart,
    pac: defined({ ...s.pac }),
    ...declarant(s.declarant1, 1),
    ...declarant(s.declarant2, 2),
    aft: a.aft,
    aftDetail: defined({ complementAdresse: a.complementAdresse, voie: a.voie, [cp]: a.codePostal, [commune]: a.commune }),
    sitParIso: s.details.sitParIso,
    indDeficit: s.details.indDeficit,
    revenuBrutGlobal: s.details.revenuBrutGlobal,
    mntRevbareme: s.details.mntRevbareme,
    datRec: s.datRec,
    datEtab: s.datEtab,
    impAvImput: s.details.impAvImput,
    montTotIr: s.details.montTotIr,
    revImposable: s.details.revImposable,
    numRole: s.details.numRole,
    rev: s.details.rev ? defined({ ...s.details.rev }) : undefined,
    spiDec1: s.declarant1.spi,
    spiDec2: s.declarant2?.spi,
  });
}

/** Keeps the contracted fields, in the order of the whole avis. */
export function applyContract(full: Json, fields: readonly string[]): Json {
  const whole = new Set<string>();
  const parts = new Map<string, Set<string>>();
  for (const f of fields) {
    const [parent = '', child] = f.split('.');
    if (child === undefined) whole.add(parent);
    else parts.set(parent, (parts.get(parent) ?? new Set()).add(child));
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(full)) {
    if (whole.has(key)) {
      out[key] = value;
    } else if (parts.has(key) && value !== null && typeof value === 'object') {
      const wanted = parts.get(key) as Set<string>;
      const picked = Object.fromEntries(Object.entries(value as Json).filter(([k]) => wanted.has(k)));
      if (Object.keys(picked).length > 0) out[key] = picked;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// API Particulier v2 (legacy avis-imposition), as siade built it from Impôt particulier.

const SITUATION_FAMILLE: Readonly<Record<SitFam, string>> = {
  M: 'Marié(e)s',
  O: 'Pacsé(e)s',
  C: 'Célibataire',
  D: 'Divorcé(e)',
  V: 'Veuf(ve)',
};

const frDate = (iso: string): string => {
  const [y = '', m = '', d = ''] = iso.split('-');
  return `${d}/${m}/${y}`;
};

function declarantV2(p: Personne | undefined): Json {
  if (!p) return { nom: '', nomNaissance: '', prenoms: '', dateNaissance: '' };
  const n = p.naissance;
  return {
    nom: p.nomUsage ?? '',
    nomNaissance: p.nomNaissance,
    prenoms: p.prenoms,
    dateNaissance: n ? `${n.jour}/${n.mois}/${n.annee}` : '',
  };
}

/**
 * The v2 body. Amounts the schema declares nullable are `null` when not positive; amounts it does
 * not declare nullable are left out when unknown. The `/api/impots/svair` alias leaves out the
 * `null`s too (`omitNulls`).
 */
export function renderAvisV2(s: Situation, omitNulls = false): Json {
  const positive = (n: number | undefined): number | null => (n !== undefined && n > 0 ? n : null);
  const body: Json = {
    declarant1: declarantV2(s.declarant1),
    declarant2: declarantV2(s.declarant2),
    dateRecouvrement: frDate(s.datRec),
    dateEtablissement: frDate(s.datEtab),
    nombreParts: s.nbPart,
    situationFamille: SITUATION_FAMILLE[s.sitFam],
    nombrePersonnesCharge: s.pac.nbPac,
    revenuBrutGlobal: s.details.revenuBrutGlobal,
    revenuImposable: s.details.revImposable,
    impotRevenuNetAvantCorrections: positive(s.details.impAvImput),
    montantImpot: positive(s.details.montTotIr),
    revenuFiscalReference: s.rfr,
    anneeImpots: String(s.annrev + 1),
    anneeRevenus: String(s.annrev),
    erreurCorrectif: '',
    situationPartielle: s.periode ? `(*) Situation  ${s.annrev} partielle` : '',
    foyerFiscal: { adresse: s.adresse.aft, annee: s.annrev + 1 },
  };
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined && !(omitNulls && v === null)));
}
