import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Agent } from 'undici';
import type { CallRecord } from './server.ts';
import { SPI_SANDBOX } from './population.ts';
import { assertDocumented, send, startTestSandbox, type Resp, type TestSandbox } from './test-support.ts';

const clock = Date.UTC(2025, 9, 1, 10);
let t: TestSandbox;
let token: string;
const seen: CallRecord[] = [];

before(async () => {
  t = await startTestSandbox({ now: () => clock, quota: { limit: 1_000_000 }, onCall: (r) => seen.push(r) });
  token = await t.token();
});
after(() => t.close());

const encodable = (s: string): boolean => {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
};

/** Any 13 characters: ASCII, any Unicode, digits, digits with spaces, the population's own SPIs. */
const thirteen = fc.oneof(
  fc.string({ minLength: 13, maxLength: 13 }),
  fc.string({ unit: 'binary', minLength: 13, maxLength: 13 }).filter(encodable),
  fc.stringMatching(/^[0-9]{13}$/),
  fc.stringMatching(/^[0-9 ]{13}$/),
  fc.constantFrom(...SPI_SANDBOX.publies, SPI_SANDBOX.canari, SPI_SANDBOX.inconnu, SPI_SANDBOX.deces.survivant, SPI_SANDBOX.primoDeclarant),
);

const templates = [
  (s: string) => `/spi/${s}/situations/ir/assiettes/annrev/2024`,
  (s: string) => `/spi/${s}/dernieresituation/ir/assiettes/annrev/2024`,
  (s: string) => `/spi/${s}/dernieresituation/ir/assiettes/deuxans`,
  (s: string) => `/spi/${s}/situations/ir/assiettes/multiple/annrev/2023`,
];

describe('propriété : toute saisie de 13 caractères reçoit une réponse documentée', () => {
  it('sur chaque ressource IR : 200, 400 ou 410, jamais 5xx, jamais l’écho de la saisie', async () => {
    await fc.assert(
      fc.asyncProperty(thirteen, fc.constantFrom(...templates), async (input, template) => {
        const path = template(encodeURIComponent(input));
        const res = await t.get(t.sb.baseUrl + path, t.headers(token));
        assert.ok([200, 400, 410].includes(res.status), `${res.status} ${res.text}`);
        assertDocumented('impot-particulier', path, res);
        if (res.status !== 200 && /\d{6}/.test(input)) assert.ok(!res.text.includes(input), 'saisie renvoyée');
      }),
      { numRuns: 300 },
    );
  });

  it('sur SFiP et API Particulier, quels que soient les paramètres', async () => {
    const plain = new Agent({ connect: { ca: t.sb.pki.caCertPem } });
    try {
      await fc.assert(
        fc.asyncProperty(thirteen, fc.string({ maxLength: 30 }), fc.string({ maxLength: 14 }), async (spi, nom, date) => {
          const queries: Record<string, string>[] = [{ spi }, { nom, prenom: nom, naisDate: date }];
          for (const params of queries) {
            const p = '/demandeDeService/02AA/personne';
            const res = await t.get(`${t.sb.sfipUrl}${p}?${new URLSearchParams(params)}`, t.headers(token));
            assert.ok(res.status < 500, res.text);
            assertDocumented('sfip', p, res);
          }
          const r2p = await t.get(`${t.sb.r2pUrl}/personne/spi?${new URLSearchParams({ nom, prenom: nom, naisDate: date })}`, t.headers(token));
          assert.ok(r2p.status < 500, r2p.text);
          assertDocumented('r2p', '/personne/spi', r2p);
          const v2 = await send(plain, `${t.sb.apiParticulierUrl}/api/v2/avis-imposition?${new URLSearchParams({ numeroFiscal: spi, referenceAvis: date })}`, {
            headers: { 'x-api-key': t.sb.apiParticulierKeys[0]! },
          });
          assert.ok(v2.status < 500, v2.text);
          assertDocumented('api-particulier', '/api/v2/avis-imposition', v2);
        }),
        { numRuns: 60 },
      );
    } finally {
      await plain.close();
    }
  });
});

describe('le numéro fiscal canari ne ressort nulle part', () => {
  const canary = SPI_SANDBOX.canari;
  const forms = [
    canary,
    `${canary.slice(0, 2)} ${canary.slice(2, 4)} ${canary.slice(4, 7)} ${canary.slice(7, 10)} ${canary.slice(10)}`,
    Buffer.from(canary).toString('base64'),
    Buffer.from(canary).toString('base64url'),
    Buffer.from(canary).toString('hex'),
    createHash('sha256').update(canary).digest('hex'),
    createHash('md5').update(canary).digest('hex'),
  ];
  const leaks = (text: string): string[] => forms.filter((f) => text.includes(f));

  it('ni dans les réponses (succès et pannes), ni dans le registre des appels, ni sur la console', async () => {
    const written: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const capture =
      (original: typeof out) =>
      (chunk: unknown, ...rest: unknown[]): boolean => {
        written.push(String(chunk));
        return (original as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
      };
    process.stdout.write = capture(out) as typeof process.stdout.write;
    process.stderr.write = capture(err) as typeof process.stderr.write;
    const answers: Resp[] = [];
    try {
      const ip = (p: string): string => t.sb.baseUrl + p;
      const byPath = templates.map((tpl) => ip(tpl(canary)));
      t.sb.admin.registerFranceConnectToken('fc-canari', canary);
      for (const url of byPath) answers.push(await t.get(url, t.headers(token)));
      answers.push(await t.get(ip('/dernieresituation/ir/assiettes/deuxans'), t.headers(token, { 'x-franceconnect-oauth': 'fc-canari' })));
      answers.push(await t.get(`${t.sb.sfipUrl}/demandeDeService/02AA/personne?spi=${canary}`, t.headers(token)));
      answers.push(await t.get(ip(`/spi/${canary}/situations/ir/assiettes/annrev/1999`), t.headers(token)));
      answers.push(await t.get(ip(`/spi/${canary}/situations/ir/assiettes/annrev/20x4`), t.headers(token)));
      answers.push(await t.get(ip(`/spi/${canary}/situations/ir/assiettes/annrev/2024`), t.headers(token, { 'x-correlation-id': 'non' })));
      answers.push(await t.get(ip(`/spi/${canary}/situations/ifiisf/assiettes/annrev/2024`), t.headers(token)));
      answers.push(await t.get(ip(`/spi/${canary}/situations/ir/assiettes/annrev/2024`), t.headers('jeton-faux')));
      for (const kind of ['http500', 'http503', 'http429', 'malformedJson', 'wrongContentType', 'redirect', 'schemaMismatch'] as const) {
        t.sb.admin.addFault({ kind, spi: canary, times: 1 });
        answers.push(await t.get(byPath[0]!, t.headers(token)));
      }
      for (const kind of ['truncatedBody', 'connectionReset'] as const) {
        t.sb.admin.addFault({ kind, spi: canary, times: 1 });
        await assert.rejects(t.get(byPath[0]!, t.headers(token)));
      }
      const plain = new Agent({ connect: { ca: t.sb.pki.caCertPem } });
      try {
        const ref = `25${canary.slice(2)}`;
        answers.push(
          await send(plain, `${t.sb.apiParticulierUrl}/api/v2/avis-imposition?numeroFiscal=${canary}&referenceAvis=${ref}`, {
            headers: { 'x-api-key': t.sb.apiParticulierKeys[0]! },
          }),
        );
        answers.push(
          await send(plain, `${t.sb.apiParticulierUrl}/api/v2/avis-imposition?numeroFiscal=${canary}&referenceAvis=XX`, {
            headers: { 'x-api-key': t.sb.apiParticulierKeys[0]! },
          }),
        );
      } finally {
        await plain.close();
      }
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    assert.ok(
      answers.some((a) => a.status === 200),
      'au moins un succès',
    );
    assert.ok(
      answers.some((a) => a.status >= 500),
      'au moins une panne',
    );
    for (const a of answers) {
      assert.deepEqual(leaks(a.text), [], `corps ${a.status}`);
      assert.deepEqual(leaks(JSON.stringify(a.headers)), [], `en-têtes ${a.status}`);
    }
    assert.deepEqual(leaks(JSON.stringify(t.sb.admin.calls())), []);
    assert.deepEqual(leaks(JSON.stringify(seen)), []);
    assert.deepEqual(leaks(written.join('')), []);
  });
});

describe('le contrôle de conformité sait échouer', () => {
  const ok = (text: string, status = 200, type = 'application/prs.dgfip.part.situations.ir.assiettes.v1+json'): Resp => ({
    status,
    headers: { 'content-type': type },
    text,
    json: () => JSON.parse(text) as unknown,
  });
  const p = '/spi/3999999932264/situations/ir/assiettes/annrev/2024';

  it('refuse un corps hors schéma, un statut ou un type non documentés, une opération inconnue', () => {
    assertDocumented('impot-particulier', p, ok('{"rfr":1}'));
    assert.throws(() => assertDocumented('impot-particulier', p, ok('{"rfr":"1"}')));
    assert.throws(() => assertDocumented('impot-particulier', p, ok('{"pac":{"nbPac":1.5}}')));
    assert.throws(() => assertDocumented('impot-particulier', p, ok('{"rfr":1}', 200, 'application/json')));
    assert.throws(() => assertDocumented('impot-particulier', p, ok('{"erreur":{"code":9999,"message":"x"}}', 410, 'application/json')));
    assert.throws(() => assertDocumented('impot-particulier', p, ok('{}', 418, 'application/json')));
    assert.throws(() => assertDocumented('impot-particulier', '/spi/1/inconnue', ok('{}')));
    assert.throws(() => assertDocumented('r2p', '/personne/spi', ok('{"identifiant":{"spi":1899582886173}}', 200, 'application/json')));
    assert.throws(() => assertDocumented('api-particulier', '/api/v2/avis-imposition', ok('{"anneeRevenus":"24"}', 200, 'application/json')));
  });
});
