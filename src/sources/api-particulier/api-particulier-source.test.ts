import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { createLogger } from '../../infra/log/logger.ts';
import { SourceFiscaleError } from '../fiscal-source.ts';
import { UpstreamHttp } from '../http/upstream-http.ts';
import { ApiParticulierSource } from './api-particulier-source.ts';

/** A loopback stand-in for API Particulier v2, answering by numéro fiscal what its OpenAPI file documents. */
const avis = (extra: Record<string, unknown>) => ({
  declarant1: { nom: '', nomNaissance: 'MARTIN', prenoms: 'JEAN', dateNaissance: '29/03/1984' },
  declarant2: null,
  dateEtablissement: '09/07/2025',
  nombreParts: 1,
  situationFamille: 'Célibataire',
  nombrePersonnesCharge: 0,
  revenuFiscalReference: 17580,
  anneeRevenus: '2024',
  foyerFiscal: { adresse: '34 RUE DE L EGLISE 75009 PARIS' },
  erreurCorrectif: '',
  situationPartielle: '',
  ...extra,
});
const ANSWERS: Record<string, { status: number; body: unknown }> = {
  '1000000000001': { status: 200, body: avis({}) },
  '1000000000002': { status: 200, body: avis({ erreurCorrectif: 'Ce document ne correspond pas à la situation la plus récente pour cet usager' }) },
  '1000000000003': { status: 200, body: avis({ situationPartielle: '(*) Situation  2024 partielle' }) },
  '1000000000004': {
    status: 509,
    body: { error: 'rate_limited', reason: 'DGFIP error rate limit exceeded', message: 'Le fournisseur de donnée a rejeté la demande.' },
  },
  '1000000000005': {
    status: 502,
    body: {
      error: 'invalid_response',
      reason: 'Data provider returned an invalid data format.',
      message: 'La réponse du fournisseur de donnée est inexploitable',
    },
  },
  '1000000000006': { status: 502, body: { error: 'bad_gateway' } },
};
const calls = new Map<string, number>();
let server: Server;
let http: UpstreamHttp;
let source: ApiParticulierSource;
const now = Date.parse('2026-10-01T08:00:00Z');

before(async () => {
  server = createServer((req, res) => {
    const numero = new URL(req.url ?? '/', 'http://x').searchParams.get('numeroFiscal') ?? '';
    calls.set(numero, (calls.get(numero) ?? 0) + 1);
    const answer = ANSWERS[numero] ?? { status: 404, body: { error: 'not_found' } };
    res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.status === 509 ? { 'retry-after': '120' } : {}) });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  http = new UpstreamHttp({ tls: {}, logger: createLogger({ level: 'silent' }), baseBackoffMs: 5, deadlineMs: 5_000 });
  source = new ApiParticulierSource({ http, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'cle', clock: () => now });
});
after(async () => {
  await http.close();
  await new Promise((resolve) => server.close(resolve));
});

const ask = (numero: string) => source.parAvis(NumeroFiscal.parse(numero), '2512345678901');
async function failure(numero: string): Promise<SourceFiscaleError> {
  try {
    await ask(numero);
  } catch (error) {
    assert.ok(error instanceof SourceFiscaleError, String(error));
    return error;
  }
  assert.fail('a typed failure was expected');
}

test('an ordinary avis carries no warning; a corrected or partial-year avis is flagged', async () => {
  assert.deepEqual((await ask('1000000000001')).avertissements, []);
  assert.deepEqual((await ask('1000000000002')).avertissements, ['avis_corrige']);
  assert.deepEqual((await ask('1000000000003')).avertissements, ['situation_partielle']);
});

test('509 rate_limited: quota reached, retry later as API Particulier says; 502 invalid_response: unusable, not asked again', async () => {
  const limited = await failure('1000000000004');
  assert.equal(limited.raison, 'quota_depasse');
  assert.equal(limited.retryAt, now + 120_000);
  const invalid = await failure('1000000000005');
  assert.equal(invalid.raison, 'reponse_invalide');
  assert.equal(calls.get('1000000000005'), 1, 'one call: a provider’s unusable data stays unusable');
  // Any other 502 is the gateway's trouble: retried, then « indisponible ».
  assert.equal((await failure('1000000000006')).raison, 'indisponible');
  assert.equal(calls.get('1000000000006'), 3);
});
