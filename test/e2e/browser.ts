/**
 * Browser test support: Debian's chromium driven by playwright-core (never a downloaded browser),
 * with the flags this closed network needs. When chromium is missing the suite says so loudly and
 * is counted as skipped.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { after, before, type TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.QUOTIENT_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(t: TestContext): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM_PATH)) {
    const why = `chromium absent (${CHROMIUM_PATH}) : installez le paquet Debian « chromium »`;
    console.error(`\n*** TESTS NAVIGATEUR IGNORÉS : ${why}\n`);
    t.skip(why);
    return undefined;
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const axeSource = (): string => {
  const require = createRequire(import.meta.url);
  return (require('axe-core') as { source: string }).source;
};

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page (injected through CDP-evaluated code, which the CSP does not govern). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource());
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}

/**
 * A free loopback port: the provider sends the browser back to the public URL, so it is chosen before
 * the app starts. It is drawn below the kernel's ephemeral range (32768–60999 on Linux), where every
 * `listen(0)` and outgoing connection of the parallel suites takes theirs, so nothing else can grab it
 * between this check and the app's own `listen`.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (bound) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }
  }
  throw new Error('Aucun port libre trouvé entre 20000 et 32000 en 50 essais.');
}

export const VIEWPORTS = {
  bureau: { width: 1280, height: 900 },
  telephone: { width: 375, height: 740 },
} as const;

/** Where the screenshots of a suite go: artefacts of the run, never committed (test-results/ is ignored by git). */
export function screenshotDir(suite: string): string {
  const dir = new URL(`../../test-results/${suite}/`, import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * What every page of a journey must pass: help panels opened, no axe-core violation, no sideways
 * scroll at the current width; then a full-page screenshot `<dir><name>-<bureau|telephone>.png`.
 */
export async function checkPage(page: Page, dir: string, name: string): Promise<void> {
  const width = page.viewportSize()?.width ?? VIEWPORTS.bureau.width;
  const viewport = width <= VIEWPORTS.telephone.width ? 'telephone' : 'bureau';
  const aide = page.locator('details.aide:not([open]) summary');
  for (let i = await aide.count(); i > 0; i--) await aide.first().click();
  const violations = await axeViolations(page);
  assert.deepEqual(violations, [], `${name} (${viewport}): ${JSON.stringify(violations, null, 1)}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${name} scrolls sideways by ${overflow}px (${viewport})`);
  await page.screenshot({ path: `${dir}${name}-${viewport}.png`, fullPage: true });
}

/** The visible text of the page's main region, whitespace collapsed: what the tests assert. */
export async function mainText(page: Page): Promise<string> {
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

/**
 * One application listening on a free loopback port, and one browser, for a whole test file: the
 * application starts before the first test, both close after the last. Read `t` and `base` inside
 * tests (they exist once started); `navigateur` launches the browser on first use, or skips loudly.
 */
export function applicationEtNavigateur<T extends { readonly app: FastifyInstance; close(): Promise<void> }>(creer: (publicUrl: string) => Promise<T>) {
  let application: T | undefined;
  let adresse = '';
  let browser: Browser | undefined;
  before(async () => {
    const port = await freePort();
    adresse = `http://localhost:${port}`;
    application = await creer(adresse);
    await application.app.listen({ host: '127.0.0.1', port });
  });
  after(async () => {
    await browser?.close();
    await application?.close();
  });
  return {
    get t(): T {
      if (!application) throw new Error('L’application de test n’a pas démarré.');
      return application;
    },
    get base(): string {
      return adresse;
    },
    async navigateur(ctx: TestContext): Promise<Browser | undefined> {
      browser ??= await launchBrowser(ctx);
      return browser;
    },
  };
}
