import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';

/**
 * The CSV export for billing, as a counter agent or an administrator uses it: QFs produced through
 * the request service (sandbox DGFiP), then downloaded at a date.
 */

let t: BackOfficeTestApp;
const familles: Array<{ reference: string; cents: number; prix: Array<{ id: string; cents: number; tranche: string | null }> }> = [];

const BERTIN_ROUSSEL = {
  parents: [
    { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
    { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
  ],
  enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' }],
};
const ROUX = { parents: [{ nomNaissance: 'Roux', prenoms: 'Léa', dateNaissance: '2003-05-19' }] };

async function quotientAuGuichet(famille: unknown, spi: string) {
  const agent = { type: 'agent' as const, id: t.agents.guichet.id };
  const { id: familleId, reference } = await t.harness.familles.creer(famille, agent);
  const { id } = await t.harness.demandes.soumettre({
    familleId,
    canal: 'guichet',
    acteur: agent,
    foyersFiscaux: [
      { parentRang: 1, identifiant: { spi: NumeroFiscal.parse(spi) }, consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'Formulaire signé' } },
    ],
  });
  t.services.wake();
  const etat = await t.harness.demandes.attendre(id, 30_000);
  assert.equal(etat.statut, 'calculee');
  assert.ok(etat.quotient);
  familles.push({ reference, cents: etat.quotient.cents, prix: etat.quotient.prix.map((p) => ({ id: p.id, cents: p.cents, tranche: p.tranche })) });
}

before(async () => {
  t = await createBackOfficeTestApp();
  await quotientAuGuichet(BERTIN_ROUSSEL, SPI_SANDBOX.coupleMarie.declarant1);
  await quotientAuGuichet(ROUX, SPI_SANDBOX.rfrZero);
});
after(() => t.close());

const aujourdhui = () => parisDate(Date.now());
const enFrancais = (iso: string) => iso.split('-').reverse().join('/');

/** RFC 4180 with `;`, enough for what this export writes (quoted cells hold no line break here). */
function lire(csv: string): string[][] {
  assert.ok(csv.startsWith('\uFEFF'), 'BOM UTF-8 en tête');
  assert.ok(csv.endsWith('\r\n'));
  assert.doesNotMatch(csv.replace(/\r\n/g, ''), /[\r\n]/, 'lignes terminées par CRLF, sans saut de ligne isolé');
  return csv
    .slice(1, -2)
    .split('\r\n')
    .map((line) =>
      [...line.matchAll(/(?:^|;)("(?:[^"]|"")*"|[^;]*)/g)].map((m) =>
        (m[1] as string).startsWith('"') ? (m[1] as string).slice(1, -1).replace(/""/g, '"') : (m[1] as string),
      ),
    );
}

test('a counter agent downloads the QFs in force today: BOM, « ; », CRLF, one row per family, prices per activity, no fiscal detail, and the export is journaled', async () => {
  const jar = await t.signInAgent('guichet');
  const page = await t.get(jar, '/agents/facturation');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<h1>Export pour la facturation<\/h1>/);
  assert.match(page.body, /<label for="date">Date des quotients<\/label>/);
  assert.ok(page.body.includes(`value="${enFrancais(aujourdhui())}"`), 'la date du jour est proposée');
  assert.match((await t.get(jar, '/agents')).body, /href="\/agents\/facturation"/);

  const res = await t.get(jar, `/agents/facturation/export.csv?date=${encodeURIComponent(enFrancais(aujourdhui()))}`);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
  assert.equal(res.headers['content-disposition'], `attachment; filename="quotients-${aujourdhui()}.csv"`);
  const [header, ...rows] = lire(res.body);
  assert.ok(header);
  assert.deepEqual(header.slice(0, 7), [
    'Référence famille',
    'Quotient familial (en centimes d’euro)',
    'Période du quotient (mensuelle ou annuelle)',
    'Valide du (AAAA-MM-JJ)',
    'Valide au (AAAA-MM-JJ, inclus)',
    'Origine (calcule ou manuel)',
    'Calculé le (date et heure UTC, ISO 8601)',
  ]);
  assert.ok(header.includes('Tranche – Restauration scolaire (restauration-scolaire)'));
  assert.ok(header.includes('Prix en centimes par repas – Restauration scolaire (restauration-scolaire)'));
  assert.ok(rows.every((r) => r.length === header.length));
  assert.deepEqual(rows.map((r) => r[0]).sort(), familles.map((f) => f.reference).sort());
  for (const f of familles) {
    const row = rows.find((r) => r[0] === f.reference) as string[];
    assert.equal(row[1], String(f.cents));
    assert.equal(row[2], 'mensuelle');
    assert.ok((row[3] as string) <= aujourdhui() && (row[4] as string) >= aujourdhui());
    assert.equal(row[5], 'calcule');
    assert.match(row[6] as string, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const repas = f.prix.find((p) => p.id === 'restauration-scolaire');
    assert.ok(repas);
    const col = header.indexOf('Tranche – Restauration scolaire (restauration-scolaire)');
    assert.equal(row[col], repas.tranche ?? '', 'taux d’effort : pas de tranche');
    assert.equal(row[col + 1], String(repas.cents));
  }
  // No fiscal detail: neither names (the avis's nor the family's), nor income, nor parts.
  assert.doesNotMatch(res.body, /bertin|roussel|roux|revenu|parts|rfr/i);

  const entry = (await t.harness.journal.query({ action: 'facturation.export' })).entries.find(
    (e) => e.correlationId !== null && e.details.date === aujourdhui(),
  );
  assert.ok(entry, 'l’export est journalisé');
  assert.deepEqual(entry.actor, { type: 'agent', id: t.agents.guichet.id });
  assert.equal(entry.details.lignes, familles.length);
  assert.equal(entry.outcome, 'succes');
});

test('a date before any QF gives the header alone; the ISO form is accepted too; the journal says 0 rows', async () => {
  const jar = await t.signInAgent('administrateur');
  const res = await t.get(jar, '/agents/facturation/export.csv?date=2001-09-03');
  assert.equal(res.statusCode, 200);
  const rows = lire(res.body);
  assert.equal(rows.length, 1, 'l’en-tête seul');
  const entry = (await t.harness.journal.query({ action: 'facturation.export' })).entries.find((e) => e.details.date === '2001-09-03');
  assert.ok(entry);
  assert.deepEqual(entry.actor, { type: 'agent', id: t.agents.administrateur.id });
  assert.equal(entry.details.lignes, 0);
});

test('a wrong or missing date gives the form again with a French error; no file is sent and nothing is journaled', async () => {
  const jar = await t.signInAgent('guichet');
  const before = await t.harness.journal.count({ action: 'facturation.export' });
  const wrong = await t.get(jar, '/agents/facturation/export.csv?date=31%2F02%2F2026');
  assert.equal(wrong.statusCode, 400);
  assert.match(wrong.headers['content-type'] as string, /^text\/html/);
  assert.match(wrong.body, /Une information est à corriger/);
  assert.match(wrong.body, /<a href="#date">La date doit être une date réelle au format JJ\/MM\/AAAA/);
  assert.match(wrong.body, /aria-invalid="true"/);
  assert.ok(wrong.body.includes('value="31/02/2026"'), 'ce qui a été tapé est rendu pour être corrigé');
  const empty = await t.get(jar, '/agents/facturation/export.csv?date=');
  assert.equal(empty.statusCode, 400);
  assert.match(empty.body, /Indiquez la date des quotients/);
  assert.equal(await t.harness.journal.count({ action: 'facturation.export' }), before);
});

test('only counter agents and administrators reach the export; others are refused and traced', async () => {
  const instructeur = await t.signInAgent('instructeur');
  assert.equal((await t.get(instructeur, '/agents/facturation/export.csv')).statusCode, 403);
  const auditeur = await t.signInAgent('auditeur');
  assert.equal((await t.get(auditeur, '/agents/facturation')).statusCode, 403);
  const anonyme = await t.get(new Jar(), '/agents/facturation/export.csv');
  assert.equal(anonyme.statusCode, 303);
  assert.equal(anonyme.headers.location, '/agents/connexion');
  const refus = (await t.harness.journal.query({ action: 'acces.refuse' })).entries.filter((e) => String(e.details.route).startsWith('/agents/facturation'));
  assert.ok(refus.some((e) => e.actor.id === t.agents.instructeur.id));
  assert.ok(refus.some((e) => e.actor.id === t.agents.auditeur.id));
  // Without a date, a bookmarked link exports today.
  const admin = await t.signInAgent('administrateur');
  const sansDate = await t.get(admin, '/agents/facturation/export.csv');
  assert.equal(sansDate.statusCode, 200);
  assert.equal(lire(sansDate.body).length, familles.length + 1);
});

test('end to end, text that looks like a formula (a reference taken over from an older software, a bracket code) is written inert', async () => {
  const agent = { type: 'agent' as const, id: t.agents.administrateur.id };
  const { id: familleId } = await t.harness.familles.creer({ parents: [{ nomNaissance: 'Ancien', prenoms: 'Logiciel', dateNaissance: '1970-01-01' }] }, agent);
  const { id: demandeId } = await t.harness.demandes.soumettre({
    familleId,
    canal: 'guichet',
    acteur: agent,
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.inconnu) },
        consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'Formulaire' },
      },
    ],
  });
  t.services.wake();
  await t.harness.demandes.attendre(demandeId, 30_000);
  // Written as a migration from an older billing software could have: far in the future so that the other tests do not see it.
  await t.database.db.updateTable('familles').set({ reference: '=HYPERLINK("http://x";"clic")' }).where('id', '=', familleId).execute();
  await t.database.db
    .insertInto('quotients')
    .values({
      id: crypto.randomUUID(),
      demande_id: demandeId,
      famille_id: familleId,
      valeur_cents: 50_000,
      periode: 'mensuelle',
      formule: 'rfr-parts',
      politique: 'test',
      prix: JSON.stringify([
        { id: 'atelier', libelle: 'Atelier', unite: 'seance', tranche: '@B', cents: 300, origine: 'grille', reduction: null, explication: '' },
      ]),
      valide_du: '2099-01-01',
      valide_au: '2099-12-31',
      origine: 'instructeur',
      calcule_le: '2000-01-01T00:00:00.000Z',
    })
    .execute();
  // A QF computed from the avis after an instructor accepted the identity is still computed, not manual.
  const jar = await t.signInAgent('guichet');
  const res = await t.get(jar, '/agents/facturation/export.csv?date=15/06/2099');
  assert.equal(res.statusCode, 200);
  assert.ok(
    res.body.includes(`\r\n"'=HYPERLINK(""http://x"";""clic"")";50000;mensuelle;2099-01-01;2099-12-31;calcule;2000-01-01T00:00:00.000Z;'@B;300;;;\r\n`),
    res.body,
  );
  for (const row of lire(res.body)) for (const cell of row) assert.doesNotMatch(cell, /^[=+\-@\t\r]/);
  // A QF an instructor typed is manual.
  const { id: autreFamille } = await t.harness.familles.creer(
    { parents: [{ nomNaissance: 'Saisie', prenoms: 'Manuelle', dateNaissance: '1971-01-01' }] },
    agent,
  );
  const { id: autreDemande } = await t.harness.demandes.soumettre({
    familleId: autreFamille,
    canal: 'guichet',
    acteur: agent,
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.inconnu) },
        consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'Formulaire' },
      },
    ],
  });
  t.services.wake();
  await t.harness.demandes.attendre(autreDemande, 30_000);
  await t.database.db.updateTable('familles').set({ reference: 'SAISIE-MANUELLE' }).where('id', '=', autreFamille).execute();
  await t.database.db
    .insertInto('quotients')
    .values({
      id: crypto.randomUUID(),
      demande_id: autreDemande,
      famille_id: autreFamille,
      valeur_cents: 42_000,
      periode: 'mensuelle',
      formule: 'rfr-parts',
      politique: 'test',
      prix: JSON.stringify([
        { id: 'atelier', libelle: 'Atelier', unite: 'seance', tranche: 'A', cents: 200, origine: 'grille', reduction: null, explication: '' },
      ]),
      valide_du: '2098-01-01',
      valide_au: '2098-12-31',
      origine: 'manuel',
      calcule_le: '2000-01-01T00:00:00.000Z',
    })
    .execute();
  const manuel = await t.get(jar, '/agents/facturation/export.csv?date=15/06/2098');
  assert.equal(manuel.statusCode, 200);
  assert.ok(manuel.body.includes(`\r\nSAISIE-MANUELLE;42000;mensuelle;2098-01-01;2098-12-31;manuel;2000-01-01T00:00:00.000Z;A;200;;;\r\n`), manuel.body);
});
