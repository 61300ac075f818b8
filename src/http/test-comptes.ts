/**
 * Test support: a family's local account written straight into the database (verified address,
 * argon2 hash of the given password), and signed in through the real `/connexion` form.
 */
import assert from 'node:assert/strict';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { Kysely } from 'kysely';
import type { Schema } from '../infra/db/schema.ts';
import { csrfOf, Jar } from './test-cookies.ts';
import type { TestApp } from './testing.ts';

export async function creerCompteLocal(db: Kysely<Schema>, compte: { email: string; motDePasse: string; familleId: string }): Promise<string> {
  const id = crypto.randomUUID();
  const now = new Date().toISOString();
  await db
    .insertInto('comptes')
    .values({
      id,
      kind: 'local',
      issuer: null,
      sub: null,
      email: compte.email,
      password_hash: await argon2Hash(compte.motDePasse),
      email_verified_at: now,
      display_name: compte.email,
      famille_id: compte.familleId,
      created_at: now,
      last_sign_in_at: null,
      locked_until: null,
    })
    .execute();
  return id;
}

/** Signs in on `app` through the sign-in form; the returned jar carries the session. */
export async function connecterParMotDePasse(app: TestApp, email: string, motDePasse: string): Promise<Jar> {
  const jar = new Jar();
  const form = await app.app.inject({ url: '/connexion' });
  jar.take(form.headers);
  const res = await app.app.inject({
    method: 'POST',
    url: '/connexion',
    payload: new URLSearchParams({ _csrf: csrfOf(form.body), email, password: motDePasse }).toString(),
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  jar.take(res.headers);
  assert.equal(res.statusCode, 303, 'signed in');
  return jar;
}
