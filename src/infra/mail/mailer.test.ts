import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPI_SANDBOX } from '../../sandbox/population.ts';
import { assertCourrielSansDonneeFiscale, CourrielRefuse, createSmtpMailer, mailerGarde, startCaptureSmtp, type Courriel } from './mailer.ts';

test('a message goes through SMTP to the local capture server, accents intact', async () => {
  const smtp = await startCaptureSmtp();
  try {
    const mailer = createSmtpMailer({ url: smtp.url, from: 'Quotient <ne-pas-repondre@exemple.fr>' });
    await mailer.send({
      to: 'famille@exemple.fr',
      subject: 'Vérifiez votre adresse électronique',
      text: 'Bonjour,\nCliquez sur le lien : https://exemple.fr/x?jeton=abc\nÀ bientôt.',
    });
    assert.equal(smtp.messages.length, 1);
    const [m] = smtp.messages;
    assert.deepEqual(m?.to, ['famille@exemple.fr']);
    assert.equal(m?.subject, 'Vérifiez votre adresse électronique');
    assert.match(m?.text ?? '', /À bientôt\./);
    assert.match(m?.text ?? '', /jeton=abc/);
  } finally {
    await smtp.close();
  }
});

test('every mailer is guarded: a numéro fiscal in any separator or digit form is refused, typed, logged without the value; our links go through', async () => {
  const sent: Courriel[] = [];
  const warnings: string[] = [];
  const mailer = mailerGarde({ send: (m) => Promise.resolve(void sent.push(m)) }, { warn: (obj, msg) => void warnings.push(JSON.stringify(obj) + msg) });
  for (const typed of [
    '31-41-592-653-423',
    '31.41.592.653.423',
    '31/41/592/653/423',
    '31  41\t592 653 423',
    '３１４１５９２６５３４２３',
    '31\u202f41\u00a0592 653 423',
  ]) {
    await assert.rejects(
      mailer.send({ to: 'a@exemple.fr', subject: 'Suivi', text: `Numéro ${typed}` }),
      (e: unknown) => e instanceof CourrielRefuse && e.code === 'courriel_refuse',
    );
    await assert.rejects(mailer.send({ to: 'a@exemple.fr', subject: `Numéro ${typed}`, text: 'Bonjour' }), CourrielRefuse);
  }
  assert.equal(sent.length, 0);
  assert.ok(warnings.length > 0 && warnings.every((w) => !/[0-9３]{2}/.test(w) && !w.includes('exemple.fr')), warnings.join('\n'));
  // A link to a request: a UUID whose digits run to 13 across its dashes is still one of our ids.
  await mailer.send({ to: 'a@exemple.fr', subject: 'Suivi', text: 'https://ville.fr/mon-quotient/demandes/12345678-9012-4345-8678-901234567890' });
  assert.equal(sent.length, 1);
});

test('an e-mail holding a numéro fiscal or an amount is refused before sending', async () => {
  const smtp = await startCaptureSmtp();
  try {
    const mailer = createSmtpMailer({ url: smtp.url, from: 'q@exemple.fr' });
    const spaced = SPI_SANDBOX.canari.replace(/^(\d{2})(\d{2})(\d{3})(\d{3})(\d{3})$/, '$1 $2 $3 $4 $5');
    for (const text of [
      `Votre numéro : ${SPI_SANDBOX.canari}`,
      `Numéro ${spaced}`,
      'Votre revenu fiscal de référence : 32 000 €',
      'QF : 512,40 euros par mois',
    ]) {
      await assert.rejects(mailer.send({ to: 'a@exemple.fr', subject: 'Résultat', text }), /n’est pas envoyé/);
    }
    assert.throws(() => assertCourrielSansDonneeFiscale({ to: 'a@exemple.fr', subject: `N° ${SPI_SANDBOX.canari}`, text: '' }));
    assert.equal(smtp.messages.length, 0);
  } finally {
    await smtp.close();
  }
});
