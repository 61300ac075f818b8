/**
 * One way to read a form, its route parameters and its query string, and one way to show a form
 * again with what to correct. A form is read with a zod schema per form: typed values, or one
 * French message per field, keyed by the id of the field the error summary links to.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ComponentChildren } from 'preact';
import { z } from 'zod';
import { isQuotientError, QuotientError as QuotientErrorClass, type ErrorDetail, type ErrorKind, type QuotientError } from '../domain/errors.ts';
import { contientUnChiffre, NumeroFiscal, ressembleANumeroFiscal, sansNumeroFiscal } from '../domain/numero-fiscal.ts';
import { parseOptions } from '../domain/zod-francais.ts';

export type Lecture<T> = { readonly ok: true; readonly values: T } | { readonly ok: false; readonly errors: ErrorDetail[] };

/**
 * The fields as posted, in an object without prototype: an urlencoded body or a query string is
 * an object of texts (a list for a repeated name); anything else reads as an empty form, and a
 * field named `__proto__` or `constructor` is only a field.
 */
function champsPostes(body: unknown): Record<string, unknown> {
  const champs: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) for (const [k, v] of Object.entries(body)) champs[k] = v;
  return champs;
}

/**
 * Reads a form with its schema: the typed values, or the errors with the French messages of
 * `zod-francais` where the schema gives none. A path is the id of the field in error (not the
 * `a[0].b` of a configuration file): the key, and for a radio group the key and its first answer
 * (`enfant1-residence-exclusive`), which is where the summary links. Never throws for any body.
 */
export function lireFormulaire<S extends z.ZodType>(schema: S, body: unknown): Lecture<z.output<S>> {
  const parsed = schema.safeParse(champsPostes(body), parseOptions);
  if (parsed.success) return { ok: true, values: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((issue) => {
      const code: unknown = issue.code === 'custom' ? issue.params?.['code'] : undefined;
      return { path: issue.path.map(String).join('-'), message: issue.message, ...(typeof code === 'string' ? { code } : {}) };
    }),
  };
}

/**
 * The fields of a form whose schema takes any input (made of `texte`, `texteOptionnel`, `liste`
 * and `coche` only): what to check is the service's. The one refusal such a schema makes is a
 * text shaped like a numéro fiscal (`texte` refuses it at the boundary): a typed `invalid` error
 * naming the fields, which the error handler shows in French. Any other refusal is a mistake in
 * the schema.
 */
export function lireChamps<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const lecture = lireFormulaire(schema, body);
  if (lecture.ok) return lecture.values;
  if (lecture.errors.every((e) => e.message === NUMERO_FISCAL_EGARE)) throw new TexteNumeroFiscal(lecture.errors);
  throw new Error(`A form schema meant to take any input refused some: ${lecture.errors.map((e) => e.path).join(', ')}`);
}

/** A free text refused for holding something shaped like a numéro fiscal; the details name the fields, never the value. */
export class TexteNumeroFiscal extends QuotientErrorClass {
  constructor(details: ErrorDetail[]) {
    super('invalid', 'texte_numero_fiscal', NUMERO_FISCAL_EGARE, { details });
  }
}

/**
 * The route's parameters, checked before any query: a parameter of the wrong shape is answered
 * like one that matches nothing, with the route's own « not found ».
 */
export function lireParams<S extends z.ZodType>(schema: S, request: FastifyRequest, introuvable: () => QuotientError): z.output<S> {
  const lecture = lireFormulaire(schema, request.params);
  if (!lecture.ok) throw introuvable();
  return lecture.values;
}

/** The `:id` of a route, an identifier Quotient made (a UUID). */
export const PARAMS_ID = z.object({ id: z.guid() });

// -------------------------------------------------------------------------------------------
// Fields. A browser sends each field of a form once, as a text; a repeated name (a crafted
// request) keeps its first text, and a missing field reads as empty.

const premierTexte = (value: unknown): string =>
  typeof value === 'string' ? value : Array.isArray(value) ? ((value.find((v) => typeof v === 'string') as string | undefined) ?? '') : '';

/**
 * What a free-text field says when it holds something shaped like a numéro fiscal (kept or shown
 * back, it would break invariant 1).
 */
export const NUMERO_FISCAL_EGARE =
  'Ce champ semble contenir un numéro fiscal : retirez-le. Le numéro fiscal se saisit seulement à l’étape « Numéro fiscal » de la demande, et n’est jamais enregistré.';

/** The one check at the boundary: any text read from a form, a query or a JSON body refuses the shape of a numéro fiscal, in any separator or digit form. */
const sansFormeDeNumero = (message = NUMERO_FISCAL_EGARE) => z.string().refine((v) => !ressembleANumeroFiscal(v), { message, abort: true });

/**
 * A text field, '' when absent; `schema` checks or transforms the text. It refuses, before
 * `schema`, anything shaped like a numéro fiscal: every field is free text unless it says
 * otherwise with `texteBrut`.
 */
export function texte<T extends z.ZodType<unknown, string> = z.ZodString>(schema?: T) {
  return z.preprocess(premierTexte, sansFormeDeNumero().pipe((schema ?? z.string()) as T));
}

/**
 * A text field that is not free text, read as sent: a password or a one-time token (never kept
 * nor shown, and refusing one would lock its owner out), the numéro fiscal itself
 * (`numerosFiscaux`), a document checked by its own parser (a tariff policy, a list of
 * quotients). Each use says why.
 */
export function texteBrut<T extends z.ZodType<unknown, string> = z.ZodString>(schema?: T) {
  return z.preprocess(premierTexte, (schema ?? z.string()) as T);
}

/**
 * A text field whose absence means something (a query parameter not given): undefined then. Free
 * text, like `texte`, unless `brut` (numbers that their own parser bounds, as `texteBrut`).
 */
export const texteOptionnel = (options: { brut?: boolean } = {}) =>
  z.preprocess((value) => (value === undefined ? undefined : premierTexte(value)), (options.brut ? z.string() : sansFormeDeNumero()).optional());

/** Checkboxes sharing a name, or a multiple select: the texts checked, in order. */
export const liste = () =>
  z.preprocess(
    (value) => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []),
    // One message on the list's field, where the summary links, for any item shaped like a numéro fiscal.
    z.array(z.string()).refine((items) => !items.some(ressembleANumeroFiscal), { message: NUMERO_FISCAL_EGARE, abort: true }),
  );

/** A checkbox: checked when it sends its value (`oui`). */
export const coche = (valeur = 'oui') => z.preprocess((value) => premierTexte(value) === valeur, z.boolean());

/**
 * A radio group: one of `options`, `defaut` when nothing is checked (a form sent before the
 * question existed, or a browser that sends nothing); any other answer is `message`, on the first
 * answer's button, where the error summary links.
 */
export function radio<const V extends string>(options: readonly [V, ...V[]], defaut: NoInfer<V>, message: string) {
  // Only one of `options` goes through, so anything else (a numéro fiscal too) is the question's own refusal.
  return texteBrut(
    z.string().transform((v, ctx): V => {
      if (v === '') return defaut;
      if ((options as readonly string[]).includes(v)) return v as V;
      ctx.issues.push({ code: 'custom', message, input: undefined, path: [options[0]] });
      return z.NEVER;
    }),
  );
}

/**
 * For a form whose rules tie fields together, checked in its schema's `transform`: `signaler` puts
 * a message on a field, `enErreur` tells whether a field already has one (one message is enough).
 */
export function champsEnErreur(ctx: { issues: z.core.$ZodRawIssue[] }) {
  const signales = new Set<string>();
  return {
    signaler(id: string, message: string): void {
      signales.add(id);
      ctx.issues.push({ code: 'custom', message, input: undefined, path: [id] });
    },
    enErreur: (id: string): boolean => signales.has(id),
  };
}

/** A free text, trimmed, that refuses the shape of a numéro fiscal (with `message`) before any other check. */
export const libre = (message = NUMERO_FISCAL_EGARE) => sansFormeDeNumero(message).trim();

/** A person's name: free text with no digit at all, in any script (a name is kept, shown, e-mailed). */
export const CHIFFRE_DANS_UN_NOM = 'Un nom ou un prénom ne contient pas de chiffre : vérifiez la saisie.';
export const nom = () => libre().refine((v) => !contientUnChiffre(v), { message: CHIFFRE_DANS_UN_NOM, abort: true });

/**
 * What a numéro fiscal form says when a number parses but its mod-511 key does not check (most
 * likely a typo), and the box that sends it anyway, worded for who types it: the family or the
 * agent at the counter. The number is not sent, so a typo costs no DGFiP call and no try.
 */
export interface VerificationCle {
  readonly message: string;
  /** The label of the box `confirme-<rang>`, shown by the field in error. */
  readonly confirmation: string;
  readonly aide: string;
}

export const CLE_FAMILLE: VerificationCle = {
  message:
    'Ce numéro ne semble pas correct : les trois derniers chiffres ne correspondent pas aux dix premiers. Vérifiez-le sur votre avis d’imposition et saisissez-le de nouveau (il n’est jamais réaffiché). Si vous êtes sûr de votre saisie, ressaisissez-le et cochez « Je confirme ce numéro ».',
  confirmation: 'Je confirme ce numéro',
  aide: 'Cochez seulement après avoir comparé le numéro saisi à celui de votre avis d’imposition.',
};

export const CLE_AGENT: VerificationCle = {
  message:
    'La clé du numéro ne correspond pas : les trois derniers chiffres ne s’accordent pas avec les dix premiers. Vérifiez le numéro sur le document et saisissez-le de nouveau (il n’est jamais réaffiché). S’il est bien celui du document, ressaisissez-le et cochez « Numéro vérifié sur le document ».',
  confirmation: 'Numéro vérifié sur le document',
  aide: 'Cochez seulement après avoir relu le numéro saisi sur l’avis ou le formulaire de la famille.',
};

/** The `code` of the error detail on `numero-<rang>` when the key does not check and the box `confirme-<rang>` was not ticked. */
export const CLE_A_CONFIRMER = 'cle_numero_fiscal';

/**
 * The numéro fiscal of each declarant expected (`numero-<rang>`), or the parser's French message,
 * which never quotes what was typed; with two declarants, the message says whose number it is.
 * A number whose key does not check is sent only with its box `confirme-<rang>` ticked; otherwise
 * `cle.message` on its field (code `CLE_A_CONFIRMER`), and the field offers the box.
 */
export function numerosFiscaux(attendus: ReadonlyArray<{ readonly rang: 1 | 2; readonly nom: string }>, cle: VerificationCle) {
  const aQui = (a: { nom: string }, message: string) => (attendus.length > 1 ? `${a.nom} : ${message}` : message);
  return z
    .object(
      // The numéro fiscal itself: the one field that is not free text, parsed and never kept.
      Object.fromEntries(attendus.flatMap((a) => [[`numero-${a.rang}`, texteBrut()] as const, [`confirme-${a.rang}`, coche()] as const])),
    )
    .transform((champs, ctx) => {
      const numeros = new Map<1 | 2, NumeroFiscal>();
      // Every declarant's problem at once, each on its field.
      for (const a of attendus) {
        const path = [`numero-${a.rang}`];
        const parsed = NumeroFiscal.tryParse(champs[`numero-${a.rang}`] as string);
        if (!parsed.ok) ctx.issues.push({ code: 'custom', message: aQui(a, parsed.error.message), input: undefined, path });
        else if (!parsed.value.cleValide && champs[`confirme-${a.rang}`] !== true)
          ctx.issues.push({ code: 'custom', message: aQui(a, cle.message), input: undefined, path, params: { code: CLE_A_CONFIRMER } });
        else numeros.set(a.rang, parsed.value);
      }
      return numeros.size === attendus.length ? numeros : z.NEVER;
    });
}

// -------------------------------------------------------------------------------------------
// A form shown again with what to correct.

/**
 * What a form shows again after an error: each field as typed, except the CSRF token, the
 * numéros fiscaux (`numero-<rang>`), the `secrets` named (passwords) and any text shaped like a
 * numéro fiscal, which are never sent back (invariant 1).
 */
export function saisieAReafficher(body: unknown, secrets: readonly string[] = []): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(champsPostes(body))) {
    if (k === '_csrf' || k.startsWith('numero-') || secrets.includes(k)) continue;
    const typed = premierTexte(v);
    values[k] = ressembleANumeroFiscal(typed) ? '' : typed;
  }
  return values;
}

/** Typed values shown again: the same rule, for a form read into an object. */
export const valeursAReafficher = <T extends object>(values: T): T => sansNumeroFiscal(values);

/** A refusal of the service a person can act on: the form's errors, and the status of the page showing them. */
export interface Refus {
  readonly errors: ErrorDetail[];
  readonly status: number;
  /** The refusal's own sentence, for a page that says it beside the details. */
  readonly message: string;
}

const STATUTS_REFUS: Partial<Record<ErrorKind, number>> = { conflict: 409, rate_limited: 429 };

/**
 * A typed error of one of `kinds` as the form's errors, with 400, 409 for a state that forbids
 * the action or 429 for too many tries: each detail on its field through `champ` (null leaves it
 * out); with no detail left, the error's message, as a detail of path '' (on top of the form
 * unless `champ` places it). A « not found » is the form's only when it names the field (a
 * reference typed that matches nothing); anything else is thrown again, to the one error handler.
 */
export function refusDe(error: unknown, options: { kinds?: readonly ErrorKind[]; champ?: (detail: ErrorDetail) => ErrorDetail | null } = {}): Refus {
  const { kinds = ['invalid'], champ = (d: ErrorDetail) => d } = options;
  if (!isQuotientError(error) || !kinds.includes(error.kind) || (error.kind === 'not_found' && error.details.length === 0)) throw error;
  const details = error.details.map(champ).filter((d) => d !== null);
  const general = { path: '', message: error.message };
  return { errors: details.length > 0 ? details : [champ(general) ?? general], status: STATUTS_REFUS[error.kind] ?? 400, message: error.message };
}

/** How a module sends one of its pages: its layout, the title, the content, the status. */
export type EnvoiPage = (request: FastifyRequest, reply: FastifyReply, title: string, body: ComponentChildren, status?: number) => FastifyReply;

/**
 * A form page, as first shown or again with its errors: then its title starts with « Erreur : »
 * (the first thing a screen reader says) and its status is 400, or the refusal's. The page puts
 * the error summary at the top (`Erreurs`, linked to each field) and each message by its field.
 */
export function pageFormulaire(
  envoyer: EnvoiPage,
  request: FastifyRequest,
  reply: FastifyReply,
  titre: string,
  errors: readonly ErrorDetail[],
  body: ComponentChildren,
  status = 400,
): FastifyReply {
  return errors.length === 0 ? envoyer(request, reply, titre, body, 200) : envoyer(request, reply, `Erreur : ${titre}`, body, status);
}
