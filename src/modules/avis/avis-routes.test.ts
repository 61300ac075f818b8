import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { jpegAvis, pdfAvis, pngAvis } from '../../domain/test-avis.ts';
import { csrfOf, type Jar } from '../../http/test-cookies.ts';
import { corpsMultipart, type FichierEnvoye } from '../../http/test-multipart.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createPortailTestApp, type PortailTestApp } from '../portail/test-support.ts';
import { COFFRE_AVIS } from './avis-service.ts';

/**
 * The two forms that take a file from a family, through HTTP as a browser posts them: the avis
 * of a request the DGFiP could not answer, and the document joined to a contestation. A file too
 * big, of a type not taken, or whose content is not what its name or type claims is refused with
 * a French message on the field, nothing written; never a 500.
 */

let t: PortailTestApp;
before(async () => {
  t = await createPortailTestApp();
});
after(() => t?.close());

const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&rsquo;/g, '’')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

/** A family signed in whose request waits for an instructor (no avis at the DGFiP for its number). */
async function familleEnAttente(email: string): Promise<{ jar: Jar; familleId: string; id: string }> {
  const { jar, familleId, compteId } = await t.signedInFamily({ parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] }, email);
  const acteur = { type: 'famille' as const, id: compteId };
  const { id } = await t.harness.demandes.soumettre({
    familleId,
    canal: 'en_ligne',
    acteur,
    foyersFiscaux: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.inconnu) }, consentement: { mode: 'en_ligne', donnePar: acteur } }],
  });
  t.services.wake();
  assert.equal((await t.harness.demandes.attendre(id, 20_000)).statut, 'a_verifier');
  return { jar, familleId, id };
}

async function envoyer(jar: Jar, page: string, champs: Record<string, string>, fichiers: readonly FichierEnvoye[]) {
  const token = csrfOf((await t.get(jar, page)).body);
  const { payload, contentType } = corpsMultipart({ _csrf: token, ...champs }, fichiers);
  const res = await t.app.inject({ method: 'POST', url: page, payload, headers: { cookie: jar.header(), 'content-type': contentType } });
  jar.take(res.headers);
  return res;
}

const kept = async (familleId: string) =>
  (
    await t.database.db.selectFrom('avis_deposes').select(['id', 'contestation_id', 'demande_id', 'detruit_le']).where('famille_id', '=', familleId).execute()
  ).filter((a) => a.detruit_le === null);

/** A file cut short, as an interrupted download leaves it. */
const sansFin = (octets: Uint8Array, n: number) => octets.subarray(0, octets.length - n);

/** What no family may slip in as an avis: too big, not a document, a document that is not what it claims. */
const REFUS: Array<{ cas: string; fichier: FichierEnvoye; message: RegExp }> = [
  {
    cas: 'too big',
    fichier: { champ: 'avis', nom: 'avis.pdf', type: 'application/pdf', octets: new Uint8Array(5120 * 1024 + 1).fill(0x25) },
    message: /Le fichier est trop lourd \(5 Mo\) : 5 Mo au plus\./,
  },
  {
    cas: 'a text file',
    fichier: { champ: 'avis', nom: 'avis.txt', type: 'text/plain', octets: new TextEncoder().encode('Ceci n’est pas un avis d’imposition, mais du texte.') },
    message: /Ce type de fichier n’est pas accepté\. Envoyez votre avis d’imposition en PDF, ou une photo lisible en JPEG ou PNG\./,
  },
  {
    cas: 'a truncated PNG named .pdf with the PDF type',
    fichier: { champ: 'avis', nom: 'avis.pdf', type: 'application/pdf', octets: sansFin(pngAvis(), 12) },
    message: /Cette image PNG est incomplète ou abîmée/,
  },
  {
    cas: 'a truncated PDF',
    fichier: { champ: 'avis', nom: 'avis.pdf', type: 'application/pdf', octets: sansFin(pdfAvis(), 20) },
    message: /Ce PDF est incomplet ou abîmé/,
  },
  {
    cas: 'an executable renamed .jpg',
    fichier: { champ: 'avis', nom: 'photo.jpg', type: 'image/jpeg', octets: Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, ...new Array<number>(200).fill(0)]) },
    message: /Ce type de fichier n’est pas accepté/,
  },
];

test('the avis of a request: a wrong file is refused on the field in French, nothing kept; a real one is kept and the page says so', async () => {
  const { jar, familleId, id } = await familleEnAttente('lea.roux.avis@exemple.fr');
  const page = `/mon-quotient/demandes/${id}/avis`;
  for (const { cas, fichier, message } of REFUS) {
    const res = await envoyer(jar, page, {}, [fichier]);
    assert.equal(res.statusCode, 400, cas);
    assert.match(res.body, /<title>Erreur : Envoyer mon avis d’imposition/, cas);
    assert.match(text(res.body), message, cas);
    assert.match(res.body, /aria-invalid="true"/, `${cas}: the field is marked`);
  }
  const vide = await envoyer(jar, page, {}, [{ champ: 'avis', nom: '', octets: new Uint8Array(0) }]);
  assert.equal(vide.statusCode, 400);
  assert.match(text(vide.body), /Choisissez le fichier de votre avis d’imposition \(PDF, JPEG ou PNG\)\./);
  assert.deepEqual(await kept(familleId), [], 'nothing kept');

  const bon = await envoyer(jar, page, {}, [{ champ: 'avis', nom: 'mon avis 2025.jpg', type: 'application/octet-stream', octets: jpegAvis() }]);
  assert.equal(bon.statusCode, 303, 'the claimed type does not matter: the bytes decide');
  const recu = text((await t.get(jar, page)).body);
  assert.match(recu, /Votre avis est bien reçu Photo JPEG envoyé le/);
  assert.equal((await kept(familleId)).length, 1);
});

test('a body over the size the server reads, or one it cannot read, is a French error page, never a 500', async () => {
  const { jar, familleId, id } = await familleEnAttente('lea.roux.limite@exemple.fr');
  const page = `/mon-quotient/demandes/${id}/avis`;
  const enorme = await envoyer(jar, page, {}, [{ champ: 'avis', nom: 'avis.pdf', type: 'application/pdf', octets: new Uint8Array(7 * 1024 * 1024) }]);
  assert.equal(enorme.statusCode, 413);
  assert.match(text(enorme.body), /Les données envoyées dépassent la taille autorisée\./);
  const token = csrfOf((await t.get(jar, page)).body);
  const illisible = await t.app.inject({
    method: 'POST',
    url: page,
    payload: `--x\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n--x\r\nsans fin`,
    headers: { cookie: jar.header(), 'content-type': 'multipart/form-data; boundary=x' },
  });
  assert.equal(illisible.statusCode, 400);
  assert.match(text(illisible.body), /Le formulaire envoyé est illisible : rechargez la page et envoyez-le de nouveau\./);
  assert.deepEqual(await kept(familleId), []);
});

test('a contestation with a document: a wrong file is refused with the message kept and no contestation written; a PDF is joined, read by the instructor, destroyed at the answer', async () => {
  const { jar, familleId, id } = await familleEnAttente('lea.roux.contestation@exemple.fr');
  const page = `/mon-quotient/demandes/${id}/contestation`;
  const formulaire = (await t.get(jar, page)).body;
  assert.match(formulaire, /enctype="multipart\/form-data"/);
  assert.match(text(formulaire), /Un document à l’appui \(facultatif\)/);
  const motif = 'Notre troisième enfant est né en mars : il n’est pas sur l’avis.';
  const contestations = async () =>
    (await t.database.db.selectFrom('contestations').select('id').where('famille_id', '=', familleId).execute()).map((c) => c.id);

  for (const { cas, fichier, message } of REFUS) {
    const res = await envoyer(jar, page, { motif }, [{ ...fichier, champ: 'piece' }]);
    assert.equal(res.statusCode, 400, cas);
    assert.match(text(res.body), message, cas);
    assert.match(res.body, /id="piece"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="piece"/, `${cas}: on the file field`);
    assert.match(res.body, /Notre troisième enfant est né en mars/, `${cas}: the message is kept`);
  }
  assert.deepEqual(await contestations(), [], 'no contestation without its document');
  assert.deepEqual(await kept(familleId), []);

  const envoi = await envoyer(jar, page, { motif }, [{ champ: 'piece', nom: 'acte de naissance.pdf', type: 'application/pdf', octets: pdfAvis() }]);
  assert.equal(envoi.statusCode, 200);
  assert.match(text(envoi.body), /Votre signalement est enregistré .* Votre document est joint au signalement ; il sera détruit dès la réponse de l’agent\./);
  const [contestationId] = await contestations();
  assert.ok(contestationId);
  const joints = await kept(familleId);
  assert.deepEqual(
    joints.map((a) => [a.contestation_id, a.demande_id]),
    [[contestationId, null]],
  );
  assert.ok(await t.services.coffre.getBytes(COFFRE_AVIS, joints[0]!.id), 'kept in the silo');

  const agent = { type: 'agent' as const, id: 'agent-instructeur' };
  const lu = await t.services.avis.lire(joints[0]!.id, agent, 'contestation');
  assert.equal(lu.format, 'pdf');
  await t.harness.decisions.repondre(contestationId, agent, {
    reponse: 'Votre avis ne compte pas encore votre troisième enfant : il le comptera l’an prochain.',
    suite: 'maintien',
  });
  assert.deepEqual(await kept(familleId), [], 'destroyed at the answer');
  assert.equal(await t.services.coffre.getBytes(COFFRE_AVIS, joints[0]!.id), undefined, 'gone from the silo');

  // Without a file, the form still works as before.
  const sansPiece = await familleEnAttente('lea.roux.sans-piece@exemple.fr');
  const simple = await envoyer(sansPiece.jar, `/mon-quotient/demandes/${sansPiece.id}/contestation`, { motif }, [
    { champ: 'piece', nom: '', octets: new Uint8Array(0) },
  ]);
  assert.equal(simple.statusCode, 200);
  assert.doesNotMatch(text(simple.body), /Votre document est joint/);
  assert.deepEqual(await kept(sansPiece.familleId), []);
});
