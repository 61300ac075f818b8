import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { NumeroFiscal } from '../../src/domain/numero-fiscal.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * The review flow in a browser, on a desktop and on a phone: the instructor signs in through the
 * agents' identity provider, opens the queue, gives the reason for opening a case, sees only the
 * fields needed, sets the QF by hand with a justification and the document seen, and finds the
 * request decided. Every page passes axe-core and never scrolls sideways.
 */

const SHOTS = screenshotDir('instruction');

let t: BackOfficeTestApp;
let base: string;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createBackOfficeTestApp({ publicUrl: base });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(() => t?.close());

/** Paul Bertin declared alone; the avis of his numéro fiscal also names Claire Roussel: an identity to check. */
async function demandeAVerifier(email: string): Promise<{ id: string; reference: string }> {
  const { familleId, compteId } = await t.signedInFamily({ parents: [{ nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' }] }, email);
  const acteur = { type: 'famille' as const, id: compteId };
  const demande = await t.harness.demandes.soumettre({
    familleId,
    canal: 'en_ligne',
    acteur,
    foyersFiscaux: [
      { parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) }, consentement: { mode: 'en_ligne', donnePar: acteur } },
    ],
  });
  t.services.wake();
  assert.equal((await t.harness.demandes.attendre(demande.id, 20_000)).statut, 'a_verifier');
  return demande;
}

test('review flow: sign-in, queue, reason for the view, case, QF set by hand, request decided; no axe violation, no sideways scroll', async (ctx) => {
  const browser = await launchBrowser(ctx);
  if (!browser) return;
  try {
    for (const [nom, viewport] of Object.entries(VIEWPORTS)) {
      const demande = await demandeAVerifier(`paul.bertin.${nom}@exemple.fr`);
      const context = await browser.newContext({ viewport });
      const page: Page = await context.newPage();
      const check = (name: string) => checkPage(page, SHOTS, name);

      await page.goto(`${base}/agents/connexion`);
      await check('connexion');
      await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
      await page.waitForURL(/\/interaction\//);
      await page.fill('#login', 'instruction@demo.quotient.fr');
      await page.fill('#password', DEMO_AGENT_PASSWORD);
      await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
      await page.waitForURL(`${base}/agents`);
      await check('accueil');

      await page.locator('main').getByRole('link', { name: 'Instruction' }).click();
      await page.waitForURL(`${base}/agents/instruction`);
      await check('file');
      const file = await mainText(page);
      assert.match(file, /Identité à vérifier/);
      assert.doesNotMatch(file, /ROUSSEL|Bertin|€/, 'the queue shows what is needed to pick, no more');

      await page.getByRole('link', { name: demande.reference }).click();
      await page.waitForURL(`${base}/agents/instruction/demandes/${demande.id}`);
      await check('demande-sans-motif');
      assert.doesNotMatch(await mainText(page), /ROUSSEL|CLAIRE/, 'no fiscal field before a reason is given');

      await page.selectOption('#motif', 'qf_manuel');
      await page.fill('#precision', 'avis papier présenté au guichet');
      await page.getByRole('button', { name: 'Consulter le dossier' }).click();
      await page.waitForURL(new RegExp(`/agents/instruction/demandes/${demande.id}(#erreurs)?$`));
      await check('dossier');
      const dossier = await mainText(page);
      assert.match(dossier, /motif : « Quotient à fixer au vu d’un document présenté : avis papier présenté au guichet »/);
      assert.match(dossier, /ROUSSEL/);
      const vues = (await t.harness.journal.query({ action: 'demande.consultee_instruction', target: { type: 'demande', id: demande.id } })).entries;
      assert.equal(vues.length, 1);

      // A wrong amount first: the error summary, the field's message, what was typed kept.
      await page.fill('#qf-montant', '612,505');
      await page.getByRole('button', { name: 'Fixer le quotient' }).click();
      await page.waitForURL(/#erreurs$/);
      await check('dossier-erreurs');
      const erreurs = await mainText(page);
      assert.match(erreurs, /Deux chiffres au plus après la virgule/);
      assert.match(erreurs, /Indiquez la justification de la décision/);
      assert.equal(await page.inputValue('#qf-montant'), '612,505');

      await page.fill('#qf-montant', '612,50');
      await page.fill('#qf-justification', 'Avis papier présenté : Mme Roussel est l’épouse de M. Bertin.');
      await page.fill('#qf-piece', 'avis 2025 présenté au guichet le 12/09/2025');
      await page.getByRole('button', { name: 'Fixer le quotient' }).click();
      await page.waitForURL(new RegExp(`/agents/instruction/demandes/${demande.id}(#erreurs)?$`));
      await check('decidee');
      const decidee = await mainText(page);
      assert.match(decidee, /Décision enregistrée/);
      assert.match(decidee, /Quotient calculé/);
      assert.match(decidee, /Quotient fixé à la main/);
      assert.match(decidee, /612,50\s€ par mois, fixé à la main par un instructeur/);
      assert.doesNotMatch(decidee, /ROUSSEL/, 'the case closes with the decision');
      assert.equal((await t.harness.demandes.etat(demande.id)).statut, 'calculee');

      await page.goto(`${base}/agents/instruction`);
      assert.ok(!(await mainText(page)).includes(demande.reference), 'decided: out of the queue');
      await context.close();
    }
  } finally {
    await browser.close();
  }
});
