import { randomBytes } from 'node:crypto';
import { QuotientError, type ErrorDetail } from '../../domain/errors.ts';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import { EntreeAuditInvalide, validateEntry, type AuditDetailValue } from '../../domain/entree-journal.ts';

export const GRAVITES = ['info', 'avertissement', 'critique'] as const;
export type Gravite = (typeof GRAVITES)[number];

/**
 * A security event that a person must hear about (CGU §8: intrusion and anomaly detection). It
 * says what happened in French and carries a few plain values: never a numéro fiscal nor a fiscal
 * value, since it travels by e-mail, webhook and syslog and is journaled.
 */
export interface Alerte {
  /** Random, letters and digits mixed (no long digit run that a mail filter would take for a numéro fiscal). */
  readonly id: string;
  /** Stable dotted code, lower case: `connexion.echecs_rafale`, `journal.chaine_rompue`. */
  readonly code: string;
  readonly gravite: Gravite;
  /** One line of French, at most 200 characters. */
  readonly titre: string;
  /** One line of French, at most 500 characters. */
  readonly message: string;
  /** ISO-8601 UTC. */
  readonly survenueLe: string;
  readonly details: Readonly<Record<string, AuditDetailValue>>;
}

export interface NouvelleAlerte {
  /** The stored alert's id, when the alert store has one (else a fresh one). */
  readonly id?: string;
  readonly code: string;
  readonly gravite: Gravite;
  readonly titre: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, AuditDetailValue>>;
  readonly survenueLe?: Date;
}

const ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Syslog's SD-NAME holds at most 32 characters (RFC 5424 §6.3.3); the journal allows 48. */
const MAX_DETAIL_KEY = 32;

export class AlerteInvalide extends QuotientError {
  constructor(code: 'alerte_invalide' | 'numero_fiscal_interdit', details: readonly ErrorDetail[]) {
    super(
      'invalid',
      code,
      code === 'numero_fiscal_interdit'
        ? 'Alerte refusée : une valeur ressemble à un numéro fiscal, qui ne doit jamais en sortir.'
        : 'Alerte invalide : corrigez les champs indiqués.',
      { details },
    );
  }
}

/**
 * Builds an alert, checked with the journal's own guard (the alert is journaled): the code has the
 * grammar of an audit action, and the title, the message and each detail are refused when they
 * hold a control character or something shaped like a numéro fiscal.
 */
export function creerAlerte(input: NouvelleAlerte): Alerte {
  const problems: ErrorDetail[] = [];
  if (!(GRAVITES as readonly unknown[]).includes(input.gravite)) problems.push({ path: 'gravite', message: `attendu : ${GRAVITES.join(', ')}` });
  for (const field of ['titre', 'message'] as const) if (typeof input[field] !== 'string') problems.push({ path: field, message: 'texte attendu' });
  if (typeof input.titre === 'string' && input.titre.length > 200) problems.push({ path: 'titre', message: 'au plus 200 caractères' });
  const details = input.details ?? {};
  for (const key of Object.keys(details)) {
    if (key.length > MAX_DETAIL_KEY)
      problems.push({ path: `details.${key.slice(0, MAX_DETAIL_KEY)}…`, message: `nom de clé de ${MAX_DETAIL_KEY} caractères au plus` });
  }
  if (input.id !== undefined && (typeof input.id !== 'string' || !ID.test(input.id)))
    problems.push({ path: 'id', message: '8 à 64 lettres, chiffres, « - » ou « _ » attendus' });
  let spi = typeof input.id === 'string' && ressembleANumeroFiscal(input.id);
  if (spi) problems.push({ path: 'id', message: 'ressemble à un numéro fiscal' });
  const guard = (what: 'texte' | 'details', entryDetails: Readonly<Record<string, AuditDetailValue>>) => {
    try {
      validateEntry({ actor: { type: 'systeme', id: 'alertes' }, action: input.code, outcome: 'succes', details: entryDetails });
    } catch (error) {
      if (!(error instanceof EntreeAuditInvalide)) throw error;
      spi ||= error.code === 'numero_fiscal_interdit';
      for (const d of error.details) {
        // The guard names paths as the journal sees them; here they are the alert's own fields.
        const path = d.path === 'action' ? 'code' : what === 'texte' ? d.path.replace(/^details\./, '') : d.path;
        if (!problems.some((p) => p.path === path))
          problems.push({ path, message: d.path === 'action' ? 'code pointé en minuscules attendu, par exemple « connexion.echecs_rafale »' : d.message });
      }
    }
  };
  // Title and message are checked apart from the details so that a detail named `titre` cannot hide them.
  guard('texte', { titre: input.titre, message: input.message } as Record<string, AuditDetailValue>);
  guard('details', details);
  if (problems.length > 0) throw new AlerteInvalide(spi ? 'numero_fiscal_interdit' : 'alerte_invalide', problems);
  return {
    id: input.id ?? randomBytes(15).toString('base64url'),
    code: input.code,
    gravite: input.gravite,
    titre: input.titre,
    message: input.message,
    survenueLe: (input.survenueLe ?? new Date()).toISOString(),
    details: { ...details },
  };
}

export const CODE_ALERTE_TEST = 'alertes.test';

/** The alert `quotient alertes tester` sends: clearly a test, travelling the same path as real ones. */
export function alerteDeTest(options: { gravite?: Gravite; lanceePar: string }): Alerte {
  return creerAlerte({
    code: CODE_ALERTE_TEST,
    gravite: options.gravite ?? 'critique',
    titre: 'Test du circuit d’alerte',
    message: 'Ceci est un essai lancé par « quotient alertes tester » : aucun incident n’a eu lieu. Vérifiez que ce message vous est parvenu, puis classez-le.',
    details: { test: true, lanceePar: options.lanceePar },
  });
}
