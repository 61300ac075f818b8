import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { BERTIN_ROUSSEL, HABILITATION_ETAT_CIVIL } from '../../src/modules/demandes/test-harness.ts';
import { PASSWORD, createPortailTestApp, type PortailTestApp } from '../../src/modules/portail/test-support.ts';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * On a phone: the family ticks the standing consent for renewal on the consent step (unticked until
 * then), gets its QF, finds the standing consent in « Mes données » and withdraws it in one click.
 */
const SHOTS = screenshotDir('renouvellement');
const TELEPHONE = { width: 375, height: 740 } as const;
const RESULTAT_MS = 45_000;

let t: PortailTestApp;
let base: string;
let browser: Browser | undefined;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createPortailTestApp({ publicUrl: base, habilitation: HABILITATION_ETAT_CIVIL.sfip });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

test('on a phone: tick the standing consent, see it in « Mes données », withdraw it there, confirmed', async (ctx) => {
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const email = 'paul.bertin@exemple.fr';
  const { familleId } = await t.signedInFamily({ ...BERTIN_ROUSSEL, courriel: email }, email);
  const context = await browser.newContext({ viewport: TELEPHONE });
  const page = await context.newPage();
  try {
    await page.goto(`${base}/connexion`);
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await page.waitForURL(/\/mon-espace(#erreurs)?$/);

    await page.goto(`${base}/mon-quotient/accord`);
    assert.equal(await page.isChecked('#renouvellement-1'), false, 'not ticked beforehand');
    assert.equal(await page.isChecked('#renouvellement-2'), false);
    await checkPage(page, SHOTS, 'accord');
    await page.check('#situation-commune');
    await page.check('#accord-1');
    await page.getByLabel(/Paul Bertin : J’accepte aussi que la commune redemande chaque année mon avis d’imposition/).check();
    await page.getByRole('button', { name: /Donner mon accord/ }).click();
    await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
    await page.fill('#numero-1', SPI_SANDBOX.coupleMarie.declarant1);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
    await page.locator('main h1', { hasText: 'Votre quotient familial' }).waitFor({ timeout: RESULTAT_MS });

    await page.goto(`${base}/mes-donnees`);
    await checkPage(page, SHOTS, 'mes-donnees');
    const avant = await mainText(page);
    assert.match(avant, /Paul Bertin accepte que la commune redemande chaque année son avis d’imposition à la DGFiP, par son état civil, depuis le/);
    assert.match(avant, /au plus tard jusqu’au \d{1,2}(er)? \S+ \d{4}/);
    assert.match(avant, /Son état civil est gardé, chiffré/);

    // One click to the question, one to confirm: a withdrawal is never one stray tap.
    await page.getByRole('link', { name: 'Retirer l’accord de renouvellement de Paul Bertin' }).click();
    await page.waitForURL(/\/mes-donnees\/renouvellement\/[0-9a-f-]{36}\/retrait$/);
    await checkPage(page, SHOTS, 'retrait-confirmation');
    await page.getByRole('button', { name: 'Oui, retirer cet accord' }).click();
    await page.waitForURL((url) => url.pathname === '/mes-donnees');
    await checkPage(page, SHOTS, 'retire');
    const apres = await mainText(page);
    assert.match(apres, /L’accord de renouvellement de Paul Bertin est retiré/);
    assert.match(apres, /Aucun accord de renouvellement en cours/);
    const [row] = await t.database.db.selectFrom('consentements_renouvellement').selectAll().where('famille_id', '=', familleId).execute();
    assert.ok(row?.retire_le, 'withdrawn');
    assert.equal(row.etat_civil_le, null, 'its état civil deleted');
  } finally {
    await context.close();
  }
});
