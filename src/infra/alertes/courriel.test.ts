import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startCaptureSmtp } from '../mail/mailer.ts';
import { alerteDeTest, creerAlerte } from './alerte.ts';
import type { Emetteur } from './canal.ts';
import { canalCourriel, urlSmtpBornee } from './courriel.ts';

const emetteur: Emetteur = { commune: 'Ville de Démonstration', codeInsee: '99999', hote: 'quotient-1' };
const never = () => new AbortController().signal;

test('the alert goes by e-mail to the RSSI and the DPO, one message each, in French', async () => {
  const smtp = await startCaptureSmtp();
  try {
    const canal = canalCourriel({
      destinataires: ['rssi@exemple.fr', 'DPO@exemple.fr', 'dpo@exemple.fr'],
      emetteur,
      smtp: { url: smtp.url, from: 'Quotient <alertes@exemple.fr>' },
    });
    assert.equal(canal.destination, 'rssi@exemple.fr, dpo@exemple.fr', 'one message per person, even when declared twice');
    const alerte = alerteDeTest({ lanceePar: 'cli:exploitant' });
    assert.equal(await canal.envoyer(alerte, never()), 'envoyé à rssi@exemple.fr, dpo@exemple.fr');
    assert.deepEqual(smtp.messages.map((m) => m.to).sort(), [['dpo@exemple.fr'], ['rssi@exemple.fr']]);
    const [message] = smtp.messages;
    assert.equal(message?.subject, '[Quotient – Ville de Démonstration] Alerte critique : Test du circuit d’alerte');
    assert.match(message?.text ?? '', /Test du circuit d’alerte\n.*aucun incident n’a eu lieu/);
    assert.match(message?.text ?? '', /Code {9}: alertes\.test/);
    assert.ok(message?.text.includes(`Référence    : ${alerte.id}`));
    assert.match(message?.text ?? '', /\(heure de Paris\)/);
    assert.match(message?.text ?? '', /lanceePar : cli:exploitant/);
  } finally {
    await smtp.close();
  }
});

test('a relay that is down, or a text the mailer refuses, is reported per recipient', async () => {
  const smtp = await startCaptureSmtp();
  const url = smtp.url;
  await smtp.close();
  const down = canalCourriel({ destinataires: ['rssi@exemple.fr'], emetteur, smtp: { url, from: 'q@exemple.fr' } });
  await assert.rejects(down.envoyer(alerteDeTest({ lanceePar: 'x' }), never()), {
    name: 'EchecCanal',
    message: /^échec pour rssi@exemple\.fr : injoignable \(connexion refusée\)$/,
  });

  const refusing = canalCourriel({
    destinataires: ['rssi@exemple.fr'],
    emetteur,
    mailer: { send: () => Promise.reject(Object.assign(new Error('x'), { code: 'courriel_refuse' })) },
  });
  await assert.rejects(refusing.envoyer(creerAlerte({ code: 'a.b', gravite: 'info', titre: 't', message: 'm' }), never()), { message: /refusé avant l’envoi/ });

  let calls = 0;
  const partial = canalCourriel({
    destinataires: ['a@exemple.fr', 'b@exemple.fr'],
    emetteur,
    mailer: { send: (m) => (calls++, m.to === 'b@exemple.fr' ? Promise.reject(Object.assign(new Error('x'), { responseCode: 550 })) : Promise.resolve()) },
  });
  await assert.rejects(partial.envoyer(alerteDeTest({ lanceePar: 'x' }), never()), {
    message: 'échec pour b@exemple.fr : refusé par le relais SMTP (code 550) (envoyé à a@exemple.fr)',
  });
  assert.equal(calls, 2);
});

test('the relay’s timeouts are bounded unless the URL already sets them', () => {
  const url = new URL(urlSmtpBornee('smtps://u:p@relais.ville.fr:465?greetingTimeout=2000', 10_000));
  assert.equal(url.searchParams.get('connectionTimeout'), '10000');
  assert.equal(url.searchParams.get('greetingTimeout'), '2000');
  assert.equal(url.searchParams.get('socketTimeout'), '10000');
  assert.equal(url.username, 'u');
  assert.throws(() => canalCourriel({ destinataires: [], emetteur, mailer: { send: async () => undefined } }), /aucun destinataire/);
});
