import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { NumeroFiscal } from '../../src/domain/numero-fiscal.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * The auditor and the dashboard in a real browser (the pages carry no script): the demo auditor finds the
 * counter's action in the journal, exports, draws a control and closes it, checks the integrity;
 * the dashboard's charts. Every page passes axe-core and does not scroll sideways on a phone.
 */

const SHOTS = screenshotDir('controle');

let t: BackOfficeTestApp;
let base: string;
let browser: Browser | undefined;
let reference: string;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createBackOfficeTestApp({ publicUrl: base });
  await t.app.listen({ host: '127.0.0.1', port });
  const guichet = { type: 'agent' as const, id: t.agents.guichet.id };
  const famille = await t.harness.familles.creer(
    {
      parents: [
        { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
        { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
      ],
    },
    guichet,
  );
  reference = famille.reference;
  const { id } = await t.harness.demandes.soumettre({
    familleId: famille.id,
    canal: 'guichet',
    acteur: guichet,
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) },
        consentement: { mode: 'formulaire_signe', donnePar: guichet, piece: 'formulaire signé' },
      },
    ],
  });
  t.services.wake();
  await t.harness.demandes.attendre(id, 20_000);
  await t.harness.journal.append({ actor: guichet, action: 'famille.consultee', target: { type: 'famille', id: famille.id }, outcome: 'succes' });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

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
  test(`the auditor’s pages and the dashboard on a ${nom}`, async (ctx) => {
    browser ??= await launchBrowser(ctx);
    if (!browser) return;
    const page = await browser.newPage({ viewport });
    const check = (name: string) => checkPage(page, SHOTS, name);
    try {
      await seConnecter(page, 'dpo@demo.quotient.fr');
      await page.getByRole('link', { name: 'Contrôle', exact: true }).first().click();
      await page.waitForURL(`${base}/agents/controle`);
      await check('accueil');

      await page.getByRole('link', { name: 'Journal d’audit' }).first().click();
      await page.selectOption('#agent', { label: 'Camille Martin' });
      await page.fill('#famille', reference);
      await page.getByRole('button', { name: 'Rechercher' }).click();
      // The criteria are posted and kept in the session: the address after the redirection holds only a random handle.
      await page.getByText('Critères : agent Camille Martin').waitFor();
      assert.match(page.url(), /\/agents\/controle\/journal\?recherche=[a-p]{16}(#erreurs)?$/);
      const journal = await mainText(page);
      assert.match(journal, /Dossier d’une famille consulté/);
      assert.match(journal, /Demande créée/);
      assert.match(journal, /Camille Martin/);
      await check('journal');

      await page.fill('#du', '32/01/2026');
      await page.getByRole('button', { name: 'Rechercher' }).click();
      await page.locator('.error-summary').waitFor();
      await check('journal-erreur');

      await page.goto(`${base}/agents/controle/exports`);
      await check('exports');
      await page.check('#sujet-famille');
      await page.fill('#famille', reference);
      const download = page.waitForEvent('download', { timeout: 10_000 });
      await page.getByRole('button', { name: 'Télécharger l’export' }).click();
      const fichier = await download;
      assert.match(fichier.suggestedFilename(), /^journal-famille-.+\.csv$/);
      assert.doesNotMatch(fichier.url(), /famille=|F-/, 'the reference is not in the address');
      await page.check('#sujet-famille');
      await page.fill('#famille', 'F-ZZZZ-ZZZZ');
      await page.getByRole('button', { name: 'Télécharger l’export' }).click();
      await page.locator('.error-summary').waitFor();
      await check('exports-erreur');

      await page.goto(`${base}/agents/controle/controles`);
      const today = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date());
      await page.fill('#du', today);
      await page.fill('#au', today);
      await page.fill('#taille', '3');
      await page.getByRole('button', { name: 'Tirer l’échantillon' }).click();
      await page.waitForURL(/\/agents\/controle\/controles\/[0-9a-f-]{36}(#erreurs)?$/);
      assert.match(await mainText(page), /redonne exactement cet échantillon/);
      await check('controle');
      // A verdict on the first sampled access, kept on the page.
      await page.locator('.controle-verdict').first().getByLabel('Conforme', { exact: true }).check();
      await page.locator('.controle-verdict').first().getByRole('button', { name: 'Enregistrer le verdict' }).click();
      await page.locator('.alert--success', { hasText: 'Verdict enregistré' }).waitFor();
      assert.match(await mainText(page), /1 accès examiné\(s\) sur/);
      await check('controle-verdict');
      await page.getByRole('button', { name: 'Enregistrer et clore le contrôle' }).click();
      await page.locator('.error-summary').waitFor();
      await check('controle-erreur');
      await page.fill('#observations', 'Consultation justifiée : demande reçue au guichet le jour même.');
      await page.getByRole('button', { name: 'Enregistrer et clore le contrôle' }).click();
      await page.locator('.alert--success', { hasText: 'Le contrôle est clos' }).waitFor();
      await check('controle-clos');
      await page.goto(`${base}/agents/controle/controles`);
      await check('controles');

      await page.goto(`${base}/agents/controle/integrite`);
      await page.getByRole('button', { name: 'Vérifier maintenant' }).click();
      await page.locator('.alert--success', { hasText: 'Journal intact' }).waitFor();
      await check('integrite');

      await page.goto(`${base}/agents/tableau-de-bord`);
      assert.match(await mainText(page), /Demandes par statut/);
      // Three charts of the requests, and the DGFiP quota per minute (online and campaigns).
      assert.equal(await page.locator('svg.tdb-graphique').count(), 4);
      await check('tableau-de-bord');
    } finally {
      await page.close();
    }
  });
}
