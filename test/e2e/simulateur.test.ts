import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createTestApp, type TestApp } from '../../src/http/testing.ts';
import { axeViolations, launchBrowser } from './browser.ts';

let t: TestApp;
let base: string;
before(async () => {
  t = await createTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
});
after(() => t.close());

async function withBrowser(ctx: Parameters<typeof launchBrowser>[0], body: (browser: Browser) => Promise<void>) {
  const browser = await launchBrowser(ctx);
  if (!browser) return;
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

const VIEWPORTS = [
  { width: 1280, height: 900 },
  { width: 375, height: 740 },
];

/** Is the element's top inside the visible part of the window? */
const inView = (page: Page, selector: string) =>
  page.evaluate((sel) => {
    const box = document.querySelector(sel)?.getBoundingClientRect();
    return box !== undefined && box.top > -2 && box.top < window.innerHeight;
  }, selector);

const focusedId = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');

test('the simulator, its result and its errors have no accessibility violation and fit a phone', async (ctx) => {
  await withBrowser(ctx, async (browser) => {
    for (const viewport of VIEWPORTS) {
      const page = await browser.newPage({ viewport });
      for (const path of [
        '/simulateur',
        '/simulateur?rfr=48000&parts=3',
        '/simulateur?rfr=48000&parts=3&hors-commune=oui',
        '/simulateur?rfr=48.000&parts=',
        '/',
      ]) {
        await page.goto(base + path);
        // The help on which avis to use, opened, is checked too.
        const aide = page.locator('details.aide summary');
        if ((await aide.count()) > 0) await aide.first().click();
        const violations = await axeViolations(page);
        assert.deepEqual(violations, [], `${path} at ${viewport.width}px: ${JSON.stringify(violations, null, 1)}`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at ${viewport.width}px`);
        const tableOverflow = await page.evaluate(() => {
          const wrapper = document.querySelector('.table-wrapper');
          return wrapper ? wrapper.scrollWidth - wrapper.clientWidth : 0;
        });
        assert.ok(tableOverflow <= 0, `${path}: the price table scrolls sideways by ${tableOverflow}px at ${viewport.width}px`);
      }
      await page.close();
    }
  });
});

test('with the keyboard only, a family fills the form, sends it and lands on its result', async (ctx) => {
  await withBrowser(ctx, async (browser) => {
    for (const viewport of VIEWPORTS) {
      const page = await browser.newPage({ viewport });
      await page.goto(`${base}/`);
      // From the home page: the link to the simulator is reached with Tab and followed with Enter.
      for (let i = 0; i < 30 && (await page.evaluate(() => document.activeElement?.getAttribute('href'))) !== '/simulateur'; i++)
        await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${base}/simulateur`);

      await page.focus('#rfr');
      await page.keyboard.type('48 000');
      await page.keyboard.press('Tab');
      assert.equal(await focusedId(page), 'parts');
      await page.keyboard.type('3');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/simulateur\?rfr=48\+000&parts=3#resultat$/);
      assert.equal(await focusedId(page), 'resultat', 'the result has the focus');
      assert.ok(await inView(page, '#resultat'), `the result is on screen at ${viewport.width}px`);
      assert.match((await page.locator('.quotient-carte__montant').innerText()).replace(/\s+/g, ' '), /^1 333,33 € par mois$/);
      const canteen = page.locator('tbody tr').first();
      assert.match((await canteen.innerText()).replace(/\s+/g, ' '), /Restauration scolaire Taux d’effort 0,36 % 4,80 € par repas/);
      assert.ok(await canteen.isVisible());

      // Tick « hors commune » with the space bar and send with the button.
      await page.focus('#parts');
      await page.keyboard.press('Tab');
      assert.equal(await focusedId(page), 'hors-commune');
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Calculer mon quotient et mes tarifs');
      await page.keyboard.press('Enter');
      await page.waitForURL(/hors-commune=oui#resultat$/);
      assert.match((await page.locator('tbody tr').first().innerText()).replace(/\s+/g, ' '), /8,05 € par repas/);
      await page.close();
    }
  });
});

test('errors: the summary takes the focus and its links lead to the fields to correct', async (ctx) => {
  await withBrowser(ctx, async (browser) => {
    for (const viewport of VIEWPORTS) {
      const page = await browser.newPage({ viewport });
      await page.goto(`${base}/simulateur`);
      await page.focus('#rfr');
      await page.keyboard.type('48.000');
      await page.keyboard.press('Enter');
      await page.waitForURL(/#resultat$/);
      assert.equal(await focusedId(page), 'resultat', 'the error summary has the focus');
      assert.ok(await inView(page, '.error-summary'));
      assert.match(await page.title(), /^Erreur : /);
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('href')), '#rfr');
      await page.keyboard.press('Enter');
      assert.equal(await focusedId(page), 'rfr', 'the field to correct has the focus');
      // Its label and its message stay on screen above it.
      assert.ok(await inView(page, 'label[for="rfr"]'), `the label is on screen at ${viewport.width}px`);
      assert.ok(await inView(page, '#rfr-erreur'), `the message is on screen at ${viewport.width}px`);
      // The typed value is kept, so only the mistake needs fixing.
      assert.equal(await page.inputValue('#rfr'), '48.000');
      await page.close();
    }
  });
});
