import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { NumeroFiscal } from '../../src/domain/numero-fiscal.ts';
import { pdfAvis } from '../../src/domain/test-avis.ts';
import { FAMILY_PASSWORD, createBackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { COFFRE_AVIS } from '../../src/modules/avis/avis-service.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { VIEWPORTS, applicationEtNavigateur, checkPage, mainText, screenshotDir } from './browser.ts';

/**
 * The family's journeys of issue 15 in a real browser, the family on a phone, the instructor on a
 * desktop, one application and one browser for all: from the home page to the QF by clicks only,
 * through a mistyped number corrected without a new consent; a contestation with a document that
 * an instructor answers with a new QF, after which one QF is in force and the others are history;
 * and the avis sent by the family, reviewed by an instructor, destroyed at the decision. Every page
 * passed is axe-clean and never scrolls sideways.
 */

const SHOTS = screenshotDir('famille-parcours');
/** Every wait is bounded: the sandbox answers in well under a second. */
const RESULTAT_MS = 45_000;

const suite = applicationEtNavigateur((publicUrl) => createBackOfficeTestApp({ publicUrl }));
const navigateur = (ctx: TestContext) => suite.navigateur(ctx);

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);

const BERTIN = {
  parents: [
    { nomNaissance: 'Bertin', prenoms: 'Paul Henri', dateNaissance: '1981-04-09' },
    { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire Anne', dateNaissance: '1983-12-01' },
  ],
  enfants: [
    { prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' },
    { prenoms: 'Max', nom: 'Bertin', dateNaissance: '2018-09-14' },
  ],
};
const CHEVALIER = {
  parents: [
    { nomNaissance: 'Chevalier', prenoms: 'Marc', dateNaissance: '1988-06-30' },
    { nomNaissance: 'Ndiaye-Fall', prenoms: 'Aminata', dateNaissance: '1990-02-14' },
  ],
  enfants: [{ prenoms: 'Awa', nom: 'Chevalier', dateNaissance: '2020-03-08' }],
};

/** The family's phone: the home page is the only address typed; then the sign-in form. */
async function familleSurTelephone(b: Browser, email: string, nom?: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await b.newContext({ viewport: VIEWPORTS.telephone });
  const page = await context.newPage();
  await page.goto(`${suite.base}/`);
  if (nom) await check(page, `${nom}-accueil`);
  // The way in: « Faire ma demande » leads a visitor to sign in first.
  await page.locator('main').getByRole('link', { name: 'Faire ma demande' }).first().click();
  await page.waitForURL(`${suite.base}/connexion`);
  if (nom) await check(page, `${nom}-connexion`);
  await page.fill('#email', email);
  await page.fill('#password', FAMILY_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(/\/mon-espace(#erreurs)?$/);
  return { context, page };
}

/** The instructor on a desktop, signed in through the agents' provider, on the review queue. */
async function instructeur(b: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await b.newContext({ viewport: VIEWPORTS.bureau });
  const page = await context.newPage();
  await page.goto(`${suite.base}/agents/connexion`);
  await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
  await page.waitForURL(/\/interaction\//);
  await page.fill('#login', 'instruction@demo.quotient.fr');
  await page.fill('#password', DEMO_AGENT_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
  await page.waitForURL(`${suite.base}/agents`);
  await page.locator('main').getByRole('link', { name: 'Instruction' }).click();
  await page.waitForURL(`${suite.base}/agents/instruction`);
  return { context, page };
}

/** A request made and processed without the browser: its id and reference once the DGFiP answered. */
async function demandeTraitee(familleId: string, compteId: string, spi: string, attendu: string): Promise<{ id: string; reference: string }> {
  const acteur = { type: 'famille' as const, id: compteId };
  const demande = await suite.t.harness.demandes.soumettre({
    familleId,
    canal: 'en_ligne',
    acteur,
    foyersFiscaux: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(spi) }, consentement: { mode: 'en_ligne', donnePar: acteur } }],
  });
  suite.t.services.wake();
  assert.equal((await suite.t.harness.demandes.attendre(demande.id, 20_000)).statut, attendu);
  return demande;
}

async function attendreQuotient(page: Page) {
  await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
  await page.locator('main h1', { hasText: /Votre quotient familial|Demande D-/ }).waitFor({ timeout: RESULTAT_MS });
  const h1 = await page.locator('main h1').innerText();
  if (h1 !== 'Votre quotient familial') assert.fail(`no QF: ${(await mainText(page)).slice(0, 600)}`);
}

const consentements = async (familleId: string) =>
  (
    await suite.t.database.db
      .selectFrom('consentements')
      .innerJoin('demandes', 'demandes.id', 'consentements.demande_id')
      .select('consentements.id')
      .where('demandes.famille_id', '=', familleId)
      .execute()
  ).length;

test('on a phone, from the home page to the QF by clicks only: a key typo caught before any call, a number with no avis corrected without a new consent', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const email = 'paul.bertin.parcours@exemple.fr';
  const { familleId } = await suite.t.signedInFamily(BERTIN, email);
  const { context, page } = await familleSurTelephone(b, email, 'entree');
  try {
    await check(page, 'entree-mon-espace');
    assert.match(await mainText(page), /Vous n’avez pas de quotient familial en vigueur/);
    await page.locator('main').getByRole('link', { name: 'Faire ma demande' }).click();
    await page.waitForURL(`${suite.base}/mon-quotient`);
    await check(page, 'entree-etape-1');
    await page.getByRole('link', { name: 'Continuer' }).click();
    await page.waitForURL(`${suite.base}/mon-quotient/accord`);
    await check(page, 'entree-accord');
    await page.getByLabel('Oui, mariés ou pacsés : un seul avis d’imposition').check();
    await page.check('#accord-1');
    await page.getByRole('button', { name: /Donner mon accord/ }).click();
    await page.waitForURL(/\/mon-quotient\/numero(#erreurs)?$/);
    await check(page, 'entree-numero');

    // The last digit mistyped: the key does not check; said before any DGFiP call.
    const spi = SPI_SANDBOX.coupleMarie.declarant1;
    const appels = suite.t.sandbox.admin.calls().length;
    await page.fill('#numero-1', `${spi.slice(0, 12)}${(Number(spi[12]) + 1) % 10}`);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/mon-quotient\/numero#erreurs$/);
    assert.match(await page.locator('#erreurs').innerText(), /Ce numéro ne semble pas correct .* Vérifiez-le sur votre avis d’imposition/s);
    assert.equal(suite.t.sandbox.admin.calls().length, appels, 'no DGFiP call for a typo');
    await check(page, 'entree-numero-cle');

    // A number whose key checks but with no avis behind it: the request page offers to correct it.
    await page.fill('#numero-1', SPI_SANDBOX.inconnu);
    await page.getByRole('button', { name: 'Envoyer la demande' }).click();
    await page.waitForURL(/\/mon-quotient\/demandes\/[0-9a-f-]{36}(#erreurs)?$/);
    await page.locator('main h2', { hasText: 'Vérifiez le numéro fiscal saisi' }).waitFor({ timeout: RESULTAT_MS });
    const demandeId = new URL(page.url()).pathname.split('/').at(-1) as string;
    assert.match(await mainText(page), /votre accord reste valable, inutile de le redonner/);
    await check(page, 'entree-a-verifier');
    // The consent is recorded with the request: one, for the one declarant.
    assert.equal(await consentements(familleId), 1);
    const agent = await suite.t.signInAgent('instructeur');
    const reference = (await suite.t.harness.demandes.etat(demandeId)).reference;
    assert.match((await suite.t.get(agent, '/agents/instruction')).body, new RegExp(reference), 'in the review queue meanwhile');

    await page.locator('input[name^="numero-"]').first().fill(spi);
    await page.getByRole('button', { name: 'Relancer la demande' }).click();
    await attendreQuotient(page);
    await check(page, 'entree-resultat');
    assert.equal(new URL(page.url()).pathname.split('/').at(-1), demandeId, 'the same request, relaunched');
    assert.equal(await consentements(familleId), 1, 'no new consent');
    assert.doesNotMatch((await suite.t.get(agent, '/agents/instruction')).body, new RegExp(reference), 'out of the review queue once it succeeded');

    await page.getByRole('link', { name: 'Mon espace' }).first().click();
    await page.waitForURL(`${suite.base}/mon-espace`);
    await check(page, 'entree-mon-espace-quotient');
    assert.match(await mainText(page), /[0-9 ]+,[0-9]{2} € par mois/);
    assert.match(await mainText(page), /Rien à faire : ce quotient s’applique jusqu’au/);
  } finally {
    await context.close();
  }
});

test('the avis as a fallback: the family sends it from its phone, an instructor opens it and sets the QF, the family sees it; the file is destroyed at the decision', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const email = 'marc.chevalier.avis@exemple.fr';
  const { familleId, compteId } = await suite.t.signedInFamily(CHEVALIER, email);
  const demande = await demandeTraitee(familleId, compteId, SPI_SANDBOX.inconnu, 'a_verifier');
  const famille = await familleSurTelephone(b, email);
  const agent = await instructeur(b);
  try {
    const page = famille.page;
    await page.getByRole('link', { name: `Suivre ma demande ${demande.reference}` }).click();
    await page.waitForURL(`${suite.base}/mon-quotient/demandes/${demande.id}`);
    await page.getByRole('link', { name: 'Envoyer mon avis d’imposition' }).click();
    await page.waitForURL(`${suite.base}/mon-quotient/demandes/${demande.id}/avis`);
    await check(page, 'avis-formulaire');
    await page.setInputFiles('#avis', { name: 'avis-2025.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdfAvis()) });
    await page.getByRole('button', { name: 'Envoyer mon avis' }).click();
    await page.locator('main', { hasText: 'Votre avis est bien reçu' }).waitFor();
    await check(page, 'avis-recu');
    const [avis] = await suite.t.services.avis.enCours({ demandeId: demande.id });
    assert.ok(avis, 'kept');

    const a = agent.page;
    await a.reload();
    await a.getByRole('link', { name: demande.reference }).click();
    await a.waitForURL(`${suite.base}/agents/instruction/demandes/${demande.id}`);
    await a.selectOption('#motif', 'qf_manuel');
    await a.getByRole('button', { name: 'Consulter le dossier' }).click();
    await a.waitForURL(new RegExp(`/agents/instruction/demandes/${demande.id}(#erreurs)?$`));
    await check(a, 'avis-dossier');
    const lien = a.getByRole('link', { name: /Ouvrir le document \(document pdf/ });
    const fichier = await agent.context.request.get(new URL((await lien.getAttribute('href')) as string, suite.base).href);
    assert.equal(fichier.status(), 200);
    assert.match(fichier.headers()['content-type'] ?? '', /^application\/pdf/);
    assert.deepEqual(new Uint8Array(await fichier.body()), pdfAvis(), 'the file as the family sent it');

    await a.fill('#qf-montant', '712,40');
    await a.fill('#qf-justification', 'Avis 2025 envoyé par la famille, revenus et parts lus sur le document.');
    await a.fill('#qf-piece', 'avis d’imposition 2025 déposé en ligne');
    await a.getByRole('button', { name: 'Fixer le quotient' }).click();
    await a.locator('main', { hasText: 'Décision enregistrée' }).waitFor();
    await check(a, 'avis-decide');
    assert.equal((await suite.t.services.avis.enCours({ demandeId: demande.id })).length, 0, 'destroyed at the decision');
    assert.equal(await suite.t.services.coffre.getBytes(COFFRE_AVIS, avis.id), undefined, 'gone from the silo');

    await page.goto(`${suite.base}/mon-espace`);
    await page.getByRole('link', { name: 'Mes demandes' }).first().click();
    await page.waitForURL(`${suite.base}/mes-demandes`);
    await check(page, 'avis-mes-demandes');
    assert.match(await mainText(page), /712,40 € par mois/);
    assert.match(await mainText(page), /fixé par un agent de la commune au vu d’un document/);
  } finally {
    await famille.context.close();
    await agent.context.close();
  }
});

test('after a contestation answered with a new QF, « Mon espace » and « Mes demandes » show one QF in force, the former one as history', async (ctx) => {
  const b = await navigateur(ctx);
  if (!b) return;
  const email = 'paul.bertin.contestation@exemple.fr';
  const { familleId, compteId } = await suite.t.signedInFamily(BERTIN, email);
  const demande = await demandeTraitee(familleId, compteId, SPI_SANDBOX.coupleMarie.declarant1, 'calculee');
  const famille = await familleSurTelephone(b, email);
  const agent = await instructeur(b);
  try {
    const page = famille.page;
    await page.getByRole('link', { name: 'Mes demandes' }).first().click();
    await page.waitForURL(`${suite.base}/mes-demandes`);
    await page.getByRole('link', { name: demande.reference }).first().click();
    await page.waitForURL(`${suite.base}/mon-quotient/demandes/${demande.id}`);
    await page.getByRole('link', { name: 'Signaler une erreur' }).click();
    await page.waitForURL(`${suite.base}/mon-quotient/demandes/${demande.id}/contestation`);
    await check(page, 'contestation-formulaire-piece');
    await page.getByLabel('Ce qui vous paraît inexact').fill('Notre troisième enfant est né en mars : il n’est pas sur l’avis.');
    await page.setInputFiles('#piece', { name: 'acte-de-naissance.pdf', mimeType: 'application/pdf', buffer: Buffer.from(pdfAvis('ACTE DE NAISSANCE')) });
    await page.getByRole('button', { name: 'Envoyer' }).click();
    await page.locator('main h1', { hasText: 'Votre signalement est enregistré' }).waitFor();
    assert.match(await mainText(page), /Votre document est joint au signalement/);

    const a = agent.page;
    await a.reload();
    const ligne = a
      .locator('main tr, main li')
      .filter({ hasText: 'Contestation' })
      .filter({ has: a.getByRole('link') });
    await ligne.first().getByRole('link').first().click();
    await a.waitForURL(/\/agents\/instruction\/contestations\/[0-9a-f-]{36}$/);
    await a.selectOption('#motif', 'contestation');
    await a.getByRole('button', { name: 'Consulter le dossier' }).click();
    await a.waitForURL(/\/agents\/instruction\/contestations\/[0-9a-f-]{36}(#erreurs)?$/);
    assert.match(await mainText(a), /Avis d’imposition envoyé par la famille/);
    await check(a, 'contestation-dossier');
    await a.fill('#reponse', 'Nous avons pris en compte la naissance de votre troisième enfant.');
    await a.check('#suite-qf');
    await a.fill('#qf-montant', '500,00');
    await a.fill('#qf-justification', 'Naissance du troisième enfant : acte joint à la contestation.');
    await a.fill('#qf-piece', 'acte de naissance joint en ligne');
    await a.getByRole('button', { name: 'Envoyer la réponse' }).click();
    await a.locator('main h2', { hasText: 'Réponse envoyée' }).waitFor();
    assert.deepEqual(
      (await suite.t.database.db.selectFrom('avis_deposes').select('detruit_le').where('famille_id', '=', familleId).execute()).map(
        (r) => r.detruit_le !== null,
      ),
      [true],
      'the document is destroyed at the answer',
    );

    await page.getByRole('link', { name: 'Mon espace' }).first().click();
    await page.waitForURL(`${suite.base}/mon-espace`);
    await check(page, 'contestation-mon-espace');
    const espace = await mainText(page);
    assert.match(espace, /500,00 € par mois/);
    assert.match(espace, /fixé par un agent de la commune au vu d’un document/);

    await page.getByRole('link', { name: 'Mes demandes' }).first().click();
    await page.waitForURL(`${suite.base}/mes-demandes`);
    await check(page, 'contestation-mes-demandes');
    const historique = await mainText(page);
    assert.match(historique, /Votre quotient familial en vigueur Quotient familial en vigueur 500,00 € par mois/);
    const lignes = page.locator('main table tbody tr').filter({ hasText: /D-[A-Z0-9]{4}-/ });
    assert.equal(await lignes.count(), 2);
    assert.match((await lignes.nth(0).innerText()).replace(/\s+/g, ' '), new RegExp(`D-[A-Z0-9-]+ .* Quotient fixé par un agent en vigueur 500,00 € par mois`));
    assert.match((await lignes.nth(1).innerText()).replace(/\s+/g, ' '), new RegExp(`${demande.reference} .* Quotient calculé remplacé`));
    assert.ok(
      historique.indexOf('Votre quotient familial en vigueur') < historique.indexOf('Historique de mes demandes'),
      'the QF in force first, the history below',
    );

    // A new request while a QF is in force asks what changed first.
    await page.goto(`${suite.base}/mon-espace`);
    await page.getByRole('link', { name: 'faire une nouvelle demande' }).click();
    await page.waitForURL(/\/mon-quotient(\/pourquoi)?$/);
    await check(page, 'contestation-nouvelle-demande');
  } finally {
    await famille.context.close();
    await agent.context.close();
  }
});
