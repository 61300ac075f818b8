import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { NumeroFiscal, ressembleANumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import type { AgentTable } from '../../infra/db/schema.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';
import type { Acteur, AuditEntry, AuditFilter } from '../audit/index.ts';
import { asPrivileged } from '../audit/test-support.ts';
import { jetonRecherche } from './controle-routes.tsx';
import { estUnAcces, tirerEchantillon } from './echantillon.ts';
import { debutJourParis, jourFrancais, jourParis } from './periode.ts';

/**
 * The auditor at the HTTP level: the journal through its filters (the right entries, the read
 * itself journaled), exports about one person (CSV for spreadsheets, JSON), a sampled control that
 * can be drawn again from its seed, and the integrity check that sees tampering. Entries are made
 * by the real services and by `journal.append`, as the other modules write them.
 */

let t: BackOfficeTestApp;
let auditeur: Jar;
let familleA: { id: string; reference: string };
let familleB: { id: string; reference: string };
let demandeA: { id: string; reference: string };
let contestationA: string;

const BERTIN_ROUSSEL = {
  parents: [
    { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
    { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
  ],
  enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' }],
};
const FORMULE = '=HYPERLINK("http://exemple.invalid";"cliquez")';

const agentActeur = (role: 'guichet' | 'instructeur' | 'administrateur' | 'auditeur'): Acteur => ({ type: 'agent', id: t.agents[role].id });
const today = () => jourParis(new Date().toISOString());
const dayFr = (offsetDays: number) => {
  const d = new Date(Date.parse(`${today()}T12:00:00Z`) + offsetDays * 86_400_000);
  return jourFrancais(d.toISOString().slice(0, 10));
};
/** The sequence numbers listed in the journal table of a page. */
const seqsOf = (html: string) => [...html.matchAll(/<td class="number">(\d+)<\/td>/g)].map((m) => Number(m[1]));
const expected = async (filter: AuditFilter) => (await t.harness.journal.query(filter, { limit: 50 })).entries.map((e) => e.seq);
const latest = async (action: string): Promise<AuditEntry> => {
  const entry = (await t.harness.journal.query({ action }, { limit: 1 })).entries[0];
  assert.ok(entry, `an entry ${action}`);
  return entry;
};
const nomAgent = (a: Pick<AgentTable, 'prenom' | 'nom'>) => `${a.prenom} ${a.nom}`;
/** The CSRF token is taken from a page that reads no journal, so that only the search itself is journaled. */
const SANS_LECTURE = '/agents/controle/exports';
/**
 * The journal searched as a person does: the criteria posted, kept in the session, then the page
 * the redirection leads to, whose address holds at most the cursor. A refused search is the POST's answer.
 */
let derniereRecherche = '/agents/controle/journal';
const chercher = async (criteres: Record<string, string>) => {
  const posted = await t.post(auditeur, SANS_LECTURE, '/agents/controle/journal', criteres);
  if (posted.statusCode !== 303) return posted;
  derniereRecherche = String(posted.headers.location);
  assert.match(derniereRecherche, /^\/agents\/controle\/journal\?recherche=[a-p]{16}$/, 'the criteria are not in the address, only a random handle');
  return t.get(auditeur, derniereRecherche);
};
/** An export asked through the form: posted, then the file the redirection leads to. */
const exporter = async (champs: Record<string, string>) => {
  const posted = await t.post(auditeur, SANS_LECTURE, '/agents/controle/exports/fichier', champs);
  if (posted.statusCode !== 303) return posted;
  assert.equal(posted.headers.location, '/agents/controle/exports/fichier');
  return t.get(auditeur, '/agents/controle/exports/fichier');
};

before(async () => {
  // The last test breaks the journal on purpose: the integrity halt is the one alert of this file.
  t = await createBackOfficeTestApp({ alertesAttendues: ['journal.integrite_rompue'] });
  auditeur = await t.signInAgent('auditeur');
  const guichet = agentActeur('guichet');
  // A family entered at the counter, with a request processed through the sandbox.
  familleA = await t.harness.familles.creer(BERTIN_ROUSSEL, guichet);
  familleB = await t.harness.familles.creer({ parents: [{ nomNaissance: 'Garnier', prenoms: 'Julie', dateNaissance: '1992-09-17' }] }, guichet);
  demandeA = await t.harness.demandes.soumettre({
    familleId: familleA.id,
    canal: 'guichet',
    acteur: guichet,
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) },
        consentement: { mode: 'formulaire_signe', donnePar: { type: 'agent', id: t.agents.guichet.id }, piece: 'formulaire signé reçu au guichet' },
      },
    ],
  });
  t.services.wake();
  const etat = await t.harness.demandes.attendre(demandeA.id, 20_000);
  assert.equal(etat.statut, 'calculee');
  contestationA = await t.harness.familles.contester(familleA.id, demandeA.id, 'Nos revenus ont baissé depuis.', { type: 'famille', id: 'compte-bertin' });
  // Reads of families' data by agents, as the counter and review modules journal them.
  const journal = t.harness.journal;
  await journal.append({
    actor: agentActeur('instructeur'),
    action: 'contestation.consultee_instruction',
    target: { type: 'contestation', id: contestationA },
    outcome: 'succes',
    details: { motif: 'revenus' },
  });
  await journal.append({ actor: guichet, action: 'famille.consultee', target: { type: 'famille', id: familleA.id }, outcome: 'succes' });
  await journal.append({
    actor: agentActeur('instructeur'),
    action: 'demande.consultee_instruction',
    target: { type: 'demande', id: demandeA.id },
    outcome: 'succes',
    details: { motif: 'identite' },
  });
  await journal.append({ actor: guichet, action: 'famille.consultee', target: { type: 'famille', id: familleB.id }, outcome: 'succes' });
  // Something typed by a person that a spreadsheet would run as a formula.
  await journal.append({ actor: guichet, action: 'famille.consultee', target: { type: 'famille', id: FORMULE }, outcome: 'echec', details: { motif: '=1+1' } });
  // A counter agent knocking on the auditor's door: refused and traced.
  const guichetJar = await t.signInAgent('guichet');
  assert.equal((await t.get(guichetJar, '/agents/controle/journal')).statusCode, 403);
});
after(() => t.close());

test('non-auditors are refused from the control pages, and the refusal is traced', async () => {
  for (const role of ['guichet', 'instructeur', 'administrateur'] as const) {
    const jar = await t.signInAgent(role);
    for (const url of ['/agents/controle', '/agents/controle/journal', '/agents/controle/exports/fichier', '/agents/controle/integrite']) {
      const res = await t.get(jar, url);
      assert.equal(res.statusCode, 403, `${role} ${url}`);
    }
    for (const url of ['/agents/controle/journal', '/agents/controle/exports/fichier'])
      assert.equal((await t.post(jar, null, url, { sujet: 'agent', format: 'csv' })).statusCode, 403, `${role} POST ${url}`);
  }
  const refus = (await t.harness.journal.query({ action: 'acces.refuse', actor: { type: 'agent', id: t.agents.administrateur.id } })).entries;
  assert.ok(refus.some((e) => e.details.route === '/agents/controle/integrite'));
  const home = await t.get(await t.signInAgent('guichet'), '/agents');
  assert.doesNotMatch(home.body, /href="\/agents\/controle"/);
});

test('the journal by agent chosen from the list: exactly that agent’s entries, with readable labels and names', async () => {
  const guichet = t.agents.guichet;
  const want = await expected({ actor: { type: 'agent', id: guichet.id } });
  const res = await chercher({ agent: guichet.id });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(seqsOf(res.body), want);
  assert.ok(want.length >= 5);
  assert.match(res.body, new RegExp(`<strong>${nomAgent(guichet)}</strong>`));
  assert.match(res.body, /Dossier d’une famille consulté/);
  assert.match(res.body, /Accès refusé à une page/);
  // The family's reference is shown beside its id; never a fiscal value.
  assert.match(res.body, new RegExp(familleA.reference));
  assert.equal(res.headers['cache-control'], 'no-store');
  // The agent list offers names.
  assert.match(res.body, new RegExp(`<option value="${t.agents.instructeur.id}"[^>]*>${nomAgent(t.agents.instructeur)}</option>`));
});

test('the journal by family reference: the family, its requests; by action family, outcome and dates', async () => {
  /** Each read is journaled (about the family when one is named): the expected entries are taken just before. */
  const check = async (criteres: Record<string, string>, filter: AuditFilter) => {
    const want = await expected(filter);
    const res = await chercher(criteres);
    const url = JSON.stringify(criteres);
    assert.equal(res.statusCode, 200, url);
    assert.deepEqual(seqsOf(res.body), want, url);
    return { body: res.body, seqs: want };
  };
  const refs = [
    { type: 'famille', id: familleA.id },
    { type: 'demande', id: demandeA.id },
    { type: 'contestation', id: contestationA },
  ];
  const entries = (await t.harness.journal.query({ targets: refs }, { limit: 50 })).entries;
  const actions = new Set(entries.map((e) => e.action));
  for (const a of [
    'famille.creee',
    'demande.creee',
    'demande.situation_recue',
    'famille.consultee',
    'demande.consultee_instruction',
    'contestation.ouverte',
    'contestation.consultee_instruction',
  ])
    assert.ok(actions.has(a), a);
  assert.ok(!entries.some((e) => e.target?.id === familleB.id));
  await check({ famille: familleA.reference.toLowerCase() }, { targets: refs });

  // A request's reference leads to its family too; an action family narrows it.
  const demandes = await check({ famille: demandeA.reference, action: 'demande' }, { targets: refs, action: 'demande.' });
  assert.ok(demandes.seqs.length >= 5);

  const echecs = await check({ resultat: 'echec', action: 'famille.consultee' }, { outcome: 'echec', action: 'famille.consultee' });
  assert.equal(echecs.seqs.length, 1);
  await check({ acteurType: 'agent', resultat: 'refus' }, { actor: { type: 'agent' }, outcome: 'refus' });

  // Dates in French format, whole days, Paris time: today holds everything, tomorrow nothing.
  const all = await check({ famille: familleA.reference, du: dayFr(0), au: dayFr(0) }, { targets: refs });
  assert.ok(all.seqs.length >= 10);
  const tomorrow = await check({ famille: familleA.reference, du: dayFr(1) }, { seqs: [] });
  assert.match(tomorrow.body, /Aucune entrée ne correspond/);
  await check({ famille: familleA.reference, au: today() }, { targets: refs });
  await check({ famille: familleA.reference, au: dayFr(-1) }, { seqs: [] });

  // The criteria do not stick: the journal opened afresh starts from an empty form, and a new
  // search is made of the form's values only (the family of the last one is not added to it).
  const afresh = await t.get(auditeur, '/agents/controle/journal');
  assert.match(afresh.body, /Critères : toutes les entrées/);
  assert.doesNotMatch(afresh.body, new RegExp(`value="${familleA.reference}"`));
  const seule = await check({ resultat: 'echec' }, { outcome: 'echec' });
  assert.match(seule.body, /Critères : résultat échoué\./);
  // The last search's address, once the journal was opened afresh, is refused kindly.
  await chercher({ famille: familleA.reference });
  const gardee = derniereRecherche;
  await t.get(auditeur, '/agents/controle/journal');
  assert.match((await t.get(auditeur, gardee)).body, /Cette recherche n’est plus disponible/);
  const cleared = await t.post(auditeur, SANS_LECTURE, '/agents/controle/journal', { famille: familleA.reference, effacer: 'oui' });
  assert.equal(cleared.statusCode, 303);
  const everything = await t.get(auditeur, '/agents/controle/journal');
  assert.match(everything.body, /Critères : toutes les entrées/);
});

test('actors are named (agent, family, robot) and details are written in French', async () => {
  const familleC = await t.harness.familles.creer(
    { parents: [{ nomNaissance: 'Nommé', prenoms: 'Jean', dateNaissance: '1980-01-02' }] },
    agentActeur('guichet'),
  );
  const compte = await t.database.db
    .insertInto('comptes')
    .values({
      id: 'compte-journal-nom',
      kind: 'local',
      issuer: null,
      sub: null,
      email: 'nom.journal@exemple.fr',
      password_hash: null,
      email_verified_at: null,
      display_name: 'Paul Bertin',
      famille_id: familleC.id,
      locked_until: null,
      created_at: new Date().toISOString(),
      last_sign_in_at: null,
    })
    .execute();
  assert.ok(compte);
  await t.harness.journal.append({ actor: { type: 'famille', id: 'compte-journal-nom' }, action: 'famille.resultat_consulte', outcome: 'succes' });
  await t.harness.journal.append({
    actor: { type: 'robot', id: 'campagne-2026', onBehalfOf: { type: 'agent', id: t.agents.guichet.id } },
    action: 'campagne.element_traite',
    outcome: 'succes',
  });
  const res = await chercher({});
  const text = res.body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  assert.match(text, new RegExp(`Famille famille ${familleC.reference}`));
  assert.match(text, new RegExp(`Robot campagne-2026 pour le compte de : Agent ${nomAgent(t.agents.guichet)}`));
  assert.doesNotMatch(res.body, /compte-journal-nom/, 'the family is named by its reference, not its account id');
  assert.doesNotMatch(res.body, /<td>Agent <code>/, 'agents by name, not by id');
  // The counter agent refused from the journal (before): in words, not `methode = GET ; roles = guichet`.
  const refus = await chercher({ action: 'acces.refuse', agent: t.agents.guichet.id });
  assert.match(refus.body, /Méthode : lecture \(GET\) ; Rôles de la personne : accueil \(guichet\) ; Page : \/agents\/controle\/journal/);
  assert.doesNotMatch(refus.body, /methode = |roles = /);
});

test('reading the journal is journaled, with the criteria but nothing typed that looks like a numéro fiscal', async () => {
  await chercher({ famille: familleA.reference, action: 'demande.' });
  const read = await latest('journal.consulte');
  assert.equal(read.actor.id, t.agents.auditeur.id);
  assert.deepEqual(read.target, { type: 'famille', id: familleA.id });
  assert.match(String(read.details.filtre), /action demande\./);
  assert.match(String(read.details.filtre), new RegExp(`famille ${familleA.reference}`));

  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  const before = (await latest('journal.consulte')).seq;
  const bad = await chercher({ acteurType: 'famille', acteurId: spi, du: '31/02/2026', famille: 'F-ZZZZ-ZZZZ' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /informations sont à corriger/);
  assert.match(bad.body, /href="#acteurId">Un numéro fiscal ne peut pas servir de critère/);
  assert.match(bad.body, /href="#du">La date « du » doit être au format JJ\/MM\/AAAA/);
  assert.match(bad.body, /Aucune famille ni demande ne porte la référence F-ZZZZ-ZZZZ/);
  assert.ok(!bad.body.includes(spi), 'the number typed is not shown back');
  assert.equal((await latest('journal.consulte')).seq, before, 'a refused search reads nothing');
  // An action code is guarded like the other fields: a field error in French, not a refused journal entry.
  const code = await chercher({ action: `famille.a${spi}` });
  assert.equal(code.statusCode, 400);
  assert.match(code.body, /href="#action">Un numéro fiscal ne peut pas servir de critère/);
  assert.ok(!code.body.includes(spi), 'the number typed is not shown back');
  assert.equal((await latest('journal.consulte')).seq, before);
  // Refused criteria are not kept: the page still shows the last accepted ones, and no session holds the number.
  const kept = await t.get(auditeur, derniereRecherche);
  assert.match(kept.body, new RegExp(`Critères : action demande\\. ; famille ${familleA.reference}`));
  const sessions = await t.database.db.selectFrom('sessions').select('data').execute();
  assert.ok(sessions.length > 0 && !sessions.some((r) => String(r.data).includes(spi)), 'no session holds the number typed');
});

test('the journal pages by 50 with a cursor, older entries after', async () => {
  const admin = agentActeur('administrateur');
  await t.harness.journal.inTransaction(async (trx) => {
    for (let i = 0; i < 57; i++)
      await t.harness.journal.append(
        { actor: admin, action: 'famille.consultee', target: { type: 'famille', id: familleB.id }, outcome: 'succes', details: { rang: i } },
        trx,
      );
  });
  const first = await chercher({ agent: t.agents.administrateur.id, action: 'famille.consultee' });
  const page1 = seqsOf(first.body);
  assert.equal(page1.length, 50);
  const next = /href="(\/agents\/controle\/journal\?recherche=[a-p]{16}&amp;avant=(\d+))">Entrées plus anciennes/.exec(first.body);
  assert.ok(next, 'a link to older entries, with the search’s handle and the cursor only');
  assert.equal(Number(next[2]), page1[49]);
  const second = await t.get(auditeur, (next[1] as string).replace('&amp;', '&'));
  const page2 = seqsOf(second.body);
  assert.equal(page2.length, 7);
  assert.ok(Math.max(...page2) < Math.min(...page1));
  assert.doesNotMatch(second.body, /Entrées plus anciennes/);
  assert.match(second.body, /Revenir aux entrées les plus récentes/);
  assert.equal((await latest('journal.consulte')).details.avant, page1[49]);
});

/** RFC 4180 with `;`, enough to read the exports back. */
function readCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ';') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

test('an agent’s export as CSV: BOM, semicolons, formulas neutralised, every entry where they act or are acted upon; journaled', async () => {
  const guichet = t.agents.guichet;
  const want = (await t.harness.journal.query({ involving: [{ type: 'agent', id: guichet.id }] }, { limit: 500 })).entries.map((e) => e.seq).reverse();
  const res = await exporter({ sujet: 'agent', agent: guichet.id, du: dayFr(-2), format: 'csv', famille: 'ignorée' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^text\/csv; charset=utf-8/);
  assert.match(String(res.headers['content-disposition']), /^attachment; filename="journal-agent-[A-Za-z0-9_.-]+\.csv"$/);
  assert.ok(res.body.startsWith('\uFEFFSéquence;Date et heure (UTC);'), 'UTF-8 BOM, then the header separated by semicolons');
  const rows = readCsv(res.body.slice(1));
  const header = rows[0] as string[];
  assert.equal(header.length, 15);
  const data = rows.slice(1);
  assert.deepEqual(
    data.map((r) => Number(r[0])),
    want,
  );
  assert.ok(data.every((r) => r.length === header.length));
  for (const r of data) for (const cell of r) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `no cell starts a formula: ${cell}`);
  const idCol = header.indexOf('Identifiant de la cible');
  assert.ok(
    data.some((r) => r[idCol] === `'${FORMULE}`),
    'the formula is kept as text, prefixed with a quote',
  );
  assert.ok(res.body.includes(`"'=HYPERLINK(""http://exemple.invalid"";""cliquez"")"`));
  const exported = await latest('journal.exporte');
  assert.deepEqual(exported.target, { type: 'agent', id: guichet.id });
  assert.equal(exported.details.format, 'csv');
  assert.equal(exported.details.entrees, want.length);
  assert.ok(!want.includes(exported.seq), 'the export’s own entry is not in it');
  // One download per form sent: the address alone leads back to the form.
  const again = await t.get(auditeur, '/agents/controle/exports/fichier');
  assert.equal(again.statusCode, 303);
  assert.equal(again.headers.location, '/agents/controle/exports');
});

test('a family’s export as JSON: its records, its requests, the agents who acted for it; unknown references refused in French', async () => {
  const res = await exporter({ sujet: 'famille', famille: familleA.reference, format: 'json' });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = JSON.parse(res.body) as {
    sujet: { reference: string };
    entrees: number;
    journal: Array<{ sequence: number; action: string; cible: { type: string; id: string } | null; acteur: { type: string; nom?: string } }>;
  };
  assert.equal(body.sujet.reference, familleA.reference);
  const want = (
    await t.harness.journal.query(
      {
        involving: [
          { type: 'famille', id: familleA.id },
          { type: 'demande', id: demandeA.id },
          { type: 'contestation', id: contestationA },
        ],
      },
      { limit: 500 },
    )
  ).entries
    .filter((e) => e.action !== 'journal.exporte')
    .map((e) => e.seq)
    .reverse();
  assert.deepEqual(
    body.journal.map((e) => e.sequence),
    want,
  );
  assert.equal(body.entrees, want.length);
  assert.ok(body.journal.some((e) => e.action === 'demande.consultee_instruction' && e.acteur.nom === nomAgent(t.agents.instructeur)));
  assert.ok(!body.journal.some((e) => e.cible?.id === familleB.id));
  assert.doesNotMatch(res.body, /\brfr\b|revenuFiscal|nbParts|montant/i);
  assert.deepEqual((await latest('journal.exporte')).target, { type: 'famille', id: familleA.id });

  const form = await t.get(auditeur, '/agents/controle/exports');
  assert.equal(form.statusCode, 200);
  const bad = await exporter({ sujet: 'famille', famille: 'F-ZZZZ-ZZZZ', format: 'csv' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /Aucune famille ni demande ne porte la référence F-ZZZZ-ZZZZ/);
  const none = await exporter({ format: 'csv' });
  assert.match(none.body, /Indiquez si l’export concerne une famille ou un agent/);
  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  const numero = await exporter({ sujet: 'famille', famille: spi, format: 'csv' });
  assert.equal(numero.statusCode, 400);
  assert.match(numero.body, /href="#famille">Un numéro fiscal ne peut pas servir de critère/);
  assert.ok(!numero.body.includes(spi));
  const sessions = await t.database.db.selectFrom('sessions').select('data').execute();
  assert.ok(!sessions.some((r) => String(r.data).includes(spi)), 'no session holds the number typed');
});

test('a periodic control: a reproducible sample of agents’ accesses, stored with its seed; observations saved, then the control closed', async () => {
  const form = '/agents/controle/controles';
  const bad = await t.post(auditeur, form, form, { du: '01/13/2026', au: '', taille: '0' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.body, /href="#taille">Indiquez un nombre d’accès à tirer entre 1 et 200/);
  assert.match(bad.body, /href="#au">Indiquez le dernier jour/);

  // A period without any access by an agent: nothing to draw, said in French on the form.
  const vide = await t.post(auditeur, form, form, { du: '01/01/2020', au: '31/01/2020', taille: '5' });
  assert.equal(vide.statusCode, 400);
  assert.match(vide.body, /href="#du">Aucun agent n’a consulté de dossier de famille du 01\/01\/2020 au 31\/01\/2020 : il n’y a rien à tirer au sort/);
  assert.equal((await t.database.db.selectFrom('controles').select('id').execute()).length, 0, 'no empty control is stored');

  const created = await t.post(auditeur, form, form, { du: dayFr(-1), au: dayFr(0), taille: '5' });
  assert.equal(created.statusCode, 303);
  const id = /\/agents\/controle\/controles\/([0-9a-f-]{36})$/.exec(String(created.headers.location))?.[1];
  assert.ok(id);
  const row = await t.database.db.selectFrom('controles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const { seqs: sample, borne } = JSON.parse(row.echantillon) as { seqs: number[]; borne: number };
  assert.equal(sample.length, 5);
  assert.ok(Number.isSafeInteger(borne) && borne >= Math.max(...sample), 'the population’s bound is kept beside the sample');
  assert.equal(row.cree_par, t.agents.auditeur.id);
  assert.ok(row.graine.length >= 20);

  // The population, read back independently: agents reading families' data over the period.
  const from = debutJourParis(row.periode_du);
  const entries: AuditEntry[] = [];
  for await (const e of t.harness.journal.exportMatching({ actor: { type: 'agent' }, from })) entries.push(e);
  const population = entries.filter((e) => e.seq <= borne && estUnAcces(e)).map((e) => e.seq);
  assert.ok(population.length >= 60);
  for (const seq of sample) {
    const e = entries.find((x) => x.seq === seq);
    assert.ok(e && e.actor.type === 'agent' && /consult/.test(e.action), `sampled ${seq} is an access`);
  }
  assert.deepEqual(tirerEchantillon(population, row.graine, 5), sample, 'the same seed draws the same sample');
  assert.deepEqual(tirerEchantillon([...population].reverse(), row.graine, 5), sample, 'whatever the order of reading');

  const page = await t.get(auditeur, `/agents/controle/controles/${id}`);
  assert.equal(page.statusCode, 200);
  assert.deepEqual(seqsOf(page.body), sample);
  assert.match(page.body, /redonne exactement cet échantillon/);
  assert.match(page.body, new RegExp(row.graine));
  assert.equal((await latest('controle.consulte')).target?.id, id);

  const list = await t.get(auditeur, form);
  assert.match(list.body, new RegExp(`href="/agents/controle/controles/${id}"`));
  assert.match(list.body, /En cours/);

  const observationsUrl = `/agents/controle/controles/${id}/observations`;
  const saved = await t.post(auditeur, `/agents/controle/controles/${id}`, observationsUrl, {
    observations: 'Consultations n° 1 à 3 justifiées ; la 4e reste à expliquer.',
    clore: 'non',
  });
  assert.equal(saved.statusCode, 303);
  const after1 = await t.database.db.selectFrom('controles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(after1.observations, 'Consultations n° 1 à 3 justifiées ; la 4e reste à expliquer.');
  assert.equal(after1.clos_le, null);
  const shown = await t.get(auditeur, `/agents/controle/controles/${id}`);
  assert.match(shown.body, /Vos observations sont enregistrées/);
  assert.match(shown.body, /la 4e reste à expliquer/);

  // A verdict per sampled access: conforme, or non conforme with a comment; recorded and journaled.
  const verdictUrl = (seq: number) => `/agents/controle/controles/${id}/verdicts/${seq}`;
  const [premier, second] = sample as [number, number];
  assert.match(shown.body, /0 accès examiné\(s\) sur 5/);
  assert.equal((await t.post(auditeur, `/agents/controle/controles/${id}`, verdictUrl(premier), { verdict: 'conforme', commentaire: '' })).statusCode, 303);
  const sansRaison = await t.post(auditeur, `/agents/controle/controles/${id}`, verdictUrl(second), { verdict: 'non_conforme', commentaire: ' ' });
  assert.equal(sansRaison.statusCode, 400);
  assert.match(sansRaison.body, new RegExp(`href="#commentaire-${second}">Expliquez pourquoi l’accès n° ${second} n’est pas conforme`));
  const aucun = await t.post(auditeur, `/agents/controle/controles/${id}`, verdictUrl(second), { commentaire: 'x' });
  assert.match(aucun.body, new RegExp(`href="#verdict-${second}-conforme">Indiquez si l’accès n° ${second} est conforme ou non conforme`));
  const nonConforme = await t.post(auditeur, `/agents/controle/controles/${id}`, verdictUrl(second), {
    verdict: 'non_conforme',
    commentaire: 'Aucune demande en cours ce jour-là : agent interrogé.',
  });
  assert.equal(nonConforme.statusCode, 303);
  assert.equal(nonConforme.headers.location, `/agents/controle/controles/${id}#acces-${second}`);
  const horsEchantillon = Math.max(...sample) + 100_000;
  assert.equal((await t.post(auditeur, `/agents/controle/controles/${id}`, verdictUrl(horsEchantillon), { verdict: 'conforme' })).statusCode, 404);
  const avecVerdicts = (await t.get(auditeur, `/agents/controle/controles/${id}`)).body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  assert.match(avecVerdicts, /2 accès examiné\(s\) sur 5/);
  assert.match(avecVerdicts, new RegExp(`Accès n° ${premier} : .*? Verdict : Conforme \\(par ${nomAgent(t.agents.auditeur)}, le `));
  assert.match(avecVerdicts, /Verdict : Non conforme — « Aucune demande en cours ce jour-là : agent interrogé\. »/);
  const journalise = await latest('controle.verdict_enregistre');
  assert.deepEqual([journalise.target?.id, journalise.details.sequence, journalise.details.verdict], [id, second, 'non_conforme']);

  const empty = await t.post(auditeur, `/agents/controle/controles/${id}`, observationsUrl, { observations: '  ', clore: 'oui' });
  assert.equal(empty.statusCode, 400);
  assert.match(empty.body, /Indiquez vos observations avant de clore le contrôle/);
  assert.equal((await t.database.db.selectFrom('controles').select('clos_le').where('id', '=', id).executeTakeFirstOrThrow()).clos_le, null);

  const closed = await t.post(auditeur, `/agents/controle/controles/${id}`, observationsUrl, {
    observations: 'Toutes justifiées après vérification auprès du service.',
    clore: 'oui',
  });
  assert.equal(closed.statusCode, 303);
  const after2 = await t.database.db.selectFrom('controles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.ok(after2.clos_le);
  assert.equal(after2.observations, 'Toutes justifiées après vérification auprès du service.');
  assert.deepEqual(JSON.parse(after2.echantillon), { seqs: sample, borne }, 'the sample does not change');
  const closedPage = await t.get(auditeur, `/agents/controle/controles/${id}`);
  assert.match(closedPage.body, /Le contrôle est clos/);
  assert.doesNotMatch(closedPage.body, /Enregistrer et clore/);
  const again = await t.post(auditeur, `/agents/controle/controles/${id}`, observationsUrl, { observations: 'Changement', clore: 'non' });
  assert.equal(again.statusCode, 409);
  assert.equal(
    (await t.post(auditeur, `/agents/controle/controles/${id}`, verdictUrl(premier), { verdict: 'non_conforme', commentaire: 'tard' })).statusCode,
    409,
  );
  assert.match(closedPage.body.replace(/<[^>]+>/g, ''), /Verdict : Conforme/);
  assert.doesNotMatch(closedPage.body, /Enregistrer le verdict/);
  assert.equal((await latest('controle.clos')).target?.id, id);
  assert.equal((await latest('controle.cree')).details.taille, 5);
  assert.equal((await t.get(auditeur, '/agents/controle/controles/00000000-0000-4000-8000-000000000000')).statusCode, 404);
});

test('a control stays reproducible when accesses are written after it, within its period; its period is bounded', async () => {
  const form = '/agents/controle/controles';
  const created = await t.post(auditeur, form, form, { du: dayFr(-1), au: dayFr(0), taille: '5' });
  assert.equal(created.statusCode, 303);
  const id = /([0-9a-f-]{36})$/.exec(String(created.headers.location))?.[1] as string;
  const row = await t.database.db.selectFrom('controles').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const { seqs: sample } = JSON.parse(row.echantillon) as { seqs: number[] };
  const population = (await latest('controle.cree')).details.population;
  const first = await t.get(auditeur, `/agents/controle/controles/${id}`);
  assert.deepEqual(seqsOf(first.body), sample);
  assert.match(first.body, new RegExp(`tirée\\(s\\) parmi ${population} sur la période`));

  // Agents go on consulting families today, inside the control's period.
  const guichet = agentActeur('guichet');
  for (let i = 0; i < 40; i++)
    await t.harness.journal.append({
      actor: guichet,
      action: 'famille.consultee',
      target: { type: 'famille', id: i % 2 ? familleA.id : familleB.id },
      outcome: 'succes',
    });
  const later = await t.get(auditeur, `/agents/controle/controles/${id}`);
  assert.deepEqual(seqsOf(later.body), sample, 'the same sample');
  assert.match(later.body, /redonne exactement cet échantillon/);
  assert.match(later.body, new RegExp(`tirée\\(s\\) parmi ${population} sur la période`), 'the same population');

  // A control stored before the bound was kept (a plain array) is still shown.
  await t.database.db
    .updateTable('controles')
    .set({ echantillon: JSON.stringify(sample) })
    .where('id', '=', id)
    .execute();
  assert.deepEqual(seqsOf((await t.get(auditeur, `/agents/controle/controles/${id}`)).body), sample);

  const future = await t.post(auditeur, form, form, { du: dayFr(0), au: dayFr(1), taille: '5' });
  assert.equal(future.statusCode, 400);
  assert.match(future.body, /href="#au">La période contrôlée ne peut pas finir après aujourd’hui/);
  const tooLong = await t.post(auditeur, form, form, { du: '01/01/1900', au: dayFr(0), taille: '5' });
  assert.equal(tooLong.statusCode, 400);
  assert.match(tooLong.body, /href="#du">La période contrôlée ne peut pas dépasser 366 jours/);
  const year = await t.post(auditeur, form, form, { du: dayFr(-365), au: dayFr(0), taille: '5' });
  assert.equal(year.statusCode, 303, '366 days, today included, are accepted');
});

test('dates out of the calendar (31/12/9999, 01/01/0001) are a French error on the form, never a 500', async () => {
  for (const [champ, valeur] of [
    ['au', '31/12/9999'],
    ['du', '31/12/9999'],
    ['du', '01/01/0001'],
    ['au', '9999-12-31T23:59Z'],
  ] as const) {
    const journal = await chercher({ [champ]: valeur });
    assert.equal(journal.statusCode, 400, `journal ${champ} ${valeur}`);
    assert.match(journal.body, new RegExp(`href="#${champ}">La date « ${champ} » doit être comprise entre 1900 et 2999`));
    const fichier = await exporter({ sujet: 'agent', agent: t.agents.guichet.id, format: 'csv', [champ]: valeur });
    assert.equal(fichier.statusCode, 400, `export ${champ} ${valeur}`);
    assert.match(fichier.body, new RegExp(`href="#${champ}">La date « ${champ} » doit être comprise entre 1900 et 2999`));
  }
  const form = '/agents/controle/controles';
  const controle = await t.post(auditeur, form, form, { du: dayFr(-1), au: '31/12/9999', taille: '5' });
  assert.equal(controle.statusCode, 400);
  assert.match(controle.body, /La date « au » doit être comprise entre 1900 et 2999/);
});

// Last: it breaks the journal on purpose.
test('integrity: intact, then the first broken sequence once an entry is rewritten behind the application’s back', async () => {
  const page = await t.get(auditeur, '/agents/controle/integrite');
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /jamais été vérifié/);
  const run = await t.post(auditeur, '/agents/controle/integrite', '/agents/controle/integrite', {});
  assert.equal(run.statusCode, 303);
  const intact = await t.get(auditeur, '/agents/controle/integrite');
  assert.match(intact.body, /Journal intact/);
  assert.match(intact.body, /Ancre externe<\/dt><dd>présente et valide/);
  assert.equal((await latest('journal.verifie')).details.intact, true);

  const target = (await latest('famille.consultee')).seq - 3;
  await asPrivileged(t.database, async (trx) => {
    await trx.updateTable('journal_audit').set({ outcome: 'succes', details: '{"motif":"rien à voir"}' }).where('seq', '=', target).execute();
  });
  await t.post(auditeur, '/agents/controle/integrite', '/agents/controle/integrite', {});
  const broken = await t.get(auditeur, '/agents/controle/integrite');
  assert.match(broken.body, /Journal altéré/);
  assert.match(broken.body, new RegExp(`Première séquence rompue</dt><dd>n° ${target}<`));
  assert.match(broken.body, /prévenez le responsable de la sécurité/);
  const verified = await latest('journal.verifie');
  assert.equal(verified.details.intact, false);
  assert.equal(verified.details.sequenceRompue, target);
  const home = await t.get(auditeur, '/agents/controle');
  assert.match(home.body, /journal altéré/);
});

test('a search handle is 16 letters, never shaped like a numéro fiscal, and does not repeat', () => {
  const jetons = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const jeton = jetonRecherche();
    assert.match(jeton, /^[a-p]{16}$/);
    assert.equal(ressembleANumeroFiscal(jeton), false);
    jetons.add(jeton);
  }
  assert.equal(jetons.size, 20_000);
});
