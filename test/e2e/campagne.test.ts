import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { formatDateCourte } from '../../src/domain/dates.ts';
import { createBackOfficeTestApp, FAMILY_PASSWORD, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { bertinRoussel, fichierCsv, garnier, homonyme } from '../../src/modules/campagnes/test-support.ts';
import { BERTIN_ROUSSEL, enLigne, HABILITATION_ETAT_CIVIL } from '../../src/modules/demandes/test-harness.ts';
import { DEMO_AGENT_PASSWORD } from '../../src/sandbox/agents/provider.tsx';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';
import { parisDate } from '../../src/sources/paris-date.ts';
import { VIEWPORTS, checkPage, freePort, launchBrowser, mainText, screenshotDir } from './browser.ts';

/**
 * The administrator's campaign in a real browser (issue 14): a CSV with errors refused line by
 * line, the fixed file checked by a dry run that creates nothing, the campaign started, paused and
 * resumed, its progress and outcomes shown, the report downloaded; then a family of the campaign
 * finds its renewed QF in « Mon espace » and the e-mail that told it. The campaign is held back by
 * a quota that other calls fill (as online families on any instance would), so that the pause
 * happens before any item is taken, whatever the machine's speed.
 */

const SHOTS = screenshotDir('campagne');
const ATTENTE_MS = 60_000;
const EMAIL = 'famille.bertin@exemple.fr';
const STRASBOURG = readFileSync(new URL('../../examples/strasbourg.yaml', import.meta.url), 'utf8');

let t: BackOfficeTestApp;
let base: string;
let browser: Browser | undefined;
before(async () => {
  const port = await freePort();
  base = `http://localhost:${port}`;
  t = await createBackOfficeTestApp({ publicUrl: base, habilitation: HABILITATION_ETAT_CIVIL.sfip });
  await t.app.listen({ host: '127.0.0.1', port });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

const check = (page: Page, name: string) => checkPage(page, SHOTS, name);

/** Waits (bounded) until the campaign's page, reloaded, says `pattern`: the worker's progress, not a guess of its time. */
async function attendrePage(page: Page, pattern: RegExp): Promise<string> {
  let texte = '';
  for (const limite = Date.now() + ATTENTE_MS; Date.now() < limite;) {
    await page.reload();
    texte = await mainText(page);
    if (pattern.test(texte)) return texte;
    await page.waitForTimeout(250);
  }
  assert.fail(`la page de la campagne ne dit pas ${pattern} : ${texte}`);
}

/** Submits with the button and waits for the page that answers (a redirect to the same address included). */
async function soumettre(page: Page, bouton: RegExp | string) {
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: bouton }).click()]);
}

async function envoyerFichier(page: Page, nom: string, octets: Uint8Array, bouton: RegExp) {
  await page.setInputFiles('#fichier', { name: nom, mimeType: 'text/csv', buffer: Buffer.from(octets) });
  await soumettre(page, bouton);
}

test('an administrator imports, checks, starts, pauses and resumes a campaign and downloads its report; the family sees its renewed QF', async (ctx) => {
  browser ??= await launchBrowser(ctx);
  if (!browser) return;
  const { db } = t.database;
  const admin = { type: 'agent' as const, id: t.agents.administrateur.id };

  // A tariff policy by brackets, so that the report has a new tranche to give.
  const version = await t.services.politiques.deposer({ libelle: 'Grille par tranches', contenu: STRASBOURG }, admin);
  await t.services.politiques.activer(version.id, formatDateCourte(parisDate(Date.now())), admin);

  // A family with an account and a QF from last year's online request: the campaign renews it.
  const { familleId } = await t.signedInFamily({ ...BERTIN_ROUSSEL, courriel: EMAIL }, EMAIL);
  const { reference } = await db.selectFrom('familles').select('reference').where('id', '=', familleId).executeTakeFirstOrThrow();
  const premiere = await t.harness.demandes.soumettre(enLigne(familleId, [[1, SPI_SANDBOX.coupleMarie.declarant1]]));
  t.services.wake();
  assert.equal((await t.harness.demandes.attendre(premiere.id, ATTENTE_MS)).statut, 'calculee');

  let renouvelee = '';
  const page = await browser.newPage({ viewport: VIEWPORTS.bureau });
  try {
    await page.goto(`${base}/agents/connexion`);
    await page.getByRole('button', { name: 'Se connecter avec mon compte professionnel' }).click();
    await page.locator('#login').waitFor();
    await page.fill('#login', t.agents.administrateur.email);
    await page.fill('#password', DEMO_AGENT_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await page.waitForURL(`${base}/agents`);

    await page.goto(`${base}/agents/administration`);
    await page.getByRole('link', { name: 'Campagnes' }).first().click();
    await page.waitForURL(`${base}/agents/administration/campagnes`);
    assert.match(await mainText(page), /Aucune campagne pour le moment/);
    await page.getByRole('link', { name: 'Importer une liste de familles' }).click();
    await page.locator('main h1', { hasText: 'Importer une liste de familles' }).waitFor();

    // A file with a wrong date and a reference twice: refused line by line, nothing imported.
    await page.fill('#libelle', 'Rentrée 2026');
    const fautif = fichierCsv([
      { ...bertinRoussel(reference), courriel: EMAIL },
      { ...garnier('FAM-2'), p1_date_naissance: '1992-13-45' },
      garnier('FAM-2'),
      homonyme('FAM-3'),
    ]);
    await envoyerFichier(page, 'rentree.csv', fautif, /^Importer/);
    await page.locator('.error-summary').waitFor();
    const refus = await mainText(page);
    assert.match(refus, /Le fichier contient des erreurs : rien n’a été importé/);
    assert.match(refus, /Ligne 3, p1_date_naissance : date de naissance attendue/);
    assert.match(refus, /Ligne 4, reference : la référence « FAM-2 » figure déjà ligne 3 \(doublon\)/);
    assert.equal(await page.inputValue('#libelle'), 'Rentrée 2026', 'the name is kept');
    await check(page, 'import-erreurs');
    assert.equal((await db.selectFrom('campagnes').select('id').execute()).length, 0);

    // Fixed, then checked by the dry run: what it would do, and still nothing created.
    const bon = fichierCsv([{ ...bertinRoussel(reference), courriel: EMAIL }, garnier('FAM-2'), homonyme('FAM-3')]);
    await envoyerFichier(page, 'rentree.csv', bon, /Vérifier sans rien enregistrer/);
    await page.locator('#rapport-titre').waitFor();
    const essai = await mainText(page);
    assert.match(essai, /Vérification du fichier : aucune erreur/);
    assert.match(essai, /3 lue\(s\), 3 sans erreur/);
    assert.match(essai, /1 famille\(s\) déjà connue\(s\) de Quotient, 2 à créer/);
    await check(page, 'essai');
    const compter = async () => ({
      campagnes: (await db.selectFrom('campagnes').select('id').execute()).length,
      familles: (await db.selectFrom('familles').select('id').execute()).length,
      demandes: (await db.selectFrom('demandes').select('id').execute()).length,
    });
    assert.deepEqual(await compter(), { campagnes: 0, familles: 1, demandes: 1 }, 'the dry run changed nothing');

    await envoyerFichier(page, 'rentree.csv', bon, /^Importer/);
    await page.waitForURL(/\/agents\/administration\/campagnes\/[0-9a-f-]{36}(#erreurs)?$/);
    const campagneUrl = page.url().replace(/#.*$/, '');
    const campagneId = campagneUrl.split('/').pop() as string;
    assert.match(await mainText(page), /créée avec 3 famille\(s\)/);
    assert.match(await mainText(page), /Prête, pas encore démarrée/);

    // Other calls hold the whole quota (dated ahead, so it cannot free on its own): no item is taken.
    const limite = t.config.dgfip.quotaPerMinute;
    const plein = new Date(Date.now() + 10 * 60_000).toISOString();
    await db
      .insertInto('quota_calls')
      .values(Array.from({ length: limite }, (_, i) => ({ id: `quota-plein-${i}`, bucket: 'dgfip', taken_at: plein })))
      .execute();

    await soumettre(page, 'Démarrer la campagne');
    const enCours = await mainText(page);
    assert.match(enCours, /La campagne est démarrée/);
    assert.match(enCours, /Statut En cours/);
    assert.match(enCours, /0 famille\(s\) traitée\(s\) sur 3 \(0 %\)/);
    assert.match(enCours, /Fin estimée inconnue : aucun créneau libre pour le moment/);
    await check(page, 'en-cours');

    // A pause needs its reason; with it, the campaign waits.
    await soumettre(page, 'Mettre en pause');
    await page.locator('.error-summary').waitFor();
    assert.match(await mainText(page), /Indiquez le motif/);
    await page.fill('#motif-pause', 'Vérification du fichier avec le service Famille');
    await soumettre(page, 'Mettre en pause');
    const pause = await mainText(page);
    assert.match(pause, /Statut En pause : « Vérification du fichier avec le service Famille »/);
    assert.match(pause, /0 famille\(s\) traitée\(s\) sur 3/);
    await check(page, 'en-pause');
    const elements = await db.selectFrom('campagne_elements').select(['reclame_par', 'traite_le']).where('campagne_id', '=', campagneId).execute();
    assert.ok(
      elements.every((e) => e.reclame_par === null && e.traite_le === null),
      'nothing claimed while the quota was full',
    );

    // The quota frees; resumed, the campaign goes to its end.
    await db.deleteFrom('quota_calls').where('id', 'like', 'quota-plein-%').execute();
    await soumettre(page, 'Reprendre');
    assert.match(await mainText(page), /La campagne reprend là où elle s’était arrêtée/);
    const fin = await attendrePage(page, /Statut Terminée/);
    assert.match(fin, /3 famille\(s\) traitée\(s\) sur 3 \(100 %\)/);
    assert.match(fin, /Quotient calculé 2 /);
    assert.match(fin, /État civil à corriger \(introuvable, homonymes ou dossier non communicable\) 1 /);

    // The report, as the browser downloads it: reference, outcome, new tranche; no fiscal value.
    const [telechargement] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /Télécharger le rapport/ }).click()]);
    assert.match(telechargement.suggestedFilename(), /^rapport-C-[A-Z0-9-]+\.csv$/);
    const rapport = readFileSync(await telechargement.path(), 'utf8');
    const lignes = rapport
      .replace(/^\uFEFF/, '')
      .trimEnd()
      .split('\r\n');
    assert.equal(lignes[0], 'reference;resultat;libelle_resultat;tranche;demande;traite_le');
    assert.equal(lignes.length, 4);
    const colonnes = new Map(lignes.slice(1).map((l) => [l.split(';')[0], l.split(';')]));
    const bertin = colonnes.get(reference);
    assert.ok(bertin, `the family ${reference} is in the report`);
    assert.equal(bertin[1], 'calcule');
    assert.match(bertin[3] ?? '', /^\S+$/, 'its new tranche');
    assert.equal(colonnes.get('FAM-2')?.[1], 'calcule');
    assert.equal(colonnes.get('FAM-3')?.[1], 'etat_civil');
    assert.equal(colonnes.get('FAM-3')?.[3], '', 'no tranche without a QF');
    const qf = await db
      .selectFrom('quotients')
      .select(['valeur_cents', 'demande_id'])
      .where('famille_id', '=', familleId)
      .orderBy('calcule_le', 'desc')
      .executeTakeFirstOrThrow();
    renouvelee = qf.demande_id;
    const euros = String(Math.floor(Number(qf.valeur_cents) / 100));
    assert.ok(!lignes.slice(1).some((l) => l.split(';').includes(euros)), 'no QF amount in the report');
    for (const spi of Object.values(SPI_SANDBOX.coupleMarie)) assert.ok(!rapport.includes(spi), 'no numéro fiscal');
    assert.doesNotMatch(rapport, /Bertin|Garnier|1981|rfr/i, 'no état civil, no revenue');

    // The same pages on a phone: nothing scrolls sideways.
    await page.setViewportSize(VIEWPORTS.telephone);
    await check(page, 'terminee');
    await page.goto(`${base}/agents/administration/campagnes`);
    assert.match(await mainText(page), /Rentrée 2026 \(C-[A-Z0-9-]+\) Terminée 3 sur 3 \(100 %\)/);

    // The dashboard: the campaign with its outcomes, the quota per minute, the queue; on a phone and a desktop.
    await page.goto(`${base}/agents/tableau-de-bord`);
    const tableau = await mainText(page);
    assert.match(tableau, /Rentrée 2026 \(C-[A-Z0-9-]+\) Terminée 3 sur 3 \(100 %\) Quotient calculé : 2 ; État civil à corriger[^;]*: 1 terminée le/);
    assert.match(tableau, /0 en attente de leur appel, 0 en cours d’appel\./);
    assert.match(tableau, /0 famille\(s\) à traiter/);
    await check(page, 'tableau-de-bord');
    await page.getByText('Les valeurs, minute par minute').click();
    const totaux = (await page.locator('#tdb-quota-minutes-legende ~ details tfoot td').allInnerTexts()).map((v) => Number(v.replace(/\D/g, '')));
    assert.ok((totaux[0] ?? 0) >= 1 && (totaux[1] ?? 0) >= 2, `online and campaign calls of the hour: ${totaux.join(', ')}`);
    await page.setViewportSize(VIEWPORTS.bureau);
    await check(page, 'tableau-de-bord');
  } finally {
    await page.close();
  }

  // The family: told by e-mail, and its renewed QF in « Mon espace ».
  const demande = await db.selectFrom('demandes').select(['id', 'reference', 'canal']).where('id', '=', renouvelee).executeTakeFirstOrThrow();
  assert.notEqual(demande.id, premiere.id, 'a new QF, from the campaign');
  assert.equal(demande.canal, 'campagne');
  // The e-mail of this request (the one of last year's may still be on its way): waited for, bounded.
  const duCampagne = () => t.smtp.messages.find((m) => m.to.includes(EMAIL) && m.text.includes(demande.reference));
  for (const fin = Date.now() + ATTENTE_MS; !duCampagne() && Date.now() < fin;) await new Promise((r) => setTimeout(r, 100));
  const courriel = duCampagne();
  assert.ok(courriel, `an e-mail names the campaign's request ${demande.reference}`);
  assert.match(courriel.subject, /quotient familial est calculé/);
  assert.ok(courriel.text.includes(`${base}/mon-quotient/demandes/${demande.id}`), 'with the link to it');
  for (const spi of Object.values(SPI_SANDBOX.coupleMarie)) assert.ok(!courriel.text.includes(spi));

  const famille = await browser.newPage({ viewport: VIEWPORTS.telephone });
  try {
    await famille.goto(`${base}/connexion`);
    await famille.fill('#email', EMAIL);
    await famille.fill('#password', FAMILY_PASSWORD);
    await famille.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await famille.waitForURL(/\/mon-espace(#erreurs)?$/);
    const espace = await mainText(famille);
    // The grid's QF takes effect on the first day of next month: the family's next QF, nothing to do.
    assert.match(espace, /Votre prochain quotient familial/);
    assert.match(espace, /Rien à faire : ce quotient s’applique du \d{1,2}(er)? \S+ \d{4} jusqu’au/);
    assert.doesNotMatch(espace, /Faire ma demande/);
    assert.ok(espace.includes(demande.reference), `« Mon espace » shows the campaign's request ${demande.reference}`);
    assert.ok(!espace.includes(premiere.reference), 'not last year’s');
    await checkPage(famille, SHOTS, 'famille-mon-espace');
  } finally {
    await famille.close();
  }
});
