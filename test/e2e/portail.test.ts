import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { createPortailTestApp, type PortailTestApp } from '../../src/modules/portail/test-support.ts';
import { axeViolations, launchBrowser } from './browser.ts';

/** Screenshots are artefacts of the run, never committed (test-results/ is ignored by git). */
const SHOTS = new URL('../../test-results/portail/', import.meta.url).pathname;

/** The provider sends the browser back to the public URL: the port is chosen before the app starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let t: PortailTestApp;
let base: string;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createPortailTestApp({ publicUrl: base });
  await t.app.listen({ host: '127.0.0.1', port });
  mkdirSync(SHOTS, { recursive: true });
});
after(() => t.close());

const VIEWPORTS = [
  { name: 'bureau', width: 1280, height: 900 },
  { name: 'telephone', width: 375, height: 740 },
];

async function check(page: Page, name: string, viewport: string) {
  const aide = page.locator('details.aide summary');
  if ((await aide.count()) > 0) await aide.first().click();
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${name} (${viewport}): ${JSON.stringify(violations, null, 1)}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow}px (${viewport})`);
  await page.screenshot({ path: `${SHOTS}${name}-${viewport}.png`, fullPage: true });
}

test('FranceConnect journey: sandbox identity, household, consent, no numéro fiscal, QF and prices; no axe violation on any page', async (ctx) => {
  const browser = await launchBrowser(ctx);
  if (!browser) return;
  try {
    for (const [i, viewport] of VIEWPORTS.entries()) {
      // One identity per viewport: each journey starts from a new account.
      const login = i === 0 ? SPI_SANDBOX.rfrZero : SPI_SANDBOX.primoDeclarant;
      const page = await browser.newPage({ viewport });
      const v = viewport.name;
      await page.goto(`${base}/connexion`);
      await check(page, 'connexion', v);
      await page.getByRole('button', { name: /FranceConnect/ }).click();
      await page.waitForURL(/\/interaction\//);
      await page.fill('#login', login);
      await page.fill('#password', '123');
      await page.getByRole('button', { name: 'Se connecter' }).click();
      await page.waitForURL(`${base}/mon-espace`);

      await page.goto(`${base}/mon-quotient`);
      await check(page, 'etape-1-a-completer', v);
      await page.getByRole('link', { name: 'Compléter mon foyer' }).click();
      await page.waitForURL(`${base}/mon-foyer`);
      // The FranceConnect identity is already there; the family adds its child.
      assert.notEqual(await page.inputValue('#parent1-nomNaissance'), '');
      await check(page, 'mon-foyer', v);
      await page.fill('#enfant1-prenoms', 'Jade');
      await page.fill('#enfant1-nomNaissance', await page.inputValue('#parent1-nomNaissance'));
      await page.fill('#enfant1-dateNaissance', '30/01/2023');
      await page.getByRole('button', { name: 'Enregistrer mon foyer' }).click();
      await page.waitForLoadState();
      // The form's #erreurs fragment survives the redirect: harmless, no such element on success.
      if (!/\/mon-quotient(#erreurs)?$/.test(page.url())) assert.fail(`Mon foyer refused: ${(await page.locator('main').innerText()).slice(0, 800)}`);
      await check(page, 'etape-1', v);
      assert.match(await page.content(), /vous n’aurez pas à saisir votre propre numéro fiscal/);
      await page.getByRole('link', { name: 'Continuer' }).click();
      await page.waitForURL(`${base}/mon-quotient/accord`);
      await check(page, 'etape-2', v);

      // Without the box ticked, the error summary says why; then the box is ticked.
      await page.getByRole('button', { name: /Donner mon accord/ }).click();
      await page.waitForURL(/\/mon-quotient\/accord#erreurs$/);
      await check(page, 'etape-2-erreur', v);
      await page.check('#accord-1');
      await page.getByRole('button', { name: /Donner mon accord/ }).click();
      await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
      await check(page, 'etape-3-franceconnect', v);
      assert.equal(await page.locator('input[name^="numero-"]').count(), 0, 'no numéro fiscal is asked');

      const started = Date.now();
      await page.getByRole('button', { name: 'Envoyer la demande' }).click();
      await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
      assert.ok(Date.now() - started < 120_000, 'the QF within two minutes of the click');
      await check(page, 'etape-4-resultat', v);
      const text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
      assert.match(text, /Quotient familial [0-9 ]+,[0-9]{2} € par mois/);
      assert.match(text, /Restauration scolaire/);
      assert.match(text, /via FranceConnect/);
      assert.doesNotMatch(text, new RegExp(login), 'the numéro fiscal is not shown');
      const result = page.url().replace(/#.*$/, '');

      await page.getByRole('link', { name: 'Attestation à imprimer' }).click();
      await check(page, 'attestation', v);
      await page.emulateMedia({ media: 'print' });
      assert.equal(await page.locator('.site-header').isVisible(), false, 'printed without the header');
      await page.emulateMedia({ media: 'screen' });

      await page.goto(`${result}/contestation`);
      await check(page, 'contestation', v);
      await page.goto(`${base}/mes-demandes`);
      await check(page, 'mes-demandes', v);
      await page.goto(`${base}/mes-donnees`);
      await check(page, 'mes-donnees', v);
      await page.goto(`${base}/mes-donnees/export`);
      await check(page, 'mes-donnees-export', v);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
