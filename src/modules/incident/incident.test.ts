/**
 * Incident measures at the HTTP level, on the whole application as production composes it: the
 * administrators' page (a reason for every measure, never a numéro fiscal), DGFiP calls suspended
 * (queued requests wait, families are told), the portal in maintenance (French 503, Retry-After;
 * back-office, API and health stay up), sessions revoked; then the integrity halt as families,
 * counter agents and auditors meet it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import { asPrivileged } from '../audit/test-support.ts';
import { AVIS_FAMILLES } from './interrupteurs.ts';

let t: BackOfficeTestApp;
let admin: Jar;
const PAGE = '/agents/administration/incident';
const ROUX = { parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] };
/** The text of a page, tags removed and blanks collapsed. */
const texte = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
const entrees = async (action: string) => (await t.harness.journal.query({ action })).entries;

before(async () => {
  // The integrity halt is raised on purpose (last test): the one alert of this file.
  t = await createBackOfficeTestApp({ alertesAttendues: ['journal.integrite_rompue'] });
  admin = await t.signInAgent('administrateur');
});
after(() => t.close());

test('the incident page: each measure with its state, a reason required for each, never a numéro fiscal', async () => {
  const page = await t.get(admin, PAGE);
  assert.equal(page.statusCode, 200);
  const lu = texte(page.body);
  for (const attendu of ['Mesures d’incident', 'Appels à la DGFiP', 'Campagnes', 'Portail des familles', 'Révoquer des sessions', 'Journal d’audit intact'])
    assert.ok(lu.includes(attendu), attendu);
  assert.match((await t.get(admin, '/agents/administration')).body, /href="\/agents\/administration\/incident"/);

  const sansMotif = await t.post(admin, PAGE, `${PAGE}/interrupteurs`, { interrupteur: 'appels_dgfip', etat: 'on', motif: ' ' });
  assert.equal(sansMotif.statusCode, 400);
  assert.match(sansMotif.body, /href="#motif-appels_dgfip">Indiquez le motif/);
  for (const spi of ['3141592653423', '314 159 265 3423']) {
    const refuse = await t.post(admin, PAGE, `${PAGE}/interrupteurs`, { interrupteur: 'maintenance', etat: 'on', motif: `Fuite du numéro ${spi}` });
    assert.equal(refuse.statusCode, 400);
    assert.match(refuse.body, /semble contenir un numéro fiscal/);
    assert.equal(refuse.body.includes(spi), false, 'the reason is not shown back');
  }
  const inconnu = await t.post(admin, PAGE, `${PAGE}/interrupteurs`, { interrupteur: 'tout', etat: 'on', motif: 'un motif valable' });
  assert.equal(inconnu.statusCode, 400);
  assert.deepEqual(await entrees('incident.interrupteur'), [], 'nothing refused was turned nor journaled');
  assert.equal(t.services.incident.cache.dernier().interrupteurs.maintenance.actif, false);
});

test('DGFiP calls suspended: queued requests wait and families are told, new ones are still queued; resuming sends them', async () => {
  const famille = await t.signedInFamily(ROUX, 'lea.roux@exemple.fr');
  const suspendu = await t.post(admin, PAGE, `${PAGE}/interrupteurs`, {
    interrupteur: 'appels_dgfip',
    etat: 'on',
    motif: 'Certificat client peut-être compromis',
  });
  assert.equal(suspendu.statusCode, 303);
  const page = texte((await t.get(admin, PAGE)).body);
  assert.match(page, /Appels à la DGFiP : suspendus\. La mesure prend effet sur toutes les instances/);
  assert.ok(page.includes(`Décidé par ${t.agents.administrateur.prenom} ${t.agents.administrateur.nom}`));
  assert.ok(page.includes('Certificat client peut-être compromis'));
  const [entree] = await entrees('incident.interrupteur');
  assert.deepEqual(entree?.details, { actif: true, interrupteur: 'appels_dgfip', motif: 'Certificat client peut-être compromis' });
  assert.equal(entree?.actor.id, t.agents.administrateur.id);
  // Turned again: nothing changes, nothing more is journaled.
  await t.post(admin, PAGE, `${PAGE}/interrupteurs`, { interrupteur: 'appels_dgfip', etat: 'on', motif: 'une seconde fois' });
  assert.equal((await entrees('incident.interrupteur')).length, 1);

  // Agents see the measure, who took it and why, on every page.
  const guichet = await t.signInAgent('guichet');
  assert.match(
    texte((await t.get(guichet, '/agents/guichet')).body),
    /Appels à la DGFiP : suspendus depuis le .*, par .* : « Certificat client peut-être compromis »/,
  );
  // A visitor of the agents' sign-in page learns nothing of it.
  const connexion = await t.app.inject({ url: '/agents/connexion' });
  assert.equal(connexion.statusCode, 200);
  assert.equal(connexion.body.includes('Certificat client'), false);
  // Families are told on the portal's pages, and may still ask.
  assert.ok(texte((await t.get(famille.jar, '/mon-quotient')).body).includes(AVIS_FAMILLES.incident));
  const appels = t.sandbox.admin.calls().length;
  const { id } = await t.harness.demandes.soumettre({
    familleId: famille.familleId,
    canal: 'en_ligne',
    acteur: { type: 'famille', id: famille.compteId },
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.rfrZero) },
        consentement: { mode: 'en_ligne', donnePar: { type: 'famille', id: famille.familleId } },
      },
    ],
  });
  t.services.wake();
  await sleep(2_000);
  const attente = await t.get(famille.jar, `/mon-quotient/demandes/${id}`);
  assert.equal(attente.statusCode, 200);
  const lue = texte(attente.body);
  assert.ok(lue.includes('Votre demande est en attente'));
  assert.ok(lue.includes(AVIS_FAMILLES.incident));
  assert.match(lue, /Attente estimée inconnue tant que les demandes à la DGFiP sont suspendues/);
  assert.equal(t.sandbox.admin.calls().length, appels, 'nothing was sent to the DGFiP');
  assert.match(texte((await t.get(guichet, `/agents/guichet/demandes/${id}`)).body), /suspendus \(interrupteur d’incident\)/);

  assert.equal(
    (await t.post(admin, PAGE, `${PAGE}/interrupteurs`, { interrupteur: 'appels_dgfip', etat: 'off', motif: 'Certificat remplacé, incident clos' })).statusCode,
    303,
  );
  assert.equal((await t.harness.demandes.attendre(id, 20_000)).statut, 'calculee');
  assert.ok(t.sandbox.admin.calls().length > appels);
  assert.equal(texte((await t.get(famille.jar, '/mon-quotient')).body).includes(AVIS_FAMILLES.incident), false, 'the notice is gone');
});

test('maintenance: the families’ pages answer a French 503 with Retry-After; back-office, API and health stay up', async () => {
  const famille = await t.signedInFamily(ROUX, 'lea.roux.maintenance@exemple.fr');
  assert.equal(
    (await t.post(admin, PAGE, `${PAGE}/interrupteurs`, { interrupteur: 'maintenance', etat: 'on', motif: 'Mise à jour de sécurité du serveur' })).statusCode,
    303,
  );
  for (const url of ['/', '/connexion', '/mon-quotient', '/simulateur']) {
    const res = await t.app.inject({ url, headers: { cookie: famille.jar.header() } });
    assert.equal(res.statusCode, 503, url);
    assert.equal(res.headers['retry-after'], '300');
    assert.match(String(res.headers['content-type']), /text\/html/);
    assert.ok(res.headers['content-security-policy'], 'the security headers are there');
    assert.match(res.body, /<html lang="fr"/);
    assert.match(res.body, /Service momentanément indisponible/);
    assert.equal(res.body.includes('Mise à jour de sécurité'), false, 'the internal reason is not shown to families');
  }
  const posted = await t.app.inject({
    method: 'POST',
    url: '/connexion',
    payload: 'email=x',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(posted.statusCode, 503);
  assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200);
  assert.equal((await t.app.inject({ url: '/readyz' })).statusCode, 200);
  assert.equal((await t.app.inject({ url: '/api/v1/openapi.json' })).statusCode, 200);
  assert.equal((await t.app.inject({ url: '/static/quotient.css' })).statusCode, 200);
  const agents = await t.get(admin, '/agents');
  assert.equal(agents.statusCode, 200);
  assert.match(texte(agents.body), /Portail des familles : en maintenance depuis le/);

  assert.equal(
    (await t.post(admin, PAGE, `${PAGE}/interrupteurs`, { interrupteur: 'maintenance', etat: 'off', motif: 'Mise à jour terminée' })).statusCode,
    303,
  );
  assert.equal((await t.get(famille.jar, '/mon-quotient')).statusCode, 200);
});

test('revoking sessions: of one family, of one agent, of everyone; journaled with the count', async () => {
  const visee = await t.signedInFamily(ROUX, 'lea.roux.visee@exemple.fr');
  const autre = await t.signedInFamily(ROUX, 'lea.roux.autre@exemple.fr');
  const reference = (await t.database.db.selectFrom('familles').select('reference').where('id', '=', visee.familleId).executeTakeFirstOrThrow()).reference;
  const guichet = await t.signInAgent('guichet');

  const inconnue = await t.post(admin, PAGE, `${PAGE}/sessions`, { cible: 'famille', famille: 'F-ZZZZ-ZZZZ', motif: 'Compte compromis' });
  assert.equal(inconnue.statusCode, 400);
  assert.match(inconnue.body, /Aucune famille n’a la référence F-ZZZZ-ZZZZ/);
  const sansCible = await t.post(admin, PAGE, `${PAGE}/sessions`, { motif: 'Compte compromis' });
  assert.equal(sansCible.statusCode, 400);

  const famille = await t.post(admin, PAGE, `${PAGE}/sessions`, {
    cible: 'famille',
    famille: reference.toLowerCase(),
    motif: 'Compte compromis signalé par la famille',
  });
  assert.equal(famille.statusCode, 303);
  assert.match(texte((await t.get(admin, PAGE)).body), new RegExp(`1 session révoquée de la famille ${reference}`));
  assert.equal((await t.get(visee.jar, '/mes-demandes')).headers.location, '/connexion', 'the family is signed out');
  assert.equal((await t.get(autre.jar, '/mes-demandes')).statusCode, 200, 'another family is not');
  assert.equal((await t.get(guichet, '/agents/guichet')).statusCode, 200);

  assert.equal(
    (await t.post(admin, PAGE, `${PAGE}/sessions`, { cible: 'agent', agent: t.agents.guichet.email.toUpperCase(), motif: 'Poste de l’accueil volé' }))
      .statusCode,
    303,
  );
  assert.equal((await t.get(guichet, '/agents/guichet')).headers.location, '/agents/connexion');
  assert.equal((await t.get(admin, PAGE)).statusCode, 200, 'the administrator stays signed in');

  assert.equal((await t.post(admin, PAGE, `${PAGE}/sessions`, { cible: 'tous', motif: 'Fuite possible de la table des sessions' })).statusCode, 303);
  assert.equal((await t.get(admin, PAGE)).headers.location, '/agents/connexion', 'everyone, the administrator too');
  assert.equal((await t.get(autre.jar, '/mes-demandes')).headers.location, '/connexion');
  const revocations = await entrees('incident.sessions_revoquees');
  assert.deepEqual(revocations.map((e) => [e.details.cible, e.target?.type]).reverse(), [
    ['famille', 'famille'],
    ['agent', 'agent'],
    ['tous', 'sessions'],
  ]);
  assert.equal(revocations.at(-1)?.details.sessions, 1);
  assert.ok((revocations[0]?.details.sessions as number) >= 3);
  admin = await t.signInAgent('administrateur');
});

// Last: it breaks the journal on purpose.
test('the integrity halt as families, counter agents and auditors meet it; the auditor’s acknowledgement lifts it', async () => {
  const auditeur = await t.signInAgent('auditeur');
  const guichet = await t.signInAgent('guichet');
  // A child: a household the family has completed, which the portal asks for before the consent.
  const famille = await t.signedInFamily({ ...ROUX, enfants: [{ prenoms: 'Noé', nom: 'Roux', dateNaissance: '2022-02-02' }] }, 'lea.roux.integrite@exemple.fr');
  const cible = (await t.harness.journal.query({ action: 'famille.creee' }, { limit: 1 })).entries[0]?.seq as number;
  await asPrivileged(t.database, async (trx) => {
    await trx.updateTable('journal_audit').set({ actor_id: 'quelqu-un-d-autre' }).where('seq', '=', cible).execute();
  });
  assert.equal((await t.post(auditeur, '/agents/controle/integrite', '/agents/controle/integrite', {})).statusCode, 303);
  const integrite = texte((await t.get(auditeur, '/agents/controle/integrite')).body);
  assert.match(integrite, /Opérations fiscales arrêtées depuis le/);
  assert.match(integrite, /Reconnaître l’altération/);
  assert.match(integrite, new RegExp(`séquence n° ${cible}`));

  // Families: told plainly, and a new request is refused with a French message, before any consent.
  assert.ok(texte((await t.get(famille.jar, '/mon-quotient')).body).includes(AVIS_FAMILLES.integrite));
  assert.equal((await t.post(famille.jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui' })).statusCode, 303);
  const portail = await t.post(famille.jar, '/mon-quotient/numero', '/mon-quotient/numero', { 'numero-1': SPI_SANDBOX.rfrZero });
  assert.equal(portail.statusCode, 503);
  assert.match(texte(portail.body), /Aucune nouvelle demande ne peut être faite pour l’instant/);
  // The counter: the same refusal.
  const jour = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris' }).format(new Date());
  const etape1 = `/agents/guichet/familles/${famille.familleId}/demande`;
  assert.equal((await t.post(guichet, etape1, etape1, { 'mode-1': 'courriel', 'date-1': jour, 'piece-1': 'Courriel du jour' })).statusCode, 303);
  const comptoir = await t.post(guichet, `${etape1}/numero`, `${etape1}/numero`, { 'numero-1': SPI_SANDBOX.rfrZero });
  assert.equal(comptoir.statusCode, 503);
  assert.match(texte(comptoir.body), /Aucune nouvelle demande ne peut être faite pour l’instant/);
  assert.equal(
    (
      await t.database.db
        .selectFrom('consentements')
        .select('consentements.id')
        .innerJoin('demandes', 'demandes.id', 'consentements.demande_id')
        .where('demandes.famille_id', '=', famille.familleId)
        .execute()
    ).length,
    0,
  );
  // Agents: a banner on every page; the administrators' page says who lifts it.
  assert.match(texte((await t.get(guichet, '/agents/guichet')).body), /Arrêt d’intégrité depuis le .* Aucun appel à la DGFiP ni aucune nouvelle demande/);
  assert.match(texte((await t.get(admin, PAGE)).body), /Cet arrêt ne se lève pas ici/);

  // The acknowledgement: a reason, never a numéro fiscal; then operations resume.
  const vide = await t.post(auditeur, '/agents/controle/integrite', '/agents/controle/integrite/reconnaissance', { motif: '' });
  assert.equal(vide.statusCode, 400);
  assert.match(vide.body, /href="#motif-reconnaissance">Indiquez le motif/);
  const spi = await t.post(auditeur, '/agents/controle/integrite', '/agents/controle/integrite/reconnaissance', {
    motif: 'Numéro 3141592653423 dans la ligne',
  });
  assert.equal(spi.statusCode, 400);
  assert.equal(spi.body.includes('3141592653423'), false);
  const ok = await t.post(auditeur, '/agents/controle/integrite', '/agents/controle/integrite/reconnaissance', {
    motif: 'Ligne modifiée par le prestataire lors d’une restauration ; rien d’autre',
  });
  assert.equal(ok.statusCode, 303);
  const apres = texte((await t.get(auditeur, '/agents/controle/integrite')).body);
  assert.match(apres, /Altération reconnue : les opérations fiscales reprennent/);
  assert.match(apres, /Reconnue le .* par [^:]+ : « Ligne modifiée par le prestataire/);
  assert.equal(texte((await t.get(famille.jar, '/mon-quotient')).body).includes(AVIS_FAMILLES.integrite), false);
  assert.equal(texte((await t.get(guichet, '/agents/guichet')).body).includes('Arrêt d’intégrité'), false);
  // Acknowledged already: said on the page, nothing more journaled.
  const encore = await t.post(auditeur, '/agents/controle/integrite', '/agents/controle/integrite/reconnaissance', { motif: 'une seconde reconnaissance' });
  assert.equal(encore.statusCode, 303);
  assert.match(texte((await t.get(auditeur, '/agents/controle/integrite')).body), /déjà reconnue/);
  assert.equal((await entrees('journal.alteration_reconnue')).length, 1);
});
