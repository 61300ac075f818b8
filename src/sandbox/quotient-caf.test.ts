import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SPI_SANDBOX } from './population.ts';
import { assertDocumented, startTestSandbox, type Resp, type TestSandbox } from './test-support.ts';

/** The CAF/MSA quotient familial of API Particulier v3, checked against the official v3 file. */

const NOW = Date.parse('2026-10-15T09:00:00Z');
const SIRET = '21920012300015';
const IDENTITE = '/v3/dss/quotient_familial/identite';
const FC = '/v3/dss/quotient_familial/france_connect';

let t: TestSandbox;
let key: string;
before(async () => {
  t = await startTestSandbox({ now: () => NOW, requireClientCert: false, quota: { limit: 40 } });
  key = t.sb.apiParticulierKeys[0] as string;
  t.sb.admin.registerFranceConnectToken('fc-bertin', SPI_SANDBOX.coupleMarie.declarant1);
  t.sb.admin.registerFranceConnectToken('fc-sans-portee', SPI_SANDBOX.coupleMarie.declarant1, undefined, ['openid']);
  t.sb.admin.registerFranceConnectToken('fc-girard', SPI_SANDBOX.primoDeclarant);
});
after(() => t.close());

const BERTIN = {
  nomNaissance: 'Bertin',
  'prenoms[]': 'Paul',
  sexeEtatCivil: 'M',
  anneeDateNaissance: '1981',
  moisDateNaissance: '4',
  jourDateNaissance: '9',
  codeCogInseePaysNaissance: '99100',
  codeCogInseeCommuneNaissance: '44109',
};

async function ask(path: string, params: Record<string, string>, token: string | null = key): Promise<Resp> {
  const query = new URLSearchParams(params);
  const res = await t.get(`${t.sb.apiParticulierUrl}${path}?${query}`, token ? { authorization: `Bearer ${token}` } : {});
  if (res.status !== 405) assertDocumented('api-particulier-v3', path, res);
  return res;
}

const code = (res: Resp): string | undefined => (res.json() as { errors?: { code: string }[] }).errors?.[0]?.code;
const qf = (res: Resp) => (res.json() as { data: { quotient_familial: Record<string, unknown> } }).data.quotient_familial;

describe('by état civil', () => {
  test('the specification’s own example: MSA, QF 1045, one child; the month of reference is the current one', async () => {
    const res = await ask(IDENTITE, {
      recipient: SIRET,
      nomNaissance: 'JACQUES',
      'prenoms[]': 'JEAN-PIERRE',
      sexeEtatCivil: 'M',
      anneeDateNaissance: '2000',
      codeCogInseePaysNaissance: '99100',
      codeCogInseeCommuneNaissance: '08480',
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(qf(res), { fournisseur: 'MSA', valeur: 1045, annee: 2026, mois: 10, annee_calcul: 2026, mois_calcul: 10 });
    const data = (res.json() as { data: { allocataires: unknown[]; enfants: unknown[] } }).data;
    assert.equal(data.allocataires.length, 1);
    assert.equal(data.enfants.length, 1);
  });

  test('a married couple: two allocataires, two children, the CNAF’s QF of the month asked', async () => {
    const res = await ask(IDENTITE, { ...BERTIN, recipient: SIRET, annee: '2026', mois: '3' });
    assert.equal(res.status, 200, res.text);
    const body = res.json() as { data: { allocataires: { nom_naissance: string }[]; enfants: unknown[] } };
    assert.deepEqual(
      body.data.allocataires.map((a) => a.nom_naissance),
      ['BERTIN', 'ROUSSEL'],
    );
    assert.equal(body.data.enfants.length, 2);
    assert.deepEqual(qf(res), { fournisseur: 'CNAF', valeur: 812, annee: 2026, mois: 3, annee_calcul: 2026, mois_calcul: 1 });
  });

  test('nobody of that name: 404 « non référencé »; the wrong birth commune as well', async () => {
    assert.equal(code(await ask(IDENTITE, { ...BERTIN, recipient: SIRET, nomNaissance: 'INCONNU' })), '35003');
    const ailleurs = await ask(IDENTITE, { ...BERTIN, recipient: SIRET, codeCogInseeCommuneNaissance: '75056' });
    assert.equal(ailleurs.status, 404);
  });

  test('recipient is mandatory and must be a SIRET; the état civil must be well formed', async () => {
    const missing = await ask(IDENTITE, BERTIN);
    assert.equal(missing.status, 422);
    assert.equal(code(missing), '00203');
    assert.equal((await ask(IDENTITE, { ...BERTIN, recipient: '123' })).status, 422);
    const noSex = await ask(IDENTITE, { ...BERTIN, recipient: SIRET, sexeEtatCivil: 'X' });
    assert.equal(code(noSex), '00366');
    const bornInFranceNoCommune = await ask(IDENTITE, { ...BERTIN, recipient: SIRET, codeCogInseeCommuneNaissance: '' });
    assert.equal(code(bornInFranceNoCommune), '00366');
  });

  test('a future month or one beyond the two years of history is refused', async () => {
    assert.equal((await ask(IDENTITE, { ...BERTIN, recipient: SIRET, annee: '2026', mois: '11' })).status, 400);
    assert.equal((await ask(IDENTITE, { ...BERTIN, recipient: SIRET, annee: '2024', mois: '9' })).status, 400);
    assert.equal((await ask(IDENTITE, { ...BERTIN, recipient: SIRET, annee: '2024', mois: '10' })).status, 200);
  });

  test('no token, an unknown token: 401 00101', async () => {
    assert.equal(code(await ask(IDENTITE, { ...BERTIN, recipient: SIRET }, null)), '00101');
    const res = await ask(IDENTITE, { ...BERTIN, recipient: SIRET }, 'pas-un-jeton');
    assert.equal(res.status, 401);
  });
});

describe('by FranceConnect', () => {
  test('the person behind the token is found by their état civil; no état civil parameter is needed', async () => {
    const res = await ask(FC, { recipient: SIRET }, 'fc-bertin');
    assert.equal(res.status, 200, res.text);
    assert.equal(qf(res).valeur, 812);
  });

  test('a person the caisses do not know: 404; an unknown token: 401; a token without the scope: 403', async () => {
    assert.equal((await ask(FC, { recipient: SIRET }, 'fc-girard')).status, 404);
    assert.equal((await ask(FC, { recipient: SIRET }, 'fc-inconnu')).status, 401);
    assert.equal((await ask(FC, { recipient: SIRET }, 'fc-sans-portee')).status, 403);
    assert.equal(code(await ask(FC, {}, 'fc-bertin')), '00203');
  });
});

describe('faults', () => {
  test('injected 5xx become v3’s 502/504 bodies, 429 carries Retry-After, a timeout never answers', async () => {
    const base = { ...BERTIN, recipient: SIRET };
    t.sb.admin.addFault({ kind: 'http500', api: 'quotient-caf', times: 1 });
    const e502 = await ask(IDENTITE, base);
    assert.equal(e502.status, 502);
    assert.equal(code(e502), '37999');
    t.sb.admin.addFault({ kind: 'http503', api: 'quotient-caf', times: 1 });
    assert.equal(code(await ask(IDENTITE, base)), '37001');
    t.sb.admin.addFault({ kind: 'http429', api: 'quotient-caf', times: 1, retryAfterSeconds: 7 });
    const limited = await ask(IDENTITE, base);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '7');
    // Faults of the DGFiP's APIs leave this one alone.
    t.sb.admin.addFault({ kind: 'http500', api: 'impot-particulier', times: 1 });
    assert.equal((await ask(IDENTITE, base)).status, 200);
    t.sb.admin.clearFaults();
    t.sb.admin.addFault({ kind: 'timeout', api: 'quotient-caf', times: 1 });
    // Left hanging: the sandbox's close destroys the socket.
    const pending = t.get(`${t.sb.apiParticulierUrl}${IDENTITE}?${new URLSearchParams(base)}`, { authorization: `Bearer ${key}` }).then(
      () => 'answered',
      () => 'aborted',
    );
    // The call is recorded without a status once the sandbox has decided not to answer.
    for (let i = 0; i < 200 && !t.sb.admin.calls().some((c) => c.fault === 'timeout'); i++) await new Promise((r) => setImmediate(r));
    const record = t.sb.admin.calls().find((c) => c.fault === 'timeout');
    assert.ok(record && record.status === undefined && record.api === 'quotient-caf');
    assert.ok(!record.path.includes('BERTIN') && !record.path.includes('?recipient'), 'the état civil never reaches the record');
    t.sb.admin.clearFaults();
    void pending;
  });

  test('the sandbox’s own quota answers 429 00429 once the window is full', async () => {
    t.sb.admin.resetQuota();
    const base = { ...BERTIN, recipient: SIRET };
    let last: Resp | undefined;
    for (let i = 0; i < 41; i++) last = await ask(IDENTITE, base);
    assert.equal(last?.status, 429);
    assert.equal(code(last as Resp), '00429');
    t.sb.admin.resetQuota();
  });
});
