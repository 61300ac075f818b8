import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
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

const PAGES = ['/', '/mentions-legales', '/accessibilite', '/confidentialite', '/contact', '/verifier', '/verifier/7KQ4-M2XH-9TRC', '/page-absente'];

async function withBrowser(ctx: Parameters<typeof launchBrowser>[0], body: (browser: Browser) => Promise<void>) {
  const browser = await launchBrowser(ctx);
  if (!browser) return;
  try {
    await body(browser);
  } finally {
    await browser.close();
  }
}

test('every page has no accessibility violation (axe-core, WCAG 2.1 AA), on a desktop and on a phone', async (ctx) => {
  await withBrowser(ctx, async (browser) => {
    for (const viewport of [
      { width: 1280, height: 900 },
      { width: 375, height: 740 },
    ]) {
      const page = await browser.newPage({ viewport });
      for (const path of PAGES) {
        await page.goto(base + path);
        assert.equal(await page.getAttribute('html', 'lang'), 'fr');
        const violations = await axeViolations(page);
        assert.deepEqual(violations, [], `${path} at ${viewport.width}px: ${JSON.stringify(violations, null, 1)}`);
        // Nothing overflows sideways on a phone.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at ${viewport.width}px`);
      }
      await page.close();
    }
  });
});

test('the skip link is the first thing the keyboard reaches and leads to the content', async (ctx) => {
  await withBrowser(ctx, async (browser) => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Aller au contenu');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    assert.notEqual(outline, 'none', 'focus is visible');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => location.hash), '#contenu');
  });
});

test('the content security policy blocks an injected inline script', async (ctx) => {
  await withBrowser(ctx, async (browser) => {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const outcome = await page.evaluate(
      () =>
        new Promise<{ violated: string | null; ran: boolean }>((resolve) => {
          let violated: string | null = null;
          document.addEventListener('securitypolicyviolation', (event) => (violated = event.violatedDirective));
          const script = document.createElement('script');
          script.textContent = 'window.__injected = true';
          document.body.appendChild(script);
          setTimeout(() => resolve({ violated, ran: (window as unknown as { __injected?: boolean }).__injected === true }), 200);
        }),
    );
    assert.equal(outcome.ran, false, 'the inline script did not run');
    assert.match(String(outcome.violated), /script-src/);
  });
});
