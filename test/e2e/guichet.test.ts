import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { createBackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { parisDate } from '../../src/sources/paris-date.ts';
import { applicationEtNavigateur, checkPage, mainText, screenshotDir, VIEWPORTS } from './browser.ts';

/**
 * The counter in a real browser, as the demo counter agent uses it: sign-in through the agents'
 * provider, find or create the family, enter the request received on paper or by e-mail with the
 * consent as given, type the numéro fiscal once, see the QF and the prices. Every page of ours
 * passes axe-core, does not scroll sideways on a phone, and is screenshotted.
 */

const SHOTS = screenshotDir('guichet');
const RESULTAT_MS = 45_000;

const suite = applicationEtNavigateur((publicUrl) => createBackOfficeTestApp({ publicUrl }));
const navigateur = (ctx: TestContext) => suite.navigateur(ctx);

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);
const heading = (page: Page) => page.locator('main h1').innerText();
const aujourdhui = () => parisDate(Date.now()).split('-').reverse().join('/');

/** The demo counter agent signs in through the local agents' provider, as in the demo. */
async function seConnecter(page: Page) {
  await page.goto(`${suite.base}/agents/connexion`);
  await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
  await page.locator('#login').waitFor();
  await page.fill('#login', 'accueil@demo.quotient.fr');
  await page.fill('#password', DEMO_AGENT_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(`${suite.base}/agents`);
  assert.match(await heading(page), /Bonjour Camille/);
}

async function attendreResultat(page: Page) {
  await page.waitForURL(/\/agents\/guichet\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
  await page.locator('main h1', { hasText: /quotient calculé|à vérifier|échouée/ }).waitFor({ timeout: RESULTAT_MS });
  const h1 = await heading(page);
  if (!/quotient calculé/.test(h1)) assert.fail(`no QF: ${(await mainText(page)).slice(0, 600)}`);
}

function sansNumero(texte: string, spi: string) {
  assert.equal(texte.includes(spi), false, 'the numéro fiscal is never shown');
  assert.equal(texte.includes(spi.slice(0, 12)), false, 'nor what was mistyped');
}

test('counter on a desktop: no family found, create it, paper request with consent, numéro fiscal once, QF and prices, attestation', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  const page = await b.newPage({ viewport: VIEWPORTS.bureau });
  try {
    await seConnecter(page);
    await check(page, 'agents-accueil');
    await page.getByRole('link', { name: 'Accueil des familles' }).first().click();
    await page.waitForURL(`${suite.base}/agents/guichet`);
    await check(page, 'recherche');
    // The blank consent form, reached from the counter's home: the print button shown by its script.
    await page.getByRole('link', { name: 'Imprimer un formulaire d’accord vierge' }).click();
    await page.waitForURL(`${suite.base}/agents/guichet/formulaire-accord`);
    await page.getByRole('button', { name: 'Imprimer le formulaire' }).waitFor();
    await check(page, 'formulaire-accord');
    await page.goto(`${suite.base}/agents/guichet`);

    // Not known yet.
    await page.fill('#nom', 'Bertin');
    await page.fill('#naissance', '09/04/1981');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.waitForURL(/\/agents\/guichet#resultats-titre$/);
    assert.match(await mainText(page), /Aucune famille trouvée/);
    await check(page, 'recherche-aucune');

    await page.getByRole('link', { name: 'Créer une famille' }).click();
    await page.waitForURL(`${suite.base}/agents/guichet/familles/nouvelle`);
    await check(page, 'creation');
    await page.fill('#parent1-prenoms', 'Paul');
    await page.fill('#parent1-nomNaissance', 'Bertin');
    await page.fill('#parent2-prenoms', 'Claire');
    await page.fill('#parent2-nomNaissance', 'Roussel');
    await page.fill('#parent2-nomUsage', 'Bertin');
    await page.fill('#parent2-dateNaissance', '01/12/1983');
    await page.fill('#enfant1-prenoms', 'Léa');
    await page.fill('#enfant1-nom', 'Bertin');
    await page.fill('#enfant1-dateNaissance', '02/05/2016');
    await page.fill('#courriel', 'famille.bertin@exemple.fr');
    await page.getByRole('button', { name: 'Créer la famille' }).click();
    await page.waitForURL(/\/agents\/guichet\/familles#erreurs$/);
    assert.match(await page.locator('#erreurs').innerText(), /Indiquez la date de naissance du premier parent/);
    assert.equal(await page.inputValue('#parent2-nomUsage'), 'Bertin', 'what was typed is kept');
    await check(page, 'creation-erreur');
    await page.fill('#parent1-dateNaissance', '09/04/1981');
    await page.getByRole('button', { name: 'Créer la famille' }).click();
    await page.waitForURL(/\/agents\/guichet\/familles\/[0-9a-f-]{36}(#erreurs)?$/);
    assert.equal(await heading(page), 'Famille Paul Bertin et Claire Bertin');
    assert.match(await mainText(page), /Aucun quotient familial en cours de validité/);
    await check(page, 'fiche');

    // The request received on paper: the consent first.
    await page.getByRole('link', { name: 'Saisir une demande reçue sur papier ou par courriel' }).click();
    await page.waitForURL(/\/demande$/);
    await check(page, 'accord');
    await page.getByRole('button', { name: 'Enregistrer l’accord et continuer' }).click();
    await page.waitForURL(/\/demande#erreurs$/);
    assert.match(await page.locator('#erreurs').innerText(), /Indiquez quels avis d’imposition demander/);
    await check(page, 'accord-erreur');
    await page.check('#avis-commun-1');
    await page.check('#mode-1-formulaire_signe');
    await page.fill('#date-1', aujourdhui());
    await page.fill('#piece-1', 'Formulaire d’accord n° 2026-118');
    await page.getByRole('button', { name: 'Enregistrer l’accord et continuer' }).click();
    await page.waitForURL(/\/demande\/numero(#erreurs)?$/);
    assert.match(await mainText(page), /Paul Bertin : accord sur un formulaire signé, enregistré par un agent/);
    await check(page, 'numero');

    // The number, once: a mistake is explained and the field comes back empty.
    await page.fill('#numero-1', spi.slice(0, 12));
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/demande\/numero#erreurs$/);
    assert.match(await page.locator('#erreurs').innerText(), /13 chiffres/);
    assert.equal(await page.inputValue('#numero-1'), '');
    sansNumero(await page.content(), spi);
    await check(page, 'numero-erreur');
    await page.fill('#numero-1', `${spi.slice(0, 2)} ${spi.slice(2, 4)} ${spi.slice(4, 7)} ${spi.slice(7, 10)} ${spi.slice(10)}`);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await attendreResultat(page);
    const texte = await mainText(page);
    assert.match(texte, /Quotient familial [0-9  ]+,[0-9]{2} € par mois/);
    assert.match(texte, /Restauration scolaire/);
    assert.match(texte, /Activité Tranche Prix/);
    sansNumero(await page.content(), spi);
    await check(page, 'resultat');

    await page.getByRole('link', { name: 'Attestation à imprimer pour la famille' }).click();
    await page.waitForURL(/\/attestation$/);
    assert.match(await mainText(page), /Attestation de quotient familial/);
    await check(page, 'attestation');
    await page.getByRole('link', { name: 'Revenir à la demande' }).click();
    await page.getByRole('link', { name: 'Fiche de la famille' }).click();
    await page.waitForURL(/\/agents\/guichet\/familles\/[0-9a-f-]{36}$/);
    assert.match(await mainText(page), /Quotient familial retenu/);
    sansNumero(await page.content(), spi);
    await check(page, 'fiche-quotient');
  } finally {
    await page.close();
  }
});

test('counter on a phone: find the family by a parent’s name and date of birth, consent by e-mail from the second parent, QF', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  // A pacsed couple: one joint avis; the e-mail came from Aminata, whose number is typed.
  await suite.t.harness.familles.creer(
    {
      parents: [
        { nomNaissance: 'Chevalier', prenoms: 'Marc', dateNaissance: '1988-06-30' },
        { nomNaissance: 'Ndiaye Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' },
      ],
      enfants: [{ prenoms: 'Inès', nom: 'Chevalier', dateNaissance: '2018-03-08' }],
    },
    { type: 'agent', id: suite.t.agents.guichet.id },
  );
  const spi = SPI_SANDBOX.couplePacse.declarant2;
  const page = await b.newPage({ viewport: VIEWPORTS.telephone });
  try {
    await seConnecter(page);
    await page.goto(`${suite.base}/agents/guichet`);
    await page.fill('#nom', 'ndiaye');
    await page.fill('#naissance', '14/02/1990');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.waitForURL(/\/agents\/guichet#resultats-titre$/);
    assert.match(await mainText(page), /Une famille trouvée/);
    await check(page, 'recherche-resultat');
    await page.locator('main table a').first().click();
    await page.waitForURL(/\/agents\/guichet\/familles\/[0-9a-f-]{36}$/);
    await check(page, 'fiche');
    await page.getByRole('link', { name: 'Saisir une demande reçue sur papier ou par courriel' }).click();
    await page.waitForURL(/\/demande$/);
    await page.check('#avis-commun-2');
    await page.check('#mode-2-courriel');
    await page.fill('#date-2', aujourdhui());
    await page.fill('#piece-2', 'Courriel « Accord quotient familial » reçu ce jour');
    await check(page, 'accord');
    await page.getByRole('button', { name: 'Enregistrer l’accord et continuer' }).click();
    await page.waitForURL(/\/demande\/numero(#erreurs)?$/);
    assert.match(await mainText(page), /Aminata Ndiaye Fall : accord par courriel, enregistré par un agent/);
    await check(page, 'numero');
    await page.fill('#numero-2', spi);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await attendreResultat(page);
    assert.match(await mainText(page), /Quotient familial [0-9  ]+,[0-9]{2} € par mois/);
    sansNumero(await page.content(), spi);
    await check(page, 'resultat');
  } finally {
    await page.close();
  }
  // And the auditor will find it: the request entered at the counter, in the agent's name.
  const creees = (await suite.t.harness.journal.query({ action: 'demande.creee' })).entries;
  assert.ok(creees.some((e) => e.actor.id === suite.t.agents.guichet.id && e.details.canal === 'guichet'));
});
