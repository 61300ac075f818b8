import { z } from 'zod';
import { createSituationFiscale, type SituationFiscale, type SourceSituation } from '../../domain/situation-fiscale.ts';
import { isQuotientError } from '../../domain/errors.ts';

/**
 * The IR assiettes answer of API Impôt particulier (and of SFiP, which relays it), read leniently
 * where the DGFiP's documentation is uncertain (numbers as strings, several date formats, both
 * `codePostal` and `getcodePostal`), then reduced to a `SituationFiscale`: every other field is
 * dropped on receipt (minimisation).
 */
const integer = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^-?[0-9]+$/)
      .transform(Number),
  ])
  .pipe(z.number().int());
const decimal = z.union([
  z.number(),
  z
    .string()
    .regex(/^[0-9]+(?:[.,][0-9]+)?$/)
    .transform((s) => Number(s.replace(',', '.'))),
]);
const text = z.string().max(500);
const dateParts = z.object({
  jour: z.union([z.string(), z.number()]).nullish(),
  mois: z.union([z.string(), z.number()]).nullish(),
  annee: z.union([z.string(), z.number()]).nullish(),
});

export const reponseIrSchema = z.object({
  annRevenu: integer.optional(),
  rfr: integer.optional(),
  nbPart: decimal.optional(),
  sitFam: z.string().optional(),
  pac: z
    .object({
      nbPac: integer.nullish(),
      nbPacF: integer.nullish(),
      nbPacG: integer.nullish(),
      nbPacH: integer.nullish(),
      nbPacI: integer.nullish(),
      nbPacR: integer.nullish(),
      nbPacJ: integer.nullish(),
      nbPacN: integer.nullish(),
      nbPacP: integer.nullish(),
    })
    .nullish(),
  nmNaiDec1: text.nullish(),
  nmUsaDec1: text.nullish(),
  prnmDec1: text.nullish(),
  dateNaisDec1: dateParts.nullish(),
  nmNaiDec2: text.nullish(),
  nmUsaDec2: text.nullish(),
  prnmDec2: text.nullish(),
  dateNaisDec2: dateParts.nullish(),
  aft: text.nullish(),
  sitParIso: z.string().nullish(),
  datEtab: z.string().nullish(),
});

export type ReponseIr = z.infer<typeof reponseIrSchema>;

/**
 * The answer cannot be used as received: malformed (`reponse_invalide`), or well formed but missing
 * what the QF needs and the DGFiP may legitimately leave out (`situation_incomplete`), which an
 * instructor examines instead of the machine guessing.
 */
export class ReponseIrInvalide extends Error {
  constructor(
    message: string,
    readonly raison: 'reponse_invalide' | 'situation_incomplete' = 'reponse_invalide',
  ) {
    super(message);
  }
}

/** `AAAA-MM-JJ` from the DGFiP's `{jour, mois, annee}`; null when incomplete. */
function isoFromParts(parts: z.infer<typeof dateParts> | null | undefined): string | null {
  if (!parts || parts.annee == null || parts.mois == null || parts.jour == null) return null;
  const [y, m, d] = [String(parts.annee), String(parts.mois).padStart(2, '0'), String(parts.jour).padStart(2, '0')];
  return /^[0-9]{4}$/.test(y) && /^[0-9]{2}$/.test(m) && /^[0-9]{2}$/.test(d) ? `${y}-${m}-${d}` : null;
}

/** `datEtab` comes as `AAAA-MM-JJ`, `AAAAMMJJ` or `JJ/MM/AAAA` depending on the source. */
export function isoFromDgfipDate(value: string | null | undefined): string | null {
  if (!value) return null;
  let match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/.exec(value);
  if (match) return `${match[1]}-${match[2]}-${match[3]}`;
  match = /^([0-9]{4})([0-9]{2})([0-9]{2})$/.exec(value);
  if (match) return `${match[1]}-${match[2]}-${match[3]}`;
  match = /^([0-9]{2})\/([0-9]{2})\/([0-9]{4})$/.exec(value);
  if (match) return `${match[3]}-${match[2]}-${match[1]}`;
  return null;
}

const OUI = new Set(['T', 'O', 'OUI', '1', 'TRUE', 'VRAI']);
const NON = new Set(['N', 'NON', '0', 'FALSE', 'FAUX', 'F']);

/** Box T: yes, no, or unknown (absent, empty, or a value we cannot read), never a guessed « no ». */
export function parentIsole(value: string | null | undefined): boolean | null {
  const v = (value ?? '').trim().toUpperCase();
  if (OUI.has(v)) return true;
  if (NON.has(v)) return false;
  return null;
}

const blankToNull = (v: string | null | undefined): string | null => (v && v.trim() !== '' ? v.trim() : null);

/**
 * Maps one answer to a `SituationFiscale`. Throws `ReponseIrInvalide` (never anything else) when the
 * answer lacks what the QF needs or contradicts itself; the caller reports it as an invalid answer.
 */
export function situationFromReponseIr(body: unknown, anneeDemandee: number | undefined, source: SourceSituation): SituationFiscale {
  const parsed = reponseIrSchema.safeParse(body);
  if (!parsed.success) throw new ReponseIrInvalide(`champs mal formés : ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  const r = parsed.data;
  const anneeRevenus = r.annRevenu ?? anneeDemandee;
  if (anneeRevenus === undefined) throw new ReponseIrInvalide('année de revenus absente');
  // No `pac.nbPac` is not « no dependants »: the QF would count fewer persons than the foyer has.
  if (r.pac?.nbPac == null) throw new ReponseIrInvalide('nombre de personnes à charge (pac.nbPac) non communiqué', 'situation_incomplete');
  const pac = r.pac;
  const detailConnu = ['nbPacF', 'nbPacH', 'nbPacJ', 'nbPacN', 'nbPacR', 'nbPacP'].some((k) => (pac as Record<string, unknown>)[k] != null);
  const declarant = (n: 1 | 2) => {
    const nom = blankToNull(r[`nmNaiDec${n}`]);
    if (nom === null) return null;
    return {
      nomNaissance: nom,
      nomUsage: blankToNull(r[`nmUsaDec${n}`]),
      prenoms: blankToNull(r[`prnmDec${n}`]) ?? '',
      dateNaissance: isoFromParts(r[`dateNaisDec${n}`]),
    };
  };
  try {
    return createSituationFiscale({
      anneeRevenus,
      rfr: r.rfr,
      nbParts: r.nbPart,
      situationFamille: r.sitFam,
      nbPac: pac.nbPac,
      detailPac: detailConnu
        ? {
            enfantsResidenceExclusive: pac.nbPacF ?? 0,
            dontInvalidesResidenceExclusive: pac.nbPacG ?? 0,
            enfantsResidenceAlternee: (pac.nbPacH ?? 0) + (pac.nbPacP ?? 0),
            dontInvalidesResidenceAlternee: pac.nbPacI ?? 0,
            adultesRattaches: (pac.nbPacJ ?? 0) + (pac.nbPacN ?? 0),
            autresInvalides: pac.nbPacR ?? 0,
          }
        : null,
      parentIsole: parentIsole(r.sitParIso),
      declarants: [declarant(1), declarant(2)].filter((d) => d !== null),
      adresse: blankToNull(r.aft),
      dateEtablissement: isoFromDgfipDate(r.datEtab),
      source,
    });
  } catch (error) {
    if (isQuotientError(error)) throw new ReponseIrInvalide(error.details.map((d) => `${d.path} : ${d.message}`).join(' ; ') || error.message);
    throw new ReponseIrInvalide('réponse inexploitable');
  }
}
