import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { asPrivileged } from '../../src/modules/audit/test-support.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * Incident measures in a real browser: the administrators' page and its errors, a measure in
 * force with the agents' banner, the families' maintenance page; then the integrity halt and the
 * auditor's acknowledgement. Every page passes axe-core and does not scroll sideways on a phone.
 */

const SHOTS = screenshotDir('incident');

let t: BackOfficeTestApp;
let base: string;
let browser: Browser | undefined;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  // The integrity halt, raised on purpose by the last test; `close()` checks it was the only alert.
  t = await createBackOfficeTestApp({ publicUrl: base, alertesAttendues: ['journal.integrite_rompue'] });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);

async function seConnecter(page: Page, email: string) {
  await page.goto(`${base}/agents/connexion`);
  await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
  await page.locator('#login').waitFor();
  await page.fill('#login', email);
  await page.fill('#password', DEMO_AGENT_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(`${base}/agents`);
}

for (const [nom, viewport] of Object.entries(VIEWPORTS)) {
  test(`incident measures on a ${nom}: the page, a reason refused, calls suspended, the portal in maintenance`, async (ctx) => {
    browser ??= await launchBrowser(ctx);
    if (!browser) return;
    const page = await browser.newPage({ viewport });
    const visiteur = await browser.newPage({ viewport });
    try {
      await seConnecter(page, 'administration@demo.quotient.fr');
      await page.getByRole('link', { name: 'Administration' }).first().click();
      await page.waitForURL(`${base}/agents/administration`);
      await page.getByRole('link', { name: 'Mesures d’incident' }).click();
      await page.waitForURL(`${base}/agents/administration/incident`);
      await check(page, 'page');

      const appels = page.locator('section', { has: page.getByRole('heading', { name: 'Appels à la DGFiP' }) });
      await appels.getByRole('button', { name: 'Suspendre les appels' }).click();
      await page.locator('.error-summary').waitFor();
      assert.match(await mainText(page), /Indiquez le motif/);
      await check(page, 'motif-manquant');

      await page.locator('#motif-appels_dgfip').fill('Certificat client peut-être compromis');
      await page
        .locator('section', { has: page.getByRole('heading', { name: 'Appels à la DGFiP' }) })
        .getByRole('button', { name: 'Suspendre les appels' })
        .click();
      await page.waitForURL(`${base}/agents/administration/incident`);
      assert.match(await mainText(page), /Appels à la DGFiP : suspendus depuis le/);
      await check(page, 'appels-suspendus');

      const maintenance = page.locator('section', { has: page.getByRole('heading', { name: 'Portail des familles' }) });
      await maintenance.locator('textarea').fill('Mise à jour de sécurité');
      await maintenance.getByRole('button', { name: 'Mettre en maintenance' }).click();
      await page.waitForURL(`${base}/agents/administration/incident`);
      const reponse = await visiteur.goto(`${base}/`);
      assert.equal(reponse?.status(), 503);
      assert.match(await mainText(visiteur), /Service momentanément indisponible/);
      await check(visiteur, 'maintenance');

      for (const [titre, bouton, motif] of [
        ['Portail des familles', 'Rouvrir le portail', 'Mise à jour faite'],
        ['Appels à la DGFiP', 'Reprendre les appels', 'Certificat remplacé'],
      ] as const) {
        const section = page.locator('section', { has: page.getByRole('heading', { name: titre }) });
        await section.locator('textarea').fill(motif);
        await section.getByRole('button', { name: bouton }).click();
        await page.waitForURL(`${base}/agents/administration/incident`);
      }
      assert.equal((await visiteur.goto(`${base}/`))?.status(), 200);
    } finally {
      await visiteur.close();
      await page.close();
    }
  });
}

// Last: it breaks the journal on purpose.
test('the integrity halt and the auditor’s acknowledgement', async (ctx) => {
  // The journal broken first: without chromium, the check at close() still finds the break the suite declares.
  await asPrivileged(t.database, async (trx) => {
    await trx.updateTable('journal_audit').set({ outcome: 'echec' }).where('seq', '=', 1).execute();
  });
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const page = await browser.newPage({ viewport: VIEWPORTS.bureau });
  try {
    await seConnecter(page, 'dpo@demo.quotient.fr');
    await page.goto(`${base}/agents/controle/integrite`);
    await page.getByRole('button', { name: 'Vérifier maintenant' }).click();
    await page.waitForURL(`${base}/agents/controle/integrite`);
    assert.match(await mainText(page), /Opérations fiscales arrêtées depuis le/);
    await check(page, 'arret');
    await page.getByRole('button', { name: 'Reconnaître l’altération et reprendre' }).click();
    await page.locator('.error-summary').waitFor();
    await check(page, 'reconnaissance-motif-manquant');
    await page.locator('#motif-reconnaissance').fill('Ligne modifiée lors d’un essai de restauration ; rien d’autre');
    await page.getByRole('button', { name: 'Reconnaître l’altération et reprendre' }).click();
    await page.waitForURL(`${base}/agents/controle/integrite`);
    assert.match(await mainText(page), /Altération reconnue : les opérations ont repris/);
    await check(page, 'reconnue');
  } finally {
    await page.close();
  }
});
