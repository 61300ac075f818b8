import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import type { Schema } from '../../infra/db/schema.ts';
import type { Acteur, AuditEntryInput } from '../audit/audit-entry.ts';
import type { CleApiConnue } from '../../http/acces/controle-acces.ts';

export const cleIntrouvable = () => new QuotientError('not_found', 'cle_api_introuvable', 'Clé introuvable ou déjà révoquée.');

/** What the service needs of the journal: each change and its entry commit together or not at all. */
export interface JournalCles {
  inTransaction<T>(work: (trx: Transaction<Schema>) => Promise<T>): Promise<T>;
  append(entry: AuditEntryInput, executor?: Kysely<Schema>): Promise<unknown>;
}

export interface CleApi {
  readonly id: string;
  readonly libelle: string;
  readonly prefixe: string;
  readonly creeeLe: string;
  readonly creeePar: string;
  readonly revoqueeLe: string | null;
  readonly derniereUtilisationLe: string | null;
}

/** `qk_` and 256 random bits: recognisable in a leaked file, unguessable. */
const PREFIX = 'qk_';
const digest = (secret: string) => createHash('sha256').update(secret).digest('base64url');

/**
 * The API keys of the billing software, managed by administrators. A key is shown once, when it is
 * created; only its SHA-256 digest and its first characters are kept. Revocation is immediate.
 */
export class ClesApiService {
  constructor(private readonly deps: { db: Kysely<Schema>; journal: JournalCles; clock?: () => number }) {}

  private iso(): string {
    return new Date((this.deps.clock ?? Date.now)()).toISOString();
  }

  /** The new key's secret, to show once. */
  async creer(libelle: string, par: Acteur): Promise<{ cle: CleApi; secret: string }> {
    const nom = libelle.trim();
    if (nom === '' || nom.length > 100) {
      throw new QuotientError('invalid', 'cle_api_invalide', 'Donnez un nom à la clé (le logiciel qui l’utilisera), en 100 caractères au plus.', {
        details: [{ path: 'libelle', message: 'Indiquez le nom du logiciel qui utilisera la clé.' }],
      });
    }
    const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    const now = this.iso();
    const row = {
      id,
      libelle: nom,
      prefixe: secret.slice(0, 10),
      empreinte: digest(secret),
      creee_le: now,
      creee_par: par.id,
      revoquee_le: null,
      revoquee_par: null,
      derniere_utilisation_le: null,
    };
    const { journal } = this.deps;
    await journal.inTransaction(async (trx) => {
      await trx.insertInto('cles_api').values(row).execute();
      await journal.append({ actor: par, action: 'cle_api.creee', target: { type: 'cle_api', id }, outcome: 'succes' }, trx);
    });
    return { cle: { id, libelle: nom, prefixe: row.prefixe, creeeLe: now, creeePar: par.id, revoqueeLe: null, derniereUtilisationLe: null }, secret };
  }

  async lister(): Promise<CleApi[]> {
    const rows = await this.deps.db.selectFrom('cles_api').selectAll().orderBy('creee_le', 'desc').execute();
    return rows.map((r) => ({
      id: r.id,
      libelle: r.libelle,
      prefixe: r.prefixe,
      creeeLe: r.creee_le,
      creeePar: r.creee_par,
      revoqueeLe: r.revoquee_le,
      derniereUtilisationLe: r.derniere_utilisation_le,
    }));
  }

  async revoquer(id: string, par: Acteur): Promise<void> {
    const { journal } = this.deps;
    await journal.inTransaction(async (trx) => {
      const result = await trx
        .updateTable('cles_api')
        .set({ revoquee_le: this.iso(), revoquee_par: par.id })
        .where('id', '=', id)
        .where('revoquee_le', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw cleIntrouvable();
      await journal.append({ actor: par, action: 'cle_api.revoquee', target: { type: 'cle_api', id }, outcome: 'succes' }, trx);
    });
  }

  /** The key a caller presents, if it exists and is not revoked; its last use is noted. */
  async verifier(secret: string): Promise<CleApiConnue | undefined> {
    if (!secret.startsWith(PREFIX)) return undefined;
    const row = await this.deps.db
      .selectFrom('cles_api')
      .select(['id', 'libelle'])
      .where('empreinte', '=', digest(secret))
      .where('revoquee_le', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    await this.deps.db.updateTable('cles_api').set({ derniere_utilisation_le: this.iso() }).where('id', '=', row.id).execute();
    return { id: row.id, libelle: row.libelle };
  }
}
