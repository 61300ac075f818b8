import { QuotientError, type ErrorDetail } from './errors.ts';
import { formatEuros, formatNombre } from './money.ts';
import { ressembleANumeroFiscal } from './numero-fiscal.ts';

/**
 * What an instructor types to decide a request: the QF set by hand (an amount in euros as French
 * people write it), the justification, the document seen. Texts end up in the database in clear:
 * a numéro fiscal pasted into them is refused (invariant 1), never echoed back.
 */

/** The highest QF an instructor may set: far above any real one, and exact in cents. */
export const QF_MAX_CENTS = 1_000_000_000;
export const JUSTIFICATION_MAX = 2000;
export const PIECE_MAX = 300;

const SPACES = /[\s\u00a0\u202f]/g;

export type LectureMontant = { readonly ok: true; readonly cents: number } | { readonly ok: false; readonly message: string };

const EXEMPLE = 'par exemple 612,50';

/**
 * A QF in euros as typed: `612`, `612,5`, `612,50`, `612.50`, `1 234,56 €`. Positive or nul (a
 * family without income has a QF of 0), at most two decimals. Never throws: every input gets an
 * answer, a French message when it is refused.
 */
export function lireMontantQf(raw: string): LectureMontant {
  const text = String(raw)
    .replace(SPACES, '')
    .replace(/(€|euros?|eur)$/i, '');
  if (text === '') return { ok: false, message: `Indiquez le quotient familial en euros, ${EXEMPLE}.` };
  if (/^-/.test(text)) return { ok: false, message: 'Le quotient familial ne peut pas être négatif.' };
  if (/^\d+[.,]\d{3,}$/.test(text))
    return { ok: false, message: `Deux chiffres au plus après la virgule (les centimes), sans séparateur de milliers autre qu’une espace : ${EXEMPLE}.` };
  const match = /^(\d+)(?:[.,](\d{1,2}))?$/.exec(text);
  if (!match) return { ok: false, message: `Saisissez le quotient familial en chiffres, ${EXEMPLE}.` };
  const [, euros = '', decimales = ''] = match;
  const entier = euros.replace(/^0+(?=\d)/, '');
  const trop = { ok: false as const, message: `Ce montant est trop élevé (au plus ${formatEuros(QF_MAX_CENTS)}) : vérifiez le quotient saisi.` };
  if (entier.length > String(QF_MAX_CENTS / 100).length) return trop;
  const cents = Number(entier) * 100 + Number(decimales.padEnd(2, '0'));
  if (cents > QF_MAX_CENTS) return trop;
  return { ok: true, cents };
}

/** The decisions an instructor takes from the review pages (`resaisie` is not offered there). */
export const DECISIONS_SAISIES = ['confirme', 'refuse', 'qf_manuel'] as const;
export type DecisionSaisieType = (typeof DECISIONS_SAISIES)[number];

export type DecisionValidee =
  | { readonly decision: 'confirme' | 'refuse'; readonly justification: string; readonly piece: null }
  | { readonly decision: 'qf_manuel'; readonly justification: string; readonly piece: string; readonly qfCents: number };

/** A free text field: trimmed, required, bounded, without a numéro fiscal; the problem is added to `errors`. */
export function lireTexte(value: unknown, options: { path: string; vide: string; max: number; nom: string }, errors: ErrorDetail[]): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') errors.push({ path: options.path, message: options.vide });
  else if (text.length > options.max)
    errors.push({ path: options.path, message: `${options.nom} ne doit pas dépasser ${formatNombre(options.max)} caractères.` });
  else if (ressembleANumeroFiscal(text))
    errors.push({ path: options.path, message: `${options.nom} semble contenir un numéro fiscal : retirez-le, il ne doit jamais être enregistré.` });
  return text;
}

/**
 * Checks a decision before anything is written. Throws `QuotientError('invalid',
 * 'decision_invalide')` with one detail per field (`decision`, `justification`, `piece`, `qf`).
 */
export function parseDecisionInstructeur(input: { decision?: unknown; justification?: unknown; piece?: unknown; qfCents?: unknown }): DecisionValidee {
  const errors: ErrorDetail[] = [];
  const decision = input.decision;
  if (!(DECISIONS_SAISIES as readonly unknown[]).includes(decision)) {
    throw new QuotientError('invalid', 'decision_invalide', 'Choisissez une décision : confirmer, refuser ou fixer le quotient.', {
      details: [{ path: 'decision', message: 'Choisissez une décision.' }],
    });
  }
  const justification = lireTexte(
    input.justification,
    {
      path: 'justification',
      vide: decision === 'refuse' ? 'Indiquez le motif du refus : il sera communiqué à la famille.' : 'Indiquez la justification de la décision.',
      max: JUSTIFICATION_MAX,
      nom: decision === 'refuse' ? 'Le motif du refus' : 'La justification',
    },
    errors,
  );
  if (decision !== 'qf_manuel') {
    if (errors.length > 0) throw invalide(errors);
    return { decision: decision as 'confirme' | 'refuse', justification, piece: null };
  }
  const piece = lireTexte(
    input.piece,
    {
      path: 'piece',
      vide: 'Indiquez la pièce examinée, par exemple « avis 2025 présenté au guichet le 12/09/2025 ».',
      max: PIECE_MAX,
      nom: 'La référence de la pièce',
    },
    errors,
  );
  const qf = input.qfCents;
  if (typeof qf !== 'number' || !Number.isSafeInteger(qf) || qf < 0 || qf > QF_MAX_CENTS) {
    errors.push({ path: 'qf', message: `Indiquez un quotient familial positif ou nul, en euros, ${EXEMPLE}.` });
  }
  if (errors.length > 0) throw invalide(errors);
  return { decision: 'qf_manuel', justification, piece, qfCents: qf as number };
}

export type DecisionQfManuel = Extract<DecisionValidee, { decision: 'qf_manuel' }>;

/** A QF set by hand, as `parseDecisionInstructeur` checks it. */
export function parseDecisionQfManuel(input: { justification?: unknown; piece?: unknown; qfCents?: unknown }): DecisionQfManuel {
  return parseDecisionInstructeur({ ...input, decision: 'qf_manuel' }) as DecisionQfManuel;
}

function invalide(errors: readonly ErrorDetail[]): QuotientError {
  return new QuotientError(
    'invalid',
    'decision_invalide',
    errors.length === 1 ? (errors[0] as ErrorDetail).message : 'La décision est incomplète : corrigez les champs indiqués.',
    { details: errors },
  );
}
