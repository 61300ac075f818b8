/**
 * The whole circuit, composed as in production: an ordinary family and agent journey raises no
 * alert; then a burst of failed sign-ins from one address, through the real sign-in form, raises
 * one alert at the next evaluation, delivered by e-mail (capture SMTP), signed webhook and syslog
 * (loopback receivers), stored, and shown on the auditor's « Alertes » page, where it is
 * acknowledged and closed with a reason (POST with CSRF), each step journaled.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { canalCourriel, canalSyslog, canalWebhook, type Emetteur } from '../../infra/alertes/index.ts';
import {
  analyserSyslog,
  demarrerRecepteurSyslog,
  demarrerRecepteurWebhook,
  type RecepteurSyslog,
  type RecepteurWebhook,
} from '../../infra/alertes/test-support.ts';
import { detectionSchema } from '../../infra/config/securite-config.ts';
import { startCaptureSmtp, type CaptureSmtp } from '../../infra/mail/mailer.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';

const SECRET = 'un secret de webhook assez long pour le test, 32+';
const emetteur: Emetteur = { commune: 'Ville de Test', codeInsee: '99999', hote: 'quotient-test' };

let t: BackOfficeTestApp;
let smtp: CaptureSmtp;
let webhook: RecepteurWebhook;
let syslog: RecepteurSyslog;
before(async () => {
  smtp = await startCaptureSmtp();
  webhook = await demarrerRecepteurWebhook({ secret: SECRET });
  syslog = await demarrerRecepteurSyslog('udp');
  t = await createBackOfficeTestApp({
    // The burst this file raises on purpose; `close()` checks it was the only alert.
    alertesAttendues: ['connexion.echecs_rafale'],
    canauxAlerte: [
      canalCourriel({ destinataires: ['rssi@exemple.fr'], emetteur, smtp: { url: smtp.url, from: 'Quotient <alertes@exemple.fr>' } }),
      canalWebhook({ url: webhook.url, secret: Buffer.from(SECRET), emetteur }),
      canalSyslog({ hote: '127.0.0.1', port: syslog.port, transport: 'udp', facility: 'auth', emetteur }),
    ],
  });
});
after(async () => {
  try {
    await t?.close();
  } finally {
    await webhook?.close();
    await syslog?.close();
    await smtp?.close();
  }
});

test('an ordinary journey raises nothing; a sign-in burst from one address reaches e-mail, webhook and syslog, and the auditor acknowledges then closes it', async () => {
  // The ordinary day: a family signs in and reads its space; agents of each role sign in and work.
  const { jar: famille } = await t.signedInFamily({ parents: [{ nomNaissance: 'Martin', prenoms: 'Anne', dateNaissance: '1985-02-03' }] }, 'anne@exemple.fr');
  for (const url of ['/mon-espace', '/mon-foyer', '/mon-quotient']) await t.get(famille, url);
  // A mistyped password or two is part of an ordinary day.
  const visiteur = new (await import('../../http/test-cookies.ts')).Jar();
  for (let i = 0; i < 2; i++) await t.post(visiteur, '/connexion', '/connexion', { email: 'anne@exemple.fr', password: 'pas le bon' });
  const auditeur = await t.signInAgent('auditeur');
  const guichet = await t.signInAgent('guichet');
  await t.get(guichet, '/agents/guichet');
  for (const url of ['/agents/controle', '/agents/controle/journal', '/agents/controle/alertes']) await t.get(auditeur, url);
  let bilan = await t.services.detection.evaluer();
  assert.deepEqual(await t.services.incident.alertesStore.lister(), [], 'no false positive on an ordinary journey');
  assert.equal(bilan.constats, 0);
  const vide = await t.get(auditeur, '/agents/controle/alertes');
  assert.match(vide.body, /Aucune alerte ouverte/);

  // The attack: passwords tried on addresses, known or not, from one network address.
  const seuil = detectionSchema.parse({}).connexionEchecsAdresse.seuil;
  const attaquant = new (await import('../../http/test-cookies.ts')).Jar();
  for (let i = 0; i < seuil; i++) {
    const res = await t.post(attaquant, '/connexion', '/connexion', { email: `essai${i % 7}@exemple.fr`, password: `Essai ${i}` });
    // Wrong credentials, then the address held back: the same French answer on the form.
    assert.match(res.body, /Adresse électronique ou mot de passe incorrect|Trop d’essais infructueux/);
  }
  bilan = await t.services.detection.evaluer();
  assert.equal(bilan.issues.nouvelle, 1);
  await t.services.incident.alerteur.enAttente();

  const [alerte] = await t.services.incident.alertesStore.lister('ouverte');
  assert.equal(alerte?.regle, 'connexion.echecs_rafale');
  assert.match(alerte?.cle ?? '', /^adresse:/);

  // E-mail.
  const courriel = smtp.messages.find((m) => m.to.includes('rssi@exemple.fr') && m.subject.includes('Rafale d’échecs de connexion'));
  assert.ok(courriel, 'the RSSI got the e-mail');
  assert.ok(courriel.text.includes(alerte?.id as string));
  // Webhook, signed.
  const [requete] = await webhook.inbox.wait(1);
  assert.equal(requete?.signatureValide, true);
  assert.equal((JSON.parse(requete?.body ?? '{}') as { id?: string }).id, alerte?.id);
  // Syslog, RFC 5424.
  const [trame] = await syslog.inbox.wait(1);
  const message = analyserSyslog(trame as Buffer);
  assert.match(message.msg, /Rafale d’échecs de connexion/);
  // Journaled: raised, then sent on every channel.
  const envoi = (await t.harness.journal.query({ action: 'alerte.envoyee' })).entries[0];
  assert.deepEqual([envoi?.details.courriel, envoi?.details.webhook, envoi?.details.syslog], ['envoye', 'envoye', 'envoye']);

  // Nothing new at the next evaluation: not sent again.
  await t.services.detection.evaluer();
  await t.services.incident.alerteur.enAttente();
  assert.equal(webhook.inbox.items.length, 1);

  // The auditor's page: listed, the detail says what triggered it.
  const liste = (await t.get(auditeur, '/agents/controle/alertes')).body;
  assert.match(liste, /Rafale d’échecs de connexion depuis une même adresse/);
  const adresse = `/agents/controle/alertes/${alerte?.id as string}`;
  const detail = (await t.get(auditeur, adresse)).body;
  // The two ordinary mistypes came from the same (loopback) address.
  assert.match(detail, new RegExp(`${seuil + 2} échecs de connexion depuis cette adresse`));

  // A reason too short comes back on the form, in French; a good one acknowledges.
  const refus = await t.post(auditeur, adresse, `${adresse}/acquittement`, { motif: 'vu' });
  assert.equal(refus.statusCode, 400);
  assert.match(refus.body, /Indiquez le motif/);
  const ok = await t.post(auditeur, adresse, `${adresse}/acquittement`, { motif: 'Adresse bloquée au pare-feu, enquête en cours' });
  assert.equal(ok.statusCode, 303);
  assert.match((await t.get(auditeur, adresse)).body, /Alerte acquittée/);
  const close = await t.post(auditeur, adresse, `${adresse}/cloture`, { motif: 'Robot identifié, adresse bloquée définitivement' });
  assert.equal(close.statusCode, 303);
  assert.match((await t.get(auditeur, '/agents/controle/alertes?statut=cloturee')).body, /Rafale d’échecs de connexion/);
  const journal = (await t.harness.journal.query({ action: 'alerte.' })).entries.map((e) => e.action);
  assert.deepEqual(
    journal.filter((a) => a !== 'alerte.envoyee'),
    ['alerte.cloturee', 'alerte.acquittee', 'alerte.levee'],
  );

  // Only auditors see the page.
  assert.equal((await t.get(guichet, '/agents/controle/alertes')).statusCode, 403);
  assert.equal((await t.get(auditeur, '/agents/controle/alertes/inconnue-000')).statusCode, 404);
});
