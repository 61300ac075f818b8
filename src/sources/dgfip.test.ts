import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../domain/numero-fiscal.ts';
import { loadConfig } from '../infra/config/config.ts';
import { createLogger } from '../infra/log/logger.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../sandbox/server.ts';
import { connectionFromSettings, createDgfipClients } from './dgfip.ts';
import { SourceFiscaleError } from './fiscal-source.ts';
import { sandboxEnv } from '../sandbox/connection.ts';

// Contract point 15: R2P and SFiP have their own bases, and the taxation date is the operator's.
const dir = mkdtempSync(join(tmpdir(), 'quotient-dgfip-'));
const logger = createLogger({ level: 'silent' });
// 15 August 2025, in France: after the default taxation date (22 July), before 1 September.
const now = Date.UTC(2025, 7, 15, 10);
let sandbox: SandboxHandle;

before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), now: () => now, taxationDate: { month: 9, day: 1 } });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function environment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    QUOTIENT_DATA_DIR: dir,
    ...sandboxEnv(sandbox),
    DGFIP_SCOPE: 'RessourceIR api_r2p_resolution_spi sfip_donnees_fiscales_usagers',
    ...extra,
  };
}

const married = { nom: 'Bertin', prenoms: 'Paul Henri', sexe: 'M' as const, dateNaissance: '1981-04-09' };

test('DGFIP_R2P_URL and DGFIP_SFIP_URL are where R2P and SFiP are called, whatever the gateway base', async () => {
  // The Impôt particulier base on a port nobody listens to: only the separate bases can answer.
  const config = loadConfig(
    environment({ DGFIP_BASE_URL: 'https://127.0.0.1:9/impotparticulier/1.0', DGFIP_R2P_URL: sandbox.r2pUrl, DGFIP_SFIP_URL: sandbox.sfipUrl }),
    { mode: 'demo', cwd: dir },
  );
  const connection = connectionFromSettings(config.dgfip)!;
  assert.deepEqual([connection.r2pUrl, connection.sfipUrl], [sandbox.r2pUrl, sandbox.sfipUrl]);
  const clients = createDgfipClients(
    { ...connection, tokenUrl: sandbox.tokenUrl },
    { logger, clock: () => now, http: { deadlineMs: 5_000, baseBackoffMs: 10, maxAttempts: 1 } },
  );
  try {
    sandbox.admin.clearCalls();
    const situation = await clients.sfip.parEtatCivil(married);
    assert.equal(situation.source, 'sfip');
    // R2P answers from its own base; the second call goes to the (unreachable) Impôt particulier base.
    await assert.rejects(clients.r2p.parEtatCivil(married), (e) => e instanceof SourceFiscaleError && e.raison === 'injoignable');
    assert.deepEqual(
      sandbox.admin
        .calls()
        .filter((c) => c.api !== 'token')
        .map((c) => [c.api, c.status]),
      [
        ['sfip', 200],
        ['r2p', 200],
      ],
    );
  } finally {
    await clients.close();
  }
});

test('DGFIP_TAXATION_DATE moves the latest year asked for: before it, the avis of N-1 is not asked for', async () => {
  const config = loadConfig(environment({ DGFIP_TAXATION_DATE: '09-01' }), { mode: 'demo', cwd: dir });
  assert.deepEqual(config.dgfip.taxation, { mois: 9, jour: 1 });
  const clients = createDgfipClients(connectionFromSettings(config.dgfip)!, { logger, clock: () => now, anneesAutorisees: [1], http: { deadlineMs: 5_000 } });
  try {
    // Habilitation N-1 only: on 15 August with a 1 September taxation, 2024 is not taxed yet — said without a call.
    sandbox.admin.clearCalls();
    await assert.rejects(
      clients.impotParticulier.parNumeroFiscal(NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1)),
      (e) => e instanceof SourceFiscaleError && e.raison === 'annee_indisponible',
    );
    assert.deepEqual(
      sandbox.admin.calls().filter((c) => c.api === 'impot-particulier'),
      [],
    );
  } finally {
    await clients.close();
  }
  const mauvais = () => loadConfig(environment({ DGFIP_TAXATION_DATE: '31-07' }), { mode: 'demo', cwd: dir });
  assert.throws(mauvais, (e: unknown) => e instanceof Error && /DGFIP_TAXATION_DATE/.test(JSON.stringify((e as { details?: unknown }).details)));
});

test('SFiP without annRevenu reads the year from the configured taxation date', async () => {
  const config = loadConfig(environment({ DGFIP_TAXATION_DATE: '09-01' }), { mode: 'demo', cwd: dir });
  const clients = createDgfipClients(connectionFromSettings(config.dgfip)!, { logger, clock: () => now, http: { deadlineMs: 5_000 } });
  try {
    const bySfip = await clients.sfip.parEtatCivil(married);
    const bySpi = await clients.impotParticulier.parNumeroFiscal(NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1));
    assert.deepEqual([bySfip.anneeRevenus, bySpi.anneeRevenus], [2023, 2023]);
  } finally {
    await clients.close();
  }
});
