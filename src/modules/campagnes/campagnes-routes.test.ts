import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { csrfOf, type Jar } from '../../http/test-cookies.ts';
import { corpsMultipart } from '../../http/test-multipart.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { HABILITATION_ETAT_CIVIL } from '../demandes/test-harness.ts';
import { bertinRoussel, fichierCsv, garnier } from './test-support.ts';

let t: BackOfficeTestApp;
let admin: Jar;
before(async () => {
  t = await createBackOfficeTestApp({ habilitation: HABILITATION_ETAT_CIVIL.sfip });
  admin = await t.signInAgent('administrateur');
});
after(() => t.close());

const BASE = '/agents/administration/campagnes';
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&rsquo;/g, '’')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** A form with a file, as a browser sends it. */
async function envoyer(jar: Jar, champs: Record<string, string>, fichier: { nom: string; octets: Uint8Array } | null, boundary = 'frontiere-de-test-1234') {
  const token = csrfOf((await t.get(jar, `${BASE}/import`)).body);
  const { payload, contentType } = corpsMultipart(
    { _csrf: token ?? '', ...champs },
    fichier ? [{ champ: 'fichier', type: 'text/csv', ...fichier }] : [],
    boundary,
  );
  const res = await t.app.inject({
    method: 'POST',
    url: `${BASE}/import`,
    payload,
    headers: { cookie: jar.header(), 'content-type': contentType },
  });
  jar.take(res.headers);
  return res;
}

const nbCampagnes = async () => (await t.database.db.selectFrom('campagnes').select('id').execute()).length;

test('an administrator checks a file, sees its line errors, imports it fixed, starts it, and downloads the report', async () => {
  const accueil = await t.get(admin, '/agents/administration');
  assert.match(accueil.body, /href="\/agents\/administration\/campagnes"/);

  const tableur = await envoyer(admin, { libelle: 'Rentrée', action: 'essai' }, { nom: 'liste.xlsx', octets: Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 9, 9]) });
  assert.equal(tableur.statusCode, 200);
  assert.match(text(tableur.body), /classeur de tableur \(\.xlsx ou \.ods\)/);

  const fautif = fichierCsv([bertinRoussel('FAM-1'), { ...garnier('FAM-2'), p1_date_naissance: '1992-13-45' }, garnier('FAM-1')]);
  const refus = await envoyer(admin, { libelle: 'Rentrée', action: 'importer' }, { nom: 'rentree.csv', octets: fautif });
  assert.equal(refus.statusCode, 400);
  assert.match(refus.body, /<title>Erreur : /);
  assert.match(text(refus.body), /Ligne 3, p1_date_naissance : date de naissance attendue/);
  assert.match(text(refus.body), /Ligne 4, reference : la référence « FAM-1 » figure déjà ligne 2 \(doublon\)/);
  assert.match(text(refus.body), /rien n’a été importé/);
  assert.equal(await nbCampagnes(), 0);

  const bon = fichierCsv([bertinRoussel('FAM-1'), garnier('FAM-2')]);
  const essai = await envoyer(admin, { libelle: 'Rentrée', action: 'essai' }, { nom: 'rentree.csv', octets: bon });
  assert.equal(essai.statusCode, 200);
  assert.match(text(essai.body), /Vérification du fichier : aucune erreur/);
  assert.match(text(essai.body), /0 famille\(s\) déjà connue\(s\) de Quotient, 2 à créer/);
  assert.equal(await nbCampagnes(), 0, 'the dry run created nothing');

  const cree = await envoyer(admin, { libelle: 'Rentrée', action: 'importer' }, { nom: 'rentree.csv', octets: bon });
  assert.equal(cree.statusCode, 303);
  const page = String(cree.headers.location);
  assert.match(page, new RegExp(`^${BASE}/[0-9a-f-]{36}$`));
  const brouillon = await t.get(admin, page);
  assert.match(text(brouillon.body), /créée avec 2 famille\(s\)/);
  assert.match(text(brouillon.body), /Prête, pas encore démarrée/);

  const sansMotif = await t.post(admin, page, `${page}/annuler`, { motif: '' });
  assert.equal(sansMotif.statusCode, 400);
  assert.match(text(sansMotif.body), /Indiquez le motif/);
  const pasDemarree = await t.post(admin, page, `${page}/pause`, { motif: 'Essai de pause' });
  assert.equal(pasDemarree.statusCode, 409, 'a campaign not started cannot be paused');
  const demarree = await t.post(admin, page, `${page}/demarrer`, {});
  assert.equal(demarree.statusCode, 303);
  // The worker of this process processes it (the app runs as `all`).
  let etat = '';
  for (const limite = Date.now() + 60_000; Date.now() < limite; await new Promise((r) => setTimeout(r, 200))) {
    etat = text((await t.get(admin, page)).body);
    if (/Terminée/.test(etat)) break;
  }
  assert.match(etat, /2 famille\(s\) traitée\(s\) sur 2 \(100 %\)/);
  const rapport = await t.get(admin, `${page}/rapport.csv`);
  assert.equal(rapport.statusCode, 200);
  assert.match(String(rapport.headers['content-type']), /^text\/csv/);
  assert.match(rapport.body, /^\uFEFFreference;resultat;libelle_resultat;tranche;demande;traite_le\r\nFAM-1;calcule;/);
  // The families were told, as online ones are.
  const courriels = () => t.smtp.messages.filter((m) => /fam-[12]@example\.org/i.test(m.to.join(',')));
  for (const limite = Date.now() + 20_000; courriels().length < 2 && Date.now() < limite;) await new Promise((r) => setTimeout(r, 100));
  assert.equal(courriels().length, 2);
  assert.ok(courriels().every((m) => /quotient familial est calculé/.test(m.subject)));
});

test('other roles cannot reach the campaigns; a body that is not a form is a French 400, never a 500', async () => {
  for (const role of ['guichet', 'instructeur', 'auditeur'] as const) {
    const jar = await t.signInAgent(role);
    assert.equal((await t.get(jar, BASE)).statusCode, 403, role);
  }
  const token = csrfOf((await t.get(admin, `${BASE}/import`)).body);
  const res = await t.app.inject({
    method: 'POST',
    url: `${BASE}/import`,
    payload: Buffer.from(`--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n--x\r\nGARBAGE`),
    headers: { cookie: admin.header(), 'content-type': 'multipart/form-data; boundary=x' },
  });
  assert.equal(res.statusCode, 400);
  assert.match(text(res.body), /Le formulaire envoyé est illisible/);
  const vide = await envoyer(admin, { libelle: 'Rien', action: 'essai' }, null);
  assert.equal(vide.statusCode, 400);
  assert.match(text(vide.body), /Choisissez le fichier CSV à importer/);
  const trop = await envoyer(admin, { libelle: 'Gros', action: 'essai' }, { nom: 'gros.csv', octets: new Uint8Array(7 * 1024 * 1024).fill(0x41) });
  assert.equal(trop.statusCode, 413);
});
