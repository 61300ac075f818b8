/**
 * The DGFiP refuses the téléservice's credentials, new tokens included: the family's request waits
 * in the queue, and its page says why in words (not the quota's sentence), that it will leave by
 * itself, and that there is nothing to do. The queue itself is tested in traitement/jeton-refuse.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createPortailTestApp, type PortailTestApp } from './test-support.ts';

let t: PortailTestApp;
before(async () => {
  // The submission does not wait long for an answer that will not come; the refused credentials
  // raise the RSSI's alert, on purpose.
  t = await createPortailTestApp({ attenteMs: 300, alertesAttendues: ['dgfip.acces_refuse'] });
});
after(() => t.close());

test('credentials refused by the DGFiP: the request page says it waits in the queue and why, with nothing to do', async () => {
  const { jar, familleId } = await t.signedInFamily(
    {
      parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }],
      enfants: [{ prenoms: 'Jade', nom: 'Roux', dateNaissance: '2023-01-30' }],
    },
    'lea.roux.identifiants@exemple.fr',
  );
  await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' });
  t.sandbox.admin.refuseAllTokens(true);
  try {
    const envoi = await t.post(jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPI_SANDBOX.rfrZero });
    assert.equal(envoi.statusCode, 303);
    const location = String(envoi.headers.location);
    // The processing loop runs on its own: wait for the refusal to be recorded (bounded).
    const deadline = Date.now() + 20_000;
    let demande: { statut: string; motif_code: string | null } | undefined;
    while (Date.now() < deadline) {
      demande = await t.database.db.selectFrom('demandes').select(['statut', 'motif_code']).where('famille_id', '=', familleId).executeTakeFirst();
      if (demande?.motif_code) break;
      await sleep(50);
    }
    assert.deepEqual(demande, { statut: 'en_file', motif_code: 'dgfip_identifiants_refuses' });
    const page = await t.get(jar, location);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Votre demande est en attente/);
    assert.match(
      page.body,
      /La DGFiP refuse pour le moment l’accès du service de la commune \(problème technique de notre côté, le service technique est prévenu\)/,
    );
    assert.match(page.body, /partira d’elle-même\. Vous n’avez rien à faire/);
    assert.doesNotMatch(page.body, /limite le nombre de demandes par minute/);
    assert.ok(!page.body.includes(SPI_SANDBOX.rfrZero));
  } finally {
    t.sandbox.admin.refuseAllTokens(false);
  }
});
