/**
 * The administrator's deposit of a tariff policy goes through the free-text normaliser (issue 12,
 * hole 4): an activity label shaped like a numéro fiscal (dashed, or in full-width digits) is
 * refused with a French message naming the field and its line; nothing is stored, the text is not
 * shown back, the refusal is journaled without it; an ordinary policy is still taken.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';

let t: BackOfficeTestApp;
let admin: Jar;
before(async () => {
  t = await createBackOfficeTestApp();
  admin = await t.signInAgent('administrateur');
});
after(() => t.close());

const BOULOGNE = readFileSync(new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url), 'utf8');
const FORM = '/agents/administration/politiques/nouvelle';
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&rsquo;/g, '’')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/[ \t\n]+/g, ' ');

test('an activity label shaped like a numéro fiscal is refused naming the field and its line; nothing is stored or shown back', async () => {
  for (const forme of ['31-41-592-653-423', '３１４１５９２６５３４２３']) {
    const contenu = BOULOGNE.replace('libelle: Restauration scolaire', `libelle: "Restauration ${forme}"`);
    assert.notEqual(contenu, BOULOGNE);
    const ligne = contenu.split('\n').findIndex((l) => l.includes('libelle: "Restauration')) + 1;
    const res = await t.post(admin, FORM, '/agents/administration/politiques', { libelle: 'Tarifs 2026', texte: contenu });
    assert.equal(res.statusCode, 400, forme);
    const page = text(res.body);
    assert.match(page, /La politique tarifaire contient un texte qui ressemble à un numéro fiscal : retirez-le des champs indiqués\./);
    assert.match(page, /le texte n’est pas réaffiché : corrigez le fichier dans votre éditeur, puis collez-le de nouveau/);
    assert.ok(page.includes(`activites[0].libelle (ligne ${ligne}) : ce texte ressemble à un numéro fiscal : retirez-le.`), page);
    assert.equal(ressembleANumeroFiscal(res.body), false, `${forme} is not shown back`);
    assert.match(res.body, /<textarea[^>]*id="texte"[^>]*>\s*<\/textarea>/, 'the form is given back empty');
  }
  const refus = (await t.harness.journal.query({ action: 'politique.deposee' })).entries;
  assert.deepEqual(
    refus.map((e) => [e.outcome, e.details.code]),
    [
      ['echec', 'politique_numero_fiscal'],
      ['echec', 'politique_numero_fiscal'],
    ],
  );
  assert.deepEqual(await t.database.db.selectFrom('politique_versions').select('id').execute(), [], 'nothing stored');
  assert.equal((await t.services.politiques.lister()).length, 1, 'only the configuration file’s version');

  // The ordinary policy, with its source's dated web address, is taken.
  const ok = await t.post(admin, FORM, '/agents/administration/politiques', { libelle: 'Tarifs 2026', texte: BOULOGNE.replace('taux: 0.36', 'taux: 0.37') });
  assert.equal(ok.statusCode, 303, text(ok.body));
  assert.equal((await t.database.db.selectFrom('politique_versions').select('id').execute()).length, 1);
});
