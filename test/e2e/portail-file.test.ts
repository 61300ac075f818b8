import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { PASSWORD, createPortailTestApp, type PortailTestApp } from '../../src/modules/portail/test-support.ts';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * The queue in a real browser: the DGFiP answers « 429 Too Many Requests, Retry-After » (the
 * sandbox's fault switch), so the requests wait. The family sees its position and an estimate, and
 * the page refreshes itself — no script, no click — until the result is there.
 *
 * The Retry-After is far longer than the test: the requests stay queued however slow the machine
 * is, and the test ends the pause itself once it has read the queue (the clock driven, not raced).
 */

const SHOTS = screenshotDir('portail-file');
const RETRY_AFTER_S = 3600;

/** What happens when the Retry-After has elapsed: the quota's pause and the requests' next-try dates are due now. */
async function finDeLaPause(app: PortailTestApp): Promise<void> {
  const db = app.database.db;
  await db.updateTable('quota_state').set({ paused_until: null }).execute();
  await db.updateTable('demandes').set({ prochain_essai_le: null }).where('statut', '=', 'en_file').execute();
  app.harness.services.wake();
}

/**
 * Waits for the event, not for a time: the 429 received and the pause recorded for every request,
 * before the next family submits (else, on a busy machine, its call could go out before the pause).
 * Bounded: a pause never recorded fails the test instead of hanging it.
 */
async function pauseEnregistree(app: PortailTestApp, demandeId: string): Promise<void> {
  const db = app.database.db;
  for (let i = 0; i < 600; i++) {
    const pause = await db.selectFrom('quota_state').select('paused_until').where('paused_until', 'is not', null).executeTakeFirst();
    const demande = await db.selectFrom('demandes').select('statut').where('id', '=', demandeId).executeTakeFirst();
    if (pause && demande?.statut === 'en_file') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail('the 429 was never recorded as a pause');
}

let t: PortailTestApp;
let base: string;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  // The submission waits half a second for the answer, then shows the queue.
  t = await createPortailTestApp({ publicUrl: base, attenteMs: 500 });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(() => t?.close());

test('quota used up: the page shows the position in the queue and an estimate, refreshes itself, then shows the QF; no axe violation', async (ctx) => {
  const browser = await launchBrowser(ctx);
  if (!browser) return;
  try {
    // Another family's request gets the DGFiP's 429: the quota is paused for every request until Retry-After.
    t.sandbox.admin.addFault({ kind: 'http429', times: 1, retryAfterSeconds: RETRY_AFTER_S });
    const autre = await t.signedInFamily(
      {
        parents: [{ nomNaissance: 'Girard', prenoms: 'Hugo', dateNaissance: '2004-11-30' }],
        enfants: [{ prenoms: 'Noé', nom: 'Girard', dateNaissance: '2024-02-02' }],
      },
      'hugo.girard@exemple.fr',
    );
    assert.equal((await t.post(autre.jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' })).statusCode, 303);
    const premiere = await t.post(autre.jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPI_SANDBOX.primoDeclarant });
    assert.equal(premiere.statusCode, 303);
    const premiereId = String(premiere.headers.location).split('/').at(-1) as string;
    await pauseEnregistree(t, premiereId);
    assert.ok((await t.harness.demandes.etat(premiereId)).file, 'the first request waits after the 429');

    const email = 'lea.roux@exemple.fr';
    await t.signedInFamily(
      {
        parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }],
        enfants: [{ prenoms: 'Jade', nom: 'Roux', dateNaissance: '2023-01-30' }],
      },
      email,
    );
    const page = await browser.newPage({ viewport: VIEWPORTS.telephone });
    // A busy machine makes every step slower: generous ceilings (waiting for the page, never for a time).
    page.setDefaultTimeout(120_000);
    await page.goto(`${base}/connexion`);
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await page.waitForURL(/\/mon-espace(#erreurs)?$/);
    await page.goto(`${base}/mon-quotient/accord`);
    await page.check('#accord-1');
    await page.getByRole('button', { name: /Donner mon accord/ }).click();
    await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
    await page.fill('#numero-1', SPI_SANDBOX.rfrZero);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
    const url = page.url().replace(/#.*$/, '');

    // The queue, as the family reads it.
    assert.equal(await page.locator('main h1').innerText(), 'Votre demande est en attente');
    const attente = await mainText(page);
    assert.match(attente, /Référence D-[A-Z0-9-]+/);
    assert.match(attente, /Position 2e dans la file/, 'behind the other family’s request');
    assert.match(attente, /Attente estimée environ \d+ minutes? \(estimation prudente\)/);
    assert.match(attente, /Cette page se met à jour toute seule toutes les 10 secondes/);
    assert.doesNotMatch(attente, /€/);
    await checkPage(page, SHOTS, 'file-attente');
    await finDeLaPause(t);

    // Nobody clicks: the page reloads itself until the result is there (bounded: a few refreshes).
    let reloads = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame() && frame.url().replace(/#.*$/, '') === url) reloads++;
    });
    await page.locator('main h1', { hasText: 'Votre quotient familial' }).waitFor({ timeout: 180_000 });
    assert.ok(reloads >= 1, 'the page refreshed itself');
    assert.equal(page.url().replace(/#.*$/, ''), url, 'same address: the page of the request');
    const resultat = await mainText(page);
    assert.match(resultat, /Quotient familial [0-9 ]+,[0-9]{2} € par mois/);
    assert.match(resultat, /Restauration scolaire/);
    assert.equal(resultat.includes(SPI_SANDBOX.rfrZero), false);
    await checkPage(page, SHOTS, 'file-resultat');
    assert.equal((await t.harness.demandes.etat(premiereId)).statut, 'calculee', 'the first request went through too');
    await page.close();
  } finally {
    await browser.close();
  }
});
