/**
 * Helpers for the sandbox's tests (and for the tests of its clients): a sandbox in a temporary
 * folder with an mTLS agent, and a checker that an answer is one the official OpenAPI files
 * document. Test-only: it imports ajv, a development dependency.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import * as formatsModule from 'ajv-formats';
import { Agent, request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { startSandbox, type SandboxHandle, type SandboxOptions } from './server.ts';

export interface Resp {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  json(): unknown;
}

export interface TestSandbox {
  readonly sb: SandboxHandle;
  readonly agent: Agent;
  readonly dir: string;
  /** An access token of the first client (or `clientId`), for `scope` (default: all its scopes). */
  token(scope?: string, clientId?: string): Promise<string>;
  /** The headers a well-behaved client sends. */
  headers(token: string, extra?: Record<string, string>): Record<string, string>;
  get(url: string, headers?: Record<string, string>, agent?: Agent): Promise<Resp>;
  post(url: string, body: string, headers?: Record<string, string>, agent?: Agent): Promise<Resp>;
  close(): Promise<void>;
}

export async function send(agent: Agent, url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Resp> {
  const res = await request(url, {
    dispatcher: agent,
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as unknown,
  };
}

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'quotient-bac-a-sable-'));
  const sb = await startSandbox({ dataDir: join(dir, 'pki'), ...options });
  const agent = new Agent({ connect: { ca: sb.pki.caCertPem, cert: sb.pki.clientCertPem, key: sb.pki.clientKeyPem } });
  const t: TestSandbox = {
    sb,
    agent,
    dir,
    async token(scope, clientId) {
      const client = clientId ? sb.clients.find((c) => c.clientId === clientId) : sb.clients[0];
      assert.ok(client, 'client inconnu');
      const body = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }).toString();
      const res = await t.post(sb.tokenUrl, body, {
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      });
      assert.equal(res.status, 200, res.text);
      return (res.json() as { access_token: string }).access_token;
    },
    headers(token, extra = {}) {
      return {
        authorization: `Bearer ${token}`,
        'x-correlation-id': randomUUID(),
        id_teleservice: sb.clients[0]?.idTeleservice ?? '',
        accept: 'application/prs.dgfip.part.situations.ir.assiettes.v1+json, application/json;q=0.9, */*;q=0.1',
        ...extra,
      };
    },
    get: (url, headers = {}, a = agent) => send(a, url, { headers }),
    post: (url, body, headers = {}, a = agent) =>
      send(a, url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }),
    async close() {
      await agent.close();
      await sb.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return t;
}

// ---------------------------------------------------------------------------------------------
// OpenAPI conformance

export type SpecName = 'impot-particulier' | 'r2p' | 'sfip' | 'api-particulier' | 'api-particulier-v3';

type JsonObject = Record<string, unknown>;

const SPEC_FILES: Readonly<Record<SpecName, string>> = {
  'impot-particulier': 'api-impot-particulier.json',
  r2p: 'api-r2p.json',
  sfip: 'api-sfip.json',
  'api-particulier': 'api-particulier-v2-with-avis-imposition.yaml',
  'api-particulier-v3': 'api-particulier-v3.yaml',
};

/** Where each API's paths start on the sandbox. */
export const SPEC_BASE: Readonly<Record<SpecName, string>> = {
  'impot-particulier': '/impotparticulier/1.0',
  r2p: '/r2p/v1',
  sfip: '/sfip/v1',
  'api-particulier': '',
  'api-particulier-v3': '',
};

interface LoadedSpec {
  readonly doc: JsonObject;
  readonly swagger2: boolean;
  readonly templates: readonly { readonly template: string; readonly regex: RegExp }[];
  /** `status:codeapp` pairs written in the spec's descriptions (« codeapp 4101 : ... »). */
  readonly documentedCodes: ReadonlySet<string>;
}

const ajv = new Ajv({ strict: false, allErrors: true });
(formatsModule.default as unknown as (a: Ajv) => void)(ajv);
const specs = new Map<SpecName, LoadedSpec>();
const validators = new Map<string, ValidateFunction>();

function loadSpec(name: SpecName): LoadedSpec {
  const cached = specs.get(name);
  if (cached) return cached;
  const text = readFileSync(new URL(`./specs/${SPEC_FILES[name]}`, import.meta.url), 'utf8');
  const doc = (SPEC_FILES[name].endsWith('.yaml') ? parseYaml(text) : JSON.parse(text)) as JsonObject;
  ajv.addSchema(doc, name);
  const paths = doc.paths as JsonObject;
  const templates = Object.keys(paths).map((template) => ({
    template,
    regex: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  const documentedCodes = new Set<string>();
  for (const p of Object.values(paths) as JsonObject[]) {
    for (const op of Object.values(p) as JsonObject[]) {
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, JsonObject>)) {
        for (const m of String(r.description ?? '').matchAll(/codeapp (\d+)/g)) documentedCodes.add(`${status}:${m[1]}`);
      }
    }
  }
  const loaded = { doc, swagger2: doc.swagger === '2.0', templates, documentedCodes };
  specs.set(name, loaded);
  return loaded;
}

function validatorFor(name: SpecName, pointer: string): ValidateFunction {
  const key = `${name}#${pointer}`;
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile({ $ref: key });
    validators.set(key, v);
  }
  return v;
}

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

function contentTypeOf(res: Resp): string {
  const raw = res.headers['content-type'];
  return (
    String(Array.isArray(raw) ? raw[0] : (raw ?? ''))
      .split(';')[0]
      ?.trim()
      .toLowerCase() ?? ''
  );
}

function assertGatewayFault(res: Resp, codes: readonly number[]): void {
  const body = res.json() as { fault?: { code?: unknown; message?: unknown } };
  assert.ok(
    body.fault && codes.includes(body.fault.code as number) && typeof body.fault.message === 'string',
    `réponse de passerelle inattendue : ${res.text}`,
  );
}

/** API Particulier v3's error body: `{"errors":[{"code","title","detail",...}]}`. */
function assertV3Errors(res: Resp): void {
  const body = res.json() as { errors?: { code?: unknown; title?: unknown; detail?: unknown }[] };
  const first = body.errors?.[0];
  assert.ok(
    first && typeof first.code === 'string' && typeof first.title === 'string' && typeof first.detail === 'string',
    `corps d’erreur v3 attendu : ${res.text}`,
  );
}

function assertErreurBody(res: Resp): { code?: number } {
  const body = res.json() as { erreur?: { code?: unknown; message?: unknown; horodatage?: unknown } };
  assert.ok(body.erreur && typeof body.erreur.message === 'string', `corps d’erreur DGFiP attendu : ${res.text}`);
  if (body.erreur.code !== undefined) assert.ok(Number.isInteger(body.erreur.code), 'erreur.code entier');
  if (body.erreur.horodatage !== undefined) assert.match(String(body.erreur.horodatage), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  return body.erreur as { code?: number };
}

/**
 * Asserts that `res`, the answer to `GET <base><path>`, is documented by the official spec: the
 * operation exists, the status is declared (or is one of the gateway's own: 401 token, 429 quota,
 * 400 malformed request, 403 scope), the media type is declared and the body validates against the
 * declared schema. For Impôt particulier, a status the operation omits is accepted only with a
 * `codeapp` the same specification documents for that status (410 with 4101/4102...).
 */
export function assertDocumented(name: SpecName, path: string, res: Resp): void {
  const spec = loadSpec(name);
  const found = spec.templates.find((t) => t.regex.test(path));
  assert.ok(found, `opération non documentée : ${name} ${path.replace(/\d{6,}/g, '*')}`);
  const op = ((spec.doc.paths as JsonObject)[found.template] as JsonObject).get as JsonObject | undefined;
  assert.ok(op, `GET non documenté : ${found.template}`);
  const responses = (op.responses ?? {}) as Record<string, JsonObject>;
  const status = String(res.status);
  const where = `${name} ${found.template} → ${status}`;

  // The gateway's own answers, before the API: token, quota, scope.
  if (res.status === 401) {
    if (name === 'api-particulier' || name === 'api-particulier-v3') {
      assert.ok(responses['401'] ?? name === 'api-particulier-v3', where);
    } else {
      assertGatewayFault(res, [900901, 900902]);
      assert.ok(res.headers['www-authenticate'], `${where} : WWW-Authenticate attendu`);
      return;
    }
  }
  if (res.status === 429) {
    const retry = Number(res.headers['retry-after']);
    assert.ok(Number.isInteger(retry) && retry >= 1, `${where} : Retry-After entier attendu`);
    if (name === 'api-particulier-v3') assertV3Errors(res);
    else if (name !== 'api-particulier') assertGatewayFault(res, [900800]);
    return;
  }
  if (res.status === 403 && name !== 'api-particulier' && (res.json() as JsonObject).fault) {
    assertGatewayFault(res, [900910]);
    return;
  }

  let declared = responses[status];
  // (The FranceConnect `situations` operation declares its 200 under `default`: a spec quirk.)
  if (!declared && name === 'impot-particulier' && res.status >= 400) {
    const e = assertErreurBody(res);
    assert.ok(
      (e.code !== undefined && spec.documentedCodes.has(`${status}:${e.code}`)) || (status === '400' && responses['400']),
      `${where} : statut absent de l’opération et code ${String(e.code)} non documenté`,
    );
    return;
  }
  if (!declared && res.status === 400) {
    // A malformed request refused before the operation (not declared by every operation).
    if (name === 'api-particulier') {
      const body = res.json() as JsonObject;
      assert.ok(typeof body.error === 'string' && typeof body.message === 'string', where);
    } else if (name === 'api-particulier-v3') {
      assertV3Errors(res);
    } else {
      assertErreurBody(res);
    }
    return;
  }
  declared ??= responses.default;
  assert.ok(declared, `${where} : statut non documenté`);

  if (spec.swagger2) {
    const schema = declared.schema as JsonObject | undefined;
    if (!schema) {
      assertErreurBody(res);
      return;
    }
    const pointer = `/paths/${escapePointer(found.template)}/get/responses/${status}/schema`;
    const validate = validatorFor(name, pointer);
    assert.ok(validate(res.json()), `${where} : ${JSON.stringify(validate.errors)}`);
    return;
  }
  const content = declared.content as Record<string, JsonObject> | undefined;
  if (!content) {
    assertErreurBody(res);
    return;
  }
  const type = contentTypeOf(res);
  assert.ok(content[type], `${where} : type ${type} non déclaré (${Object.keys(content).join(', ')})`);
  const key = responses[status] ? status : 'default';
  const pointer = `/paths/${escapePointer(found.template)}/get/responses/${key}/content/${escapePointer(type)}/schema`;
  const validate = validatorFor(name, pointer);
  assert.ok(validate(res.json()), `${where} : ${JSON.stringify(validate.errors)}`);
}
