import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { CANAUX_DEMANDE, LIBELLES_CANAL, STATUTS, STATUTS_DEMANDE } from '../../domain/demande.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { trancheContains } from '../../domain/tarification.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import type { Acteur } from '../audit/index.ts';
import { loadPolitiqueFileSync } from '../tarifs/politique-loader.ts';
import { TableauDeBordService } from './tableau-de-bord-service.ts';

/**
 * The dashboard at the HTTP level: the figures shown are those of the database, drawn as SVG that
 * is well-formed and labelled, repeated in tables; nothing about one family; the DGFiP's health
 * read from the journal.
 */

let t: BackOfficeTestApp;
let jar: Jar;
const references: string[] = [];
const noms = ['Bertin', 'Roussel', 'Garnier'];

const BERTIN_ROUSSEL = {
  parents: [
    { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
    { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
  ],
};

async function soumettre(familleId: string, spi: string, canal: 'guichet' | 'en_ligne', acteur: Acteur & { type: 'agent' | 'famille' }) {
  const { id, reference } = await t.harness.demandes.soumettre({
    familleId,
    canal,
    acteur,
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(spi) },
        consentement: canal === 'guichet' ? { mode: 'formulaire_signe', donnePar: acteur, piece: 'formulaire signé' } : { mode: 'en_ligne', donnePar: acteur },
      },
    ],
  });
  references.push(reference);
  t.services.wake();
  return (await t.harness.demandes.attendre(id, 20_000)).statut;
}

before(async () => {
  t = await createBackOfficeTestApp();
  const guichet: Acteur & { type: 'agent' } = { type: 'agent', id: t.agents.guichet.id };
  const a = await t.harness.familles.creer(BERTIN_ROUSSEL, guichet);
  const b = await t.harness.familles.creer({ parents: [{ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' }] }, guichet);
  references.push(a.reference, b.reference);
  assert.equal(await soumettre(a.id, SPI_SANDBOX.coupleMarie.declarant1, 'guichet', guichet), 'calculee');
  assert.equal(await soumettre(b.id, SPI_SANDBOX.inconnu, 'en_ligne', { type: 'famille', id: 'compte-garnier' }), 'a_verifier');
  jar = await t.signInAgent('guichet');
});
after(() => t.close());

/** The number in the row of a table whose header cell is `label`. */
function rowValue(html: string, caption: string, label: string): number {
  const start = html.indexOf(`<caption>${caption}`);
  assert.ok(start >= 0, `table « ${caption} »`);
  const table = html.slice(start, html.indexOf('</table>', start));
  const m = new RegExp(`<th scope="row">${label.replace(/[()]/g, '\\$&')}</th><td class="number">([0-9\\s\\u202f]+)</td>`).exec(table);
  assert.ok(m, `row « ${label} » in « ${caption} »`);
  return Number((m[1] as string).replace(/\D/g, ''));
}

/**
 * Well-formed XML for the SVG fragments: every tag closed in order, attributes quoted, nothing but
 * text between tags; and what an SVG needs to be shown and announced.
 */
function checkSvg(svg: string): { titles: string[]; bars: number } {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[a-zA-Z][a-zA-Z0-9:-]*="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < svg.length) {
    const lt = svg.indexOf('<', i);
    if (lt < 0) break;
    assert.doesNotMatch(svg.slice(i, lt), /[<>]/, 'text holds no markup');
    tag.lastIndex = lt;
    const m = tag.exec(svg);
    assert.ok(m, `well-formed tag at ${svg.slice(lt, lt + 40)}`);
    const [, closing, name, , selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the open tag`);
    else if (!selfClosing) stack.push(name as string);
    i = tag.lastIndex;
  }
  assert.deepEqual(stack, [], 'every tag is closed');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* viewBox="0 0 \d+ \d+"/);
  const labelled = /role="img" aria-labelledby="([^ "]+) ([^"]+)"/.exec(svg);
  assert.ok(labelled, 'an image with a title and a description');
  assert.match(svg, new RegExp(`<title id="${labelled[1]}">`));
  assert.match(svg, new RegExp(`<desc id="${labelled[2]}">`));
  const titles = [...svg.matchAll(/<g class="tdb-ligne"><title>([^<]*)<\/title>/g)].map((m) => m[1] as string);
  const bars = [...svg.matchAll(/<rect class="tdb-barre"[^>]* width="(\d+)"/g)].length;
  return { titles, bars };
}

test('every agent role sees the dashboard; families do not', async () => {
  for (const role of ['guichet', 'instructeur', 'administrateur', 'auditeur'] as const) {
    const res = await t.get(await t.signInAgent(role), '/agents/tableau-de-bord');
    assert.equal(res.statusCode, 200, role);
    assert.match(res.body, /<h1>Tableau de bord<\/h1>/);
  }
  const { jar: famille } = await t.signedInFamily({ parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '1985-04-02' }] }, 'lea.roux@exemple.fr');
  assert.equal((await t.get(famille, '/agents/tableau-de-bord')).statusCode, 403);
});

test('requests by status and by channel: the counts of the database, in SVG bars and in tables', async () => {
  const res = await t.get(jar, '/agents/tableau-de-bord');
  assert.equal(res.statusCode, 200);
  const byStatus = new Map(
    (
      await t.database.db
        .selectFrom('demandes')
        .select(['statut', sql<number>`count(*)`.as('n')])
        .groupBy('statut')
        .execute()
    ).map((r) => [r.statut, Number(r.n)]),
  );
  const byChannel = new Map(
    (
      await t.database.db
        .selectFrom('demandes')
        .select(['canal', sql<number>`count(*)`.as('n')])
        .groupBy('canal')
        .execute()
    ).map((r) => [r.canal, Number(r.n)]),
  );
  assert.equal(byStatus.get('calculee'), 1);
  assert.equal(byStatus.get('a_verifier'), 1);
  for (const s of STATUTS_DEMANDE) assert.equal(rowValue(res.body, 'Demandes par statut', STATUTS[s].libelle), byStatus.get(s) ?? 0, s);
  for (const c of CANAUX_DEMANDE) {
    const label = LIBELLES_CANAL[c].charAt(0).toUpperCase() + LIBELLES_CANAL[c].slice(1);
    assert.equal(rowValue(res.body, 'Demandes par canal', label), byChannel.get(c) ?? 0, c);
  }
  assert.match(res.body, /2 demande\(s\) enregistrée\(s\) au total/);

  const svgs = [...res.body.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
  assert.ok(svgs.length >= 3);
  const statuts = checkSvg(svgs[0] as string);
  assert.equal(statuts.bars, STATUTS_DEMANDE.length);
  assert.ok(statuts.titles.includes('Quotient calculé : 1 demande(s)'));
  assert.ok(statuts.titles.includes('À vérifier : 1 demande(s)'));
  assert.ok(statuts.titles.includes('Brouillon : 0 demande(s)'));
  const canaux = checkSvg(svgs[1] as string);
  assert.deepEqual(canaux.titles, ['En ligne : 1 demande(s)', 'Au guichet : 1 demande(s)', 'Campagne de mise à jour : 0 demande(s)']);
  for (const svg of svgs) checkSvg(svg);
  // The longest bar is the largest figure: full width for the maximum, none for zero.
  assert.match(svgs[1] as string, /<rect class="tdb-barre" x="4" y="\d+" width="0"/);

  // Aggregates only: no reference, no name of a family anywhere.
  for (const r of references) assert.ok(!res.body.includes(r), r);
  for (const n of noms) assert.ok(!res.body.includes(n), n);
});

test('QFs in force by band of the policy in force (taux d’effort: bands of 250 €), matching the database', async () => {
  const res = await t.get(jar, '/agents/tableau-de-bord');
  const qfs = await t.database.db.selectFrom('quotients').select('valeur_cents').execute();
  assert.equal(qfs.length, 1);
  assert.match(res.body, /1 famille\(s\) ont un quotient valable le/);
  const cents = Number(qfs[0]?.valeur_cents);
  const band = Math.min(Math.floor(cents / 25_000), 7);
  const svg = [...res.body.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0])[2] as string;
  const { titles } = checkSvg(svg);
  assert.equal(titles.length, 8);
  titles.forEach((title, i) => assert.match(title, new RegExp(`: ${i === band ? 1 : 0} famille\\(s\\)$`), title));
});

test('QFs in force by the tranche stored with each, not by today’s grid; flat prices out of the commune apart', async () => {
  const strasbourg = loadPolitiqueFileSync(new URL('../../../examples/strasbourg.yaml', import.meta.url).pathname);
  const service = new TableauDeBordService({
    db: t.database.db,
    journal: t.harness.journal,
    quota: { usage: async () => ({ used: 0, limit: 50, pausedUntil: null }), parMinute: async () => [] },
    campagnes: { pourTableauDeBord: async () => [] },
  });
  const activite = strasbourg.activites.find((a) => a.grille.type === 'tranches');
  const grille = activite?.grille;
  assert.ok(activite && grille && grille.type === 'tranches');
  const nombres = async () => new Map((await service.resume(strasbourg)).quotients.grilles[0]?.barres.map((b) => [b.cle, b.nombre]));

  // The QF on file was priced with another policy, whose activities Strasbourg does not have.
  const tdb = await service.resume(strasbourg);
  assert.equal(tdb.quotients.paliers, null);
  assert.equal(tdb.quotients.grilles.length, 1);
  const barres = tdb.quotients.grilles[0]?.barres ?? [];
  assert.deepEqual(
    barres.slice(0, grille.tranches.length).map((b) => [b.cle, b.nombre]),
    grille.tranches.map((tr) => [tr.code, 0]),
  );
  assert.match(barres[1]?.libelle ?? '', /^Tranche 2 \(de 100\s€ à moins de 300\s€\)$/);
  assert.equal(barres.find((b) => b.cle === 'sans-tranche')?.nombre, 1);

  // Stored in a tranche today's grid would not give it; and a family out of the commune, priced flat.
  const qf = await t.database.db.selectFrom('quotients').selectAll().executeTakeFirstOrThrow();
  const aujourdhui = grille.tranches.findIndex((_, i) => trancheContains(grille, i, Number(qf.valeur_cents)));
  const stockee = grille.tranches[(aujourdhui + 3) % grille.tranches.length]?.code as string;
  const garnier = await t.database.db.selectFrom('demandes').select(['id', 'famille_id']).where('statut', '=', 'a_verifier').executeTakeFirstOrThrow();
  const ligne = (tranche: string | null, origine: string) =>
    JSON.stringify([{ id: activite.id, libelle: activite.libelle, unite: activite.unite, tranche, cents: 1000, origine, reduction: null, explication: '' }]);
  try {
    await t.database.db
      .updateTable('quotients')
      .set({ prix: ligne(stockee, 'grille') })
      .where('id', '=', qf.id)
      .execute();
    await t.database.db
      .insertInto('quotients')
      .values({ ...qf, id: 'qf-hors-commune', demande_id: garnier.id, famille_id: garnier.famille_id, valeur_cents: 5_000, prix: ligne(null, 'non-resident') })
      .execute();
    const apres = await nombres();
    assert.equal(apres.get(stockee), 1, `counted in the stored tranche ${stockee}`);
    assert.equal(apres.get(grille.tranches[aujourdhui]?.code as string), 0, 'not in the tranche of today’s grid');
    const horsCommune = grille.tranches[grille.tranches.findIndex((_, i) => trancheContains(grille, i, 5_000))]?.code as string;
    assert.equal(apres.get(horsCommune), horsCommune === stockee ? 1 : 0, 'the flat price is in no tranche, whatever the QF');
    assert.equal(apres.get('hors-commune'), 1);
    assert.equal(apres.has('sans-tranche'), false);

    // A tranche the grid no longer has is still shown.
    await t.database.db
      .updateTable('quotients')
      .set({ prix: ligne('Z', 'grille') })
      .where('id', '=', qf.id)
      .execute();
    assert.equal((await nombres()).get('Z'), 1);
  } finally {
    await t.database.db.deleteFrom('quotients').where('id', '=', 'qf-hors-commune').execute();
    await t.database.db.updateTable('quotients').set({ prix: qf.prix }).where('id', '=', qf.id).execute();
  }
});

test('quota use over the last minute and hour, and the health of the DGFiP connection from the journal', async () => {
  const since = new Date(Date.now() - 61_000).toISOString();
  const used = Number(
    (
      await t.database.db
        .selectFrom('quota_calls')
        .select(sql<number>`count(*)`.as('n'))
        .where('bucket', '=', 'dgfip')
        .where('taken_at', '>', since)
        .executeTakeFirstOrThrow()
    ).n,
  );
  assert.ok(used >= 2, 'the two requests took a slot each');
  const res = await t.get(jar, '/agents/tableau-de-bord');
  assert.match(res.body, new RegExp(`${used} appel\\(s\\) sur 50 autorisés par minute`));
  // An avis received and an answer « no avis » both show the connection works.
  assert.match(res.body, /Dernière heure<\/dt><dd>2 réponse\(s\), 0 échec\(s\), 0 attente\(s\) de créneau/);
  assert.match(res.body, /Connexion à la DGFiP : bonne/);

  // Three failures in a row, as the request service journals them: the connection is down.
  const systeme: Acteur = { type: 'systeme', id: 'quotient' };
  await t.harness.journal.append({
    actor: systeme,
    action: 'demande.echec_appel',
    target: { type: 'demande', id: 'd1' },
    outcome: 'succes',
    details: { raison: 'quota_depasse' },
  });
  for (const raison of ['indisponible', 'injoignable', 'injoignable']) {
    await t.harness.journal.append({
      actor: systeme,
      action: 'demande.echec_appel',
      target: { type: 'demande', id: 'd1' },
      outcome: 'succes',
      details: { raison },
    });
  }
  const down = await t.get(jar, '/agents/tableau-de-bord');
  assert.match(down.body, /Connexion à la DGFiP : en échec/);
  assert.match(down.body, /Dernière heure<\/dt><dd>2 réponse\(s\), 3 échec\(s\), 1 attente\(s\) de créneau/);
  assert.match(down.body, /Dernier échec<\/dt><dd>[^<]*\(passerelle injoignable\)/);

  // One answer after the failures: the connection is back, but disturbed.
  await t.harness.journal.append({
    actor: systeme,
    action: 'dgfip.situation_recue',
    target: { type: 'demande', id: 'd1' },
    outcome: 'succes',
    details: { parent: 1 },
  });
  const disturbed = await t.get(jar, '/agents/tableau-de-bord');
  assert.match(disturbed.body, /Connexion à la DGFiP : perturbée/);
});

test('the quota per minute online vs campaigns as a stacked SVG with its table, the queue of every instance and the campaigns', async () => {
  const res = await t.get(jar, '/agents/tableau-de-bord');
  assert.equal(res.statusCode, 200);
  const svg = [...res.body.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]).find((s) => s.includes('tdb-quota-minutes'));
  assert.ok(svg, 'the per-minute chart');
  checkSvg(svg);
  // The two requests of this file took their slots online; no campaign ran.
  const minutes = (await t.services.dgfip.quota.parMinute(60)).slice(-3);
  const enLigne = minutes.reduce((n, m) => n + m.enLigne, 0);
  assert.ok(enLigne >= 2, `the online slots counted (${enLigne})`);
  assert.match(
    svg,
    new RegExp(
      `<desc id="tdb-quota-minutes-desc">De \\d\\d:\\d\\d à \\d\\d:\\d\\d \\(heure de Paris\\) : ${enLigne} appel\\(s\\) pour les demandes en ligne et au guichet, 0 pour les campagnes`,
    ),
  );
  assert.equal([...svg.matchAll(/<g class="tdb-minute">/g)].length, 60, 'one column per minute of the hour');
  assert.match(res.body, /<caption>Appels à la DGFiP par minute, dernière heure \(toutes les instances\) : les valeurs<\/caption>/);
  assert.match(res.body, /<tfoot><tr><th scope="row">Total<\/th><td class="number">(\d+)<\/td><td class="number">0<\/td><\/tr><\/tfoot>/);

  // The queue: nothing waits; this process announced itself.
  assert.match(res.body, /File d’attente \(toutes les instances\)/);
  assert.match(res.body, /<dd>0 en attente de leur appel, 0 en cours d’appel\.<\/dd>/);
  assert.match(res.body, /<th scope="row" class="tdb-instance">back-office-test<\/th>/);
  assert.match(res.body, /Aucune campagne en cours ni terminée depuis 7 jours\./);
});
