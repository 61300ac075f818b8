import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../infra/db/database.ts';
import { migrateToLatest } from '../../infra/db/migrations.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { QuotaSlot } from '../../infra/queue/quota-slot.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import type { EtatCivil } from '../etat-civil/etat-civil.ts';
import type { UpstreamHttp, UpstreamResponse } from '../http/upstream-http.ts';
import { CafSource, createCafClient, parametresEtatCivil, SourceCafError, type CafClient, type CafClientOptions, type RaisonEchecCaf } from './caf-source.ts';

/** The CAF/MSA source against the sandbox built from the official API Particulier v3 file. */

const dir = mkdtempSync(join(tmpdir(), 'quotient-caf-'));
let sandbox: SandboxHandle;
let database: Database;
const opened: CafClient[] = [];
const lignes: string[] = [];
const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void lignes.push(line) } });
const SIRET = '21670482500019';

before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki'), now: () => Date.parse('2026-10-15T09:00:00Z') });
  sandbox.admin.registerFranceConnectToken('fc-bertin', SPI_SANDBOX.coupleMarie.declarant1);
  database = openDatabase(`sqlite:${join(dir, 'q.db')}`);
  await migrateToLatest(database.db, database.dialect);
});
after(async () => {
  await Promise.all(opened.map((c) => c.close()));
  await sandbox.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

function client(options: Partial<CafClientOptions> = {}, token = sandbox.apiParticulierKeys[0] as string): CafClient {
  const c = createCafClient(
    { baseUrl: sandbox.apiParticulierUrl, token, recipient: SIRET, caPem: sandbox.pki.caCertPem },
    { logger, deadlineMs: 4_000, baseBackoffMs: 10, ...options },
  );
  opened.push(c);
  return c;
}

async function failure(promise: Promise<unknown>): Promise<SourceCafError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SourceCafError, String(error));
    return error;
  }
  assert.fail('a typed failure was expected');
}
const raison = async (p: Promise<unknown>): Promise<RaisonEchecCaf> => (await failure(p)).raison;

const bertin: EtatCivil = { nom: 'Bertin', prenoms: 'Paul Henri', sexe: 'M', dateNaissance: '1981-04-09', naisCodeDept: '44', naisCodeCommune: '109' };
const lambert: EtatCivil = { nom: 'LAMBERT', prenoms: 'Sophie', sexe: 'F', dateNaissance: '1984-07-22', naisCodeDept: '33', naisCodeCommune: '063' };

describe('found', () => {
  test('a couple known to the CAF: two allocataires, two children, the QF and its month; nothing else kept', async () => {
    const q = await client().source.parEtatCivil(bertin, { mois: '2026-01' });
    assert.equal(q.fournisseur, 'CNAF');
    assert.equal(q.valeurEuros, 812);
    assert.equal(q.moisReference, '2026-01');
    assert.deepEqual(
      q.allocataires.map((a) => `${a.nomNaissance} ${a.prenoms}`),
      ['BERTIN PAUL HENRI', 'ROUSSEL CLAIRE ANNE'],
    );
    assert.equal(q.enfants.length, 2);
    assert.doesNotMatch(JSON.stringify(q), /NANTES|LILAS|sexe/);
  });

  test('an MSA allocataire: the caisse is named', async () => {
    const q = await client().source.parEtatCivil(lambert);
    assert.equal(q.fournisseur, 'MSA');
    assert.equal(q.valeurEuros, 690);
  });

  test('born abroad: no birth commune is needed', async () => {
    const q = await client().source.parEtatCivil({ nom: 'Oliveira', prenoms: 'Rafael', sexe: 'M', dateNaissance: '1979-11-03', naisCodePays: '99134' });
    assert.equal(q.valeurEuros, 1320);
  });

  test('by FranceConnect: the person’s own token, no état civil sent', async () => {
    const q = await client().source.parFranceConnect('fc-bertin');
    assert.equal(q.valeurEuros, 812);
  });
});

describe('refused', () => {
  test('unknown to the caisses: introuvable (not_found), in French', async () => {
    const e = await failure(client().source.parEtatCivil({ ...bertin, nom: 'Inconnu' }));
    assert.equal(e.raison, 'introuvable');
    assert.equal(e.kind, 'not_found');
    assert.match(e.message, /Ni la CAF ni la MSA/);
  });

  test('an état civil the API cannot search is refused before any call', async () => {
    sandbox.admin.clearCalls();
    assert.equal(await raison(client().source.parEtatCivil({ ...bertin, sexe: undefined as never })), 'criteres_invalides');
    assert.equal(await raison(client().source.parEtatCivil({ ...bertin, naisCodeCommune: undefined as never })), 'criteres_invalides');
    assert.equal(sandbox.admin.calls().length, 0);
    // The COG of a Corsican or overseas birthplace is rebuilt to its five characters.
    assert.equal(parametresEtatCivil({ ...bertin, naisCodeDept: '2A', naisCodeCommune: '04' }).get('codeCogInseeCommuneNaissance'), '2A004');
    assert.equal(parametresEtatCivil({ ...bertin, naisCodeDept: '971', naisCodeCommune: '105' }).get('codeCogInseeCommuneNaissance'), '97105');
    assert.deepEqual(parametresEtatCivil({ ...bertin, prenoms: 'Paul Henri Jean Marc' }).getAll('prenoms[]'), ['PAUL', 'HENRI', 'JEAN']);
  });

  test('a future month: mois_indisponible; a wrong token: jeton_refuse; an unknown FranceConnect token: reconnect', async () => {
    assert.equal(await raison(client().source.parEtatCivil(bertin, { mois: '2999-01' })), 'mois_indisponible');
    assert.equal(await raison(client({}, 'pas-le-bon').source.parEtatCivil(bertin)), 'jeton_refuse');
    const fc = await failure(client().source.parFranceConnect('fc-expire'));
    assert.equal(fc.raison, 'jeton_franceconnect_refuse');
    assert.equal(fc.kind, 'unauthenticated');
  });

  test('the upstream’s error code is quoted only when it has the documented shape (5 digits)', async () => {
    const answering = (body: string): CafSource => {
      const response: UpstreamResponse = { status: 403, headers: { 'content-type': 'application/json' }, body, correlationId: 'c-1' };
      const http = { send: () => Promise.resolve(response) } as unknown as UpstreamHttp;
      return new CafSource({ http, baseUrl: 'https://127.0.0.1:1', token: 't', recipient: SIRET });
    };
    const documented = await failure(answering(JSON.stringify({ errors: [{ code: '50002' }] })).parEtatCivil(bertin));
    assert.equal(documented.raison, 'acces_refuse');
    assert.match(documented.message, /\(code 50002\)$/);
    const injected = await failure(answering(JSON.stringify({ errors: [{ code: '<a href="//x">cliquez</a> 1' }] })).parEtatCivil(bertin));
    assert.equal(injected.raison, 'acces_refuse');
    assert.doesNotMatch(injected.message, /cliquez|href|code/);
    assert.match(injected.message, /\(HTTP 403\)$/);
  });

  test('a SIRET that is not one is refused at construction', () => {
    assert.throws(
      () => createCafClient({ baseUrl: sandbox.apiParticulierUrl, token: 't', recipient: '123' }, { logger }),
      (e: unknown) => e instanceof Error && /SIRET/.test(e.message),
    );
  });
});

describe('faults', () => {
  test('5xx retried then « indisponible »; schema mismatch and HTML « réponse inutilisable »; the état civil never logged', async () => {
    lignes.length = 0;
    sandbox.admin.addFault({ kind: 'http500', api: 'quotient-caf', times: 3 });
    assert.equal(await raison(client().source.parEtatCivil(bertin)), 'indisponible');
    sandbox.admin.addFault({ kind: 'http503', api: 'quotient-caf', times: 1 });
    assert.equal((await client().source.parEtatCivil(bertin)).valeurEuros, 812, 'one retry is enough after a passing outage');
    sandbox.admin.addFault({ kind: 'schemaMismatch', api: 'quotient-caf', times: 1 });
    assert.equal(await raison(client().source.parEtatCivil(bertin)), 'reponse_invalide');
    sandbox.admin.addFault({ kind: 'wrongContentType', api: 'quotient-caf', times: 1 });
    assert.equal(await raison(client().source.parEtatCivil(bertin)), 'reponse_invalide');
    assert.ok(lignes.length > 0, 'failures are logged');
    assert.doesNotMatch(lignes.join(''), /BERTIN|PAUL|1981|44109/);
  });

  test('a timeout ends at the deadline, typed', async () => {
    sandbox.admin.addFault({ kind: 'timeout', api: 'quotient-caf' });
    try {
      const e = await failure(client({ deadlineMs: 600, maxAttempts: 2 }).source.parEtatCivil(bertin));
      assert.equal(e.raison, 'indisponible');
    } finally {
      sandbox.admin.clearFaults();
    }
  });

  test('429: the quota slot pauses and the failure says when to try again', async () => {
    const quota = new QuotaSlot(database.db, { bucket: 'caf-429', limit: 50 });
    sandbox.admin.addFault({ kind: 'http429', api: 'quotient-caf', times: 5, retryAfterSeconds: 30 });
    const before = Date.now();
    const e = await failure(client({ quota }).source.parEtatCivil(bertin));
    sandbox.admin.clearFaults();
    assert.equal(e.raison, 'quota_depasse');
    assert.ok(e.retryAt !== undefined && e.retryAt >= before + 29_000);
  });

  test('its own quota: the caf bucket full, no call leaves, whatever the DGFiP bucket holds', async () => {
    let now = Date.parse('2026-10-15T09:00:00Z');
    const clock = () => now;
    const caf = new QuotaSlot(database.db, { bucket: 'caf', limit: 2, windowMs: 60_000, clock });
    const dgfip = new QuotaSlot(database.db, { bucket: 'dgfip-plein', limit: 1, windowMs: 60_000, clock });
    await dgfip.acquire(now + 1_000);
    await assert.rejects(dgfip.acquire(now + 1_000), 'the DGFiP bucket is full');
    const c = client({ quota: caf, clock, deadlineMs: 2_000 });
    await c.source.parEtatCivil(bertin);
    await c.source.parEtatCivil(lambert);
    sandbox.admin.clearCalls();
    const e = await failure(c.source.parEtatCivil(bertin));
    assert.equal(e.raison, 'quota_depasse');
    assert.equal(sandbox.admin.calls().length, 0, 'nothing sent beyond the quota');
    now += 62_000;
    assert.equal((await c.source.parEtatCivil(bertin)).valeurEuros, 812);
  });
});
