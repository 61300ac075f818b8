import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { HABILITATION_ETAT_CIVIL } from '../../src/modules/demandes/test-harness.ts';
import { PASSWORD, createPortailTestApp, type PortailTestApp } from '../../src/modules/portail/test-support.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { parisDate } from '../../src/sources/paris-date.ts';
import { checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * A family without its numéro fiscal gets its QF by état civil, on a phone (390 px) and without
 * script: SFiP in one call, or R2P then Impôt particulier; homonyms, nobody and a file not disclosed
 * each say what to do next. The counter enters an état civil from a paper form.
 */

const SHOTS = screenshotDir('etat-civil');
const RESULTAT_MS = 45_000;
const TELEPHONE = { width: 390, height: 844 } as const;

let sfip: PortailTestApp;
let r2p: PortailTestApp;
let guichet: BackOfficeTestApp;
const base: Record<'sfip' | 'r2p' | 'guichet', string> = { sfip: '', r2p: '', guichet: '' };
let browser: Browser | undefined;

before(async () => {
  const [p1, p2, p3] = [await freePort(), await freePort(), await freePort()];
  base.sfip = `http://localhost:${p1}`;
  base.r2p = `http://localhost:${p2}`;
  base.guichet = `http://localhost:${p3}`;
  sfip = await createPortailTestApp({ publicUrl: base.sfip, habilitation: HABILITATION_ETAT_CIVIL.sfip });
  await sfip.app.listen({ host: '127.0.0.1', port: p1 });
  r2p = await createPortailTestApp({ publicUrl: base.r2p, habilitation: HABILITATION_ETAT_CIVIL.r2p });
  await r2p.app.listen({ host: '127.0.0.1', port: p2 });
  guichet = await createBackOfficeTestApp({ publicUrl: base.guichet, habilitation: HABILITATION_ETAT_CIVIL.sfip });
  await guichet.app.listen({ host: '127.0.0.1', port: p3 });
});
after(async () => {
  await browser?.close();
  // Each app closes even when another one's check of its alerts fails; then the first failure is told.
  const fermetures = await Promise.allSettled([sfip?.close(), r2p?.close(), guichet?.close()]);
  for (const f of fermetures) if (f.status === 'rejected') throw f.reason;
});

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);
const heading = (page: Page) => page.locator('main h1').innerText();

interface Personne {
  readonly nom: string;
  readonly prenoms: string;
  readonly naissance: string;
  readonly email: string;
}

/**
 * A family whose household is declared, signed in on a phone (without script when `script` is
 * false: then no axe-core, which runs as a script), up to the état civil form.
 */
async function jusquALEtatCivil(t: PortailTestApp, url: string, b: Browser, p: Personne, script = true): Promise<Page> {
  await t.signedInFamily(
    {
      parents: [{ nomNaissance: p.nom, prenoms: p.prenoms, dateNaissance: p.naissance }],
      enfants: [{ prenoms: 'Jade', nom: p.nom, dateNaissance: '2019-01-30' }],
      courriel: p.email,
    },
    p.email,
  );
  const context = await b.newContext({ viewport: TELEPHONE, javaScriptEnabled: script });
  const page = await context.newPage();
  await page.goto(`${url}/connexion`);
  await page.fill('#email', p.email);
  await page.fill('#password', PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(/\/mon-espace(#erreurs)?$/);
  await page.goto(`${url}/mon-quotient/accord`);
  await page.check('#accord-1');
  await page.getByRole('button', { name: /Donner mon accord/ }).click();
  await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
  await page.getByRole('link', { name: 'Je n’ai pas mon numéro fiscal' }).click();
  await page.waitForURL(`${url}/mon-quotient/etat-civil`);
  // Pre-filled from the household the family declared.
  assert.equal(await page.inputValue('#ec-1-nom'), p.nom);
  assert.equal(await page.inputValue('#ec-1-prenoms'), p.prenoms);
  assert.equal(await page.inputValue('#ec-1-naissance'), p.naissance.split('-').reverse().join('/'));
  return page;
}

/** Searches the commune without script (the form is posted back) and picks it in the list. */
async function choisirCommune(page: Page, saisie: string, code: string) {
  await page.fill('#ec-1-commune', saisie);
  await page.getByRole('button', { name: 'Rechercher la commune' }).click();
  await page.locator(`#ec-1-code-commune-${code}`).waitFor();
  await page.check(`#ec-1-code-commune-${code}`);
}

async function envoyer(page: Page) {
  await page.getByRole('button', { name: 'Envoyer la demande' }).click();
  await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
  await page.locator('main h1', { hasText: /Votre quotient familial|Demande D-/ }).waitFor({ timeout: RESULTAT_MS });
}

test('by SFiP on a phone without script: errors said, commune searched, consent naming SFiP, then the QF', async (ctx) => {
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const page = await jusquALEtatCivil(
    sfip,
    base.sfip,
    browser,
    {
      nom: 'Garnier',
      prenoms: 'Julie',
      naissance: '1992-09-17',
      email: 'julie.garnier@exemple.fr',
    },
    false,
  );
  const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}-sans-script.png`, fullPage: true });
  try {
    assert.match(await mainText(page), /API SFiP de la DGFiP/);
    await shot('formulaire-sfip');
    // An ambiguous commune name and no consent: both said, what was typed kept.
    await page.fill('#ec-1-commune', 'Lill');
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/mon-quotient\/etat-civil#erreurs$/);
    const erreurs = await page.locator('#erreurs').innerText();
    assert.match(erreurs, /Choisissez la commune de naissance dans la liste/);
    assert.match(erreurs, /Cochez la case d’accord/);
    assert.equal(await page.inputValue('#ec-1-nom'), 'Garnier');
    await shot('formulaire-erreurs');
    await choisirCommune(page, 'lille', '59350');
    await shot('formulaire-communes');
    await page.check('#accord-etat-civil');
    sfip.sandbox.admin.clearCalls();
    await envoyer(page);
    assert.equal(await heading(page), 'Votre quotient familial', (await mainText(page)).slice(0, 400));
    await shot('resultat-sfip');
    assert.deepEqual(
      sfip.sandbox.admin
        .calls()
        .filter((c) => c.api !== 'token')
        .map((c) => c.api),
      ['sfip'],
    );
    assert.equal((await mainText(page)).includes(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant), false);
  } finally {
    await page.context().close();
  }
});

test('two declarants, two ways on one page: parent 1 by numéro fiscal, parent 2 by état civil, on a phone; then the QF', async (ctx) => {
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const email = 'garnier.moreau.navigateur@exemple.fr';
  await sfip.signedInFamily(
    {
      parents: [
        { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
        { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
      ],
      enfants: [{ prenoms: 'Lina', nom: 'Moreau', dateNaissance: '2019-04-02' }],
      courriel: email,
    },
    email,
  );
  const context = await browser.newContext({ viewport: TELEPHONE });
  const page = await context.newPage();
  try {
    await page.goto(`${base.sfip}/connexion`);
    await page.fill('#email', email);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await page.waitForURL(/\/mon-espace(#erreurs)?$/);
    await page.goto(`${base.sfip}/mon-quotient/accord`);
    await page.check('#situation-separee');
    await page.check('#accord-1');
    await page.check('#accord-2');
    await page.getByRole('button', { name: /Donner mon accord/ }).click();
    await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
    await page.getByRole('link', { name: 'Je n’ai pas mon numéro fiscal' }).click();
    await page.waitForURL(`${base.sfip}/mon-quotient/etat-civil`);
    // Each declarant its own way: the état civil by default, the numéro fiscal or FranceConnect offered.
    assert.equal(await page.isChecked('#voie-1-etat_civil'), true);
    assert.equal(await page.isChecked('#voie-2-etat_civil'), true);
    assert.equal(await page.inputValue('#ec-2-nom'), 'Moreau');
    await check(page, 'deux-voies');
    await page.check('#voie-1-numero');
    await page.fill('#numero-1', SPI_SANDBOX.parentsNonMaries.parentAvecEnfant);
    await page.fill('#ec-2-commune', '59350');
    await page.check('#accord-etat-civil');
    sfip.sandbox.admin.clearCalls();
    await envoyer(page);
    assert.equal(await heading(page), 'Votre quotient familial', (await mainText(page)).slice(0, 400));
    await check(page, 'deux-voies-resultat');
    const appels = sfip.sandbox.admin
      .calls()
      .filter((c) => c.api !== 'token')
      .map((c) => c.api)
      .sort();
    assert.deepEqual(appels, ['impot-particulier', 'sfip'], 'one avis by numéro fiscal, one by état civil');
    assert.equal((await mainText(page)).includes(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant), false);
  } finally {
    await context.close();
  }
});

test('homonyms, nobody, a file not disclosed: each request says what to do next', async (ctx) => {
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const cas = [
    {
      p: { nom: 'Martin', prenoms: 'Camille', naissance: '1985-06-15', email: 'camille.martin@exemple.fr' },
      attendu: /Plusieurs personnes portent cet état civil/,
    },
    { p: { nom: 'Inconnue', prenoms: 'Zoé', naissance: '1980-01-01', email: 'zoe.inconnue@exemple.fr' }, attendu: /ne trouve personne avec cet état civil/ },
    {
      p: { nom: 'Secret', prenoms: 'Dominique', naissance: '1975-05-05', email: 'dominique.secret@exemple.fr' },
      commune: ['Paris', '75056'] as const,
      attendu: /ne communique pas ce dossier à partir de l’état civil/,
    },
  ];
  for (const [i, c] of cas.entries()) {
    const page = await jusquALEtatCivil(sfip, base.sfip, browser, c.p);
    try {
      if (c.commune) await choisirCommune(page, c.commune[0], c.commune[1]);
      await page.check('#accord-etat-civil');
      await envoyer(page);
      assert.match(await mainText(page), c.attendu);
      // The next step is there: the numéro fiscal can be given instead.
      assert.ok(await page.locator('#numero-1').count(), 'the numéro fiscal can be typed instead');
      await check(page, `echec-${i}`);
    } finally {
      await page.context().close();
    }
  }
});

test('by R2P then Impôt particulier: the QF, and the SPI R2P gave is on no page', async (ctx) => {
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const page = await jusquALEtatCivil(r2p, base.r2p, browser, { nom: 'Roux', prenoms: 'Léa', naissance: '2003-05-19', email: 'lea.roux@exemple.fr' });
  try {
    assert.match(await mainText(page), /API R2P de la DGFiP.*puis à l’API Impôt particulier/);
    await choisirCommune(page, 'Marseille', '13055');
    await page.check('#accord-etat-civil');
    r2p.sandbox.admin.clearCalls();
    await envoyer(page);
    assert.equal(await heading(page), 'Votre quotient familial', (await mainText(page)).slice(0, 400));
    assert.deepEqual(
      r2p.sandbox.admin
        .calls()
        .filter((c) => c.api !== 'token')
        .map((c) => c.api),
      ['r2p', 'impot-particulier'],
    );
    assert.equal((await page.content()).includes(SPI_SANDBOX.rfrZero), false);
    await check(page, 'resultat-r2p');
  } finally {
    await page.context().close();
  }
});

test('the counter enters an état civil instead of the numéro fiscal', async (ctx) => {
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const { id: familleId } = await guichet.harness.familles.creer(
    {
      parents: [
        { nomNaissance: 'Bertin', prenoms: 'Paul Henri', dateNaissance: '1981-04-09' },
        { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire Anne', dateNaissance: '1983-12-01' },
      ],
      enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' }],
    },
    { type: 'agent', id: 'test' },
  );
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  try {
    await page.goto(`${base.guichet}/agents/connexion`);
    await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
    await page.locator('#login').waitFor();
    await page.fill('#login', 'accueil@demo.quotient.fr');
    await page.fill('#password', DEMO_AGENT_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await page.waitForURL(`${base.guichet}/agents`);
    await page.goto(`${base.guichet}/agents/guichet/familles/${familleId}/demande`);
    await page.check('#avis-commun-1');
    await page.check('#mode-1-formulaire_signe');
    await page.fill('#date-1', parisDate(Date.now()).split('-').reverse().join('/'));
    await page.fill('#piece-1', 'Formulaire d’accord n° 2026-207, sans numéro fiscal');
    await page.getByRole('button', { name: 'Enregistrer l’accord et continuer' }).click();
    await page.waitForURL(/\/demande\/numero(#erreurs)?$/);
    await page.getByRole('link', { name: 'Saisir l’état civil à la place' }).click();
    await page.waitForURL(/\/demande\/etat-civil$/);
    assert.equal(await page.inputValue('#ec-1-nom'), 'Bertin');
    await check(page, 'guichet-formulaire');
    await page.check('#ec-1-sexe-M');
    await choisirCommune(page, 'Nantes', '44109');
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/agents\/guichet\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
    await page.locator('main h1', { hasText: /quotient calculé|à vérifier|échouée/ }).waitFor({ timeout: RESULTAT_MS });
    assert.match(await heading(page), /quotient calculé/, (await mainText(page)).slice(0, 400));
    await check(page, 'guichet-resultat');
  } finally {
    await page.close();
  }
});
