/**
 * Test support: the request service wired as in production — real database (either dialect),
 * real audit journal and silo, real DGFiP clients against the sandbox on loopback — with the
 * numéros fiscaux in memory only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHabilitation } from '../../domain/habilitation.ts';
import { loadPolitiqueFileSync } from '../tarifs/politique-loader.ts';
import type { Database } from '../../infra/db/database.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { QuotaSlot } from '../../infra/queue/quota-slot.ts';
import { Coffre } from '../../infra/silo/coffre.ts';
import { openKeyringFile } from '../../infra/silo/keyring.ts';
import { sandboxConnection } from '../../sandbox/connection.ts';
import type { SandboxHandle } from '../../sandbox/server.ts';

export { sandboxConnection };
import { createDgfipClients, type DgfipClients, type DgfipConnection } from '../../sources/dgfip.ts';
import { auditFilesFor, JournalAudit } from '../audit/index.ts';
import { FamillesService } from '../familles/familles-service.ts';
import { DemandesService, type DemandesDeps } from './demandes-service.ts';
import { SpiVault } from './spi-vault.ts';

export const HABILITATION_TEST = parseHabilitation({
  idTeleservice: 'QUOTIENT_BAC_A_SABLE',
  scopes: ['RessourceIR'],
  modalites: ['numero-fiscal', 'franceconnect'],
  baseLegale: 'Article L. 114-8 du CRPA et délibération tarifaire',
  finalite: 'Calcul du quotient familial pour les tarifs municipaux',
  versionTexteConsentement: 'test-1',
});

export const POLITIQUE_BOULOGNE = loadPolitiqueFileSync(new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url).pathname);

export interface Harness {
  readonly demandes: DemandesService;
  readonly familles: FamillesService;
  readonly journal: JournalAudit;
  readonly coffre: Coffre;
  readonly vault: SpiVault;
  readonly dgfip: DgfipClients;
  readonly logLines: string[];
  readonly dataDir: string;
  close(): Promise<void>;
}

export async function createHarness(database: Database, sandbox: SandboxHandle | DgfipConnection, options: { instanceId?: string; vault?: SpiVault; dataDir?: string; quotaPerMinute?: number; deadlineMs?: number; onChange?: DemandesDeps['onChange']; politique?: DemandesDeps['politique'] } = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'quotient-harness-'));
  const logLines: string[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  const journal = await JournalAudit.open({ db: database.db, dialect: database.dialect, files: auditFilesFor({ mode: 'demo', dataDir }), onAlert: () => undefined });
  const coffre = new Coffre({ db: database.db, dialect: database.dialect, keyring: openKeyringFile({ mode: 'demo', dataDir }) });
  const quota = new QuotaSlot(database.db, { bucket: 'dgfip', limit: options.quotaPerMinute ?? 50 });
  const connection = 'admin' in sandbox ? sandboxConnection(sandbox) : sandbox;
  const dgfip = createDgfipClients(connection, { logger, quota, http: { deadlineMs: options.deadlineMs ?? 10_000, baseBackoffMs: 20 } });
  const vault = options.vault ?? new SpiVault();
  const demandes = new DemandesService({
    db: database.db,
    journal,
    coffre,
    source: dgfip.impotParticulier,
    politique: options.politique ?? (() => POLITIQUE_BOULOGNE),
    habilitation: HABILITATION_TEST,
    vault,
    instanceId: options.instanceId ?? 'instance-test',
    quotaPerMinute: options.quotaPerMinute ?? 50,
    logger,
    ...(options.onChange ? { onChange: options.onChange } : {}),
  });
  const familles = new FamillesService({ db: database.db, journal, coffre });
  return {
    demandes,
    familles,
    journal,
    coffre,
    vault,
    dgfip,
    logLines,
    dataDir,
    async close() {
      await dgfip.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
