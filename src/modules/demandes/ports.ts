import type { Kysely, Transaction } from 'kysely';
import type { Schema } from '../../infra/db/schema.ts';
import type { JsonValue } from '../../infra/silo/coffre.ts';
import type { AuditActor } from '../audit/index.ts';

/** Where a use case reads and writes: the database, or the transaction it runs in. */
export type Executor = Kysely<Schema> | Transaction<Schema>;

/** Who acts: a family, an agent, a robot (batch, always on behalf of a person), the system, an API client. */
export type Acteur = AuditActor;

/** Values written to the silo: domain records, which are plain JSON by construction. */
export function asJson(value: unknown): JsonValue {
  return value as JsonValue;
}
