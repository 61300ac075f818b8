import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { PASSWORD, createPortailTestApp } from '../../src/modules/portail/test-support.ts';
import { applicationEtNavigateur, checkPage, mainText, screenshotDir, VIEWPORTS } from './browser.ts';

/**
 * The family portal in a real browser, as families use it: a local account from sign-up to the
 * QF, unmarried parents with two numéros fiscaux, a contestation, the withdrawal of consent. Every
 * page passes axe-core, does not scroll sideways on a phone, and is screenshotted.
 */

const SHOTS = screenshotDir('portail-parcours');
/** Every wait is bounded: the sandbox answers in well under a second, the queue page refreshes every 10 s. */
const RESULTAT_MS = 45_000;

const suite = applicationEtNavigateur((publicUrl) => createPortailTestApp({ publicUrl }));
const navigateur = (ctx: TestContext) => suite.navigateur(ctx);

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);
const heading = (page: Page) => page.locator('main h1').innerText();

async function seConnecter(page: Page, email: string, password = PASSWORD) {
  await page.goto(`${suite.base}/connexion`);
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  // The form's #erreurs fragment survives the redirect: harmless, no such element on success.
  await page.waitForURL(/\/mon-espace(#erreurs)?$/);
}

/** From a submitted numéro fiscal to the page of the request, the result once it is there. */
async function attendreResultat(page: Page) {
  await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
  await page.locator('main h1', { hasText: /Votre quotient familial|Demande D-/ }).waitFor({ timeout: RESULTAT_MS });
  const h1 = await heading(page);
  if (h1 !== 'Votre quotient familial') assert.fail(`no QF: ${(await mainText(page)).slice(0, 600)}`);
  return page.url().replace(/#.*$/, '');
}

function sansNumero(texte: string, ...numeros: string[]) {
  for (const n of numeros) assert.equal(texte.includes(n), false, 'the numéro fiscal is never shown');
}

test('local account: sign-up, verification link from the outbox, sign-in, household, consent, numéro fiscal, QF and prices; every page accessible', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const personnes = {
    bureau: { prenoms: 'Léa', nom: 'Roux', naissance: '19/05/2003', spi: SPI_SANDBOX.rfrZero, email: 'lea.roux@exemple.fr' },
    telephone: { prenoms: 'Hugo', nom: 'Girard', naissance: '30/11/2004', spi: SPI_SANDBOX.primoDeclarant, email: 'hugo.girard@exemple.fr' },
  };
  for (const [nom, viewport] of Object.entries(VIEWPORTS) as Array<[keyof typeof VIEWPORTS, (typeof VIEWPORTS)[keyof typeof VIEWPORTS]]>) {
    const p = personnes[nom];
    const page = await b.newPage({ viewport });
    try {
      await page.goto(`${suite.base}/connexion`);
      await page.getByRole('link', { name: 'Créer un compte' }).click();
      await page.waitForURL(`${suite.base}/inscription`);
      await check(page, 'inscription');

      // A password too weak: the error summary names it, the other fields are kept.
      await page.fill('#prenoms', p.prenoms);
      await page.fill('#nom', p.nom);
      await page.fill('#email', p.email);
      await page.fill('#password', 'court');
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await page.waitForURL(/\/inscription#erreurs$/);
      assert.match(await page.locator('#erreurs').innerText(), /12 caractères/);
      assert.equal(await page.inputValue('#email'), p.email);
      await check(page, 'inscription-erreur');
      await page.fill('#password', PASSWORD);
      await page.getByRole('button', { name: 'Créer mon compte' }).click();
      await page.locator('main h1', { hasText: 'Vérifiez votre messagerie' }).waitFor();
      await check(page, 'inscription-envoyee');

      // Not confirmed yet: signing in says why.
      await page.goto(`${suite.base}/connexion`);
      await page.fill('#email', p.email);
      await page.fill('#password', PASSWORD);
      await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
      await page.waitForURL(/\/connexion#erreurs$/);
      assert.match(await mainText(page), /pas encore confirmée/);

      // The captured e-mail, as the development outbox shows it; its link confirms the address.
      await page.goto(`${suite.base}/dev/courriels`);
      await check(page, 'courriels');
      const courriel = page.locator('main article', { hasText: p.email }).filter({ hasText: 'Confirmez votre adresse électronique' }).first();
      const lien = await courriel.locator('a[href*="/inscription/confirmation?jeton="]').getAttribute('href');
      assert.ok(lien, 'the verification e-mail holds a link');
      await page.goto(lien);
      await check(page, 'confirmation');
      await page.getByRole('button', { name: 'Confirmer mon adresse' }).click();
      await page.locator('main', { hasText: 'Votre adresse est confirmée' }).waitFor();
      await check(page, 'adresse-confirmee');

      await seConnecter(page, p.email);
      await check(page, 'mon-espace');
      assert.match(await mainText(page), new RegExp(`${p.prenoms} ${p.nom}`));

      // Step 1 first asks for the household; the account's name is already there.
      await page.goto(`${suite.base}/mon-quotient`);
      assert.match(await mainText(page), /Complétez d’abord votre foyer/);
      await page.getByRole('link', { name: 'Compléter mon foyer' }).click();
      await page.waitForURL(`${suite.base}/mon-foyer`);
      assert.equal(await page.inputValue('#parent1-prenoms'), p.prenoms);
      assert.equal(await page.inputValue('#parent1-nomNaissance'), p.nom);
      await page.fill('#parent1-dateNaissance', p.naissance);
      await page.fill('#enfant1-prenoms', 'Jade');
      await page.fill('#enfant1-nom', p.nom);
      await page.fill('#enfant1-dateNaissance', '30/01/2023');
      await check(page, 'mon-foyer-local');
      await page.getByRole('button', { name: 'Enregistrer mon foyer' }).click();
      await page.waitForURL(/\/mon-quotient(#erreurs)?$/);
      const etape1 = await mainText(page);
      assert.match(etape1, new RegExp(`Parents déclarés : ${p.prenoms} ${p.nom} ; 1 enfant`));
      assert.doesNotMatch(etape1, /vous n’aurez pas à saisir/, 'a local account types its numéro fiscal');
      await check(page, 'etape-1-local');
      await page.getByRole('link', { name: 'Continuer' }).click();
      await page.waitForURL(`${suite.base}/mon-quotient/accord`);
      await page.check('#accord-1');
      await page.getByRole('button', { name: /Donner mon accord/ }).click();
      await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
      assert.equal(await heading(page), 'Votre numéro fiscal');
      await check(page, 'etape-3-numero');

      // A mistyped number is explained and not shown again; then the right one, with spaces.
      await page.fill('#numero-1', `${p.spi.slice(0, 12)}`);
      await page.getByRole('button', { name: 'Envoyer la demande' }).click();
      await page.waitForURL(/\/mon-quotient\/numero#erreurs$/);
      assert.match(await page.locator('#erreurs').innerText(), /13 chiffres/);
      assert.equal(await page.inputValue('#numero-1'), '', 'the field comes back empty');
      sansNumero(await page.content(), p.spi.slice(0, 12));
      await check(page, 'etape-3-numero-erreur');
      if (nom === 'telephone') {
        // A typo in the last digit: the key does not check, so the number is asked again before any DGFiP call.
        const typo = `${p.spi.slice(0, 12)}${(Number(p.spi[12]) + 1) % 10}`;
        const appels = suite.t.sandbox.admin.calls().length;
        await page.fill('#numero-1', typo);
        await page.getByRole('button', { name: 'Envoyer la demande' }).click();
        await page.waitForURL(/\/mon-quotient\/numero#erreurs$/);
        assert.match(await page.locator('#erreurs').innerText(), /les trois derniers chiffres ne correspondent pas aux dix premiers/);
        assert.equal(await page.inputValue('#numero-1'), '', 'the field comes back empty');
        assert.equal(await page.getByLabel('Je confirme ce numéro').isChecked(), false);
        assert.equal(suite.t.sandbox.admin.calls().length, appels, 'no DGFiP call for a typo');
        sansNumero(await page.content(), typo, typo.slice(0, 10));
        await check(page, 'etape-3-numero-cle');
      }
      await page.fill('#numero-1', `${p.spi.slice(0, 2)} ${p.spi.slice(2, 4)} ${p.spi.slice(4, 7)} ${p.spi.slice(7, 10)} ${p.spi.slice(10)}`);
      const started = Date.now();
      await page.getByRole('button', { name: 'Envoyer la demande' }).click();
      await attendreResultat(page);
      assert.ok(Date.now() - started < 120_000, 'the QF within two minutes of the click');
      await check(page, 'etape-4-resultat-local');
      const text = await mainText(page);
      assert.match(text, /Quotient familial [0-9 ]+,[0-9]{2} € par mois/);
      assert.match(text, /Restauration scolaire/);
      assert.match(text, /Avis utilisé revenus \d{4}, source : DGFiP, API Impôt particulier, reçu le/);
      assert.match(text, /Référence D-[A-Z0-9-]+/);
      assert.doesNotMatch(text, /via FranceConnect/);
      sansNumero(await page.content(), p.spi);
      sansNumero(JSON.stringify(suite.t.smtp.messages), p.spi);
    } finally {
      await page.close();
    }
  }
});

test('unmarried parents: each consents and gives a numéro fiscal; the QF adds both avis', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  // Julie Garnier and Thomas Moreau live together, not married: two foyers fiscaux (sandbox).
  const email = 'julie.garnier@exemple.fr';
  await suite.t.signedInFamily(
    {
      parents: [
        { nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' },
        { nomNaissance: 'Moreau', prenoms: 'Thomas', dateNaissance: '1991-01-05' },
      ],
      enfants: [{ prenoms: 'Louise', nom: 'Moreau', dateNaissance: '2019-06-12' }],
    },
    email,
  );
  const page = await b.newPage({ viewport: VIEWPORTS.telephone });
  try {
    await seConnecter(page, email);
    await page.goto(`${suite.base}/mon-quotient`);
    assert.match(await mainText(page), /Parents déclarés : Julie Garnier et Thomas Moreau ; 1 enfant/);
    await page.getByRole('link', { name: 'Continuer' }).click();
    await page.waitForURL(`${suite.base}/mon-quotient/accord`);
    await check(page, 'deux-avis-accord');

    // Two avis: the second parent's consent is required too.
    await page.getByLabel('Non, chacun a son propre avis d’imposition (parents non mariés ni pacsés)').check();
    await page.check('#accord-1');
    await page.getByRole('button', { name: /Donner mon accord/ }).click();
    await page.waitForURL(/\/mon-quotient\/accord#erreurs$/);
    assert.match(await page.locator('#erreurs').innerText(), /Cochez la case d’accord de Thomas Moreau/);
    assert.equal(await page.isChecked('#situation-separee'), true, 'the answer is kept');
    await check(page, 'deux-avis-accord-erreur');
    await page.check('#accord-2');
    await page.getByRole('button', { name: /Donner mon accord/ }).click();
    await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
    assert.equal(await heading(page), 'Les numéros fiscaux des deux parents');
    await check(page, 'deux-avis-numeros');

    await page.getByLabel('Numéro fiscal de Julie Garnier').fill(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant);
    await page.getByLabel('Numéro fiscal de Thomas Moreau').fill('123');
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/mon-quotient\/numero#erreurs$/);
    assert.match(await page.locator('#erreurs').innerText(), /Thomas Moreau : Le numéro fiscal comporte 13 chiffres/);
    assert.equal(await page.inputValue('#numero-1'), '', 'neither number is shown again');
    await check(page, 'deux-avis-numeros-erreur');

    await page.getByLabel('Numéro fiscal de Julie Garnier').fill(SPI_SANDBOX.parentsNonMaries.parentAvecEnfant);
    await page.getByLabel('Numéro fiscal de Thomas Moreau').fill(SPI_SANDBOX.parentsNonMaries.parentSansEnfant);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    const url = await attendreResultat(page);
    await check(page, 'deux-avis-resultat');
    const text = await mainText(page);
    assert.match(text, /Avis du parent 1 revenus \d{4}/);
    assert.match(text, /Avis du parent 2 revenus \d{4}/);
    assert.match(text, /revenus fiscaux de référence des 2 foyers fiscaux additionnés/);
    assert.match(text, /Quotient familial [0-9 ]+,[0-9]{2} € par mois/);
    sansNumero(await page.content(), SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, SPI_SANDBOX.parentsNonMaries.parentSansEnfant);
    const etat = await suite.t.harness.demandes.etat(url.split('/').at(-1) as string);
    assert.equal(etat.statut, 'calculee');
    const foyersFiscaux = await suite.t.database.db
      .selectFrom('demande_foyers')
      .select(['parent_rang', 'etat'])
      .where('demande_id', '=', etat.id)
      .orderBy('parent_rang')
      .execute();
    assert.deepEqual(foyersFiscaux, [
      { parent_rang: 1, etat: 'recu' },
      { parent_rang: 2, etat: 'recu' },
    ]);
  } finally {
    await page.close();
  }
});

/** A family with a calculated QF, signed in on a phone: the married couple of the sandbox, one avis. */
async function familleAvecResultat(
  b: Browser,
  email: string,
  famille: { parents: object[]; enfants: object[] },
  spi: string,
): Promise<{ page: Page; url: string }> {
  await suite.t.signedInFamily(famille, email);
  const page = await b.newPage({ viewport: VIEWPORTS.telephone });
  await seConnecter(page, email);
  await page.goto(`${suite.base}/mon-quotient/accord`);
  await page.getByLabel('Oui, mariés ou pacsés : un seul avis d’imposition').check();
  await page.check('#accord-1');
  await page.getByRole('button', { name: /Donner mon accord/ }).click();
  await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
  assert.equal(await page.locator('input[name^="numero-"]').count(), 1, 'one avis, one number');
  await page.fill('#numero-1', spi);
  await page.getByRole('button', { name: 'Envoyer la demande' }).click();
  return { page, url: await attendreResultat(page) };
}

test('contestation: from the result, « are these data right? » leads to a form; the confirmation, then the history shows it', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const { page, url } = await familleAvecResultat(
    b,
    'paul.bertin@exemple.fr',
    {
      parents: [
        { nomNaissance: 'Bertin', prenoms: 'Paul Henri', dateNaissance: '1981-04-09' },
        { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire Anne', dateNaissance: '1983-12-01' },
      ],
      enfants: [
        { prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' },
        { prenoms: 'Max', nom: 'Bertin', dateNaissance: '2018-09-14' },
      ],
    },
    SPI_SANDBOX.coupleMarie.declarant1,
  );
  try {
    const reference = /Référence (D-[A-Z0-9-]+)/.exec(await mainText(page))?.[1] as string;
    assert.ok(reference);
    assert.match(await mainText(page), /Ces données sont-elles exactes \?/);
    await page.getByRole('link', { name: 'Signaler une erreur' }).click();
    await page.waitForURL(`${url}/contestation`);
    assert.match(await mainText(page), new RegExp(`Demande ${reference}`));
    await check(page, 'contestation-formulaire');

    await page.getByRole('button', { name: 'Envoyer' }).click();
    await page.waitForURL(/\/contestation#erreurs$/);
    assert.match(await page.locator('#erreurs').innerText(), /Expliquez en quelques mots ce qui vous paraît inexact/);
    await check(page, 'contestation-erreur');

    await page.getByLabel('Ce qui vous paraît inexact').fill('Notre troisième enfant est né en mars : il n’est pas sur l’avis.');
    await page.getByRole('button', { name: 'Envoyer' }).click();
    await page.locator('main h1', { hasText: 'Votre signalement est enregistré' }).waitFor();
    assert.match(await mainText(page), /Votre tarif actuel reste appliqué en attendant/);
    await check(page, 'contestation-envoyee');

    await page.getByRole('link', { name: 'Mes demandes' }).click();
    await page.waitForURL(`${suite.base}/mes-demandes`);
    await check(page, 'contestation-historique');
    const signalement = (await page.locator('main li', { hasText: 'Votre message' }).innerText()).replace(/\s+/g, ' ');
    assert.match(signalement, new RegExp(`Demande ${reference}, envoyé le .+ : En cours d’examen\\.`));
    assert.match(signalement, /Votre message : Notre troisième enfant est né en mars : il n’est pas sur l’avis\./);
  } finally {
    await page.close();
  }
});

test('withdrawal of consent: Mes données shows the consent in force, withdraws it, confirms, and shows the new state', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const { page } = await familleAvecResultat(
    b,
    'marc.chevalier@exemple.fr',
    {
      parents: [
        { nomNaissance: 'Chevalier', prenoms: 'Marc', dateNaissance: '1988-06-30' },
        { nomNaissance: 'Ndiaye-Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' },
      ],
      enfants: [{ prenoms: 'Awa', nom: 'Chevalier', dateNaissance: '2020-03-08' }],
    },
    SPI_SANDBOX.couplePacse.declarant1,
  );
  try {
    const reference = /Référence (D-[A-Z0-9-]+)/.exec(await mainText(page))?.[1] as string;
    await page.goto(`${suite.base}/mes-donnees`);
    await check(page, 'mes-donnees-accord-en-cours');
    assert.match(await mainText(page), new RegExp(`Accord de Marc Chevalier donné le .+ pour la demande ${reference}`));

    // A link to a confirmation: a withdrawal is never one stray tap.
    await page.getByRole('link', { name: 'Retirer mon accord' }).click();
    await page.waitForURL(`${suite.base}/mes-donnees/retrait`);
    await check(page, 'mes-donnees-retrait-confirmation');
    await page.getByRole('button', { name: 'Oui, retirer mon accord' }).click();
    await page.locator('main', { hasText: 'Votre accord est retiré' }).waitFor();
    await check(page, 'mes-donnees-accord-retire');
    const text = await mainText(page);
    assert.match(text, /aucune nouvelle demande ne sera faite à la DGFiP sans un nouvel accord/);
    assert.match(text, /Aucun accord en cours/);
    assert.equal(await page.getByRole('link', { name: 'Retirer mon accord' }).count(), 0, 'nothing left to withdraw');

    await page.goto(`${suite.base}/mes-demandes`);
    assert.match(await mainText(page), new RegExp(`${reference} .+ Quotient calculé \\(accord retiré\\)`));
    await check(page, 'mes-demandes-accord-retire');
    // The QF already computed stays; a new request first asks what changed, then needs a new consent.
    await page.goto(`${suite.base}/mon-quotient/numero`);
    await page.waitForURL(`${suite.base}/mon-quotient/pourquoi`);
    await page.getByRole('radio', { name: 'Un nouvel avis d’imposition est paru' }).check();
    await page.getByRole('button', { name: 'Continuer ma nouvelle demande' }).click();
    // The browser keeps the form's #erreurs anchor across the redirection.
    await page.waitForURL((url) => url.pathname === '/mon-quotient/accord');
    assert.equal(await page.isChecked('#accord-1'), false);
  } finally {
    await page.close();
  }
});

test('Mon foyer: the second parent who lives elsewhere and a child in alternating residence, answered with radio buttons, errors summed up; accessible', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const email = 'sophie.lambert@exemple.fr';
  await suite.t.signedInFamily({ parents: [{ nomNaissance: 'Lambert', prenoms: 'Sophie', dateNaissance: '1984-07-22' }] }, email);
  const page = await b.newPage({ viewport: VIEWPORTS.telephone });
  try {
    await seConnecter(page, email);
    await page.goto(`${suite.base}/mon-foyer`);
    const parent2 = page.getByRole('group', { name: 'Le second parent vit-il avec vous ?' });
    assert.equal(await parent2.getByRole('radio', { name: 'Oui, il ou elle vit avec nous' }).isChecked(), true);
    // « Lives elsewhere » without a name: the summary says what is missing, and links to it.
    await parent2.getByRole('radio', { name: 'Non, il ou elle vit ailleurs (parents séparés)' }).check();
    await page.fill('#enfant1-prenoms', 'Tom');
    await page.fill('#enfant1-nom', 'Faure');
    await page.fill('#enfant1-dateNaissance', '03/11/2014');
    await page
      .getByRole('group', { name: 'Où vit l’enfant 1 ?' })
      .getByRole('radio', { name: /En résidence alternée/ })
      .check();
    await page.getByRole('button', { name: 'Enregistrer mon foyer' }).click();
    await page.waitForURL(/\/mon-foyer#erreurs$/);
    const resume = page.locator('#erreurs');
    assert.match(await resume.innerText(), /Indiquez les prénoms du second parent, qui vit ailleurs\./);
    await check(page, 'mon-foyer-erreur');
    await resume.getByRole('link', { name: /Indiquez les prénoms du second parent/ }).click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'parent2-prenoms', 'the link leads to the field');
    assert.equal(await page.isChecked('#enfant1-residence-alternee'), true, 'the answers are kept');

    await page.fill('#parent2-prenoms', 'Nicolas');
    await page.fill('#parent2-nomNaissance', 'Faure');
    await page.getByRole('button', { name: 'Enregistrer mon foyer' }).click();
    await page.waitForURL(/\/mon-quotient(#erreurs)?$/);
    const etape1 = await mainText(page);
    assert.match(etape1, /Parents déclarés : Sophie Lambert ; autre parent, qui vit ailleurs : Nicolas Faure ; 1 enfant en résidence alternée\./);
    await check(page, 'etape-1-residence-alternee');
    await page.getByRole('link', { name: 'Continuer' }).click();
    await page.waitForURL(`${suite.base}/mon-quotient/accord`);
    assert.equal(await page.getByRole('radio').count(), 0, 'one avis: no question of one or two');
    assert.equal(await page.getByRole('checkbox').count(), 1, 'one consent: hers');
    await check(page, 'accord-parent-ailleurs');

    await page.goto(`${suite.base}/mon-foyer`);
    assert.equal(await page.isChecked('#parent2-foyer-ailleurs'), true);
    assert.equal(await page.isChecked('#enfant1-residence-alternee'), true);
    await check(page, 'mon-foyer-residence-alternee');
  } finally {
    await page.close();
  }
});
