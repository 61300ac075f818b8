import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ALPHABET_CODE } from '../../domain/attestation.ts';
import { formatDateFrancaise } from '../../domain/dates.ts';
import { formatEuros } from '../../domain/money.ts';
import { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { COFFRE } from '../demandes/demandes-repo.ts';
import { BERTIN_ROUSSEL, enLigne } from '../demandes/test-harness.ts';
import { RetentionService } from '../retention/retention-service.ts';
import { AttestationsService } from './attestations-service.ts';
import { lirePdf } from './test-pdf.ts';

/**
 * The attestation as its readers meet it: the family downloads it, the counter prints the same one,
 * a leisure centre checks its code on the public page. The PDF is read back from its bytes (text
 * with pdfjs, QR code with jsQR); the public page is asked as anyone would, without signing in.
 */

let t: BackOfficeTestApp;
before(async () => {
  t = await createBackOfficeTestApp();
});
after(() => t?.close());

const SPI = SPI_SANDBOX.coupleMarie.declarant1;
const anonyme = new Jar();
const texte = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, '’')
    .replace(/[\s\u00a0\u202f]+/g, ' ');
const espaces = (s: string) => s.replace(/[\s\u00a0\u202f]+/g, ' ');
const codeDe = (html: string) => {
  const m = /class="code-verification">([^<]+)</.exec(html);
  assert.ok(m, 'the attestation shows its code');
  return m[1] as string;
};

/** A request of the family through the real processing loop, to its QF. */
async function quotient(familleId: string, compteId: string): Promise<string> {
  const { id } = await t.harness.demandes.soumettre(enLigne(familleId, [[1, SPI]], { type: 'famille', id: compteId }));
  t.services.wake();
  const etat = await t.harness.demandes.attendre(id, 30_000);
  assert.equal(etat.statut, 'calculee', `the request ends with a QF, not « ${etat.statut} »`);
  return id;
}

/** The bytes of a download, as the browser saves them. */
async function telecharger(jar: Jar, url: string) {
  const res = await t.app.inject({ url, headers: { cookie: jar.header() } });
  return { statusCode: res.statusCode, headers: res.headers, octets: res.rawPayload, body: res.body };
}

async function journal(action: string) {
  return (await t.harness.journal.query({ action })).entries;
}

let famille: { jar: Jar; familleId: string; compteId: string };
let premiere = '';
let code1 = '';

test('the family’s attestation: a page to print or download; its PDF holds the commune, reference, names, QF, tranche, period, source and code, never the RFR; its QR code opens the check', async () => {
  famille = await t.signedInFamily(BERTIN_ROUSSEL, 'paul.bertin@exemple.fr');
  premiere = await quotient(famille.familleId, famille.compteId);
  const etat = await t.harness.demandes.etat(premiere);
  const q = etat.quotient;
  assert.ok(q);
  const composition = await t.harness.familles.composition(famille.familleId);
  const commune = t.config.commune.commune.nom;

  const page = await t.get(famille.jar, `/mon-quotient/demandes/${premiere}/attestation`);
  assert.equal(page.statusCode, 200);
  code1 = codeDe(page.body);
  assert.match(code1, /^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);
  assert.match(page.body, /<button type="button" class="button" data-imprimer="true" hidden>Imprimer<\/button>/);
  assert.match(page.body, /<script src="\/static\/imprimer.js" defer><\/script>/);
  assert.ok(page.body.includes(`href="/mon-quotient/demandes/${premiere}/attestation.pdf">Télécharger en PDF</a>`));
  const html = texte(page.body);
  for (const attendu of [composition.reference, 'Paul Bertin et Claire Bertin', espaces(formatEuros(q.cents)), 'taux d’effort'])
    assert.ok(html.includes(attendu), attendu);

  const pdf = await telecharger(famille.jar, `/mon-quotient/demandes/${premiere}/attestation.pdf`);
  assert.equal(pdf.statusCode, 200);
  assert.equal(pdf.headers['content-type'], 'application/pdf');
  assert.equal(pdf.headers['content-disposition'], `attachment; filename="attestation-quotient-${composition.reference}-${code1}.pdf"`);
  assert.equal(pdf.headers['cache-control'], 'no-store');
  const lu = await lirePdf(pdf.octets);
  assert.equal(lu.pages, 1);
  assert.deepEqual(
    lu.format.map((x) => Math.round(x)),
    [595, 842],
    'A4',
  );
  assert.equal(lu.titre, `Attestation de quotient familial – ${commune}`);
  assert.equal(lu.langue, 'fr-FR');
  for (const attendu of [
    commune,
    `référence ${composition.reference}`,
    'Paul Bertin et Claire Bertin',
    `${espaces(formatEuros(q.cents))} par mois`,
    `du ${formatDateFrancaise(q.valideDu)} au ${formatDateFrancaise(q.valideAu)}`,
    'Restauration scolaire taux d’effort',
    etat.reference,
    code1,
    `${t.config.publicUrl}/verifier`,
  ]) {
    assert.ok(lu.texte.includes(attendu), `the PDF says « ${attendu} »: ${lu.texte}`);
  }
  assert.match(lu.texte, /Établie le \d{1,2}(er)? [a-zéû]+ \d{4}/);
  assert.match(lu.texte, /Source DGFiP, avis d’imposition (\d{4}) \(revenus (\d{4})\)/);
  const [, avis, revenus] = /avis d’imposition (\d{4}) \(revenus (\d{4})\)/.exec(lu.texte) ?? [];
  assert.equal(Number(avis), Number(revenus) + 1, 'the avis is of the year after the income');

  // The RFR of the avis used (read from the silo), whatever its spacing, and the numéro fiscal: never printed.
  const foyers = await t.database.db.selectFrom('demande_foyers').select('id').where('demande_id', '=', premiere).execute();
  for (const foyer of foyers) {
    const situation = (await t.harness.coffre.get(COFFRE.situation, foyer.id)) as { rfr: number };
    assert.ok(situation.rfr > 0);
    assert.equal(lu.texte.replace(/\s/g, '').includes(String(situation.rfr)), false, 'no RFR in the PDF');
    assert.equal(html.replace(/\s/g, '').includes(String(situation.rfr)), false, 'no RFR on the page');
  }
  assert.equal(lu.texte.includes(SPI), false);
  assert.equal(pdf.octets.includes(SPI), false);

  // The QR code, decoded from the image in the PDF, is the public check of this very code.
  assert.deepEqual(lu.qrCodes, [`${t.config.publicUrl}/verifier/${code1}`]);

  // Printed again, the same attestation: the same code, issued (and journaled) once.
  assert.equal(codeDe((await t.get(famille.jar, `/mon-quotient/demandes/${premiere}/attestation`)).body), code1);
  const emises = (await journal('attestation.emise')).filter((e) => e.details.demande === premiere);
  assert.deepEqual(
    emises.map((e) => [e.actor.type, e.actor.id]),
    [['famille', famille.compteId]],
  );
});

test('anyone checks the code on /verifier without signing in: valid, the tranche and the period, never the name; typed loosely it reads the same; each check journaled', async () => {
  assert.ok(code1, 'the previous test issued an attestation');
  const etat = await t.harness.demandes.etat(premiere);
  const q = etat.quotient;
  assert.ok(q);
  const composition = await t.harness.familles.composition(famille.familleId);
  const avant = (await journal('attestation.verifiee')).length;

  const form = await t.get(anonyme, '/verifier');
  assert.equal(form.statusCode, 200);
  assert.match(form.body, /<form method="get" action="\/verifier#erreurs"/);
  assert.match(form.body, /<label for="code">Code de vérification/);

  for (const url of [`/verifier/${code1}`, `/verifier?code=${encodeURIComponent(` ${code1.toLowerCase().replaceAll('-', ' ')} `)}`]) {
    const res = await t.get(anonyme, url);
    assert.equal(res.statusCode, 200, url);
    assert.equal(res.headers['x-robots-tag'], 'noindex');
    const vu = texte(res.body);
    assert.match(vu, /Attestation valable/);
    assert.ok(vu.includes(`Code vérifié : ${code1}`));
    assert.ok(vu.includes(`Période de validité du ${formatDateFrancaise(q.valideDu)} au ${formatDateFrancaise(q.valideAu)}`));
    assert.ok(vu.includes('Restauration scolaire tarif au taux d’effort'));
    // Every price of this policy follows the QF itself: the tranche says nothing, so the QF is given.
    assert.ok(vu.includes(`Quotient familial ${espaces(formatEuros(q.cents))} par mois`));
    for (const personnel of ['Bertin', 'Roussel', 'Paul', composition.reference, etat.reference]) assert.equal(vu.includes(personnel), false, personnel);
  }
  const verifiees = (await journal('attestation.verifiee')).slice(avant);
  assert.equal(verifiees.length, 2);
  for (const e of verifiees) {
    assert.equal(e.actor.type, 'anonyme');
    assert.equal(e.outcome, 'succes');
    assert.equal(e.details.resultat, 'valable');
    assert.equal(e.target?.type, 'attestation');
  }
});

test('a forged code, a mistyped one and odd input: refused in French, never a 500, nothing that could be a numéro fiscal echoed or journaled', async () => {
  assert.ok(code1);
  // One sign changed: the same shape, no attestation.
  const dernier = code1.at(-1) as string;
  const forge = code1.slice(0, -1) + (ALPHABET_CODE[(ALPHABET_CODE.indexOf(dernier) + 1) % ALPHABET_CODE.length] as string);
  const refuse = await t.get(anonyme, `/verifier/${forge}`);
  assert.equal(refuse.statusCode, 200);
  assert.match(texte(refuse.body), /Code inconnu : attestation non reconnue/);
  assert.match(texte(refuse.body), /Aucune attestation ne porte ce code/);
  assert.doesNotMatch(refuse.body, /Attestation valable|taux d’effort/);

  const malForme = await t.get(anonyme, '/verifier?code=ABCD-EFGH');
  assert.equal(malForme.statusCode, 400);
  assert.match(texte(malForme.body), /Un code de vérification compte 12 caractères/);
  assert.match(malForme.body, /href="#code"/, 'the error summary leads to the field');

  // Someone types a numéro fiscal there: refused, and not shown back.
  const numero = await t.get(anonyme, `/verifier?code=${SPI}`);
  assert.equal(numero.statusCode, 400);
  assert.equal(numero.body.includes(SPI), false);
  assert.equal(
    t.logLines.some((l) => l.includes(SPI)),
    false,
    'nor logged',
  );

  for (const bizarre of [
    '',
    '%00',
    '%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    encodeURIComponent('é'.repeat(600)),
    encodeURIComponent('🙂🙂🙂🙂-🙂🙂🙂🙂-🙂🙂🙂🙂'),
    '..%2F..%2Fetc%2Fpasswd',
    'x&code=y',
  ]) {
    for (const url of [`/verifier?code=${bizarre}`, `/verifier/${bizarre}`]) {
      const res = await t.get(anonyme, url);
      assert.ok(res.statusCode < 500, `${url}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /<script>alert/);
      if (res.statusCode !== 404) assert.match(res.body, /lang="fr"/);
    }
  }
  const entrees = await journal('attestation.verifiee');
  assert.ok(entrees.some((e) => e.details.resultat === 'inconnue' && e.outcome === 'echec'));
  assert.ok(entrees.some((e) => e.details.resultat === 'code_mal_forme'));
  assert.equal(JSON.stringify(entrees).includes(SPI), false);
  assert.equal(JSON.stringify(entrees).includes(forge), false, 'the code typed is never written');
});

let troisieme = '';
let code3 = '';

test('a later QF replaces the attestation (a new request, then a contestation decided by hand): the old code reads « remplacée », its page says where the QF in force is, its PDF is refused', async () => {
  assert.ok(code1);
  const seconde = await quotient(famille.familleId, famille.compteId);
  const ancienne = texte((await t.get(anonyme, `/verifier/${code1}`)).body);
  assert.match(ancienne, /Attestation remplacée/);
  assert.match(ancienne, /a été remplacé par un quotient plus récent : elle n’est plus valable/);
  assert.doesNotMatch(ancienne, /taux d’effort|Quotient familial \d/, 'no tranche for a replaced attestation');

  const page = await t.get(famille.jar, `/mon-quotient/demandes/${premiere}/attestation`);
  assert.equal(page.statusCode, 200);
  const etatSeconde = await t.harness.demandes.etat(seconde);
  assert.match(
    texte(page.body),
    new RegExp(`a été remplacé par un quotient plus récent \\(demande ${etatSeconde.reference}\\) : son attestation n’est plus valable`),
  );
  assert.ok(page.body.includes(`href="/mon-quotient/demandes/${seconde}/attestation"`));
  assert.doesNotMatch(page.body, /code-verification/);
  const pdf = await telecharger(famille.jar, `/mon-quotient/demandes/${premiere}/attestation.pdf`);
  assert.equal(pdf.statusCode, 409);
  assert.match(pdf.headers['content-type'] as string, /^text\/html/);
  assert.match(texte(pdf.body), /a été remplacé par un quotient plus récent : son attestation n’est plus valable/);

  const code2 = codeDe((await t.get(famille.jar, `/mon-quotient/demandes/${seconde}/attestation`)).body);
  assert.notEqual(code2, code1);
  assert.match(texte((await t.get(anonyme, `/verifier/${code2}`)).body), /Attestation valable/);

  // The family contests; an instructor sets the QF by hand from a document: a new request, a new QF.
  const instructeur = { type: 'agent' as const, id: t.agents.instructeur.id };
  const contestation = await t.harness.familles.contester(famille.familleId, seconde, 'Un enfant de plus depuis l’avis.', {
    type: 'famille',
    id: famille.compteId,
  });
  const reponse = await t.harness.decisions.repondre(contestation, instructeur, {
    reponse: 'Quotient fixé au vu de votre livret de famille.',
    suite: 'qf_manuel',
    justification: 'Livret de famille présenté : un enfant de plus.',
    piece: 'livret de famille présenté en mairie',
    qfCents: 61_250,
  });
  assert.ok(reponse.demande);
  troisieme = reponse.demande.id;
  assert.match(texte((await t.get(anonyme, `/verifier/${code2}`)).body), /Attestation remplacée/);

  const manuel = await telecharger(famille.jar, `/mon-quotient/demandes/${troisieme}/attestation.pdf`);
  assert.equal(manuel.statusCode, 200);
  const lu = await lirePdf(manuel.octets);
  assert.ok(lu.texte.includes('Source fixé par un agent de la commune au vu d’un document'), lu.texte);
  assert.ok(lu.texte.includes(`${espaces(formatEuros(61_250))} par mois`));
  assert.equal(lu.texte.includes('DGFiP'), false, 'no avis was read for it');
  code3 = lu.qrCodes[0]?.split('/').at(-1) ?? '';
  assert.match(texte((await t.get(anonyme, `/verifier/${code3}`)).body), /Attestation valable/);
});

test('past its period an attestation reads « expirée »; so does its code once the retention purge deleted the request, never « inconnue »', async () => {
  assert.ok(code3 && troisieme);
  const q = (await t.harness.demandes.etat(troisieme)).quotient;
  assert.ok(q);
  // The day after the period, by a clock moved there: no waiting, no racing the real one.
  const lendemain = Date.parse(`${q.valideAu}T12:00:00Z`) + 24 * 3600_000;
  const plusTard = new AttestationsService({
    db: t.database.db,
    journal: t.harness.journal,
    familles: t.harness.familles,
    commune: t.config.commune,
    publicUrl: t.config.publicUrl,
    clock: () => lendemain,
  });
  const expiree = await plusTard.verifier(code3, { type: 'anonyme', id: 'test' });
  assert.equal(expiree.statut, 'expiree');
  assert.ok(!('tranches' in expiree && expiree.tranches), 'no tranche once expired');
  const horsVigueur = await plusTard.attestation(troisieme, { type: 'famille', id: famille.compteId });
  assert.equal(horsVigueur.statut, 'expiree');

  // Years later the purge deletes the requests; the codes stay, unlinked, with their period only.
  const purge = new RetentionService({
    db: t.database.db,
    coffre: t.harness.coffre,
    journal: t.harness.journal,
    conservation: t.config.commune.conservation,
    clock: () => new Date(lendemain + 5 * 365 * 24 * 3600_000),
  });
  await purge.purger();
  const restantes = await t.database.db.selectFrom('attestations').select(['code', 'demande_id', 'famille_id']).where('code', 'in', [code1, code3]).execute();
  assert.equal(restantes.length, 2);
  for (const r of restantes) assert.equal(r.demande_id, null);
  for (const code of [code1, code3]) {
    const vu = texte((await t.get(anonyme, `/verifier/${code}`)).body);
    assert.match(vu, /Attestation expirée/, code);
    assert.match(vu, /était valable du .* au .* : elle ne l’est plus/);
  }
});

test('the counter prints the same attestation for a family: the same code, the same PDF content, read as the request’s', async () => {
  const autre = await t.signedInFamily(BERTIN_ROUSSEL, 'claire.bertin@exemple.fr');
  const demande = await quotient(autre.familleId, autre.compteId);
  const guichet = await t.signInAgent('guichet');

  const auGuichet = await t.get(guichet, `/agents/guichet/demandes/${demande}/attestation`);
  assert.equal(auGuichet.statusCode, 200);
  const code = codeDe(auGuichet.body);
  assert.ok(auGuichet.body.includes(`href="/agents/guichet/demandes/${demande}/attestation.pdf">Télécharger en PDF</a>`));
  assert.match(auGuichet.body, /data-imprimer/);
  const pourLaFamille = await t.get(autre.jar, `/mon-quotient/demandes/${demande}/attestation`);
  assert.equal(codeDe(pourLaFamille.body), code, 'the family holds the very attestation the counter printed');
  // The same document on both sides, but for the shell around it (the day is the same).
  const corps = (html: string) => /<article class="attestation"[\s\S]*<\/article>/.exec(html)?.[0];
  assert.equal(corps(auGuichet.body), corps(pourLaFamille.body));

  const pdfGuichet = await lirePdf((await telecharger(guichet, `/agents/guichet/demandes/${demande}/attestation.pdf`)).octets);
  const pdfFamille = await lirePdf((await telecharger(autre.jar, `/mon-quotient/demandes/${demande}/attestation.pdf`)).octets);
  assert.equal(pdfGuichet.texte, pdfFamille.texte);
  assert.deepEqual(pdfGuichet.qrCodes, [`${t.config.publicUrl}/verifier/${code}`]);

  const lectures = (await journal('demande.consultee')).filter((e) => e.target?.id === demande && e.details.vue === 'attestation');
  assert.ok(lectures.length >= 2 && lectures.every((e) => e.actor.id === t.agents.guichet.id));
  const emise = (await journal('attestation.emise')).filter((e) => e.details.demande === demande);
  assert.deepEqual(
    emise.map((e) => e.actor.id),
    [t.agents.guichet.id],
  );
  // Another family never reaches it (the purge above ended the first family's session: a new one).
  const voisine = await t.signedInFamily({ parents: [{ nomNaissance: 'Voisin', prenoms: 'Marc', dateNaissance: '1980-01-01' }] }, 'marc.voisin@exemple.fr');
  assert.equal((await t.get(voisine.jar, `/mon-quotient/demandes/${demande}/attestation.pdf`)).statusCode, 404);
});
