import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { Alerte } from '../../src/infra/alertes/index.ts';
import { detectionSchema } from '../../src/infra/config/securite-config.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import type { RoleAgent } from '../../src/modules/agents/roles.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * The auditors' « Alertes » page in a real browser: an agent who keeps opening pages of another
 * role raises a real alert (the access policy journals each refusal, the detection rules find the
 * burst); the demo auditor finds it from the Contrôle home, reads the journal entries behind it,
 * is told a missing reason in French, acknowledges it, then closes it. Every page passes axe-core
 * and does not scroll sideways on a phone.
 */

const SHOTS = screenshotDir('alertes');
const TITRE = 'Nombreux refus d’accès pour une même session';

let t: BackOfficeTestApp;
let base: string;
let browser: Browser | undefined;
const recues: Alerte[] = [];
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createBackOfficeTestApp({
    publicUrl: base,
    // The alert this suite raises on purpose; `close()` checks it was the only one.
    alertesAttendues: ['acces.refus_repetes'],
    canauxAlerte: [{ nom: 'webhook', destination: 'récepteur du test', envoyer: async (a) => (recues.push(a), 'reçue par le test') }],
  });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

/**
 * An agent opens the auditors' pages until the access policy has refused them `refusSession.seuil`
 * times; the rules then raise one alert for that agent. The background evaluation may run at the
 * same moment (an overlapping call shares its result, which may predate the last refusal), hence
 * the few evaluations.
 */
async function rafaleDeRefus(role: RoleAgent): Promise<string> {
  const jar = await t.signInAgent(role);
  const { seuil } = detectionSchema.parse({}).refusSession;
  for (let i = 0; i < seuil; i++) assert.equal((await t.get(jar, '/agents/controle/journal')).statusCode, 403);
  const cle = `agent:${t.agents[role].id}`;
  for (let essai = 0; essai < 3; essai++) {
    await t.services.detection.evaluer();
    const alerte = (await t.services.incident.alertesStore.lister('ouverte')).find((a) => a.regle === 'acces.refus_repetes' && a.cle === cle);
    if (alerte) {
      await t.services.incident.alerteur.enAttente();
      return alerte.id;
    }
  }
  throw new Error(`no alert raised for ${cle}`);
}

async function seConnecter(page: Page, email: string) {
  await page.goto(`${base}/agents/connexion`);
  await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
  await page.locator('#login').waitFor();
  await page.fill('#login', email);
  await page.fill('#password', DEMO_AGENT_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(`${base}/agents`);
}

// One agent per viewport: each run raises, acknowledges and closes its own alert.
const AGENTS: Record<keyof typeof VIEWPORTS, RoleAgent> = { bureau: 'guichet', telephone: 'instructeur' };

for (const [nom, viewport] of Object.entries(VIEWPORTS) as Array<[keyof typeof VIEWPORTS, (typeof VIEWPORTS)[keyof typeof VIEWPORTS]]>) {
  test(`the auditor sees, acknowledges and closes a real alert on a ${nom}`, async (ctx) => {
    // The burst first: it needs no browser, so a run without chromium still raises what the suite declares.
    const agent = t.agents[AGENTS[nom]];
    const id = await rafaleDeRefus(AGENTS[nom]);
    browser ??= await launchBrowser(ctx);
    if (!browser) return;
    assert.ok(
      recues.some((a) => a.id === id),
      'the alert was sent on the channel',
    );
    const page = await browser.newPage({ viewport });
    const check = (name: string) => checkPage(page, SHOTS, name);
    const detail = `${base}/agents/controle/alertes/${id}`;
    try {
      await seConnecter(page, 'dpo@demo.quotient.fr');
      await page.getByRole('link', { name: 'Contrôle', exact: true }).first().click();
      await page.waitForURL(`${base}/agents/controle`);
      await page.getByRole('link', { name: 'Alertes de sécurité' }).click();
      await page.waitForURL(`${base}/agents/controle/alertes`);
      const liste = await mainText(page);
      assert.match(liste, new RegExp(TITRE));
      assert.match(liste, new RegExp(`${agent.prenom} ${agent.nom}`), 'the agent concerned is named');
      // The status tabs read as a row of links (wrapping on a phone), not a bulleted list.
      const onglets = page.getByRole('navigation', { name: 'Statut des alertes' }).getByRole('link');
      assert.equal(await onglets.count(), 3);
      const [premier, second] = await Promise.all([onglets.nth(0).boundingBox(), onglets.nth(1).boundingBox()]);
      assert.ok(premier && second && premier.y === second.y && second.x > premier.x, `tabs side by side: ${JSON.stringify([premier, second])}`);
      assert.equal(await page.locator('ul.onglets').evaluate((ul) => getComputedStyle(ul).listStyleType), 'none');
      await check('liste');

      await page.locator(`a[href="/agents/controle/alertes/${id}"]`).click();
      await page.waitForURL(detail);
      const texte = await mainText(page);
      assert.match(texte, /alerte ouverte/);
      // The journal entries behind it, in words: who, what, the outcome.
      const entrees = page.getByRole('region', { name: 'Entrées du journal à l’origine de l’alerte' });
      const { seuil } = detectionSchema.parse({}).refusSession;
      assert.equal(await entrees.locator('tbody tr').count(), seuil);
      const premiere = (await entrees.locator('tbody tr').first().innerText()).replace(/\s+/g, ' ');
      assert.match(premiere, /Accès refusé à une page/);
      assert.match(premiere, new RegExp(`${agent.prenom} ${agent.nom}`));
      assert.match(premiere, /Refusé/);
      await check('detail');

      await page.getByRole('button', { name: 'Acquitter l’alerte' }).click();
      await page.locator('.error-summary').waitFor();
      assert.match(await mainText(page), /Indiquez le motif/);
      await check('acquittement-erreur');
      await page.getByRole('link', { name: /Indiquez le motif/ }).click();
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'motif-acquittement', 'the error links to its field');

      await page.fill('#motif-acquittement', 'Agent prévenu : il cherchait la page du journal, je vérifie avec lui.');
      await page.getByRole('button', { name: 'Acquitter l’alerte' }).click();
      await page.locator('.alert--success', { hasText: 'Alerte acquittée' }).waitFor();
      assert.match(await mainText(page), /Acquittée le .* par Nadia Petit : « Agent prévenu/);
      await check('acquittee');

      await page.fill('#motif-cloture', 'Erreur de lien dans ses favoris, corrigée ; aucune autre tentative.');
      await page.getByRole('button', { name: 'Clore l’alerte' }).click();
      await page.locator('.alert--success', { hasText: 'Alerte close' }).waitFor();
      assert.equal(await page.getByRole('button', { name: /Acquitter|Clore/ }).count(), 0, 'nothing more to do on a closed alert');
      await check('close');

      await page.getByRole('link', { name: 'Retour aux alertes closes' }).click();
      await page.waitForURL(`${base}/agents/controle/alertes?statut=cloturee`);
      assert.equal(await page.locator(`a[href="/agents/controle/alertes/${id}"]`).count(), 1);
      assert.match(await page.locator('.onglets a[aria-current="page"]').innerText(), /^Closes \(\d+\)$/);
      await check('closes');
      await page.getByRole('link', { name: /^Ouvertes/ }).click();
      await page.waitForURL(`${base}/agents/controle/alertes?statut=ouverte`);
      assert.equal(await page.locator(`a[href="/agents/controle/alertes/${id}"]`).count(), 0);
      await check('ouvertes');
    } finally {
      await page.close();
    }
  });
}
