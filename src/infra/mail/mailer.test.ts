import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SPI_SANDBOX } from '../../sandbox/population.ts';
import { assertCourrielSansDonneeFiscale, createSmtpMailer, startCaptureSmtp } from './mailer.ts';

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
