import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { QuotientError } from '../../domain/errors.ts';
import { nowIso } from './database.ts';
import type { Schema } from './schema.ts';

export interface Installation {
  readonly id: string;
  readonly createdAt: string;
  readonly communeCodeInsee: string;
}

/**
 * Records this installation on first start and returns it. A database already used by another
 * commune is refused: mixing two communes' families would be a data breach.
 */
export async function ensureInstallation(db: Kysely<Schema>, communeCodeInsee: string, softwareVersion: string): Promise<Installation> {
  const existing = await db.selectFrom('installation').selectAll().executeTakeFirst();
  if (existing === undefined) {
    const row = { id: randomUUID(), created_at: nowIso(), commune_code_insee: communeCodeInsee, software_version: softwareVersion };
    await db.insertInto('installation').values(row).execute();
    return { id: row.id, createdAt: row.created_at, communeCodeInsee };
  }
  if (existing.commune_code_insee !== communeCodeInsee) {
    throw new QuotientError(
      'conflict',
      'base_autre_commune',
      `Cette base de données appartient à la commune ${existing.commune_code_insee}, pas à ${communeCodeInsee} : vérifiez QUOTIENT_DATABASE_URL et QUOTIENT_CONFIG.`,
    );
  }
  if (existing.software_version !== softwareVersion) {
    await db.updateTable('installation').set({ software_version: softwareVersion }).where('id', '=', existing.id).execute();
  }
  return { id: existing.id, createdAt: existing.created_at, communeCodeInsee };
}
