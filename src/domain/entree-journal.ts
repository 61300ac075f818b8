import { QuotientError, type ErrorDetail } from './errors.ts';
import { ressembleANumeroFiscal } from './numero-fiscal.ts';

/*
 * The shape of a journal d'audit entry and its guard, pure: the journal (modules/audit) checks every
 * entry with it before writing, and so does whatever else must hold to the journal's rules — an alert
 * (infra/alertes) is journaled and travels by e-mail, webhook and syslog.
 */

/**
 * One entry of the journal d'audit, as a service hands it in. It says who did what to which record,
 * and how it ended. It never holds a numéro fiscal nor a fiscal value (income, number of parts,
 * amounts, QF): `details` carries small identifiers and codes only (a status, a reason code, an
 * attempt number, an income year). Values that look like a numéro fiscal are refused at append.
 */
export interface AuditEntryInput {
  readonly actor: Acteur;
  /** Stable dotted code, lower case: `demande.calculee`, `famille.consultee`, `dgfip.check`. */
  readonly action: string;
  readonly target?: AuditRef;
  readonly outcome: AuditOutcome;
  readonly correlationId?: string;
  readonly details?: Readonly<Record<string, AuditDetailValue>>;
}

/** `anonyme`: someone not signed in (a refused access), identified by the request id only. */
export const TYPES_ACTEUR = ['famille', 'agent', 'robot', 'systeme', 'api', 'anonyme'] as const;
export type TypeActeur = (typeof TYPES_ACTEUR)[number];
export const OUTCOMES = ['succes', 'echec', 'refus'] as const;
export type AuditOutcome = (typeof OUTCOMES)[number];
export type AuditDetailValue = string | number | boolean | null;

export interface AuditRef {
  readonly type: string;
  readonly id: string;
}

/**
 * Who acts: a family, an agent, a robot (batch, always on behalf of a person), the system, an API
 * client, or someone not signed in. Use cases take one to journal who did what, so it is defined
 * beside the journal; the domain only knows who recorded a consent (`AuteurConsentement`).
 */
export interface Acteur {
  readonly type: TypeActeur;
  readonly id: string;
  /** The person a robot (always) or an agent acts for: the agent who started a campaign, the family at the counter. */
  readonly onBehalfOf?: { readonly type: TypeActeur; readonly id: string };
}

const ACTION = /^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/;
const TYPE = /^[a-z][a-z0-9_]{0,39}$/;
const DETAIL_KEY = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;
// Control characters would let a value forge extra lines in a displayed or exported journal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;
const MAX_ID = 200;
const MAX_DETAIL_TEXT = 500;
const MAX_DETAIL_KEYS = 32;

export class EntreeAuditInvalide extends QuotientError {
  constructor(code: 'entree_audit_invalide' | 'numero_fiscal_interdit', message: string, details: readonly ErrorDetail[]) {
    super('invalid', code, message, { details });
  }
}

/**
 * Checks an entry before anything is written. The error names the faulty field but never repeats
 * its value: the value may be the very numéro fiscal we keep out.
 */
export function validateEntry(entry: AuditEntryInput): void {
  const problems: ErrorDetail[] = [];
  const spi: ErrorDetail[] = [];
  const text = (path: string, value: unknown, max: number) => {
    if (typeof value !== 'string' || value.length === 0 || value.length > max) problems.push({ path, message: `texte de 1 à ${max} caractères attendu` });
    else if (CONTROL.test(value)) problems.push({ path, message: 'caractère de contrôle interdit' });
    else if (ressembleANumeroFiscal(value)) spi.push({ path, message: 'ressemble à un numéro fiscal (13 chiffres) : interdit dans le journal' });
  };
  const actorType = (path: string, value: unknown) => {
    if (!(TYPES_ACTEUR as readonly unknown[]).includes(value)) problems.push({ path, message: `attendu : ${TYPES_ACTEUR.join(', ')}` });
  };

  actorType('actor.type', entry.actor?.type);
  text('actor.id', entry.actor?.id, MAX_ID);
  if (entry.actor?.onBehalfOf !== undefined) {
    actorType('actor.onBehalfOf.type', entry.actor.onBehalfOf.type);
    text('actor.onBehalfOf.id', entry.actor.onBehalfOf.id, MAX_ID);
  } else if (entry.actor?.type === 'robot') {
    problems.push({ path: 'actor.onBehalfOf', message: 'un robot agit toujours pour le compte d’une personne : indiquez laquelle' });
  }
  if (typeof entry.action !== 'string' || entry.action.length > 100 || !ACTION.test(entry.action)) {
    problems.push({ path: 'action', message: 'code pointé en minuscules attendu, par exemple « demande.calculee »' });
  }
  if (entry.target !== undefined) {
    if (typeof entry.target.type !== 'string' || !TYPE.test(entry.target.type))
      problems.push({ path: 'target.type', message: 'type en minuscules attendu, par exemple « demande »' });
    text('target.id', entry.target.id, MAX_ID);
  }
  if (!(OUTCOMES as readonly unknown[]).includes(entry.outcome)) problems.push({ path: 'outcome', message: `attendu : ${OUTCOMES.join(', ')}` });
  if (entry.correlationId !== undefined) text('correlationId', entry.correlationId, MAX_ID);

  const details = entry.details ?? {};
  if (typeof details !== 'object' || details === null || Array.isArray(details)) {
    problems.push({ path: 'details', message: 'table de valeurs simples attendue' });
  } else {
    const keys = Object.keys(details);
    if (keys.length > MAX_DETAIL_KEYS) problems.push({ path: 'details', message: `au plus ${MAX_DETAIL_KEYS} valeurs` });
    for (const key of keys) {
      const path = `details.${DETAIL_KEY.test(key) ? key : '(clé)'}`;
      if (!DETAIL_KEY.test(key)) {
        problems.push({ path, message: 'nom de clé invalide (lettres, chiffres et « _ », 48 au plus)' });
        continue;
      }
      const value = details[key];
      if (typeof value === 'string') text(path, value, MAX_DETAIL_TEXT);
      else if (typeof value === 'number') {
        if (!Number.isFinite(value)) problems.push({ path, message: 'nombre fini attendu' });
        // A 13-digit number is a numéro fiscal typed as a number (or a millisecond epoch: use ISO text).
        else if (Math.abs(value) >= 1e12) spi.push({ path, message: 'nombre de 13 chiffres ou plus : interdit dans le journal' });
      } else if (typeof value !== 'boolean' && value !== null) problems.push({ path, message: 'texte, nombre, booléen ou null attendu' });
    }
  }
  if (spi.length > 0) {
    throw new EntreeAuditInvalide(
      'numero_fiscal_interdit',
      'Entrée du journal d’audit refusée : une valeur ressemble à un numéro fiscal, qui ne doit jamais y figurer.',
      spi,
    );
  }
  if (problems.length > 0)
    throw new EntreeAuditInvalide('entree_audit_invalide', 'Entrée du journal d’audit invalide : corrigez les champs indiqués.', problems);
}
