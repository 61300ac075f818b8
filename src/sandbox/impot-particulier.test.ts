import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DEFAULT_CONTRACT } from './contract.ts';
import { franceConnectScopesFor } from './franceconnect-scopes.ts';
import { SPI_SANDBOX } from './population.ts';
import { assertDocumented, send, startTestSandbox, type Resp, type TestSandbox } from './test-support.ts';

// Autumn 2025: the income year 2024 is taxed (N-1), 2023 is N-2, 2022 N-3.
const AUTOMNE = Date.UTC(2025, 9, 1, 10);
const PRINTEMPS = Date.UTC(2025, 2, 1, 10);
let clock = AUTOMNE;
let t: TestSandbox;
let token: string;
const fcTokens = new Map<string, string>();

before(async () => {
  t = await startTestSandbox({
    now: () => clock,
    franceConnect: { tokens: { 'fc-jeton-table': SPI_SANDBOX.coupleMarie.declarant2 }, resolve: async (tok) => fcTokens.get(tok) },
  });
  token = await t.token();
});
after(() => t.close());
beforeEach(() => {
  clock = AUTOMNE;
});

async function ask(path: string, extra: Record<string, string> = {}): Promise<Resp> {
  const res = await t.get(t.sb.baseUrl + path, t.headers(token, extra));
  assertDocumented('impot-particulier', path, res);
  return res;
}

const situation = (spi: string, annrev: number | string): string => `/spi/${spi}/situations/ir/assiettes/annrev/${annrev}`;
const derniere = (spi: string, annrev: number | string): string => `/spi/${spi}/dernieresituation/ir/assiettes/annrev/${annrev}`;
const deuxans = (spi: string): string => `/spi/${spi}/dernieresituation/ir/assiettes/deuxans`;
const multiple = (spi: string, annrev: number): string => `/spi/${spi}/situations/ir/assiettes/multiple/annrev/${annrev}`;
const body = (res: Resp): Record<string, unknown> => res.json() as Record<string, unknown>;
const code = (res: Resp): unknown => (res.json() as { erreur: { code: unknown } }).erreur.code;

describe('ressources IR par numéro fiscal', () => {
  it('sert le foyer publié 3999999932264 en N-1 et N-2 avec le type de média de la DGFiP', async () => {
    for (const year of [2024, 2023]) {
      const res = await ask(situation('3999999932264', year));
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/prs.dgfip.part.situations.ir.assiettes.v1+json');
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.deepEqual(body(res), {
        rfr: 0,
        sitFam: 'M',
        nbPart: 2.5,
        pac: { nbPac: 1 },
        nmNaiDec1: 'CIS QUARANTESEPT',
        prnmDec1: 'PRENOM YVES',
        dateNaisDec1: { jour: '12', mois: '11', annee: '1967' },
        aft: '8 RUE JULIEN LACROIX 75020 PARIS',
      });
    }
    const n3 = await ask(situation('3999999932264', 2022));
    assert.equal(n3.status, 410);
    assert.equal(code(n3), 4101);
  });

  it('renvoie l’identifiant de corrélation reçu', async () => {
    const id = randomUUID();
    const res = await ask(situation(SPI_SANDBOX.publies[0], 2024), { 'x-correlation-id': id });
    assert.equal(res.headers['x-correlation-id'], id);
  });

  it('contrôle X-Correlation-ID et ID_Teleservice', async () => {
    const p = situation(SPI_SANDBOX.publies[0], 2024);
    const sans = await t.get(t.sb.baseUrl + p, { authorization: `Bearer ${token}`, id_teleservice: 'QUOTIENT_BAC_A_SABLE' });
    assert.equal(sans.status, 400);
    assertDocumented('impot-particulier', p, sans);
    assert.equal((await ask(p, { 'x-correlation-id': 'pas-un-uuid' })).status, 400);
    const h = t.headers(token);
    delete h.id_teleservice;
    const sansTeleservice = await t.get(t.sb.baseUrl + p, h);
    assert.equal(sansTeleservice.status, 400);
    const autre = await ask(p, { id_teleservice: 'AUTRE_TELESERVICE' });
    assert.equal(autre.status, 403);
    assert.equal(code(autre), 4031);
  });

  it('répond 400 (4001) à un numéro mal formé, 400 (4002) à une année mal formée, 410 (4102) à un inconnu', async () => {
    for (const bad of ['399999993226', '39999999322644', '399999993226A', ' 3999999932264', '3999 999932264']) {
      const res = await ask(situation(encodeURIComponent(bad), 2024));
      assert.equal(res.status, 400, bad);
      assert.equal(code(res), 4001);
      assert.doesNotMatch(res.text, /3999/, 'le numéro n’est pas renvoyé');
    }
    const year = await ask(situation(SPI_SANDBOX.publies[0], '24'));
    assert.equal(year.status, 400);
    assert.equal(code(year), 4002);
    const inconnu = await ask(situation(SPI_SANDBOX.inconnu, 2024));
    assert.equal(inconnu.status, 410);
    assert.equal(code(inconnu), 4102);
  });

  it('ne sert que les années de l’habilitation (403 4031) et rien de l’année en cours (410 4101)', async () => {
    t.sb.admin.setClient({ ...t.sb.clients[0]!, annees: [1] });
    try {
      const n2 = await ask(situation(SPI_SANDBOX.publies[0], 2023));
      assert.equal(n2.status, 403);
      assert.equal(code(n2), 4031);
      assert.equal((await ask(situation(SPI_SANDBOX.publies[0], 2024))).status, 200);
    } finally {
      t.sb.admin.setClient({ ...t.sb.clients[0]!, annees: [1, 2, 3] });
    }
    const courante = await ask(situation(SPI_SANDBOX.publies[0], 2025));
    assert.equal(courante.status, 410);
    assert.equal(code(courante), 4101);
  });

  it('ne renvoie que les champs du contrat du téléservice', async () => {
    const client = t.sb.clients[0]!;
    t.sb.admin.setClient({ ...client, fields: ['rfr', 'nbPart', 'pac', 'aftDetail', 'revenuBrutGlobal', 'rev.tspr'] });
    try {
      const res = await ask(situation(SPI_SANDBOX.coupleMarie.declarant1, 2024));
      assert.deepEqual(Object.keys(body(res)).sort(), ['aftDetail', 'nbPart', 'pac', 'rev', 'revenuBrutGlobal', 'rfr']);
      assert.deepEqual(body(res).pac, { nbPac: 2, nbPacF: 2 });
      assert.deepEqual(body(res).aftDetail, { complementAdresse: 'BAT B APT 12', voie: '12 RUE DES LILAS', codePostal: '44000 NANTES' });
      assert.deepEqual(Object.keys(body(res).rev as object), ['tspr']);
    } finally {
      t.sb.admin.setClient(client);
    }
  });
});

describe('année pas encore taxée (horloge avant la date de taxation)', () => {
  it('au printemps, N-1 n’existe pas encore (410 4101) et deuxans donne N-2', async () => {
    clock = PRINTEMPS;
    const n1 = await ask(situation(SPI_SANDBOX.publies[2], 2024));
    assert.equal(n1.status, 410);
    assert.equal(code(n1), 4101);
    const n2 = await ask(situation(SPI_SANDBOX.publies[2], 2023));
    assert.equal(n2.status, 200);
    const last = await ask(deuxans(SPI_SANDBOX.coupleMarie.declarant1));
    assert.equal(body(last).annRevenu, 2023);
    assert.equal(body(last).rfr, 50110);
    clock = AUTOMNE;
    const apres = await ask(deuxans(SPI_SANDBOX.coupleMarie.declarant1));
    assert.equal(body(apres).annRevenu, 2024);
    assert.equal(body(apres).rfr, 52340);
  });

  it('suit une date de taxation configurée', async () => {
    const other = await startTestSandbox({ now: () => Date.UTC(2025, 7, 5, 10), taxationDate: { month: 9, day: 1 } });
    try {
      const tok = await other.token();
      const p = situation(SPI_SANDBOX.publies[0], 2024);
      const res = await other.get(other.sb.baseUrl + p, other.headers(tok));
      assert.equal(res.status, 410);
      assertDocumented('impot-particulier', p, res);
    } finally {
      await other.close();
    }
  });

  it('primo-déclarant : rien avant la taxation, N-1 après', async () => {
    clock = PRINTEMPS;
    const spi = SPI_SANDBOX.primoDeclarant;
    assert.equal((await ask(situation(spi, 2024))).status, 410);
    assert.equal((await ask(deuxans(spi))).status, 410);
    clock = AUTOMNE;
    assert.equal(body(await ask(situation(spi, 2024))).rfr, 14300);
    assert.equal((await ask(situation(spi, 2023))).status, 410);
  });
});

describe('foyers délicats', () => {
  it('couple marié et couple pacsé : chaque numéro donne le même foyer', async () => {
    for (const couple of [SPI_SANDBOX.coupleMarie, SPI_SANDBOX.couplePacse]) {
      const a = await ask(situation(couple.declarant1, 2024));
      const b = await ask(situation(couple.declarant2, 2024));
      assert.equal(a.status, 200);
      assert.deepEqual(body(a), body(b));
      assert.ok(body(a).nmNaiDec2, 'deux déclarants');
    }
    const marie = body(await ask(situation(SPI_SANDBOX.coupleMarie.declarant2, 2024)));
    assert.equal(marie.sitFam, 'M');
    assert.equal(marie.nmUsaDec2, 'BERTIN');
    assert.equal(body(await ask(situation(SPI_SANDBOX.couplePacse.declarant1, 2024))).sitFam, 'O');
  });

  it('parents non mariés : deux numéros, deux foyers', async () => {
    const mere = body(await ask(situation(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, 2024)));
    const pere = body(await ask(situation(SPI_SANDBOX.parentsNonMaries.parentSansEnfant, 2024)));
    assert.deepEqual([mere.sitFam, mere.nbPart, (mere.pac as { nbPac: number }).nbPac], ['C', 1.5, 1]);
    assert.deepEqual([pere.sitFam, pere.nbPart, (pere.pac as { nbPac: number }).nbPac], ['C', 1, 0]);
    assert.notEqual(mere.nmNaiDec1, pere.nmNaiDec1);
    assert.equal(mere.nmNaiDec2, undefined);
  });

  it('résidence alternée : enfants comptés dans les deux foyers, parts en quarts', async () => {
    t.sb.admin.setClient({ ...t.sb.clients[0]!, fields: ['nbPart', 'pac', 'sitParIso', 'sitFam'] });
    try {
      const a = body(await ask(situation(SPI_SANDBOX.residenceAlternee.parentA, 2024)));
      const b = body(await ask(situation(SPI_SANDBOX.residenceAlternee.parentB, 2024)));
      assert.deepEqual(a, { sitFam: 'D', nbPart: 1.75, pac: { nbPac: 2, nbPacH: 2 }, sitParIso: 'T' });
      assert.deepEqual(b, { sitFam: 'D', nbPart: 1.5, pac: { nbPac: 2, nbPacH: 2 } });
    } finally {
      t.sb.admin.setClient({ ...t.sb.clients[0]!, fields: DEFAULT_CONTRACT });
    }
  });

  it('revenu fiscal de référence nul', async () => {
    const res = await ask(situation(SPI_SANDBOX.rfrZero, 2024));
    assert.equal(body(res).rfr, 0);
  });

  it('décès du conjoint : situations refuse l’année à deux avis, dernieresituation et multiple la servent', async () => {
    const { survivant, defunt } = SPI_SANDBOX.deces;
    const double = await ask(situation(survivant, 2024));
    assert.equal(double.status, 410);
    assert.equal(code(double), 4101);
    const last = body(await ask(derniere(survivant, 2024)));
    assert.deepEqual([last.annRevenu, last.sitFam, last.rfr, last.nmNaiDec1, last.nmNaiDec2], [2024, 'V', 31500, 'BLANC', undefined]);
    const all = await ask(multiple(survivant, 2024));
    assert.equal(all.headers['content-type'], 'application/prs.dgfip.part.situations.ir.assiettes.multiple.v1+json');
    const periods = (body(all).situationsIR as Record<string, unknown>[]).map((s) => [s.sitFam, s.dateDebutPeriode, s.dateFinPeriode, s.typeAvis]);
    assert.deepEqual(periods, [
      ['M', '2024-01-01', '2024-03-14', 2],
      ['V', '2024-03-15', '2024-12-31', 3],
    ]);
    assert.equal((body(all).situationsIR as Record<string, unknown>[])[0]?.dateDecesdec1, '2024-03-14');
    // The deceased's own last period is the couple's.
    assert.equal(body(await ask(derniere(defunt, 2024))).sitFam, 'M');
    assert.equal(body(await ask(deuxans(survivant))).sitFam, 'V');
    // N-2 is an ordinary year for both.
    assert.equal(body(await ask(situation(survivant, 2023))).sitFam, 'M');
    const one = body(await ask(multiple(survivant, 2023)));
    assert.equal((one.situationsIR as unknown[]).length, 1);
  });

  it('famille nombreuse : 6,75 parts et impôt négatif', async () => {
    t.sb.admin.setClient({ ...t.sb.clients[0]!, fields: ['nbPart', 'pac.nbPac', 'montTotIr', 'sitFam'] });
    try {
      const res = body(await ask(situation(SPI_SANDBOX.familleNombreuse.declarant2, 2024)));
      assert.deepEqual(res, { sitFam: 'O', nbPart: 6.75, pac: { nbPac: 5 }, montTotIr: -36 });
    } finally {
      t.sb.admin.setClient({ ...t.sb.clients[0]!, fields: DEFAULT_CONTRACT });
    }
  });
});

describe('ressources IR par FranceConnect', () => {
  it('résout le jeton FranceConnect par la table ou par le crochet', async () => {
    const byTable = await ask('/situations/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'fc-jeton-table' });
    assert.equal(byTable.status, 200);
    assert.equal(body(byTable).nmNaiDec2, 'ROUSSEL');
    fcTokens.set('fc-jeton-crochet', SPI_SANDBOX.publies[0]);
    const byHook = await ask('/dernieresituation/ir/assiettes/deuxans', { 'x-franceconnect-oauth': 'fc-jeton-crochet' });
    assert.equal(byHook.status, 200);
    assert.equal(body(byHook).annRevenu, 2024);
    t.sb.admin.registerFranceConnectToken('fc-jeton-admin', SPI_SANDBOX.deces.survivant);
    const byAdmin = await ask('/dernieresituation/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'fc-jeton-admin' });
    assert.equal(body(byAdmin).sitFam, 'V');
    t.sb.admin.revokeFranceConnectToken('fc-jeton-admin');
    assert.equal((await ask('/dernieresituation/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'fc-jeton-admin' })).status, 403);
  });

  it('refuse un jeton FranceConnect expiré comme un jeton inconnu (403, code 4031)', async () => {
    t.sb.admin.registerFranceConnectToken('fc-jeton-minute', SPI_SANDBOX.publies[0], clock + 60_000);
    assert.equal((await ask('/situations/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'fc-jeton-minute' })).status, 200);
    t.sb.admin.registerFranceConnectToken('fc-jeton-expire', SPI_SANDBOX.publies[0], clock - 1);
    const expire = await ask('/situations/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'fc-jeton-expire' });
    assert.equal(expire.status, 403);
    assert.equal(code(expire), 4031);
  });

  it('refuse (403, 4031) un jeton FranceConnect sans le consentement aux portées des champs du contrat, et sert celui qui les porte', async () => {
    // The clock stands still: these calls must not eat the quota of the tests that follow.
    t.sb.admin.resetQuota();
    const toutes = franceConnectScopesFor(DEFAULT_CONTRACT);
    assert.deepEqual(toutes, [
      'dgfip_aft',
      'dgfip_dateNaisDec1',
      'dgfip_dateNaisDec2',
      'dgfip_nbpart',
      'dgfip_nmNaiDec1',
      'dgfip_nmNaiDec2',
      'dgfip_nmUsaDec1',
      'dgfip_nmUsaDec2',
      'dgfip_pac_nbPac',
      'dgfip_prnmDec1',
      'dgfip_prnmDec2',
      'dgfip_rfr',
      'dgfip_sitfam',
    ]);
    t.sb.admin.registerFranceConnectToken('fc-jeton-complet', SPI_SANDBOX.publies[0], clock + 60_000, ['openid', ...toutes]);
    assert.equal((await ask('/situations/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'fc-jeton-complet' })).status, 200);
    t.sb.admin.registerFranceConnectToken('fc-jeton-identite', SPI_SANDBOX.publies[0], clock + 60_000, ['openid', 'given_name', 'family_name']);
    const identite = await ask('/situations/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'fc-jeton-identite' });
    assert.equal(identite.status, 403);
    assert.equal(code(identite), 4031);
    assert.match(identite.text, /consentement de l’usager aux données demandées \(dgfip_aft .*dgfip_rfr dgfip_sitfam\)/);
    t.sb.admin.registerFranceConnectToken('fc-jeton-sans-rfr', SPI_SANDBOX.publies[0], clock + 60_000, ['openid', ...toutes.filter((s) => s !== 'dgfip_rfr')]);
    const sansRfr = await ask('/dernieresituation/ir/assiettes/deuxans', { 'x-franceconnect-oauth': 'fc-jeton-sans-rfr' });
    assert.equal(sansRfr.status, 403);
    assert.match(sansRfr.text, /\(dgfip_rfr\)/);
    t.sb.admin.resetQuota();
  });

  it('répond 400 sans jeton FranceConnect et 403 pour un jeton inconnu', async () => {
    const none = await ask('/situations/ir/assiettes/annrev/2024');
    assert.equal(none.status, 400);
    const unknown = await ask('/situations/ir/assiettes/annrev/2024', { 'x-franceconnect-oauth': 'inconnu' });
    assert.equal(unknown.status, 403);
    assert.equal(code(unknown), 4031);
  });
});

describe('chemins et méthodes', () => {
  it('répond 404 aux ressources non servies et 405 aux autres méthodes', async () => {
    const notServed = await t.get(`${t.sb.baseUrl}/spi/${SPI_SANDBOX.publies[0]}/situations/ifiisf/assiettes/annrev/2024`, t.headers(token));
    assert.equal(notServed.status, 404);
    assert.doesNotMatch(notServed.text, /3999/);
    const unknown = await t.get(`${t.sb.origin}/autre/chose`, t.headers(token));
    assert.equal(unknown.status, 404);
    const badEscape = await t.get(`${t.sb.baseUrl}/spi/%ZZ99999932264/situations/ir/assiettes/annrev/2024`, t.headers(token));
    assert.equal(badEscape.status, 400);
    const post = await send(t.agent, t.sb.baseUrl + situation(SPI_SANDBOX.publies[0], 2024), { method: 'POST', headers: t.headers(token), body: '' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET');
  });

  it('enregistre les appels avec des chemins masqués', () => {
    const calls = t.sb.admin.calls();
    assert.ok(calls.length > 20);
    for (const c of calls) assert.doesNotMatch(c.path, /\d{6,}/, c.path);
    assert.ok(calls.some((c) => c.path.includes('/spi/*************/')));
  });
});
