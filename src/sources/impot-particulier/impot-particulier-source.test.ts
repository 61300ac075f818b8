import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { openDatabase, type Database } from '../../infra/db/database.ts';
import { migrateToLatest } from '../../infra/db/migrations.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { QuotaSlot } from '../../infra/queue/quota-slot.ts';
import { createForeignClientCertificate, createForeignServerCertificate } from '../../sandbox/pki.ts';
import { sandboxConnection } from '../../sandbox/connection.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { createDgfipClients, type DgfipClients, type DgfipConnection } from '../dgfip.ts';
import { SourceFiscaleError, type RaisonEchec } from '../fiscal-source.ts';
import { parisDate } from '../paris-date.ts';
import { derniereAnneeImposee } from '../../domain/annee-imposition.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-ip-'));
let sandbox: SandboxHandle;
let database: Database;
const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
const opened: DgfipClients[] = [];
const latest = derniereAnneeImposee(parisDate(Date.now()));

before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
  database = openDatabase(`sqlite:${join(dir, 'q.db')}`);
  await migrateToLatest(database.db, database.dialect);
});
after(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await sandbox.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

function connection(overrides: Partial<DgfipConnection> = {}): DgfipConnection {
  return { ...sandboxConnection(sandbox), ...overrides };
}

function clients(
  overrides: Partial<DgfipConnection> = {},
  options: { quota?: QuotaSlot; deadlineMs?: number; clock?: () => number; tokensInQuota?: boolean } = {},
): DgfipClients {
  const c = createDgfipClients(connection(overrides), {
    logger,
    ...(options.tokensInQuota !== undefined ? { tokensInQuota: options.tokensInQuota } : {}),
    ...(options.quota ? { quota: options.quota } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    http: { deadlineMs: options.deadlineMs ?? 10_000, baseBackoffMs: 20 },
  });
  opened.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<SourceFiscaleError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SourceFiscaleError, `a typed error, got ${String(error)}`);
    return error;
  }
  assert.fail('the call should have failed');
}

const spi = (digits: string) => NumeroFiscal.parse(digits);

test('a published sandbox foyer comes back normalised and minimised', async () => {
  const situation = await clients().impotParticulier.parNumeroFiscal(spi('3999999932264'), { anneeRevenus: latest });
  assert.equal(situation.rfr, 0);
  assert.equal(situation.nbParts, 2.5);
  assert.equal(situation.situationFamille, 'M');
  assert.equal(situation.nbPac, 1);
  assert.equal(situation.anneeRevenus, latest);
  assert.equal(situation.source, 'impot-particulier');
  assert.ok(situation.declarants.length >= 1);
  assert.ok(!JSON.stringify(situation).includes('3999999932264'));
});

test('without a year, the latest taxed year is asked', async () => {
  const situation = await clients().impotParticulier.parNumeroFiscal(spi(SPI_SANDBOX.coupleMarie.declarant2));
  assert.equal(situation.anneeRevenus, latest);
  assert.deepEqual(situation.declarants.map((d) => d.nomNaissance).sort(), ['BERTIN', 'ROUSSEL']);
});

test('by FranceConnect: the token of the person who consented stands for the numéro fiscal', async () => {
  sandbox.admin.registerFranceConnectToken('jeton-fc-de-test', SPI_SANDBOX.couplePacse.declarant2);
  const ip = clients().impotParticulier;
  const situation = await ip.parFranceConnect('jeton-fc-de-test');
  assert.equal(situation.situationFamille, 'O');
  assert.ok(situation.declarants.some((d) => d.nomNaissance === 'NDIAYE-FALL'));
  sandbox.admin.revokeFranceConnectToken('jeton-fc-de-test');
  // The person's token refused (revoked, expired) is not the habilitation refused: the person signs in again.
  assert.equal((await failure(ip.parFranceConnect('jeton-fc-de-test'))).raison, 'jeton_franceconnect_refuse');
});

test('unknown numéro, year not yet taxed, year outside the habilitation: each its typed reason', async () => {
  const ip = clients().impotParticulier;
  assert.equal((await failure(ip.parNumeroFiscal(spi(SPI_SANDBOX.inconnu), { anneeRevenus: latest }))).raison, 'introuvable');
  assert.equal((await failure(ip.parNumeroFiscal(spi('3999999932264'), { anneeRevenus: latest + 1 }))).raison, 'annee_indisponible');
  sandbox.admin.clearCalls();
  const outside = await failure(ip.parNumeroFiscal(spi('3999999932264'), { anneeRevenus: latest - 5 }));
  assert.equal(outside.raison, 'annee_hors_habilitation');
  // Decided here: the words say no request was sent, and none was.
  assert.match(outside.message, /aucune demande n’a été envoyée à la DGFiP/);
  assert.doesNotMatch(outside.message, /La DGFiP refuse/);
  assert.equal(sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length, 0);
});

test('4101 (no avis for the year yet) and 4102 (unknown numéro) are told apart; only 4101 moves on to the year before', async () => {
  // The DGFiP's calendar a year behind ours: the year we think taxed is not taxed there yet.
  const behind = await startSandbox({ dataDir: join(dir, 'pki'), now: () => Date.parse('2026-09-01T08:00:00Z') });
  try {
    const ip = clients(sandboxConnection(behind), { clock: () => Date.parse('2027-09-01T08:00:00Z') }).impotParticulier;
    const dataCalls = () => behind.admin.calls().filter((c) => c.api === 'impot-particulier').length;
    const refused = await failure(ip.parNumeroFiscal(spi('3999999932264'), { anneeRevenus: 2026 }));
    assert.equal(refused.raison, 'annee_indisponible');
    assert.match(refused.message, /pas encore imposée/);
    behind.admin.clearCalls();
    const situation = await ip.parNumeroFiscal(spi('3999999932264'));
    assert.equal(situation.anneeRevenus, 2025, 'the year before, which the DGFiP has');
    assert.equal(dataCalls(), 2);
    behind.admin.clearCalls();
    assert.equal((await failure(ip.parNumeroFiscal(spi(SPI_SANDBOX.inconnu)))).raison, 'introuvable');
    assert.equal(dataCalls(), 1, 'an unknown numéro is unknown for every year: no second call');
  } finally {
    await behind.close();
  }
});

test('the resource called is the one the habilitation grants: RessourceIRDerniere2 alone, RessourceIRDerniere alone', async () => {
  const paths = () =>
    sandbox.admin
      .calls()
      .filter((c) => c.api === 'impot-particulier')
      .map((c) => c.path.replace(/^.*\/spi\/[^/]+\//, ''));
  sandbox.admin.setClient({ clientId: 'qf-deux-ans', clientSecret: 'secret-deux-ans', scopes: ['RessourceIRDerniere2'] });
  const deuxAns = clients({ clientId: 'qf-deux-ans', clientSecret: 'secret-deux-ans', scope: 'RessourceIRDerniere2' }).impotParticulier;
  sandbox.admin.clearCalls();
  const latestAvis = await deuxAns.parNumeroFiscal(spi('3999999932264'));
  assert.equal(latestAvis.anneeRevenus, latest, 'annRevenu names the year');
  assert.deepEqual(paths(), ['dernieresituation/ir/assiettes/deuxans']);
  assert.equal((await deuxAns.parNumeroFiscal(spi('3999999932264'), { anneeRevenus: latest })).anneeRevenus, latest);

  // RessourceIRDerniere: the year of a death answers the survivor's last period, not « plusieurs avis »
  // (on a fixed calendar: the death is in N-1, taxed from 22 July).
  const at = Date.parse('2026-09-01T08:00:00Z');
  const fixed = await startSandbox({
    dataDir: join(dir, 'pki'),
    now: () => at,
    clients: [{ clientId: 'qf-derniere', clientSecret: 'secret-derniere', scopes: ['RessourceIRDerniere', 'RessourceIR'] }],
  });
  try {
    const base = sandboxConnection(fixed);
    const derniere = clients({ ...base, clientId: 'qf-derniere', clientSecret: 'secret-derniere', scope: 'RessourceIRDerniere' }, { clock: () => at });
    const survivant = await derniere.impotParticulier.parNumeroFiscal(spi(SPI_SANDBOX.deces.survivant), { anneeRevenus: 2025 });
    assert.deepEqual(
      fixed.admin
        .calls()
        .filter((c) => c.api === 'impot-particulier')
        .map((c) => c.path.replace(/^.*\/spi\/[^/]+\//, '')),
      ['dernieresituation/ir/assiettes/annrev/2025'],
    );
    assert.equal(survivant.situationFamille, 'V');
    // The same foyer through RessourceIR alone: two avis that year, for an instructor.
    const ir = clients({ ...base, clientId: 'qf-derniere', clientSecret: 'secret-derniere', scope: 'RessourceIR' }, { clock: () => at });
    assert.equal((await failure(ir.impotParticulier.parNumeroFiscal(spi(SPI_SANDBOX.deces.survivant), { anneeRevenus: 2025 }))).raison, 'situation_multiple');
  } finally {
    await fixed.close();
  }
});

test('the gateway refuses a missing or foreign client certificate; we refuse a foreign server certificate', async () => {
  const noCert = await failure(clients({ clientCertPem: undefined, clientKeyPem: undefined }).impotParticulier.parNumeroFiscal(spi('3999999932264')));
  assert.equal(noCert.raison, 'certificat_refuse');
  assert.match(noCert.message, /certificat client/);
  const foreign = await createForeignClientCertificate();
  sandbox.admin.clearCalls();
  const wrongCert = await failure(
    clients({ clientCertPem: foreign.certPem, clientKeyPem: foreign.keyPem }).impotParticulier.parNumeroFiscal(spi('3999999932264')),
  );
  // Refused silently after the handshake: the message points at the certificate, and no extra
  // connection (no unauthenticated probe outside the quota) followed the call's own attempts.
  assert.ok(['certificat_refuse', 'indisponible'].includes(wrongCert.raison), wrongCert.raison);
  assert.match(wrongCert.message, /certificat client/);
  const connections = sandbox.admin.calls().filter((c) => c.tlsError !== undefined || c.api !== 'token').length;
  assert.ok(connections <= 3, `${connections} connections for 3 attempts at most`);
  const otherCa = await createForeignServerCertificate();
  const untrusted = await failure(clients({ caPem: otherCa.caCertPem }).impotParticulier.parNumeroFiscal(spi('3999999932264')));
  assert.equal(untrusted.raison, 'certificat_serveur_refuse');
  assert.match(untrusted.message, /DGFIP_CA/);
});

test('wrong credentials and a scope not granted are reported as such', async () => {
  assert.equal((await failure(clients({ clientSecret: 'faux' }).impotParticulier.parNumeroFiscal(spi('3999999932264')))).raison, 'identifiants_refuses');
  assert.equal((await failure(clients({ scope: 'RessourceLEP' }).impotParticulier.parNumeroFiscal(spi('3999999932264')))).raison, 'acces_refuse');
});

test('one token serves concurrent calls, and a token revoked mid-run is replaced once', async () => {
  sandbox.admin.clearCalls();
  const ip = clients().impotParticulier;
  await Promise.all([1, 2, 3, 4].map(() => ip.parNumeroFiscal(spi('3999999932264'))));
  const tokenCalls = () => sandbox.admin.calls().filter((c) => c.api === 'token').length;
  assert.equal(tokenCalls(), 1);
  sandbox.admin.revokeTokens();
  await ip.parNumeroFiscal(spi('3999999932264'));
  assert.equal(tokenCalls(), 2);
});

const FAULTS: ReadonlyArray<[keyof typeof SPI_SANDBOX.fautes, readonly RaisonEchec[], number]> = [
  // fault, acceptable reasons, expected number of data calls (retries)
  ['http500', ['indisponible'], 3],
  ['http503', ['indisponible'], 3],
  ['timeout', ['indisponible'], 1],
  ['slowDrip', ['indisponible'], 1],
  ['malformedJson', ['reponse_invalide'], 1],
  ['truncatedBody', ['indisponible', 'reponse_invalide'], 3],
  ['oversizedBody', ['reponse_invalide'], 1],
  ['connectionReset', ['indisponible'], 3],
  ['wrongContentType', ['reponse_invalide'], 1],
  ['redirect', ['reponse_invalide'], 1],
  ['schemaMismatch', ['reponse_invalide'], 1],
];

for (const [fault, reasons, calls] of FAULTS) {
  test(`fault ${fault}: a typed failure within the deadline, retried only when it may help`, async () => {
    const ip = clients({}, { deadlineMs: 1_500 }).impotParticulier;
    await ip.parNumeroFiscal(spi('3999999932264')); // token fetched beforehand
    sandbox.admin.clearCalls();
    const started = Date.now();
    const error = await failure(ip.parNumeroFiscal(spi(SPI_SANDBOX.fautes[fault]), { anneeRevenus: latest }));
    assert.ok(reasons.includes(error.raison), `${fault} gave ${error.raison}`);
    assert.ok(Date.now() - started < 8_000, 'the deadline bounds the call');
    const dataCalls = sandbox.admin.calls().filter((c) => c.api === 'impot-particulier').length;
    if (fault === 'timeout' || fault === 'slowDrip') assert.ok(dataCalls >= 1);
    else assert.equal(dataCalls, calls, `${fault}: ${dataCalls} calls`);
    assert.match(String(error.correlationId), /^[0-9a-f-]{36}$/);
  });
}

test('a token request takes no slot of the call quota, unless the operator says it does', async () => {
  // This file's calls would otherwise reach the sandbox's own 50 a minute.
  sandbox.admin.resetQuota();
  const free = new QuotaSlot(database.db, { bucket: 'dgfip-test-jetons', limit: 50 });
  await clients({}, { quota: free }).impotParticulier.parNumeroFiscal(spi('3999999932264'), { anneeRevenus: latest });
  assert.equal((await free.usage()).used, 1, 'one data call, one slot; the token was free');
  const counted = new QuotaSlot(database.db, { bucket: 'dgfip-test-jetons-comptes', limit: 50 });
  await clients({}, { quota: counted, tokensInQuota: true }).impotParticulier.parNumeroFiscal(spi('3999999932264'), { anneeRevenus: latest });
  assert.equal((await counted.usage()).used, 2, 'DGFIP_QUOTA_JETONS=oui: the token took its slot');
});

test('a 429 with Retry-After pauses the shared quota slot for every instance', async () => {
  const quota = new QuotaSlot(database.db, { bucket: 'dgfip-test-429', limit: 50 });
  const ip = clients({}, { quota, deadlineMs: 1_500 }).impotParticulier;
  const error = await failure(ip.parNumeroFiscal(spi(SPI_SANDBOX.fautes.http429), { anneeRevenus: latest }));
  assert.equal(error.raison, 'quota_depasse');
  assert.ok(error.retryAt !== undefined && error.retryAt > Date.now() + 20_000);
  const other = new QuotaSlot(database.db, { bucket: 'dgfip-test-429', limit: 50 });
  assert.equal((await other.tryAcquire()).granted, false, 'another instance waits too');
});

test('the canary numéro fiscal appears in no log line and no error, whatever the path', async () => {
  const canary = SPI_SANDBOX.canari;
  logLines.length = 0;
  const texts: string[] = [];
  const ip = clients({}, { deadlineMs: 1_000 }).impotParticulier;
  for (const fault of ['http500', 'malformedJson', 'timeout', 'http429']) {
    sandbox.admin.addFault({ kind: fault as 'http500', spi: canary, times: 3 });
    try {
      await ip.parNumeroFiscal(spi(canary), { anneeRevenus: latest });
    } catch (error) {
      texts.push(String(error), JSON.stringify(error), (error as Error).stack ?? '', String((error as Error).cause ?? ''));
    }
    sandbox.admin.clearFaults();
  }
  texts.push(JSON.stringify(await ip.parNumeroFiscal(spi(canary), { anneeRevenus: latest }).catch((e: unknown) => e)));
  const everything = [...logLines, ...texts].join('\n');
  assert.ok(logLines.length > 0, 'failures were logged');
  assert.ok(!everything.includes(canary), 'the canary leaked');
  assert.match(everything, /\/spi\/\*{13}\//, 'paths are logged masked');
});

test('closing the clients leaves no socket open', async () => {
  const before = process.getActiveResourcesInfo().filter((r) => /TLS|TCP/.test(r)).length;
  const c = createDgfipClients(connection(), { logger, http: { deadlineMs: 10_000 } });
  await c.impotParticulier.parNumeroFiscal(spi('3999999932264'));
  await c.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const afterCount = process.getActiveResourcesInfo().filter((r) => /TLS|TCP/.test(r)).length;
  assert.ok(afterCount <= before, `sockets before ${before}, after ${afterCount}`);
});
