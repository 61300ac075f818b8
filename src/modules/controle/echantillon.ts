import { createHash, randomBytes } from 'node:crypto';

/**
 * The random sample of a periodic control, drawn so that anyone can draw it again: every journal
 * entry of the population is ranked by SHA-256(graine ‖ its sequence number) and the `taille`
 * lowest are kept. With a fresh random seed this is a uniform sample without replacement; with the
 * seed stored beside the control, the same population gives the same sample, whatever the order in
 * which the entries were read.
 */
export function tirerEchantillon(population: Iterable<number>, graine: string, taille: number): number[] {
  if (!Number.isInteger(taille) || taille < 0) throw new RangeError('taille must be a non-negative integer');
  const ranked = [...new Set(population)].map((seq) => ({ seq, rang: createHash('sha256').update(`quotient-controle|${graine}|${seq}`).digest('hex') }));
  ranked.sort((a, b) => (a.rang < b.rang ? -1 : a.rang > b.rang ? 1 : a.seq - b.seq));
  return ranked
    .slice(0, taille)
    .map((r) => r.seq)
    .sort((a, b) => a - b);
}

/** A new seed: 128 random bits, in letters only so that it never looks like a number anywhere it is shown. */
export function nouvelleGraine(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyz';
  return [...randomBytes(28)].map((b) => alphabet[b % alphabet.length]).join('');
}

/**
 * The journal entries a control samples: an agent opening or exporting a family's data. Codes from
 * every module follow the same words (`famille.consultee`, `demande.consultee_instruction`,
 * `demande.apercu_instruction`, `famille.exportee`), so new ones are picked up without a list to keep.
 */
export function estUnAcces(entry: {
  readonly action: string;
  readonly actor: { readonly type: string };
  readonly target: { readonly type: string } | null;
}): boolean {
  if (entry.actor.type !== 'agent') return false;
  if (entry.target === null || !TYPES_DONNEES_FAMILLE.includes(entry.target.type)) return false;
  if (entry.action.startsWith('journal.') || entry.action.startsWith('controle.')) return false;
  return /consult|export|affich|apercu/.test(entry.action.split('.').slice(1).join('.'));
}

export const TYPES_DONNEES_FAMILLE: readonly string[] = ['famille', 'demande', 'contestation', 'compte', 'quotient'];
