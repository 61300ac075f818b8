import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { createPortailTestApp, type PortailTestApp } from '../../src/modules/portail/test-support.ts';
import { VIEWPORTS as SIZES, checkPage, freePort, launchBrowser, screenshotDir } from './browser.ts';

const SHOTS = screenshotDir('portail');

let t: PortailTestApp;
let base: string;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createPortailTestApp({ publicUrl: base });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(() => t?.close());

const VIEWPORTS = Object.entries(SIZES).map(([name, size]) => ({ name, ...size }));

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);

test('FranceConnect journey: sandbox identity, household, consent, no numéro fiscal, QF and prices; no axe violation on any page', async (ctx) => {
  const browser = await launchBrowser(ctx);
  if (!browser) return;
  try {
    for (const [i, viewport] of VIEWPORTS.entries()) {
      // One identity per viewport: each journey starts from a new account.
      const login = i === 0 ? SPI_SANDBOX.rfrZero : SPI_SANDBOX.primoDeclarant;
      const page = await browser.newPage({ viewport });
      await page.goto(`${base}/connexion`);
      await check(page, 'connexion');
      await page.getByRole('button', { name: /FranceConnect/ }).click();
      await page.waitForURL(/\/interaction\//);
      await page.fill('#login', login);
      await page.fill('#password', '123');
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.waitForURL(`${base}/mon-espace`);

      await page.goto(`${base}/mon-quotient`);
      await check(page, 'etape-1-a-completer');
      await page.getByRole('link', { name: 'Compléter mon foyer' }).click();
      await page.waitForURL(`${base}/mon-foyer`);
      // The FranceConnect identity is already there; the family adds its child.
      assert.notEqual(await page.inputValue('#parent1-nomNaissance'), '');
      await check(page, 'mon-foyer');
      await page.fill('#enfant1-prenoms', 'Jade');
      await page.fill('#enfant1-nom', await page.inputValue('#parent1-nomNaissance'));
      await page.fill('#enfant1-dateNaissance', '30/01/2023');
      await page.getByRole('button', { name: 'Enregistrer mon foyer' }).click();
      await page.waitForLoadState();
      // The form's #erreurs fragment survives the redirect: harmless, no such element on success.
      if (!/\/mon-quotient(#erreurs)?$/.test(page.url())) assert.fail(`Mon foyer refused: ${(await page.locator('main').innerText()).slice(0, 800)}`);
      await check(page, 'etape-1');
      assert.match(await page.content(), /vous n’aurez pas à saisir votre propre numéro fiscal/);
      await page.getByRole('link', { name: 'Continuer' }).click();
      await page.waitForURL(`${base}/mon-quotient/accord`);
      await check(page, 'etape-2');

      // Without the box ticked, the error summary says why; then the box is ticked.
      await page.getByRole('button', { name: /Donner mon accord/ }).click();
      await page.waitForURL(/\/mon-quotient\/accord#erreurs$/);
      await check(page, 'etape-2-erreur');
      await page.check('#accord-1');
      await page.getByRole('button', { name: /Donner mon accord/ }).click();
      await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
      await check(page, 'etape-3-franceconnect');
      assert.equal(await page.isChecked('#voie-1-franceconnect'), true, 'FranceConnect chosen for the parent signed in with it');

      // Consent given: only now does the family go to FranceConnect; the DGFiP is called on its return, with a 60-second token.
      const started = Date.now();
      await page.getByRole('button', { name: 'Envoyer la demande' }).click();
      await page.waitForURL(/\/interaction\//);
      await page.fill('#login', login);
      await page.fill('#password', '123');
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
      assert.ok((t.fcTokens.at(-1)?.expiresAt ?? 0) - Date.now() <= 60_000, 'a 60-second token');
      assert.ok(Date.now() - started < 120_000, 'the QF within two minutes of the click');
      await check(page, 'etape-4-resultat');
      const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
      assert.match(text, /Quotient familial [0-9 ]+,[0-9]{2} € par mois/);
      assert.match(text, /Restauration scolaire/);
      assert.match(text, /via FranceConnect/);
      assert.doesNotMatch(text, new RegExp(login), 'the numéro fiscal is not shown');
      const result = page.url().replace(/#.*$/, '');

      await page.getByRole('link', { name: 'Attestation à imprimer' }).click();
      await check(page, 'attestation');
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.locator('.site-header').isVisible(), false, 'printed without the header');
      await page.emulateMedia({ media: 'screen' });

      await page.goto(`${result}/contestation`);
      await check(page, 'contestation');
      await page.goto(`${base}/mes-demandes`);
      await check(page, 'mes-demandes');
      await page.goto(`${base}/mes-donnees`);
      await check(page, 'mes-donnees');
      await page.goto(`${base}/mes-donnees/export`);
      await check(page, 'mes-donnees-export');

      if (viewport.name === 'telephone') {
        // A token that is too old by the time of the call (the provider's TTL shortened, rather than a minute's wait): sign in again.
        t.setFranceConnectTtl(5);
        try {
          // A QF is in force: a new request first says what changed.
          await page.goto(`${base}/mon-quotient/accord`);
          await page.waitForURL(`${base}/mon-quotient/pourquoi`);
          await page.getByRole('radio', { name: 'Un nouvel avis d’imposition est paru' }).check();
          await page.getByRole('button', { name: 'Continuer ma nouvelle demande' }).click();
          await page.waitForURL((url) => url.pathname === '/mon-quotient/accord');
          await page.check('#accord-1');
          await page.getByRole('button', { name: /Donner mon accord/ }).click();
          await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
          await page.getByRole('button', { name: 'Envoyer la demande' }).click();
          await page.waitForURL(/\/interaction\//);
          await page.fill('#login', login);
          await page.fill('#password', '123');
          await page.getByRole('button', { name: 'Se connecter' }).click();
          await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
          await check(page, 'franceconnect-expire');
          const expire = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
          assert.match(expire, /Reconnectez-vous avec FranceConnect/);
          assert.doesNotMatch(expire, /Saisir de nouveau le numéro fiscal/);
          t.setFranceConnectTtl(60);
          await page.getByRole('button', { name: 'Relancer la demande' }).click();
          await page.waitForURL(/\/interaction\//);
          await page.fill('#login', login);
          await page.fill('#password', '123');
          await page.getByRole('button', { name: 'Se connecter' }).click();
          await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
          assert.match((await page.locator('main').innerText()).replace(/\s+/g, ' '), /Quotient familial [0-9 ]+,[0-9]{2} € par mois/);
        } finally {
          t.setFranceConnectTtl(60);
        }
      }
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
