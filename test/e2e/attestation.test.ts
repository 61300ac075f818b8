import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { BERTIN_ROUSSEL, enLigne } from '../../src/modules/demandes/test-harness.ts';
import { lirePdf } from '../../src/modules/attestations/test-pdf.ts';
import { PASSWORD, createPortailTestApp, type PortailTestApp } from '../../src/modules/portail/test-support.ts';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * The attestation on a phone, as its readers live it: the family opens its attestation and
 * downloads the PDF; a leisure centre, signed in nowhere, checks its code on /verifier — typed in
 * the form (with and without JavaScript) or opened from the QR code. Every page passes axe-core and
 * does not scroll sideways at 375 px.
 */

const SHOTS = screenshotDir('attestation');
const telephone = VIEWPORTS.telephone;

let t: PortailTestApp;
let base: string;
let browser: Browser | undefined;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createPortailTestApp({ publicUrl: base });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);

/** A QF for the family through the real processing loop (the portal's own journey is tested elsewhere). */
async function quotient(familleId: string, compteId: string): Promise<string> {
  const { id } = await t.harness.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]], { type: 'famille', id: compteId }));
  t.services.wake();
  const etat = await t.harness.demandes.attendre(id, 30_000);
  assert.equal(etat.statut, 'calculee');
  return id;
}

test('on a phone: the family opens its attestation and downloads the PDF; a leisure centre checks its code on /verifier, by the form or by the QR code', async (ctx) => {
  browser = await launchBrowser(ctx);
  if (!browser) return;
  const email = 'paul.bertin@exemple.fr';
  const { familleId, compteId } = await t.signedInFamily(BERTIN_ROUSSEL, email);
  const demande = await quotient(familleId, compteId);

  // The family, signed in on its phone.
  const famille = await browser.newContext({ viewport: telephone, acceptDownloads: true });
  const page = await famille.newPage();
  await page.goto(`${base}/connexion`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(/\/mon-espace(#erreurs)?$/);
  await page.goto(`${base}/mon-quotient/demandes/${demande}`);
  await page.getByRole('link', { name: 'Attestation à imprimer' }).click();
  await page.waitForURL(`${base}/mon-quotient/demandes/${demande}/attestation`);
  await check(page, 'attestation-famille');
  const texte = await mainText(page);
  assert.match(texte, /Attestation de quotient familial/);
  assert.match(texte, /Paul Bertin et Claire Bertin/);
  const code = (await page.locator('.code-verification').innerText()).trim();
  assert.match(code, /^[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$/);
  // The print button is shown by its script; the QR code is an image with a text alternative.
  assert.equal(await page.getByRole('button', { name: 'Imprimer' }).isVisible(), true);
  assert.match((await page.getByRole('img', { name: /QR code/ }).getAttribute('alt')) ?? '', new RegExp(`${base}/verifier/${code}$`));
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByRole('link', { name: 'Télécharger en PDF' }).isVisible(), false, 'printed without the actions');
  assert.equal(await page.locator('.attestation__verification').isVisible(), true, 'printed with its code');
  await page.emulateMedia({ media: 'screen' });

  // « Télécharger en PDF »: the file saved, and what the server answered for it.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Télécharger en PDF' }).click()]);
  assert.match(download.suggestedFilename(), new RegExp(`^attestation-quotient-F-[A-Z0-9-]+-${code}\\.pdf$`));
  const chemin = await download.path();
  const lu = await lirePdf(await readFile(chemin));
  assert.ok(lu.texte.includes(code));
  assert.ok(lu.texte.includes('Paul Bertin et Claire Bertin'));
  const reponse = await famille.request.get(`${base}/mon-quotient/demandes/${demande}/attestation.pdf`);
  assert.equal(reponse.status(), 200);
  assert.equal(reponse.headers()['content-type'], 'application/pdf');
  const [qr] = lu.qrCodes;
  assert.equal(qr, `${base}/verifier/${code}`);
  await famille.close();

  // A leisure centre: no account, on its phone, types the code as it reads it.
  const centre = await browser.newContext({ viewport: telephone });
  const verif = await centre.newPage();
  await verif.goto(`${base}/verifier`);
  await check(verif, 'verifier');
  await verif.fill('#code', code.toLowerCase().replaceAll('-', ' '));
  await verif.getByRole('button', { name: 'Vérifier' }).click();
  await verif.waitForURL(/\/verifier\?code=/);
  await check(verif, 'verifier-valable');
  const valable = await mainText(verif);
  assert.match(valable, /Attestation valable/);
  assert.match(valable, /Période de validité du .+ au .+/);
  assert.match(valable, /tarif au taux d’effort/);
  assert.doesNotMatch(valable, /Bertin|Roussel/, 'never the name');

  // The QR code decoded from the PDF opens the same answer.
  await verif.goto(qr as string);
  assert.match(await mainText(verif), /Attestation valable/);

  // A code altered on the paper: not recognised. A mistyped one: the form says what a code looks like.
  const forge = code.replace(/.$/, (c) => (c === '2' ? '3' : '2'));
  await verif.goto(`${base}/verifier`);
  await verif.fill('#code', forge);
  await verif.getByRole('button', { name: 'Vérifier' }).click();
  await verif.locator('main h2', { hasText: 'Code inconnu' }).waitFor();
  await check(verif, 'verifier-inconnu');
  await verif.fill('#code', 'ABCD');
  await verif.getByRole('button', { name: 'Vérifier' }).click();
  await verif.waitForURL(/#erreurs$/);
  await check(verif, 'verifier-code-mal-forme');
  assert.match(await verif.locator('#erreurs').innerText(), /compte 12 caractères/);
  assert.equal(await verif.evaluate(() => document.activeElement?.id), 'erreurs', 'the error summary takes the focus');
  await centre.close();

  // Without JavaScript the form works the same.
  const sansScript = await browser.newContext({ viewport: telephone, javaScriptEnabled: false });
  const brut = await sansScript.newPage();
  await brut.goto(`${base}/verifier`);
  await brut.fill('#code', code);
  await brut.getByRole('button', { name: 'Vérifier' }).click();
  await brut.waitForURL(/\/verifier\?code=/);
  assert.match(await mainText(brut), /Attestation valable/);
  await sansScript.close();

  // A new request replaces the QF: the old attestation says so, on its page and at the check.
  await quotient(familleId, compteId);
  const apres = await browser.newContext({ viewport: telephone });
  const p2 = await apres.newPage();
  await p2.goto(`${base}/connexion`);
  await p2.fill('#email', email);
  await p2.fill('#password', PASSWORD);
  await p2.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await p2.waitForURL(/\/mon-espace(#erreurs)?$/);
  await p2.goto(`${base}/mon-quotient/demandes/${demande}/attestation`);
  await check(p2, 'attestation-remplacee');
  assert.match(await mainText(p2), /a été remplacé par un quotient plus récent/);
  await p2.getByRole('link', { name: 'Attestation du quotient en vigueur' }).click();
  await p2.locator('.code-verification').waitFor();
  assert.notEqual((await p2.locator('.code-verification').innerText()).trim(), code);
  await p2.goto(`${base}/verifier/${code}`);
  await check(p2, 'verifier-remplacee');
  assert.match(await mainText(p2), /Attestation remplacée/);
  await apres.close();
});
