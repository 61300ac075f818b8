import { z } from 'zod';
import { isIsoDate } from './dates.ts';
import { QuotientError } from './errors.ts';

/**
 * The quotient familial of the CAF or the MSA (API Particulier v3, `dss/quotient_familial`), as
 * Quotient keeps it: the value, the caisse, the month it applies to, and who the caisse lists —
 * allocataires (for the identity control) and children (to match the family's). The address, the
 * sexes, the usage names of children and the month of computation are dropped on receipt
 * (minimisation): no tariff rule and no control needs them.
 */

export const FOURNISSEURS_QF = ['CNAF', 'MSA'] as const;
export type FournisseurQf = (typeof FOURNISSEURS_QF)[number];

export const LIBELLES_FOURNISSEUR: Record<FournisseurQf, string> = { CNAF: 'la CAF', MSA: 'la MSA' };

/** Bounds well above any real QF (a few thousand euros): beyond, the answer is not believed. */
export const QF_CAF_MAX_EUROS = 100_000;

export interface AllocataireCaf {
  readonly nomNaissance: string;
  readonly nomUsage: string | null;
  readonly prenoms: string;
  /** `AAAA-MM-JJ`, or null when the caisse gave none or a malformed one. */
  readonly dateNaissance: string | null;
}

export interface EnfantCaf {
  readonly prenoms: string;
  readonly dateNaissance: string | null;
}

export interface QuotientCaf {
  readonly fournisseur: FournisseurQf;
  /** Euros per month, an integer, as the caisse computed it. */
  readonly valeurEuros: number;
  /** The month the QF applies to, `AAAA-MM`. */
  readonly moisReference: string;
  readonly allocataires: readonly AllocataireCaf[];
  readonly enfants: readonly EnfantCaf[];
}

const nom = z.string().trim().min(1).max(200);
const nomFacultatif = z
  .string()
  .nullish()
  .transform((v) => (v == null || v.trim() === '' ? null : v.trim().slice(0, 200)));
const date = z
  .string()
  .nullish()
  .transform((v) => (v != null && isIsoDate(v.trim()) ? v.trim() : null));

/** What is read of the v3 body; other members (address, sexes, computation month) are ignored. */
const reponseV3 = z.object({
  data: z.object({
    allocataires: z
      .array(z.object({ nom_naissance: nom, nom_usage: nomFacultatif, prenoms: z.string().trim().max(200), date_naissance: date }))
      .min(1)
      .max(10),
    enfants: z
      .array(z.object({ prenoms: z.string().trim().max(200), date_naissance: date }))
      .max(30)
      .nullish(),
    quotient_familial: z.object({
      fournisseur: z.enum(FOURNISSEURS_QF),
      valeur: z.number().int().min(0).max(QF_CAF_MAX_EUROS),
      annee: z.number().int().min(2000).max(2100),
      mois: z.number().int().min(1).max(12),
    }),
  }),
});

/**
 * The minimised `QuotientCaf` of an answer of `/v3/dss/quotient_familial/*`; a typed error
 * (`upstream`, naming the faulty members, never their values) when the body is not one.
 */
export function normaliserQuotientCaf(body: unknown): QuotientCaf {
  const parsed = reponseV3.safeParse(body);
  if (!parsed.success) {
    const champs = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'corps'))].slice(0, 5);
    throw new QuotientError('upstream', 'reponse_caf_invalide', `La CAF ou la MSA a renvoyé une réponse inutilisable (${champs.join(', ')}).`, {
      details: champs.map((path) => ({ path, message: 'valeur absente ou inattendue' })),
    });
  }
  const d = parsed.data.data;
  const q = d.quotient_familial;
  return {
    fournisseur: q.fournisseur,
    valeurEuros: q.valeur,
    moisReference: `${q.annee}-${String(q.mois).padStart(2, '0')}`,
    allocataires: d.allocataires.map((a) => ({ nomNaissance: a.nom_naissance, nomUsage: a.nom_usage, prenoms: a.prenoms, dateNaissance: a.date_naissance })),
    enfants: (d.enfants ?? []).map((e) => ({ prenoms: e.prenoms, dateNaissance: e.date_naissance })),
  };
}

/** « octobre 2026 », for pages and attestations. */
export function libelleMoisReference(moisReference: string): string {
  const [annee, mois] = moisReference.split('-').map(Number);
  const noms = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
  return `${noms[(mois ?? 1) - 1] ?? ''} ${annee ?? ''}`.trim();
}
