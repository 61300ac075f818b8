import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { sandboxConnection } from '../../sandbox/connection.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../sandbox/server.ts';
import { ApiParticulierSource } from '../api-particulier/api-particulier-source.ts';
import { comparerSituations } from '../comparaison.ts';
import { createDgfipClients, type DgfipClients } from '../dgfip.ts';
import { SourceFiscaleError } from '../fiscal-source.ts';
import { UpstreamHttp } from '../http/upstream-http.ts';
import { NOM_NAISSANCE_DGFIP_MAX, PRENOM_DGFIP_MAX } from '../../domain/etat-civil.ts';
import { criteresEtatCivil, type EtatCivil } from './etat-civil.ts';

const dir = mkdtempSync(join(tmpdir(), 'quotient-ec-'));
const logLines: string[] = [];
const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
let sandbox: SandboxHandle;
let clients: DgfipClients;
let legacyHttp: UpstreamHttp;
/** While set, every token the sandbox issues is revoked at once: the gateway answers 401 to each call. */
let refuseEveryToken = false;

before(async () => {
  sandbox = await startSandbox({
    dataDir: join(dir, 'pki'),
    onCall: (call) => {
      if (refuseEveryToken && call.api === 'token') sandbox.admin.revokeTokens();
    },
  });
  clients = createDgfipClients(sandboxConnection(sandbox, 'RessourceIR api_r2p_resolution_spi sfip_donnees_fiscales_usagers'), {
    logger,
    http: { deadlineMs: 10_000, baseBackoffMs: 20 },
  });
  legacyHttp = new UpstreamHttp({ tls: { ca: sandbox.pki.caCertPem }, logger, deadlineMs: 10_000 });
});
after(async () => {
  await clients.close();
  await legacyHttp.close();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

const married = { nom: 'Bertin', prenoms: 'Paul Henri', sexe: 'M' as const, dateNaissance: '1981-04-09' };

test('état civil → R2P → Impôt particulier gives the foyer, and the SPI obtained never leaves the adapter', async () => {
  logLines.length = 0;
  sandbox.admin.clearCalls();
  const situation = await clients.r2p.parEtatCivil(married);
  assert.deepEqual(situation.declarants.map((d) => d.nomNaissance).sort(), ['BERTIN', 'ROUSSEL']);
  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  assert.ok(!JSON.stringify(situation).includes(spi));
  assert.ok(!logLines.join('').includes(spi));
  assert.deepEqual(
    sandbox.admin
      .calls()
      .filter((c) => c.api !== 'token')
      .map((c) => c.api),
    ['r2p', 'impot-particulier'],
  );
});

test('état civil → SFiP in one call gives the same foyer', async () => {
  sandbox.admin.clearCalls();
  const bySfip = await clients.sfip.parEtatCivil(married);
  const bySpi = await clients.impotParticulier.parNumeroFiscal(NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1));
  assert.equal(bySfip.source, 'sfip');
  assert.deepEqual(comparerSituations(bySpi, bySfip), []);
  assert.equal(sandbox.admin.calls().filter((c) => c.api === 'sfip').length, 1);
});

test('R2P and SFiP replace a token the gateway rejects with 401, and try once more', async () => {
  const cases = [
    [clients.r2p, 'r2p'],
    [clients.sfip, 'sfip'],
  ] as const;
  for (const [source, api] of cases) {
    await source.parEtatCivil(married); // a token in the cache
    sandbox.admin.revokeTokens();
    sandbox.admin.clearCalls();
    const situation = await source.parEtatCivil(married);
    assert.deepEqual(situation.declarants.map((d) => d.nomNaissance).sort(), ['BERTIN', 'ROUSSEL'], api);
    const calls = sandbox.admin.calls().filter((c) => c.api === api || c.api === 'token');
    assert.deepEqual(
      calls.map((c) => [c.api, c.status]),
      [
        [api, 401],
        ['token', 200],
        [api, 200],
      ],
      api,
    );
  }
});

test('R2P and SFiP retry a 401 only once: a gateway that keeps refusing the token is a typed refusal', async () => {
  // Clients of their own, so that the refused tokens they keep stay out of the other tests.
  const refused = createDgfipClients(sandboxConnection(sandbox, 'RessourceIR api_r2p_resolution_spi sfip_donnees_fiscales_usagers'), {
    logger,
    http: { deadlineMs: 10_000, baseBackoffMs: 20 },
  });
  refuseEveryToken = true;
  try {
    for (const [source, api] of [
      [refused.r2p, 'r2p'],
      [refused.sfip, 'sfip'],
    ] as const) {
      sandbox.admin.clearCalls();
      await assert.rejects(source.parEtatCivil(married), (e) => e instanceof SourceFiscaleError && e.raison === 'identifiants_refuses');
      assert.deepEqual(
        sandbox.admin
          .calls()
          .filter((c) => c.api === api)
          .map((c) => c.status),
        [401, 401],
        api,
      );
    }
  } finally {
    refuseEveryToken = false;
    await refused.close();
  }
});

test('nobody, or too many people, for an état civil: typed reasons', async () => {
  const nobody = { nom: 'Inexistant', prenoms: 'Personne', dateNaissance: '1950-01-01' };
  for (const source of [clients.r2p, clients.sfip]) {
    await assert.rejects(source.parEtatCivil(nobody), (e) => e instanceof SourceFiscaleError && e.raison === 'etat_civil_introuvable');
  }
  assert.throws(() => criteresEtatCivil({ nom: ' ', prenoms: 'Paul' }), /nom et le prénom/);
});

test('names are sent as the DGFiP stores them: upper case, no accents; a name with no letter is a typed error', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), fc.constantFrom('Éloïse', 'Chloé', 'Ève'), (nom, prenom) => {
      let params: URLSearchParams;
      try {
        params = criteresEtatCivil({ nom, prenoms: prenom });
      } catch (error) {
        assert.equal((error as { code?: string }).code, 'etat_civil_incomplet');
        return;
      }
      assert.doesNotMatch(params.get('prenom') ?? '', /[a-zà-ÿ]/);
      assert.notEqual(params.get('nom'), '');
    }),
  );
  assert.equal(
    criteresEtatCivil({ nom: 'Ndiaye-Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' }).toString(),
    'nom=NDIAYE-FALL&prenom=AMINATA&naisDate=14%2F02%2F1990',
  );
});

test('the legacy API Particulier gives the same situation; the comparison lists what differs', async () => {
  const spi = NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1);
  const legacy = new ApiParticulierSource({ http: legacyHttp, baseUrl: sandbox.apiParticulierUrl, apiKey: sandbox.apiParticulierKeys[0]! });
  const current = await clients.impotParticulier.parNumeroFiscal(spi);
  // The sandbox derives each avis' référence from the first declarant's numéro (see src/sandbox/README.md).
  const reference = `${String(current.anneeRevenus + 1).slice(2)}${SPI_SANDBOX.coupleMarie.declarant1.slice(2)}`;
  const old = await legacy.parAvis(spi, reference);
  assert.equal(old.source, 'api-particulier');
  // The QF contract of Impôt particulier leaves out datEtab, which the v2 always gave: the only gap.
  assert.deepEqual(
    comparerSituations(current, old).map((d) => d.champ),
    ['dateEtablissement'],
  );
  const [first, second] = current.declarants as [(typeof current.declarants)[0], (typeof current.declarants)[0]];
  const changed = comparerSituations(current, {
    ...current,
    rfr: current.rfr + 1,
    declarants: [
      { ...first, nomUsage: 'Autre' },
      { ...second, prenoms: second.prenoms.toLowerCase() },
    ],
  });
  assert.deepEqual(
    changed.map((d) => d.champ),
    ['rfr', 'declarants[0].nomUsage'],
    'case alone is no difference',
  );
  await assert.rejects(legacy.parAvis(spi, 'abc'), (e) => e instanceof SourceFiscaleError && e.raison === 'criteres_invalides');
  const wrongKey = new ApiParticulierSource({ http: legacyHttp, baseUrl: sandbox.apiParticulierUrl, apiKey: 'mauvaise' });
  await assert.rejects(wrongKey.parAvis(spi, reference), (e) => e instanceof SourceFiscaleError && e.raison === 'identifiants_refuses');
});

test('a static API Particulier key the server refuses is not sent again', async () => {
  const spi = NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1);
  const wrongKey = new ApiParticulierSource({ http: legacyHttp, baseUrl: sandbox.apiParticulierUrl, apiKey: 'mauvaise' });
  sandbox.admin.clearCalls();
  await assert.rejects(
    wrongKey.parAvis(spi, `25${SPI_SANDBOX.coupleMarie.declarant1.slice(2)}`),
    (e) => e instanceof SourceFiscaleError && e.raison === 'identifiants_refuses',
  );
  assert.deepEqual(
    sandbox.admin
      .calls()
      .filter((c) => c.api === 'api-particulier')
      .map((c) => c.status),
    [401],
  );
});

// Contract point 3: the SFiP specification defines no annRevenu, and the sandbox sends none.
test('an SFiP answer without annRevenu is the latest taxed year, as Impôt particulier gives it', async () => {
  sandbox.admin.clearCalls();
  const bySfip = await clients.sfip.parEtatCivil(married);
  const bySpi = await clients.impotParticulier.parNumeroFiscal(NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1));
  assert.equal(bySfip.anneeRevenus, bySpi.anneeRevenus);
  assert.equal(bySfip.rfr, bySpi.rfr);
  // SFiP cannot be asked for a year: another year than the one it gives is « not yet », not a wrong avis.
  await assert.rejects(
    clients.sfip.parEtatCivil(married, { anneeRevenus: bySpi.anneeRevenus - 1 }),
    (e) => e instanceof SourceFiscaleError && e.raison === 'annee_indisponible',
  );
});

// Contract point 13: R2P's 403 is « trop de réponse ou dossier non communicable », not always homonyms.
test('a 403 to a complete état civil is a file not disclosed; to a partial one, homonyms; to a token without the scope, a refused access', async () => {
  const secret: EtatCivil = {
    nom: 'Secret',
    prenoms: 'Dominique',
    sexe: 'F',
    dateNaissance: '1975-05-05',
    naisCodePays: '99100',
    naisCodeDept: '75',
    naisCodeCommune: '056',
  };
  for (const source of [clients.r2p, clients.sfip]) {
    await assert.rejects(source.parEtatCivil(secret), (e) => e instanceof SourceFiscaleError && e.raison === 'dossier_non_communicable');
    await assert.rejects(source.parEtatCivil({ nom: 'AC SIX', prenoms: 'YVETTE' }), (e) => e instanceof SourceFiscaleError && e.raison === 'etat_civil_ambigu');
  }
  const narrow = createDgfipClients(sandboxConnection(sandbox, 'RessourceIR'), { logger, http: { deadlineMs: 10_000, baseBackoffMs: 20 } });
  try {
    await assert.rejects(narrow.r2p.parEtatCivil(married), (e) => e instanceof SourceFiscaleError && e.raison === 'acces_refuse');
  } finally {
    await narrow.close();
  }
});

// Contract point 14: the DGFiP's bounds are checked here, and nothing is sent beyond them.
test('a name over 100 characters or a first name over 20 is refused before any call', async () => {
  sandbox.admin.clearCalls();
  const longs: EtatCivil[] = [
    { ...married, nom: 'B'.repeat(NOM_NAISSANCE_DGFIP_MAX + 1) },
    { ...married, prenoms: `Paul ${'H'.repeat(PRENOM_DGFIP_MAX + 1)}` },
  ];
  for (const source of [clients.r2p, clients.sfip]) {
    for (const etatCivil of longs) {
      await assert.rejects(
        source.parEtatCivil(etatCivil),
        (e) => e instanceof SourceFiscaleError && e.raison === 'etat_civil_trop_long' && /100|20/.test(e.message),
      );
    }
  }
  assert.deepEqual(sandbox.admin.calls(), []);
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 130 }), fc.array(fc.integer({ min: 1, max: 26 }), { minLength: 1, maxLength: 4 }), (n, tailles) => {
      const etatCivil = { nom: 'N'.repeat(n), prenoms: tailles.map((t) => 'P'.repeat(t)).join(' ') };
      const tropLong = n > NOM_NAISSANCE_DGFIP_MAX || tailles.some((t) => t > PRENOM_DGFIP_MAX);
      let refuse = false;
      try {
        criteresEtatCivil(etatCivil);
      } catch (error) {
        refuse = error instanceof SourceFiscaleError && error.raison === 'etat_civil_trop_long';
      }
      assert.equal(refuse, tropLong);
    }),
  );
});
