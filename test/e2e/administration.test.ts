import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * The administration in a real browser, as the demo administrator uses it: every page of the
 * section, with and without errors, passes axe-core, does not scroll sideways on a phone, and is
 * screenshotted.
 */

const SHOTS = screenshotDir('administration');
const BOULOGNE = readFileSync(new URL('../../examples/boulogne-billancourt.yaml', import.meta.url), 'utf8');

let t: BackOfficeTestApp;
let base: string;
let browser: Browser | undefined;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createBackOfficeTestApp({ publicUrl: base });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);

async function seConnecter(page: Page) {
  await page.goto(`${base}/agents/connexion`);
  await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
  await page.locator('#login').waitFor();
  await page.fill('#login', 'administration@demo.quotient.fr');
  await page.fill('#password', DEMO_AGENT_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(`${base}/agents`);
}

for (const [nom, viewport] of Object.entries(VIEWPORTS)) {
  test(`administration pages on a ${nom}: policy versions, habilitation, agents, API keys`, async (ctx) => {
    browser ??= await launchBrowser(ctx);
    if (!browser) return;
    const page = await browser.newPage({ viewport });
    try {
      await seConnecter(page);
      await page.getByRole('link', { name: 'Administration' }).first().click();
      await page.waitForURL(`${base}/agents/administration`);
      await check(page, 'accueil');

      await page.goto(`${base}/agents/administration/politiques/nouvelle`);
      await page.fill('#texte', BOULOGNE.replace('plafond: 7.20', 'plafond: 0.10'));
      await page.getByRole('button', { name: 'Vérifier et déposer' }).click();
      await page.locator('.error-summary').waitFor();
      assert.match(await mainText(page), /activites\[0\]\.grille\.plafond \(ligne \d+\) : le plafond/);
      await check(page, 'depot-erreurs');

      const numero = `2026-${nom}`;
      await page.fill('#libelle', `Essai ${nom}`);
      await page.fill(
        '#texte',
        BOULOGNE.replace('taux: 0.36 # % du quotient familial', 'taux: 0.40').replace('  date: 2022-12-01', `  numero: "${numero}"\n  date: 2022-12-01`),
      );
      await page.getByRole('button', { name: 'Vérifier et déposer' }).click();
      await page.waitForURL(/\/agents\/administration\/politiques\/[0-9a-f-]{36}(#erreurs)?$/);
      await check(page, 'version');
      const versionUrl = page.url().replace(/#.*$/, '');

      await page.fill('#effet', '01/01/2020');
      await page.getByRole('button', { name: 'Activer cette version' }).click();
      await page.locator('.error-summary').waitFor();
      await check(page, 'activation-erreur');
      // With the date proposed, activating asks for confirmation on its own page; cancelling changes nothing.
      await page.goto(versionUrl);
      await page.getByRole('button', { name: 'Activer cette version' }).click();
      await page.locator('main h1', { hasText: 'Confirmer l’activation' }).waitFor();
      await check(page, 'activation-confirmation');
      await page.getByRole('link', { name: 'Annuler' }).click();
      await page.waitForURL(versionUrl);
      assert.match(await mainText(page), /Déposée, pas encore activée/);

      await page.getByRole('link', { name: 'Aperçu sur des cas de test' }).click();
      await page.locator('main h1', { hasText: 'Aperçu' }).waitFor();
      await check(page, 'apercu');
      await page.goto(versionUrl);
      await page.getByRole('link', { name: 'Différences avec la version en vigueur' }).click();
      await page.locator('main h1', { hasText: 'Comparer deux versions' }).waitFor();
      assert.match(await mainText(page), /Taux d’effort 0,36 % 0,4 %/);
      await check(page, 'comparaison');

      await page.goto(`${base}/agents/administration/politiques`);
      await check(page, 'politiques');
      await page.goto(`${base}/agents/administration/habilitation`);
      await check(page, 'habilitation');

      await page.goto(`${base}/agents/administration/agents`);
      await check(page, 'agents');
      await page.getByRole('link', { name: 'Inscrire un agent' }).click();
      await page.getByRole('button', { name: 'Inscrire l’agent' }).click();
      await page.locator('.error-summary').waitFor();
      await check(page, 'agent-nouveau-erreurs');
      await page.goto(`${base}/agents/administration/agents/${t.agents.guichet.id}`);
      await check(page, 'agent');

      await page.goto(`${base}/agents/administration/cles-api`);
      await check(page, 'cles-api');
      await page.fill('#libelle', `Facturation ${nom}`);
      await page.getByRole('button', { name: 'Créer la clé' }).click();
      await page.locator('main h1', { hasText: 'Clé créée' }).waitFor();
      assert.match(await page.inputValue('#secret'), /^qk_/);
      await check(page, 'cle-creee');
    } finally {
      await page.close();
    }
  });
}
