import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import * as formatsModule from 'ajv-formats';
import Fastify from 'fastify';
import fc from 'fast-check';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { registerControleAcces } from '../../http/acces/controle-acces.ts';
import { registerErrorHandling } from '../../http/errors.tsx';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { BACK_OFFICE_URL, createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { parseInstant, registerApiQuotients } from './api-routes.ts';

/**
 * The REST API of billing software and its OpenAPI document: authentication by key, selection by
 * date or by instant, pages, French problems, the journal, the per-key limit; every answer checked
 * against the schema the document declares.
 */

let t: BackOfficeTestApp;
let cle: { id: string; secret: string };
/** Recorded between the first two QFs and the third: `modifiedSince` selects the third only. */
let entreDeux: string;
const references: string[] = [];
const ajv = new Ajv2020({ strict: false, allErrors: true });
(formatsModule.default as unknown as (a: Ajv2020) => void)(ajv);

async function quotient(famille: unknown, spi: string): Promise<string> {
  const agent = { type: 'agent' as const, id: t.agents.guichet.id };
  const { id: familleId, reference } = await t.harness.familles.creer(famille, agent);
  const { id } = await t.harness.demandes.soumettre({
    familleId,
    canal: 'guichet',
    acteur: agent,
    foyersFiscaux: [
      { parentRang: 1, identifiant: { spi: NumeroFiscal.parse(spi) }, consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'Formulaire signé' } },
    ],
  });
  t.services.wake();
  assert.equal((await t.harness.demandes.attendre(id, 30_000)).statut, 'calculee');
  references.push(reference);
  return reference;
}

before(async () => {
  // Behind one reverse proxy, which hands on its request ids: the journal is searched by them.
  t = await createBackOfficeTestApp({ env: { QUOTIENT_TRUST_PROXY: '1' } });
  const created = await t.services.clesApi.creer('Logiciel de facturation', { type: 'agent', id: t.agents.administrateur.id });
  cle = { id: created.cle.id, secret: created.secret };
  await quotient(
    {
      parents: [
        { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
        { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
      ],
    },
    SPI_SANDBOX.coupleMarie.declarant1,
  );
  await quotient({ parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] }, SPI_SANDBOX.rfrZero);
  await new Promise((resolve) => setTimeout(resolve, 5));
  entreDeux = new Date().toISOString();
  await new Promise((resolve) => setTimeout(resolve, 5));
  await quotient({ parents: [{ nomNaissance: 'Girard', prenoms: 'Hugo', dateNaissance: '2004-11-30' }] }, SPI_SANDBOX.primoDeclarant);
  const doc = (await t.app.inject({ url: '/api/v1/openapi.json' })).json() as Record<string, unknown>;
  ajv.addSchema(doc, 'api');
});
after(() => t.close());

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const validators = new Map<string, ValidateFunction>();
function documented(status: string, mediaType: string, body: unknown): void {
  const ref = `api#/${pointer('paths', '/api/v1/quotients', 'get', 'responses', status, 'content', mediaType, 'schema')}`;
  let v = validators.get(ref);
  if (!v) validators.set(ref, (v = ajv.compile({ $ref: ref })));
  assert.ok(v(body), `réponse ${status} non conforme au document OpenAPI : ${ajv.errorsText(v.errors)}`);
}

const api = (url: string, secret: string | null = cle.secret, requestId?: string) =>
  t.app.inject({ url, headers: { ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...(requestId ? { 'x-request-id': requestId } : {}) } });
type Page = {
  date: string | null;
  modifiedSince: string | null;
  quotients: Array<Record<string, unknown> & { id: string; famille: string; tranches: unknown[] }>;
  next: string | null;
};

test('without a key, with a wrong or a revoked one: 401 problem+json in French, with WWW-Authenticate, and the refusal traced', async () => {
  const other = await t.services.clesApi.creer('Ancien logiciel', { type: 'agent', id: t.agents.administrateur.id });
  assert.equal((await api('/api/v1/quotients', other.secret)).statusCode, 200);
  await t.services.clesApi.revoquer(other.cle.id, { type: 'agent', id: t.agents.administrateur.id });
  for (const secret of [null, 'qk_pas-une-vraie-cle-de-test', other.secret]) {
    const res = await api('/api/v1/quotients', secret);
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(res.headers['www-authenticate'], 'Bearer realm="quotient"');
    const body = res.json() as { code: string; detail: string; title: string };
    assert.equal(body.code, 'cle_api_requise');
    assert.match(body.detail, /Une clé d’API valide est requise/);
    documented('401', 'application/problem+json', body);
  }
  // A signed-in agent's session is no key: the API knows only keys.
  const jar = await t.signInAgent('administrateur');
  assert.equal((await t.get(jar, '/api/v1/quotients')).statusCode, 401);
  const refus = (await t.harness.journal.query({ action: 'acces.refuse' })).entries.filter((e) => e.details.route === '/api/v1/quotients');
  assert.ok(refus.length >= 4);
});

test('with a key and no parameter: the QF in force today per family, as documented, with no fiscal field; the call journaled with the key and the row count', async () => {
  const requestId = `facturation-${crypto.randomUUID()}`;
  const res = await api('/api/v1/quotients', cle.secret, requestId);
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^application\/json/);
  assert.equal(res.headers['cache-control'], 'no-store');
  const page = res.json() as Page;
  documented('200', 'application/json', page);
  assert.equal(page.next, null);
  assert.equal(page.modifiedSince, null);
  assert.match(page.date as string, /^\d{4}-\d{2}-\d{2}$/);
  assert.deepEqual(page.quotients.map((q) => q.famille).sort(), [...references].sort());
  for (const q of page.quotients) {
    assert.equal(q.origine, 'calcule');
    assert.equal(q.modifiedAt, q.calculeLe);
    assert.ok((q.tranches as Array<{ activite: string }>).some((x) => x.activite === 'restauration-scolaire'));
  }
  assert.doesNotMatch(res.body, /rfr|revenu|parts|bertin|roussel|roux|girard/i);
  const roux = await t.database.db
    .selectFrom('quotients')
    .innerJoin('familles', 'familles.id', 'quotients.famille_id')
    .select('valeur_cents')
    .where('familles.reference', '=', references[1] as string)
    .executeTakeFirstOrThrow();
  assert.equal(page.quotients.find((q) => q.famille === references[1])?.quotientCents, roux.valeur_cents);

  const entries = (await t.harness.journal.query({ correlationId: requestId, action: 'api.quotients.consultes' })).entries;
  assert.equal(entries.length, 1, 'l’appel est journalisé, une fois');
  const entry = entries[0];
  assert.ok(entry);
  assert.deepEqual(entry.actor, { type: 'api', id: cle.id });
  assert.equal(entry.details.lignes, 3);
  assert.equal(entry.outcome, 'succes');
});

test('modifiedSince selects the QFs recorded since that instant, whatever the offset is written with', async () => {
  const utc = (await api(`/api/v1/quotients?modifiedSince=${encodeURIComponent(entreDeux)}`)).json() as Page;
  documented('200', 'application/json', utc);
  assert.deepEqual(
    utc.quotients.map((q) => q.famille),
    [references[2]],
  );
  assert.equal(utc.modifiedSince, entreDeux);
  assert.equal(utc.date, null);
  // The same instant in Paris's summer or winter offset, and with the « + » left unencoded (a space once decoded).
  const ms = Date.parse(entreDeux);
  const local = new Date(ms + 2 * 3600_000).toISOString().replace('Z', '+02:00');
  for (const query of [encodeURIComponent(local), local]) {
    const page = (await api(`/api/v1/quotients?modifiedSince=${query}`)).json() as Page;
    assert.deepEqual(
      page.quotients.map((q) => q.famille),
      [references[2]],
      query,
    );
  }
  const all = (await api('/api/v1/quotients?modifiedSince=2000-01-01T00:00:00Z')).json() as Page;
  assert.equal(all.quotients.length, 3);
  const none = (await api(`/api/v1/quotients?modifiedSince=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).json() as Page;
  assert.deepEqual(none.quotients, []);
  // With a date before any QF's validity: nothing in force that day.
  const past = (await api('/api/v1/quotients?modifiedSince=2000-01-01T00:00:00Z&date=2001-01-01')).json() as Page;
  assert.deepEqual(past.quotients, []);
});

test('pages of one: the next links walk every QF once, in the order recorded, and the last page says null', async () => {
  const seen: string[] = [];
  let url: string | null = '/api/v1/quotients?limit=1';
  let pages = 0;
  while (url !== null && pages < 10) {
    const res = await api(url);
    assert.equal(res.statusCode, 200);
    const page = res.json() as Page;
    documented('200', 'application/json', page);
    assert.ok(page.quotients.length <= 1);
    seen.push(...page.quotients.map((q) => q.famille));
    if (page.next) {
      assert.ok(page.next.startsWith(`${BACK_OFFICE_URL}/api/v1/quotients?`));
      assert.equal(res.headers.link, `<${page.next}>; rel="next"`);
      const next = new URL(page.next);
      url = next.pathname + next.search;
    } else {
      assert.equal(res.headers.link, undefined);
      url = null;
    }
    pages += 1;
  }
  assert.deepEqual(seen, references, 'chaque famille une fois, dans l’ordre d’enregistrement');
  assert.equal(pages, 3);
  const suites = (await t.harness.journal.query({ action: 'api.quotients.consultes' })).entries.filter((e) => e.details.limit === 1);
  assert.equal(suites.length, 3);
  assert.deepEqual(suites.map((e) => e.details.suite).sort(), [false, true, true]);
});

test('bad parameters: 400 problem+json in French naming the parameter, as documented, and the failed call journaled', async () => {
  const cases: Array<[string, string, RegExp]> = [
    ['modifiedSince=hier', 'modifiedSince', /instant ISO 8601 attendu/],
    ['modifiedSince=2026-02-30T10:00:00Z', 'modifiedSince', /instant ISO 8601 attendu/],
    ['modifiedSince=2026-09-01T10:00:00', 'modifiedSince', /avec son fuseau/],
    ['date=01/09/2026', 'date', /AAAA-MM-JJ/],
    ['limit=0', 'limit', /de 1 à 500/],
    ['limit=501', 'limit', /de 1 à 500/],
    ['limit=dix', 'limit', /de 1 à 500/],
    ['cursor=abc', 'cursor', /curseur invalide/],
    ['limit=1&limit=2', 'limit', /de 1 à 500/],
    ['modifiedsince=2026-09-01T10:00:00Z', 'modifiedsince', /paramètre inconnu/],
  ];
  for (const [query, path, message] of cases) {
    const res = await api(`/api/v1/quotients?${query}`);
    assert.equal(res.statusCode, 400, query);
    assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
    const body = res.json() as { code: string; title: string; detail: string; errors: Array<{ path: string; message: string }> };
    documented('400', 'application/problem+json', body);
    assert.equal(body.code, 'parametres_invalides', query);
    assert.equal(body.title, 'Demande incorrecte');
    assert.match(body.detail, /Paramètres invalides/);
    assert.equal(body.errors[0]?.path, path, query);
    assert.match(body.errors[0]?.message ?? '', message, query);
  }
  const echecs = (await t.harness.journal.query({ action: 'api.quotients.consultes', outcome: 'echec' })).entries;
  assert.equal(echecs.length, cases.length);
  assert.ok(echecs.every((e) => e.actor.type === 'api' && e.actor.id === cle.id && e.details.code === 'parametres_invalides'));
});

test('the OpenAPI document is public, a well-formed OpenAPI 3.1 document, and describes the routes the server has', async () => {
  const res = await t.app.inject({ url: '/api/v1/openapi.json' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^application\/json/);
  const doc = res.json() as Record<string, unknown>;
  const check = new Ajv2020({ strict: false, allErrors: true });
  (formatsModule.default as unknown as (a: Ajv2020) => void)(check);
  const valid = check.validate(OPENAPI_31_STRUCTURE, doc);
  assert.ok(valid, check.errorsText(check.errors));
  // Every $ref resolves inside the document; every security requirement names a declared scheme.
  const refs: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') refs.push(v);
        else walk(v);
      }
    }
  };
  walk(doc);
  assert.ok(refs.length > 0);
  for (const ref of refs) {
    assert.ok(ref.startsWith('#/'), ref);
    let node: unknown = doc;
    for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    assert.ok(node !== undefined, `référence introuvable : ${ref}`);
  }
  const schemes = Object.keys((doc.components as { securitySchemes: object }).securitySchemes);
  assert.deepEqual(schemes, ['cleApi']);
  // Each schema of the document is a valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
  for (const [name, schema] of Object.entries((doc.components as { schemas: Record<string, object> }).schemas)) {
    assert.ok(check.validateSchema(schema), `${name} : ${check.errorsText(check.errors)}`);
  }
  // The document and the router agree on the API's routes.
  const documentedRoutes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
  );
  const served = t.app.routesConnues.filter((r) => r.url.startsWith('/api/') && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`);
  assert.deepEqual(documentedRoutes.sort(), served.sort());
  const params = ((doc.paths as Record<string, { get: { parameters: Array<{ name: string }> } }>)['/api/v1/quotients']?.get.parameters ?? []).map(
    (p) => p.name,
  );
  assert.deepEqual(params, ['modifiedSince', 'date', 'limit', 'cursor']);
});

test('each key has its allowance per minute: past it, 429 problem+json with Retry-After; another key is not held back', async () => {
  // A small application with the same access check and the API at 2 calls a minute.
  const small = Fastify({ logger: false });
  registerErrorHandling(small, t.config.commune);
  registerControleAcces(small, {
    journal: t.harness.journal,
    cleApi: (secret) => t.services.clesApi.verifier(secret),
    politique: { 'GET /api/v1/quotients': ['api'], 'GET /api/v1/openapi.json': ['anonyme', 'api'] },
  });
  registerApiQuotients(small, { facturation: t.services.facturation, publicUrl: BACK_OFFICE_URL, appelsParMinute: 2 });
  await small.ready();
  try {
    const other = await t.services.clesApi.creer('Second logiciel', { type: 'agent', id: t.agents.administrateur.id });
    const call = (secret: string) => small.inject({ url: '/api/v1/quotients', headers: { authorization: `Bearer ${secret}` } });
    assert.equal((await call(cle.secret)).statusCode, 200);
    const second = await call(cle.secret);
    assert.equal(second.statusCode, 200);
    assert.equal(second.headers['x-ratelimit-remaining'], '0');
    const third = await call(cle.secret);
    assert.equal(third.statusCode, 429);
    assert.equal(third.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.ok(Number(third.headers['retry-after']) > 0);
    const body = third.json() as { code: string; detail: string };
    assert.equal(body.code, 'trop_de_requetes');
    assert.match(body.detail, /Trop d’appels en une minute/);
    documented('429', 'application/problem+json', body);
    // The refused call is journaled too, as a refusal of that key.
    const refus = (await t.harness.journal.query({ action: 'api.quotients.consultes', outcome: 'refus' })).entries;
    assert.equal(refus.length, 1);
    assert.deepEqual(refus[0]?.actor, { type: 'api', id: cle.id });
    assert.equal(refus[0]?.details.code, 'trop_de_requetes');
    assert.equal((await call(other.secret)).statusCode, 200);
  } finally {
    await small.close();
  }
});

test('a call the service fails to answer is journaled as a failure, and the caller gets a problem, not the data', async () => {
  const small = Fastify({ logger: false });
  registerErrorHandling(small, t.config.commune);
  registerControleAcces(small, {
    journal: t.harness.journal,
    cleApi: (secret) => t.services.clesApi.verifier(secret),
    politique: { 'GET /api/v1/quotients': ['api'], 'GET /api/v1/openapi.json': ['anonyme', 'api'] },
  });
  const enPanne = {
    page: () => Promise.reject(new Error('base de données indisponible')),
    tracerApi: t.services.facturation.tracerApi.bind(t.services.facturation),
  };
  registerApiQuotients(small, { facturation: enPanne, publicUrl: BACK_OFFICE_URL });
  await small.ready();
  try {
    const avant = (await t.harness.journal.query({ action: 'api.quotients.consultes', outcome: 'echec' })).entries.filter(
      (e) => e.details.code === 'erreur',
    ).length;
    const res = await small.inject({ url: '/api/v1/quotients', headers: { authorization: `Bearer ${cle.secret}` } });
    assert.equal(res.statusCode, 500);
    assert.doesNotMatch(res.body, /quotients"\s*:/);
    const echecs = (await t.harness.journal.query({ action: 'api.quotients.consultes', outcome: 'echec' })).entries.filter((e) => e.details.code === 'erreur');
    assert.equal(echecs.length, avant + 1);
    assert.deepEqual(echecs[0]?.actor, { type: 'api', id: cle.id });
  } finally {
    await small.close();
  }
});

test('an instant is read in any ISO-8601 form with an offset and compared in UTC', () => {
  fc.assert(
    fc.property(
      fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
      fc.integer({ min: -14 * 60, max: 14 * 60 }),
      (date, offsetMin) => {
        const iso = date.toISOString();
        assert.equal(parseInstant(iso), iso);
        const shifted = new Date(date.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        if (shifted.startsWith('-') || shifted.startsWith('+')) return;
        assert.equal(parseInstant(`${shifted}${zone}`), iso);
      },
    ),
  );
  for (const wrong of ['', '2026-09-01', '2026-09-01T25:00:00Z', '2026-13-01T00:00:00Z', '2026-09-01T10:00:00', '2026-09-01T10:00:00+25:00', 'demain'])
    assert.equal(parseInstant(wrong), null, wrong);
  assert.equal(parseInstant('2026-09-01T10:00+02:00'), '2026-09-01T08:00:00.000Z');
});

/**
 * The rules of OpenAPI 3.1 that this document relies on, written from the specification: the
 * version, info, paths starting with « / », operations with responses keyed by status and each
 * with a description, parameters with a name and a place (path parameters required), media types
 * with schemas, and HTTP security schemes with their scheme. Unknown top-level fields are refused
 * (only `x-` extensions are allowed), so that a misspelt section does not pass unnoticed.
 */
const OPENAPI_31_STRUCTURE = {
  type: 'object',
  required: ['openapi', 'info', 'paths'],
  additionalProperties: false,
  patternProperties: { '^x-': true },
  properties: {
    openapi: { type: 'string', pattern: '^3\\.1\\.\\d+$' },
    info: {
      type: 'object',
      required: ['title', 'version'],
      properties: { title: { type: 'string', minLength: 1 }, version: { type: 'string', minLength: 1 }, description: { type: 'string' } },
    },
    jsonSchemaDialect: { type: 'string' },
    servers: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: { type: 'string', format: 'uri-reference' } } } },
    security: { $ref: '#/$defs/security' },
    tags: { type: 'array' },
    externalDocs: { type: 'object' },
    webhooks: { type: 'object' },
    paths: { type: 'object', propertyNames: { pattern: '^/' }, additionalProperties: { $ref: '#/$defs/pathItem' } },
    components: {
      type: 'object',
      properties: {
        schemas: { type: 'object', additionalProperties: { type: ['object', 'boolean'] } },
        securitySchemes: { type: 'object', additionalProperties: { $ref: '#/$defs/securityScheme' } },
      },
    },
  },
  $defs: {
    security: { type: 'array', items: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } } },
    pathItem: {
      type: 'object',
      propertyNames: { enum: ['$ref', 'summary', 'description', 'get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace', 'servers', 'parameters'] },
      properties: {
        get: { $ref: '#/$defs/operation' },
        post: { $ref: '#/$defs/operation' },
        put: { $ref: '#/$defs/operation' },
        delete: { $ref: '#/$defs/operation' },
        patch: { $ref: '#/$defs/operation' },
      },
    },
    operation: {
      type: 'object',
      required: ['responses'],
      properties: {
        operationId: { type: 'string' },
        summary: { type: 'string' },
        description: { type: 'string' },
        parameters: { type: 'array', items: { $ref: '#/$defs/parameter' } },
        security: { $ref: '#/$defs/security' },
        responses: {
          type: 'object',
          minProperties: 1,
          propertyNames: { pattern: '^([1-5](\\d\\d|XX)|default)$' },
          additionalProperties: { $ref: '#/$defs/response' },
        },
      },
    },
    parameter: {
      type: 'object',
      required: ['name', 'in'],
      properties: {
        name: { type: 'string' },
        in: { enum: ['query', 'header', 'path', 'cookie'] },
        required: { type: 'boolean' },
        description: { type: 'string' },
        schema: { type: ['object', 'boolean'] },
      },
      oneOf: [{ required: ['schema'] }, { required: ['content'] }],
      if: { properties: { in: { const: 'path' } } },
      then: { required: ['required'], properties: { required: { const: true } } },
    },
    response: {
      type: 'object',
      required: ['description'],
      properties: {
        description: { type: 'string' },
        headers: {
          type: 'object',
          additionalProperties: { type: 'object', properties: { description: { type: 'string' }, schema: { type: ['object', 'boolean'] } } },
        },
        content: { type: 'object', additionalProperties: { type: 'object', properties: { schema: { type: ['object', 'boolean'] } } } },
      },
    },
    securityScheme: {
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['apiKey', 'http', 'mutualTLS', 'oauth2', 'openIdConnect'] },
        scheme: { type: 'string' },
        bearerFormat: { type: 'string' },
        description: { type: 'string' },
      },
      if: { properties: { type: { const: 'http' } } },
      then: { required: ['scheme'] },
    },
  },
};
