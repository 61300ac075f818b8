import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateEntry } from '../../domain/entree-journal.ts';
import { startCaptureSmtp } from '../mail/mailer.ts';
import { creerAlerte } from './alerte.ts';
import { EchecCanal, type CanalAlerte, type Emetteur } from './canal.ts';
import { creerCircuitAlerte, detailsDuRapport } from './circuit.ts';
import { canalCourriel } from './courriel.ts';
import { canalSyslog } from './syslog.ts';
import { analyserSyslog, demarrerRecepteurSyslog, demarrerRecepteurWebhook } from './test-support.ts';
import { canalWebhook } from './webhook.ts';

const emetteur: Emetteur = { commune: 'Ville de Démonstration', codeInsee: '99999', hote: 'quotient-1' };
const secretText = 'un-secret-de-test-de-plus-de-trente-deux-caracteres';
const alerte = creerAlerte({
  code: 'journal.chaine_rompue',
  gravite: 'critique',
  titre: 'Journal d’audit altéré',
  message: 'Les opérations fiscales sont suspendues.',
});

function fake(nom: CanalAlerte['nom'], envoyer: CanalAlerte['envoyer']): CanalAlerte {
  return { nom, destination: `faux ${nom}`, envoyer };
}

test('every channel gets the alert at once; the report lists them in a fixed order', async () => {
  const smtp = await startCaptureSmtp();
  const webhook = await demarrerRecepteurWebhook({ secret: secretText });
  const syslog = await demarrerRecepteurSyslog('udp');
  const circuit = creerCircuitAlerte({
    canaux: [
      canalSyslog({ hote: '127.0.0.1', port: syslog.port, transport: 'udp', facility: 'auth', emetteur }),
      canalWebhook({ url: webhook.url, secret: Buffer.from(secretText), emetteur }),
      canalCourriel({ destinataires: ['rssi@exemple.fr', 'dpo@exemple.fr'], emetteur, smtp: { url: smtp.url, from: 'q@exemple.fr' } }),
    ],
  });
  try {
    const rapport = await circuit.envoyerAlerte(alerte);
    assert.equal(rapport.alerteId, alerte.id);
    assert.equal(rapport.toutEnvoye, true);
    assert.deepEqual(
      rapport.resultats.map((r) => [r.canal, r.envoye]),
      [
        ['courriel', true],
        ['webhook', true],
        ['syslog', true],
      ],
    );
    assert.equal(rapport.resultats[0]?.compteRendu, 'envoyé à rssi@exemple.fr, dpo@exemple.fr');
    assert.equal(smtp.messages.length, 2);
    assert.ok((await webhook.inbox.wait(1))[0]?.signatureValide);
    assert.equal(analyserSyslog((await syslog.inbox.wait(1))[0] as Buffer).sd[0]?.params.id, alerte.id);
  } finally {
    await circuit.fermer();
    await Promise.all([smtp.close(), webhook.close(), syslog.close()]);
  }
});

test('a failing channel is reported, never thrown, and the others still deliver', async () => {
  const smtp = await startCaptureSmtp();
  const webhook = await demarrerRecepteurWebhook({ secret: secretText, status: () => 500 });
  const syslog = await demarrerRecepteurSyslog('tcp');
  const downPort = syslog.port;
  await syslog.close();
  const logged: string[] = [];
  const circuit = creerCircuitAlerte({
    canaux: [
      canalCourriel({ destinataires: ['rssi@exemple.fr'], emetteur, smtp: { url: smtp.url, from: 'q@exemple.fr' } }),
      canalWebhook({ url: webhook.url, secret: Buffer.from(secretText), emetteur, pauseAvantRelanceMs: 0 }),
      canalSyslog({ hote: '127.0.0.1', port: downPort, transport: 'tcp', facility: 'auth', emetteur }),
    ],
    logger: { error: (_o, message) => logged.push(message) },
  });
  try {
    const rapport = await circuit.envoyerAlerte(alerte);
    assert.equal(rapport.toutEnvoye, false);
    assert.deepEqual(
      rapport.resultats.map((r) => [r.canal, r.envoye]),
      [
        ['courriel', true],
        ['webhook', false],
        ['syslog', false],
      ],
    );
    assert.match(rapport.resultats[1]?.compteRendu ?? '', /^refusé \(HTTP 500\) par http:\/\/127\.0\.0\.1:\d+, après 2 essais$/);
    assert.equal(rapport.resultats[2]?.compteRendu, 'injoignable (connexion refusée)');
    assert.equal(smtp.messages.length, 1);
    assert.deepEqual(
      logged.map((m) => m.split(' : ')[0]),
      ['alerte non transmise par webhook', 'alerte non transmise par syslog'],
    );

    const details = detailsDuRapport(rapport);
    assert.deepEqual(
      {
        courriel: details.courriel,
        webhook: details.webhook,
        syslog: details.syslog,
        syslog_raison: details.syslog_raison,
        courriel_raison: details.courriel_raison,
      },
      { courriel: 'envoye', webhook: 'echec', syslog: 'echec', syslog_raison: 'injoignable (connexion refusée)', courriel_raison: undefined },
    );
    validateEntry({ actor: { type: 'systeme', id: 'test' }, action: 'alertes.test', outcome: 'echec', details });
  } finally {
    await circuit.fermer();
    await Promise.all([smtp.close(), webhook.close()]);
  }
});

test('the whole send is bounded: a channel that never ends is cut at the deadline and told to stop', async () => {
  let aborted = false;
  const circuit = creerCircuitAlerte({
    delaiMaxMs: 200,
    canaux: [
      fake('webhook', (_a, signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        return new Promise<string>(() => undefined);
      }),
      fake('syslog', async () => 'transmis'),
      fake('courriel', () => {
        throw new Error('bug');
      }),
    ],
  });
  const rapport = await circuit.envoyerAlerte(alerte);
  assert.deepEqual(
    rapport.resultats.map((r) => [r.canal, r.envoye, r.compteRendu]),
    [
      ['courriel', false, 'échec inattendu'],
      ['webhook', false, 'délai dépassé (0,2 s)'],
      ['syslog', true, 'transmis'],
    ],
  );
  assert.ok(aborted, 'the late channel was told to give up');
});

test('with no channel nothing is delivered, and that is said', async () => {
  const rapport = await creerCircuitAlerte({ canaux: [] }).envoyerAlerte(alerte);
  assert.deepEqual(rapport.resultats, []);
  assert.equal(rapport.toutEnvoye, false);
  assert.deepEqual(detailsDuRapport(rapport), { courriel: 'non_configure', webhook: 'non_configure', syslog: 'non_configure' });
  const failing = await creerCircuitAlerte({ canaux: [fake('syslog', () => Promise.reject(new EchecCanal('refusé')))] }).envoyerAlerte(alerte);
  assert.equal(failing.resultats[0]?.compteRendu, 'refusé');
});
