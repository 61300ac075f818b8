import { join } from 'node:path';
import { QuotaSlot } from '../infra/queue/quota-slot.ts';
import { sandboxConnection } from '../sandbox/connection.ts';
import { startSandbox, type SandboxHandle } from '../sandbox/server.ts';
import { connectionFromSettings, createDgfipClients, type DgfipClients, type DgfipConnection } from '../sources/dgfip.ts';
import type { Runtime } from './runtime.ts';

export interface DgfipRuntime {
  readonly connection: DgfipConnection;
  readonly clients: DgfipClients;
  readonly quota: QuotaSlot;
  /** The built-in sandbox, when DGFIP_BASE_URL is unset. */
  readonly sandbox: SandboxHandle | undefined;
  close(): Promise<void>;
}

/**
 * The DGFiP as the configuration names it, or, when DGFIP_BASE_URL is unset, the built-in sandbox
 * started on loopback with its test PKI (client certificate required, as at the real gateway).
 * Every call takes a slot of the quota shared through the database.
 */
export async function openDgfip(runtime: Runtime): Promise<DgfipRuntime> {
  const { config, logger, database } = runtime;
  let sandbox: SandboxHandle | undefined;
  const habilitation = config.commune.habilitation;
  let connection = connectionFromSettings(config.dgfip, habilitation.scopes.join(' '));
  if (connection === undefined) {
    sandbox = await startSandbox({ dataDir: join(config.dataDir, 'sandbox-pki') });
    connection = sandboxConnection(sandbox, habilitation.scopes.join(' '));
  }
  const quota = new QuotaSlot(database.db, { bucket: 'dgfip', limit: config.dgfip.quotaPerMinute });
  const clients = createDgfipClients(connection, { logger, quota, anneesAutorisees: habilitation.annees });
  return {
    connection,
    clients,
    quota,
    sandbox,
    async close() {
      await clients.close();
      await sandbox?.close();
    },
  };
}
