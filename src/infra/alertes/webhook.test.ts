import assert from 'node:assert/strict';
import { test } from 'node:test';
import { creerAlerte } from './alerte.ts';
import type { Emetteur } from './canal.ts';
import { demarrerRecepteurWebhook } from './test-support.ts';
import { canalWebhook, signerWebhook, verifierSignatureWebhook } from './webhook.ts';

const secretText = 'c2VjcmV0LWRlLXRlc3QtYXNzZXotbG9uZy1wb3VyLWV0cmUtYWNjZXB0ZQ';
const secret = Buffer.from(secretText, 'utf8');
const emetteur: Emetteur = { commune: 'Ville de Démonstration', codeInsee: '99999', hote: 'quotient-1' };
const alerte = creerAlerte({
  code: 'connexion.echecs_rafale',
  gravite: 'critique',
  titre: 'Échecs de connexion en rafale',
  message: 'Trente échecs en une minute.',
  details: { echecs: 30, compte: 'agent-7' },
});
const never = () => new AbortController().signal;

test('the receiver gets the alert as JSON, signed over the timestamp and the body; only the origin is shown', async () => {
  const receiver = await demarrerRecepteurWebhook({ secret: secretText });
  const canal = canalWebhook({ url: receiver.url, secret, emetteur, horloge: () => 1_760_000_000_123 });
  try {
    assert.equal(canal.destination, new URL(receiver.url).origin, 'the path may hold a token: never shown');
    assert.match(await canal.envoyer(alerte, never()), /^accepté par http:\/\/127\.0\.0\.1:\d+ \(HTTP 204\)$/);
    const [request] = await receiver.inbox.wait(1);
    assert.ok(request?.signatureValide, 'HMAC-SHA256 over "<t>.<body>" with the shared secret');
    assert.equal(request?.timestamp, 1_760_000_000);
    assert.equal(request?.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(request?.headers['x-quotient-alerte-id'], alerte.id);
    assert.deepEqual(JSON.parse(request?.body ?? ''), {
      type: 'quotient.alerte',
      version: 1,
      id: alerte.id,
      code: 'connexion.echecs_rafale',
      gravite: 'critique',
      titre: 'Échecs de connexion en rafale',
      message: 'Trente échecs en une minute.',
      survenueLe: alerte.survenueLe,
      details: { echecs: 30, compte: 'agent-7' },
      emetteur: { logiciel: 'quotient', commune: 'Ville de Démonstration', codeInsee: '99999', hote: 'quotient-1' },
    });
  } finally {
    await canal.fermer?.();
    await receiver.close();
  }
});

test('verification: a changed body, another secret, a malformed header or an old timestamp are refused', () => {
  const body = '{"id":"a"}';
  const header = signerWebhook(secret, 1000, body);
  assert.deepEqual(verifierSignatureWebhook({ secret, header, body, nowS: 1100 }), { valide: true, timestamp: 1000 });
  assert.deepEqual(verifierSignatureWebhook({ secret, header, body: '{"id":"b"}', nowS: 1100 }), { valide: false, raison: 'signature_invalide' });
  assert.deepEqual(verifierSignatureWebhook({ secret: Buffer.from('autre'), header, body, nowS: 1100 }), { valide: false, raison: 'signature_invalide' });
  assert.deepEqual(verifierSignatureWebhook({ secret, header: header.replace('t=1000', 't=1001'), body, nowS: 1100 }), {
    valide: false,
    raison: 'signature_invalide',
  });
  assert.deepEqual(verifierSignatureWebhook({ secret, header: 'v1=abc', body }), { valide: false, raison: 'entete_invalide' });
  assert.deepEqual(verifierSignatureWebhook({ secret, header: undefined, body }), { valide: false, raison: 'entete_invalide' });
  assert.deepEqual(verifierSignatureWebhook({ secret, header, body, nowS: 1000 + 301 }), { valide: false, raison: 'trop_ancienne' });
});

test('a 500 is retried once, then reported with its status; a 503 then 200 is delivered at the second try', async () => {
  const failing = await demarrerRecepteurWebhook({ secret: secretText, status: () => 500 });
  const flaky = await demarrerRecepteurWebhook({ secret: secretText, status: (n) => (n === 1 ? 503 : 200) });
  const a = canalWebhook({ url: failing.url, secret, emetteur, pauseAvantRelanceMs: 0 });
  const b = canalWebhook({ url: flaky.url, secret, emetteur, pauseAvantRelanceMs: 0 });
  try {
    await assert.rejects(a.envoyer(alerte, never()), { name: 'EchecCanal', message: /^refusé \(HTTP 500\) par http:\/\/127\.0\.0\.1:\d+, après 2 essais$/ });
    assert.equal(failing.inbox.items.length, 2);
    assert.match(await b.envoyer(alerte, never()), /\(HTTP 200\) au second essai$/);
    assert.ok(flaky.inbox.items.every((r) => r.signatureValide));
  } finally {
    await a.fermer?.();
    await b.fermer?.();
    await failing.close();
    await flaky.close();
  }
});

test('a 4xx or a redirect is not retried', async () => {
  const receiver = await demarrerRecepteurWebhook({ secret: secretText, status: (n) => (n === 1 ? 401 : 302) });
  const canal = canalWebhook({ url: receiver.url, secret, emetteur, pauseAvantRelanceMs: 0 });
  try {
    await assert.rejects(canal.envoyer(alerte, never()), { message: /^refusé \(HTTP 401\) par http:\/\/127\.0\.0\.1:\d+$/ });
    await assert.rejects(canal.envoyer(alerte, never()), { message: /^redirection refusée \(HTTP 302\)/ });
    assert.equal(receiver.inbox.items.length, 2);
  } finally {
    await canal.fermer?.();
    await receiver.close();
  }
});

test('a receiver that never answers times out (each try bounded), one that is down is unreachable', async () => {
  const silent = await demarrerRecepteurWebhook({ secret: secretText, status: () => 'silence' });
  const down = await demarrerRecepteurWebhook({ secret: secretText });
  const downUrl = down.url;
  await down.close();
  const a = canalWebhook({ url: silent.url, secret, emetteur, delaiMs: 300, pauseAvantRelanceMs: 0 });
  const b = canalWebhook({ url: downUrl, secret, emetteur, pauseAvantRelanceMs: 0 });
  try {
    await assert.rejects(a.envoyer(alerte, never()), { message: /^délai dépassé \(0,3 s\) par http:\/\/127\.0\.0\.1:\d+, après 2 essais$/ });
    assert.equal(silent.inbox.items.length, 2);
    await assert.rejects(b.envoyer(alerte, never()), { message: /^injoignable \(connexion refusée\) par http:\/\/127\.0\.0\.1:\d+, après 2 essais$/ });
  } finally {
    await a.fermer?.();
    await b.fermer?.();
    await silent.close();
  }
});

test('plain HTTP is refused except to this machine', () => {
  assert.throws(() => canalWebhook({ url: 'http://siem.ville.fr/alertes', secret, emetteur }), /https:\/\/ attendu/);
  for (const url of ['http://localhost:9/x', 'http://127.0.0.2:9/x', 'http://[::1]:9/x', 'https://siem.ville.fr/x']) {
    const canal = canalWebhook({ url, secret, emetteur });
    void canal.fermer?.();
  }
});
