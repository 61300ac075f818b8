/** Test support: a cookie jar for `inject`, the CSRF token of a page, an account row. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Database } from '../infra/db/database.ts';

/** A cookie jar for `inject`: keeps what Set-Cookie says, sends it back. */
export class Jar {
  readonly cookies = new Map<string, string>();
  readonly seen: string[] = [];
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(headers: Record<string, unknown>): void {
    const raw = headers['set-cookie'];
    for (const line of raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)]) {
      this.seen.push(line);
      const [pair = ''] = line.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m, 'the form carries a CSRF token');
  return m[1] as string;
}

export async function insertCompte(database: Database): Promise<string> {
  const now = new Date().toISOString();
  const familleId = randomUUID();
  const compteId = randomUUID();
  await database.db
    .insertInto('familles')
    .values({ id: familleId, reference: `F-${familleId.slice(0, 8)}`, resident: 1, courriel: null, creee_le: now, modifiee_le: now })
    .execute();
  await database.db
    .insertInto('comptes')
    .values({
      id: compteId,
      kind: 'local',
      issuer: null,
      sub: null,
      email: `${compteId}@exemple.fr`,
      password_hash: null,
      email_verified_at: now,
      display_name: 'Test',
      famille_id: familleId,
      created_at: now,
      last_sign_in_at: null,
      locked_until: null,
    })
    .execute();
  return compteId;
}
