import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Agent } from 'undici';
import { SPI_SANDBOX } from './population.ts';
import { assertDocumented, send, startTestSandbox, type Resp, type TestSandbox } from './test-support.ts';

const AUTOMNE = Date.UTC(2025, 9, 1, 10);
let clock = AUTOMNE;
let t: TestSandbox;
let token: string;

before(async () => {
  t = await startTestSandbox({ now: () => clock });
  token = await t.token();
});
after(() => t.close());
beforeEach(() => {
  clock = AUTOMNE;
});

const body = (res: Resp): Record<string, unknown> => res.json() as Record<string, unknown>;

describe('R2P : numéro fiscal à partir de l’état civil', () => {
  const P = '/personne/spi';
  async function r2p(params: Record<string, string>): Promise<Resp> {
    const res = await t.get(`${t.sb.r2pUrl}${P}?${new URLSearchParams(params)}`, t.headers(token));
    assertDocumented('r2p', P, res);
    return res;
  }

  it('trouve la personne par état civil complet (exemple de la spécification SFiP)', async () => {
    const res = await r2p({
      nom: 'DUBIGNOT',
      prenom: 'Jean Philippe Arnaud',
      sexe: '1',
      naisDate: '15/06/1943',
      naisCodePays: '99100',
      naisCodeDept: '75',
      naisCodeCommune: '109',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(body(res), { identifiant: { spi: '3999999776202' } });
  });

  it('trouve aussi les déclarants des foyers générés', async () => {
    const res = await r2p({ nom: 'ROUSSEL', prenom: 'CLAIRE', naisDate: '12/1983' });
    assert.deepEqual(body(res), { identifiant: { spi: SPI_SANDBOX.coupleMarie.declarant2 } });
  });

  it('répond 404 sans personne, 403 pour des homonymes, 400 pour des critères mal formés', async () => {
    assert.equal((await r2p({ nom: 'PERSONNE', prenom: 'NUL' })).status, 404);
    const homonymes = await r2p({ nom: 'AC SIX', prenom: 'YVETTE' });
    assert.equal(homonymes.status, 403);
    assert.equal((await r2p({ nom: 'AC SIX', prenom: 'YVETTE', naisDate: '25/03/1971' })).status, 200);
    const bads: Record<string, string>[] = [
      { nom: 'DUBIGNOT' },
      { nom: 'DUBIGNOT', prenom: 'JEAN', naisDate: '1943-06-15' },
      { nom: 'DUBIGNOT', prenom: 'JEAN', sexe: 'M' },
    ];
    for (const bad of bads) {
      assert.equal((await r2p(bad)).status, 400, JSON.stringify(bad));
    }
  });

  it('exige la portée R2P', async () => {
    const narrow = await t.token('RessourceIR');
    const res = await t.get(`${t.sb.r2pUrl}${P}?nom=DUBIGNOT&prenom=JEAN`, t.headers(narrow));
    assert.equal(res.status, 403);
    assertDocumented('r2p', P, res);
  });
});

describe('SFiP 02AA : données fiscales à partir de l’état civil', () => {
  const P = '/demandeDeService/02AA/personne';
  async function sfip(params: Record<string, string>, extra: Record<string, string> = {}): Promise<Resp> {
    const res = await t.get(`${t.sb.sfipUrl}${P}?${new URLSearchParams(params)}`, t.headers(token, extra));
    assertDocumented('sfip', P, res);
    return res;
  }

  it('répond l’exemple de la spécification : DUBIGNOT, veuf, au type de média SFiP', async () => {
    const res = await sfip({
      nom: 'DUBIGNOT',
      prenom: 'Jean Philippe Arnaud',
      sexe: '1',
      naisDate: '15/06/1943',
      naisCodePays: '99100',
      naisCodeDept: '75',
      naisCodeCommune: '109',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/vnd.dgfip.sfip.v1.0+json');
    const b = body(res);
    assert.equal(b.sitFam, 'V');
    assert.equal(b.nmNaiDec1, 'DUBIGNOT');
    assert.equal(b.prnmDec1, 'Jean Philippe Arnaud');
    // The SFiP specification defines no annRevenu: the sandbox sends none, so clients cannot rely on it.
    assert.equal(b.annRevenu, undefined);
  });

  it('accepte le numéro fiscal à la place de l’état civil', async () => {
    const res = await sfip({ spi: '3999999932264' });
    assert.deepEqual([body(res).rfr, body(res).nbPart, body(res).sitFam], [0, 2.5, 'M']);
  });

  it('répond 400 (4003), 403 (40305), 404 (40433) et 416 (4101) comme la spécification', async () => {
    const codeOf = (r: Resp): unknown => (r.json() as { erreur: { code: unknown } }).erreur.code;
    const none = await sfip({});
    assert.deepEqual([none.status, codeOf(none)], [400, 4003]);
    const badSpi = await sfip({ spi: '12' });
    assert.deepEqual([badSpi.status, codeOf(badSpi)], [400, 4003]);
    const homonymes = await sfip({ nom: 'AC SIX', prenom: 'YVETTE' });
    assert.deepEqual([homonymes.status, codeOf(homonymes)], [403, 40305]);
    const nobody = await sfip({ spi: SPI_SANDBOX.inconnu });
    assert.deepEqual([nobody.status, codeOf(nobody)], [404, 40433]);
    clock = Date.UTC(2025, 2, 1);
    const notYet = await sfip({ spi: SPI_SANDBOX.primoDeclarant });
    assert.deepEqual([notYet.status, codeOf(notYet)], [416, 4101]);
  });

  it('exige ID_Teleservice', async () => {
    const h = t.headers(token);
    delete h.id_teleservice;
    const res = await t.get(`${t.sb.sfipUrl}${P}?spi=3999999932264`, h);
    assert.equal(res.status, 400);
    assertDocumented('sfip', P, res);
  });

  it('indique que l’API est opérationnelle', async () => {
    const res = await t.get(`${t.sb.sfipUrl}/information`, t.headers(token));
    assert.equal(res.status, 200);
    assertDocumented('sfip', '/information', res);
  });
});

describe('API Particulier v2 : avis-imposition', () => {
  const P = '/api/v2/avis-imposition';
  // Référence d'avis: last two digits of the tax year, then the last 11 digits of declarant 1's SPI.
  const reference = (annrev: number, spi: string): string => `${String((annrev + 1) % 100).padStart(2, '0')}${spi.slice(2)}`;
  let plain: Agent;
  before(() => {
    // No client certificate: API Particulier never asked for one.
    plain = new Agent({ connect: { ca: t.sb.pki.caCertPem } });
  });
  after(() => plain.close());

  async function v2(params: Record<string, string>, key: string | null = t.sb.apiParticulierKeys[0] ?? null): Promise<Resp> {
    const res = await send(plain, `${t.sb.apiParticulierUrl}${P}?${new URLSearchParams(params)}`, { headers: key ? { 'x-api-key': key } : {} });
    assertDocumented('api-particulier', P, res);
    return res;
  }

  it('répond l’avis au format v2 à partir du numéro fiscal et de la référence', async () => {
    const { declarant1, declarant2 } = SPI_SANDBOX.familleNombreuse;
    const res = await v2({ numeroFiscal: declarant2, referenceAvis: reference(2024, declarant1) });
    assert.equal(res.status, 200);
    const b = body(res);
    assert.equal(b.situationFamille, 'Pacsé(e)s');
    assert.equal(b.nombreParts, 6.75);
    assert.equal(b.nombrePersonnesCharge, 5);
    assert.equal(b.revenuFiscalReference, 33640);
    assert.equal(b.montantImpot, null);
    assert.equal(b.anneeImpots, '2025');
    assert.deepEqual(b.foyerFiscal, { adresse: '55 BOULEVARD MARCELLIN BERTHELOT 13200 ARLES', annee: 2025 });
    assert.equal((b.declarant1 as { dateNaissance: string }).dateNaissance, '30/09/1945');
  });

  it('signale la situation partielle de l’année d’un décès', async () => {
    const { defunt, survivant } = SPI_SANDBOX.deces;
    const couple = body(await v2({ numeroFiscal: survivant, referenceAvis: reference(2024, defunt) }));
    const veuve = body(await v2({ numeroFiscal: survivant, referenceAvis: reference(2024, survivant) }));
    assert.equal(couple.situationPartielle, '(*) Situation  2024 partielle');
    assert.equal(couple.situationFamille, 'Marié(e)s');
    assert.equal(veuve.situationFamille, 'Veuf(ve)');
  });

  it('répond 401 sans clé, 400 sans paramètre, 404 pour une référence fausse ou pas encore établie', async () => {
    assert.equal((await v2({ numeroFiscal: '3999999932264', referenceAvis: reference(2024, '3999999932264') }, null)).status, 401);
    assert.equal((await v2({ numeroFiscal: '3999999932264', referenceAvis: reference(2024, '3999999932264') }, 'mauvaise-cle')).status, 401);
    assert.equal((await v2({ numeroFiscal: '3999999932264' })).status, 400);
    assert.equal((await v2({ numeroFiscal: '3999999932264', referenceAvis: reference(2024, '3999999930262') })).status, 404);
    assert.equal((await v2({ numeroFiscal: 'abc', referenceAvis: 'def' })).status, 404);
    clock = Date.UTC(2025, 2, 1);
    assert.equal((await v2({ numeroFiscal: '3999999932264', referenceAvis: reference(2024, '3999999932264') })).status, 404);
    assert.equal((await v2({ numeroFiscal: '3999999932264', referenceAvis: reference(2023, '3999999932264') })).status, 200);
  });

  it('garde l’alias historique /api/impots/svair, sans les montants nuls', async () => {
    const res = await send(plain, `${t.sb.apiParticulierUrl}/api/impots/svair?numeroFiscal=3999999932264&referenceAvis=${reference(2024, '3999999932264')}`, {
      headers: { 'x-api-key': t.sb.apiParticulierKeys[0]! },
    });
    assert.equal(res.status, 200);
    assert.ok(!('montantImpot' in body(res)));
  });

  it('n’est pas servie par la passerelle DGFiP, et réciproquement', async () => {
    assert.equal((await t.get(`${t.sb.origin}${P}?numeroFiscal=1&referenceAvis=2`, { 'x-api-key': t.sb.apiParticulierKeys[0]! })).status, 404);
    assert.equal((await send(plain, `${t.sb.apiParticulierUrl}/token`, { method: 'POST' })).status, 404);
  });
});
