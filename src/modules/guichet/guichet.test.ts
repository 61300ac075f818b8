import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { addDays } from '../../domain/dates.ts';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import type { Jar } from '../../http/test-cookies.ts';
import { calendarYear, DEFAULT_TAXATION_DATE } from '../../sandbox/calendar.ts';
import { Population } from '../../sandbox/population.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';

/**
 * The counter at the HTTP level: find or create a family, enter a request received on paper or by
 * e-mail with the consent as it was given, type the numéro fiscal once, see the QF and prices. The
 * numéro fiscal is kept nowhere; the pages never show fiscal detail.
 */

let t: BackOfficeTestApp;
let jar: Jar;
/** Every counter page received, to look for fiscal detail and numéros fiscaux at the end. */
const pages: Array<{ url: string; body: string }> = [];

before(async () => {
  t = await createBackOfficeTestApp();
  jar = await t.signInAgent('guichet');
});
after(() => t.close());

const get = async (url: string) => {
  const res = await t.get(jar, url);
  pages.push({ url, body: res.body });
  return res;
};
const post = async (from: string | null, url: string, fields: Record<string, string>) => {
  const res = await t.post(jar, from, url, fields);
  pages.push({ url, body: res.body });
  return res;
};
const journal = async (action: string) => (await t.harness.journal.query({ action }, { limit: 500 })).entries;
const fr = (iso: string) => iso.split('-').reverse().join('/');
const aujourdhui = () => parisDate(Date.now());
const spaced = (spi: string) => `${spi.slice(0, 2)} ${spi.slice(2, 4)} ${spi.slice(4, 7)} ${spi.slice(7, 10)} ${spi.slice(10)}`;

/** What the sandbox's avis say about this numéro fiscal, every year and period: the fiscal detail a counter must never show. */
function detailFiscal(spi: string) {
  const situations = new Population(DEFAULT_TAXATION_DATE).situations(spi, calendarYear(Date.now()));
  assert.ok(situations.length > 0, `the sandbox knows ${spi.slice(0, 3)}…`);
  const montants = new Set<number>();
  const noms = new Set<string>();
  for (const s of situations) {
    montants.add(s.rfr);
    for (const v of Object.values(s.details)) if (typeof v === 'number' && Math.abs(v) >= 100) montants.add(Math.abs(v));
    for (const d of [s.declarant1, s.declarant2]) {
      if (!d) continue;
      noms.add(d.prenoms);
      noms.add(d.nomNaissance);
      if (d.nomUsage) noms.add(d.nomUsage);
    }
  }
  return { montants: [...montants], nbParts: [...new Set(situations.map((s) => s.nbPart))], noms: [...noms] };
}

/** The page without what is random (identifiers, CSRF tokens), so that digits found there mean something. */
const visible = (html: string) =>
  html.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, 'ID').replace(/name="_csrf" value="[^"]*"/g, '');

function assertSansDetailFiscal(body: string, spi: string, where: string, nomsAvisPropresALaCommune: readonly string[] = []) {
  const { montants, nbParts, noms } = detailFiscal(spi);
  const text = visible(body);
  for (const m of montants) {
    const s = String(m);
    const groupe = s.length > 3 ? `${s.slice(0, -3)}[\\s\\u00a0\\u202f.]?${s.slice(-3)}` : s;
    assert.doesNotMatch(text, new RegExp(`(?<![0-9A-Za-z])${groupe}(?![0-9])`), `${where}: an amount of the avis (${s})`);
  }
  for (const p of nbParts) assert.doesNotMatch(text, new RegExp(`${String(p).replace('.', '[.,]')}\\s*parts?\\b`, 'i'), `${where}: the parts`);
  assert.doesNotMatch(text, /[0-9]\s*parts?\b/i, `${where}: a number of parts`);
  assert.doesNotMatch(text, /revenu fiscal de r[ée]f[ée]rence\s*:?\s*[0-9]/i, `${where}: an RFR`);
  for (const nom of noms) {
    // The avis writes names in capitals; the commune's own record of a parent (« Bertin ») is its data.
    if (nomsAvisPropresALaCommune.includes(nom)) assert.equal(text.includes(nom), false, `${where}: the avis's spelling « ${nom} »`);
    else assert.doesNotMatch(text, new RegExp(nom.replace(/[-\s]+/g, '[-\\s]+'), 'i'), `${where}: a declarant's name read on the avis (${nom})`);
  }
}

function encodings(value: string): Map<string, Buffer> {
  const forms = new Map<string, Buffer>();
  for (const [name, text] of [
    ['brut', value],
    ['espacé', spaced(value)],
  ] as const) {
    const raw = Buffer.from(text);
    forms.set(name, raw);
    forms.set(`${name} base64`, Buffer.from(raw.toString('base64').replace(/=+$/, '')));
    forms.set(`${name} base64url`, Buffer.from(raw.toString('base64url')));
    forms.set(`${name} hex`, Buffer.from(raw.toString('hex')));
    forms.set(`${name} utf-16`, Buffer.from(text, 'utf16le'));
    for (const algorithm of ['sha1', 'sha256']) forms.set(`${name} ${algorithm}`, Buffer.from(createHash(algorithm).update(text).digest('hex')));
  }
  return forms;
}

const findings = (where: string, bytes: Buffer, forms: Map<string, Buffer>) =>
  [...forms].filter(([, form]) => bytes.includes(form)).map(([name]) => `${where} : ${name}`);

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const BERTIN = {
  'parent1-prenoms': 'Paul',
  'parent1-nomNaissance': 'Bertin',
  'parent1-dateNaissance': '09/04/1981',
  'parent2-prenoms': 'Claire',
  'parent2-nomNaissance': 'Roussel',
  'parent2-nomUsage': 'Bertin',
  'parent2-dateNaissance': '01/12/1983',
  'parent2-foyer': 'oui',
  'enfant1-prenoms': 'Léa',
  'enfant1-nom': 'Bertin',
  'enfant1-dateNaissance': '02/05/2016',
  'enfant1-residence': 'exclusive',
  resident: 'oui',
  courriel: 'famille.bertin@exemple.fr',
};

async function creerFamille(fields: Record<string, string>): Promise<string> {
  const res = await post('/agents/guichet/familles/nouvelle', '/agents/guichet/familles', fields);
  assert.equal(res.statusCode, 303, res.body.slice(0, 3000));
  const location = String(res.headers.location);
  assert.match(location, /^\/agents\/guichet\/familles\/[0-9a-f-]{36}$/);
  return location.split('/').at(-1) as string;
}

/** Step 1 and step 2 of a paper request; returns the request's id. */
async function saisirDemande(familleId: string, accord: Record<string, string>, numeros: Record<string, string>): Promise<string> {
  const etape1 = `/agents/guichet/familles/${familleId}/demande`;
  const res1 = await post(etape1, etape1, accord);
  assert.equal(res1.statusCode, 303, res1.body.slice(0, 3000));
  assert.equal(res1.headers.location, `${etape1}/numero`);
  const res2 = await post(`${etape1}/numero`, `${etape1}/numero`, numeros);
  assert.equal(res2.statusCode, 303, res2.body.slice(0, 3000));
  const location = String(res2.headers.location);
  assert.match(location, /^\/agents\/guichet\/demandes\/[0-9a-f-]{36}$/);
  return location.split('/').at(-1) as string;
}

let bertinId = '';

test('find a family by reference, name or date of birth; create one with French messages; every search journaled without the names', async () => {
  const accueil = await get('/agents/guichet');
  assert.equal(accueil.statusCode, 200);
  assert.match(accueil.body, /Rechercher une famille/);
  assert.match(accueil.body, /aria-current="page"[^>]*>Accueil des familles|href="\/agents\/guichet" aria-current="page"/);

  // Creation: what is missing or wrong is said in French, next to each field, and in the summary.
  const vide = await post('/agents/guichet/familles/nouvelle', '/agents/guichet/familles', {
    'parent1-prenoms': 'Paul',
    'parent1-dateNaissance': '31/02/1981',
    courriel: 'pas-une-adresse',
    'enfant1-prenoms': 'Léa',
  });
  assert.equal(vide.statusCode, 400);
  for (const message of [
    /Indiquez le nom de naissance du premier parent/,
    /La date de naissance du premier parent doit être une date passée au format JJ\/MM\/AAAA/,
    /L’adresse électronique n’est pas valide/,
    /Indiquez le nom de l’enfant 1/,
    /href="#parent1-nomNaissance"/,
    /informations sont à corriger/,
  ])
    assert.match(vide.body, message);
  assert.match(vide.body, /id="parent1-prenoms"[^>]*value="Paul"/, 'what was right is kept');
  const chiffres = await post('/agents/guichet/familles/nouvelle', '/agents/guichet/familles', { ...BERTIN, 'parent1-nomNaissance': 'B3rtin' });
  assert.equal(chiffres.statusCode, 400);
  assert.match(chiffres.body, /ne contient pas de chiffres/);

  bertinId = await creerFamille(BERTIN);
  const creee = (await journal('famille.creee')).find((e) => e.target?.id === bertinId);
  assert.equal(creee?.actor.id, t.agents.guichet.id);
  const fiche = await get(`/agents/guichet/familles/${bertinId}`);
  assert.equal(fiche.statusCode, 200);
  const reference = /F-[A-Z0-9]{4}-[A-Z0-9]{4}/.exec(fiche.body)?.[0] as string;
  assert.ok(reference);
  assert.match(fiche.body, /Paul Bertin/);
  assert.match(fiche.body, /Claire Bertin, nom de naissance Roussel, né\(e\) le 1er décembre 1983/);
  assert.match(fiche.body, /Aucun quotient familial en cours de validité/);
  const consultee = (await journal('famille.consultee')).find((e) => e.target?.id === bertinId);
  assert.equal(consultee?.actor.id, t.agents.guichet.id);

  // The same parent again: the existing family is shown first, and creating another needs a confirmation.
  const doublon = await post('/agents/guichet/familles/nouvelle', '/agents/guichet/familles', BERTIN);
  assert.equal(doublon.statusCode, 400);
  assert.match(doublon.body, /Cette famille existe peut-être déjà/);
  assert.ok(doublon.body.includes(`href="/agents/guichet/familles/${bertinId}"`));

  // Searches: by name (case and accents ignored), by a parent's name and date together, by reference.
  await creerFamille({ 'parent1-prenoms': 'Hélène', 'parent1-nomNaissance': 'Lefèvre-Dupré', 'parent1-dateNaissance': '1979-03-15' });
  const cherche = async (fields: Record<string, string>) => {
    const res = await post('/agents/guichet', '/agents/guichet/recherche', fields);
    assert.equal(res.statusCode, 303, res.body.slice(0, 2000));
    return (await get('/agents/guichet')).body;
  };
  assert.ok((await cherche({ nom: 'bertin' })).includes(reference));
  assert.ok((await cherche({ nom: 'roussel', naissance: '01/12/1983' })).includes(reference));
  assert.match(await cherche({ nom: 'Roussel', naissance: '09/04/1981' }), /Aucune famille trouvée/, 'name and date of the same parent');
  assert.ok((await cherche({ reference: reference.toLowerCase() })).includes('Paul Bertin'));
  assert.match(await cherche({ nom: 'lefevre dupre helene' }), /Hélène Lefèvre-Dupré/);
  assert.match(await cherche({ naissance: '15/03/1979' }), /Hélène Lefèvre-Dupré/);
  const recherches = await journal('famille.recherchee');
  assert.ok(recherches.some((e) => e.actor.id === t.agents.guichet.id && e.details.criteres === 'nom+date_naissance' && e.details.resultats === 1));
  assert.doesNotMatch(JSON.stringify(recherches), /bertin|roussel|lefevre|lefèvre|1983-12-01/i, 'the journal keeps counts, not the names searched');

  // Search errors, in French; a numéro fiscal typed in the wrong field is not shown back.
  const rien = await post('/agents/guichet', '/agents/guichet/recherche', {});
  assert.equal(rien.statusCode, 400);
  assert.match(rien.body, /Indiquez une référence de famille, un nom ou une date de naissance/);
  const mauvaise = await post('/agents/guichet', '/agents/guichet/recherche', { reference: 'X-12', naissance: '2099-01-01' });
  assert.match(mauvaise.body, /La référence d’une famille s’écrit F-/);
  assert.match(mauvaise.body, /date passée au format JJ\/MM\/AAAA/);
  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  const egare = await post('/agents/guichet', '/agents/guichet/recherche', { nom: spaced(spi) });
  assert.equal(egare.statusCode, 400);
  assert.match(egare.body, /semble contenir un numéro fiscal/);
  assert.equal(egare.body.includes(spi.slice(0, 4)) || egare.body.includes(spaced(spi)), false);
});

test('a paper request for a sandbox family: consent as given, numéro fiscal typed once, QF, tranche and prices at once; no fiscal detail', async () => {
  assert.ok(bertinId, 'the family of the previous test');
  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  const etape1 = `/agents/guichet/familles/${bertinId}/demande`;
  const accord = await get(etape1);
  assert.equal(accord.statusCode, 200);
  assert.match(accord.body, /Accord de Paul Bertin/);
  assert.match(accord.body, /reçu par vous, Camille Martin/);
  assert.equal((await get(`${etape1}/numero`)).headers.location, etape1, 'no number before the consent');

  // Consent errors, in French.
  const rien = await post(etape1, etape1, {});
  assert.equal(rien.statusCode, 400);
  assert.match(rien.body, /Indiquez quels avis d’imposition demander/);
  const incomplet = await post(etape1, etape1, { avis: 'commun-1', 'date-1': fr(addDays(aujourdhui(), 2)), 'piece-1': `Formulaire ${spaced(spi)}` });
  assert.equal(incomplet.statusCode, 400);
  assert.match(incomplet.body, /Indiquez comment Paul Bertin a donné son accord : formulaire signé ou courriel/);
  assert.match(incomplet.body, /La date de l’accord de Paul Bertin est dans le futur/);
  assert.match(incomplet.body, /semble contenir un numéro fiscal/);
  assert.equal(incomplet.body.includes(spaced(spi)), false, 'the piece holding a number is not shown back');
  const ancien = await post(etape1, etape1, { avis: 'commun-1', 'mode-1': 'formulaire_signe', 'date-1': '32/01/2026', 'piece-1': 'F1' });
  assert.match(ancien.body, /n’est pas une date valide : écrivez-la au format JJ\/MM\/AAAA/);

  const hier = addDays(aujourdhui(), -1);
  const suite = await post(etape1, etape1, {
    avis: 'commun-1',
    'mode-1': 'formulaire_signe',
    'date-1': fr(hier),
    'piece-1': 'Formulaire d’accord n° 2026-118',
  });
  assert.equal(suite.statusCode, 303);
  const numero = await get(`${etape1}/numero`);
  assert.match(numero.body, /Paul Bertin : accord sur un formulaire signé, enregistré par un agent, donné le/);
  assert.match(numero.body, /Où trouver le numéro fiscal/);

  // The number: each error explained, the field always comes back empty, nothing typed is echoed.
  for (const [typed, message] of [
    ['', /figure en haut à gauche|13 chiffres/],
    [spi.slice(0, 12), /13 chiffres/],
    [`${spi.slice(0, 12)}A`, /que des chiffres/],
  ] as const) {
    const res = await post(`${etape1}/numero`, `${etape1}/numero`, { 'numero-1': typed });
    assert.equal(res.statusCode, 400, typed);
    assert.match(res.body, message);
    assert.doesNotMatch(res.body, /id="numero-1"[^>]*value="[^"]/, 'the field comes back empty');
    if (typed !== '') assert.equal(res.body.includes(typed), false, 'not echoed');
  }
  const envoi = await post(`${etape1}/numero`, `${etape1}/numero`, { 'numero-1': spaced(spi) });
  assert.equal(envoi.statusCode, 303);
  const demandeId = String(envoi.headers.location).split('/').at(-1) as string;
  const resultat = await get(`/agents/guichet/demandes/${demandeId}`);
  assert.equal(resultat.statusCode, 200);
  assert.match(resultat.body, /quotient calculé/);
  assert.match(resultat.body, /[0-9 \u202f\u00a0]+,[0-9]{2}\s€\s*<span class="quotient-carte__unite">par mois/);
  assert.match(resultat.body, /Restauration scolaire/);
  assert.match(resultat.body, /<caption>Prix des activités<\/caption>/);
  assert.match(resultat.body, /<th scope="col">Tranche<\/th>/);

  // The consent as the family gave it, received by this agent; the request entered at the counter.
  const [consentement, ...autres] = await t.database.db.selectFrom('consentements').selectAll().where('demande_id', '=', demandeId).execute();
  assert.equal(autres.length, 0);
  assert.equal(consentement?.mode, 'formulaire_signe');
  assert.equal(consentement?.piece, 'Formulaire d’accord n° 2026-118');
  assert.equal(consentement?.donne_par_type, 'agent');
  assert.equal(consentement?.donne_par_id, t.agents.guichet.id);
  assert.equal(consentement?.parent_rang, 1);
  assert.equal(consentement?.recueilli_le.slice(0, 10), hier);
  const demande = await t.database.db.selectFrom('demandes').selectAll().where('id', '=', demandeId).executeTakeFirstOrThrow();
  assert.deepEqual([demande.canal, demande.statut, demande.acteur_type, demande.acteur_id], ['guichet', 'calculee', 'agent', t.agents.guichet.id]);
  const recueilli = (await journal('consentement.recueilli')).find((e) => e.target?.id === demandeId);
  assert.deepEqual([recueilli?.actor.type, recueilli?.actor.id, recueilli?.details.mode], ['agent', t.agents.guichet.id, 'formulaire_signe']);
  assert.ok((await journal('demande.consultee')).some((e) => e.target?.id === demandeId && e.actor.id === t.agents.guichet.id));

  // The family's page now shows the QF retained; the attestation prints it.
  const fiche = await get(`/agents/guichet/familles/${bertinId}`);
  assert.match(fiche.body, /Quotient familial retenu/);
  assert.match(fiche.body, /au guichet/);
  const attestation = await get(`/agents/guichet/demandes/${demandeId}/attestation`);
  assert.equal(attestation.statusCode, 200);
  assert.match(attestation.body, /Attestation de quotient familial/);
  assert.match(attestation.body, /<dt>Source<\/dt><dd>DGFiP, avis d’imposition \d{4} \(revenus \d{4}\)<\/dd>/);

  // No fiscal detail on any page of this family: the avis's amounts, parts, its spelling of the names.
  for (const p of pages) assertSansDetailFiscal(p.body, spi, p.url, ['BERTIN', 'ROUSSEL']);

  // The family contests the result: its page at the counter says a contestation awaits an answer, on which request, not the family's words.
  assert.doesNotMatch(fiche.body, /contestation/i);
  await t.harness.familles.contester(bertinId, demandeId, 'Notre fils aîné est revenu vivre chez nous.', { type: 'famille', id: 'compte-bertin' });
  const contestee = (await get(`/agents/guichet/familles/${bertinId}`)).body.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
  assert.match(
    contestee,
    new RegExp(
      `Une contestation de la famille est en attente de réponse Déposée le \\d{1,2}(er)? \\S+ \\d{4}, sur la demande ${demande.reference} : un instructeur l’examine`,
    ),
  );
  assert.doesNotMatch(contestee, /fils aîné/, 'the family’s words are for the instructor');
});

test('unmarried parents: two avis, one consent by signed form and one by e-mail, two numbers; the QF', async () => {
  const id = await creerFamille({
    'parent1-prenoms': 'Julie',
    'parent1-nomNaissance': 'Garnier',
    'parent1-dateNaissance': '17/09/1992',
    'parent2-prenoms': 'Thomas',
    'parent2-nomNaissance': 'Moreau',
    'parent2-dateNaissance': '05/01/1991',
    'enfant1-prenoms': 'Noé',
    'enfant1-nom': 'Moreau',
  });
  const etape1 = `/agents/guichet/familles/${id}/demande`;
  const manque = await post(etape1, etape1, { avis: 'deux', 'mode-1': 'formulaire_signe', 'date-1': fr(aujourdhui()), 'piece-1': 'Formulaire 7' });
  assert.equal(manque.statusCode, 400);
  assert.match(manque.body, /Indiquez comment Thomas Moreau a donné son accord/);
  assert.match(manque.body, /Indiquez la référence du formulaire signé ou du courriel de Thomas Moreau/);
  const numeros = { 'numero-1': SPI_SANDBOX.parentsNonMaries.parentAvecEnfant, 'numero-2': SPI_SANDBOX.parentsNonMaries.parentSansEnfant };
  const demandeId = await saisirDemande(
    id,
    {
      avis: 'deux',
      'mode-1': 'formulaire_signe',
      'date-1': fr(aujourdhui()),
      'piece-1': 'Formulaire 7',
      'mode-2': 'courriel',
      'date-2': fr(addDays(aujourdhui(), -3)),
      'piece-2': 'Courriel « Accord QF » du 3 du mois',
    },
    numeros,
  );
  const page = await get(`/agents/guichet/demandes/${demandeId}`);
  assert.match(page.body, /quotient calculé/);
  const rows = await t.database.db
    .selectFrom('consentements')
    .select(['parent_rang', 'mode', 'piece', 'donne_par_id'])
    .where('demande_id', '=', demandeId)
    .orderBy('parent_rang')
    .execute();
  assert.deepEqual(
    rows.map((r) => [r.parent_rang, r.mode, r.donne_par_id]),
    [
      [1, 'formulaire_signe', t.agents.guichet.id],
      [2, 'courriel', t.agents.guichet.id],
    ],
  );
  for (const spi of Object.values(numeros)) assertSansDetailFiscal(page.body, spi, 'deux avis', ['GARNIER', 'MOREAU', 'JULIE', 'THOMAS']);
});

test('identity mismatch: the counter says an instructor will check, and shows nothing of the avis', async () => {
  const spi = SPI_SANDBOX.coupleMarie.declarant1;
  const id = await creerFamille({ 'parent1-prenoms': 'Pierre', 'parent1-nomNaissance': 'Durand', 'parent1-dateNaissance': '01/01/1980' });
  const demandeId = await saisirDemande(id, { 'mode-1': 'courriel', 'date-1': fr(aujourdhui()), 'piece-1': 'Courriel du jour' }, { 'numero-1': spi });
  const page = await get(`/agents/guichet/demandes/${demandeId}`);
  assert.match(page.body, /à vérifier/i);
  assert.match(page.body, /Un instructeur va vérifier la demande/);
  assert.doesNotMatch(page.body, /€/);
  assertSansDetailFiscal(page.body, spi, 'à vérifier');

  // An instructor sets the QF by hand: the attestation says where it comes from, not the DGFiP.
  const instructeur = { type: 'agent' as const, id: t.agents.instructeur.id };
  await t.harness.decisions.decider(demandeId, instructeur, {
    decision: 'qf_manuel',
    justification: 'Avis papier présenté.',
    piece: 'avis 2025 présenté en mairie',
    qfCents: 45_000,
  });
  const attestation = await get(`/agents/guichet/demandes/${demandeId}/attestation`);
  assert.equal(attestation.statusCode, 200);
  assert.match(attestation.body, /<dt>Source<\/dt><dd>fixé par un agent de la commune au vu d’un document<\/dd>/);
  assert.doesNotMatch(attestation.body, /DGFiP/);

  // A refusal: the counter gets a generic sentence, never the instructor's own words.
  const autre = await creerFamille({ 'parent1-prenoms': 'Anne', 'parent1-nomNaissance': 'Lefort', 'parent1-dateNaissance': '02/02/1982' });
  const refusee = await saisirDemande(autre, { 'mode-1': 'courriel', 'date-1': fr(aujourdhui()), 'piece-1': 'Courriel du jour' }, { 'numero-1': spi });
  const justification = 'Le voisin a signalé une fraude probable';
  await t.harness.decisions.decider(refusee, instructeur, { decision: 'refuse', justification });
  for (const url of [`/agents/guichet/demandes/${refusee}`, `/agents/guichet/familles/${autre}`]) {
    const vue = await get(url);
    assert.equal(vue.statusCode, 200, url);
    assert.equal(vue.body.includes(justification), false, `${url}: the instructor's justification`);
  }
  assert.match((await get(`/agents/guichet/demandes/${refusee}`)).body, /Demande refusée après vérification par un instructeur/);
});

test('a double click on « send »: one request, one DGFiP call; the second submit is sent to the request created', async () => {
  const id = await creerFamille({ 'parent1-prenoms': 'Hugo', 'parent1-nomNaissance': 'Lemaire', 'parent1-dateNaissance': '03/03/1984' });
  const etape1 = `/agents/guichet/familles/${id}/demande`;
  assert.equal((await post(etape1, etape1, { 'mode-1': 'courriel', 'date-1': fr(aujourdhui()), 'piece-1': 'Courriel du jour' })).statusCode, 303);
  const formulaire = await get(`${etape1}/numero`);
  const token = /name="_csrf" value="([^"]+)"/.exec(formulaire.body)?.[1];
  assert.ok(token, 'the form carries its CSRF token');
  // The same form, same token and cookie, sent twice at once (as a browser does on a double click).
  const envoyer = () =>
    t.app.inject({
      method: 'POST',
      url: `${etape1}/numero`,
      payload: new URLSearchParams({ _csrf: token, 'numero-1': SPI_SANDBOX.coupleMarie.declarant1 }).toString(),
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    });
  const reponses = await Promise.all([envoyer(), envoyer()]);
  for (const r of reponses) jar.take(r.headers);
  assert.deepEqual(
    reponses.map((r) => r.statusCode),
    [303, 303],
  );
  const demandes = await t.database.db.selectFrom('demandes').select('id').where('famille_id', '=', id).execute();
  assert.equal(demandes.length, 1, 'one request for the family');
  const demandeId = demandes[0]?.id;
  assert.ok(reponses.some((r) => r.headers.location === `/agents/guichet/demandes/${demandeId}`));
  for (const r of reponses)
    assert.ok([`/agents/guichet/demandes/${demandeId}`, `/agents/guichet/familles/${id}`].includes(String(r.headers.location)), String(r.headers.location));
  // Sent again later (back button, another click): to the request created, still one.
  const encore = await envoyer();
  assert.equal(encore.headers.location, `/agents/guichet/demandes/${demandeId}`);
  assert.equal((await t.database.db.selectFrom('demandes').select('id').where('famille_id', '=', id).execute()).length, 1);
});

test('the DGFiP fails: the counter types the number again and relaunches the request; waiting in the queue refreshes itself', async () => {
  const spi = SPI_SANDBOX.rfrZero;
  const id = await creerFamille({ 'parent1-prenoms': 'Léa', 'parent1-nomNaissance': 'Roux', 'parent1-dateNaissance': '19/05/2003' });
  t.sandbox.admin.addFault({ kind: 'malformedJson', spi, times: 1 });
  const demandeId = await saisirDemande(id, { 'mode-1': 'formulaire_signe', 'date-1': fr(aujourdhui()), 'piece-1': 'Formulaire 12' }, { 'numero-1': spi });
  const url = `/agents/guichet/demandes/${demandeId}`;
  const echec = await get(url);
  assert.match(echec.body, /La DGFiP n’a pas pu répondre/);
  assert.match(echec.body, /Relancer la demande/);
  const erreur = await post(url, `${url}/ressaisie`, { 'numero-1': spi.slice(0, 10) });
  assert.equal(erreur.statusCode, 400);
  assert.match(erreur.body, /13 chiffres/);
  assert.equal(erreur.body.includes(spi.slice(0, 10)), false);
  const relance = await post(url, `${url}/ressaisie`, { 'numero-1': spi });
  assert.equal(relance.statusCode, 303);
  assert.match((await get(url)).body, /quotient calculé/);

  // The quota paused (as after a 429): the request waits, its page says where and refreshes itself.
  const until = new Date(Date.now() + 3_000).toISOString();
  await t.database.db.updateTable('quota_state').set({ paused_until: until }).execute();
  const { id: enFile } = await t.harness.demandes.soumettre({
    familleId: id,
    canal: 'guichet',
    acteur: { type: 'agent', id: t.agents.guichet.id },
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(spi) },
        consentement: { mode: 'courriel', donnePar: { type: 'agent', id: t.agents.guichet.id }, piece: 'Courriel' },
      },
    ],
  });
  t.services.wake();
  const attente = await get(`/agents/guichet/demandes/${enFile}`);
  assert.match(attente.body, /en attente/);
  assert.match(attente.body, /la prochaine à passer|e dans la file/);
  assert.match(attente.body, /toutes les 10 secondes/);
  assert.equal(attente.headers.refresh, `10; url=/agents/guichet/demandes/${enFile}`);
  assert.equal((await t.harness.demandes.attendre(enFile, 30_000)).statut, 'calculee');
  const apres = await get(`/agents/guichet/demandes/${enFile}`);
  assert.equal(apres.headers.refresh, undefined);
  assert.match(apres.body, /quotient calculé/);
});

test('the numéro fiscal is nowhere afterwards: database file and WAL, journal, logs, pages', async () => {
  const canari = SPI_SANDBOX.canari;
  const id = await creerFamille({
    'parent1-prenoms': 'Anne',
    'parent1-nomNaissance': 'Mercier',
    'parent1-dateNaissance': '03/02/1987',
    'enfant1-prenoms': 'Jules',
    'enfant1-nom': 'Mercier',
  });
  // A number typed with a digit too many first, then with spaces.
  const etape1 = `/agents/guichet/familles/${id}/demande`;
  assert.equal((await post(etape1, etape1, { 'mode-1': 'formulaire_signe', 'date-1': fr(aujourdhui()), 'piece-1': 'Formulaire 31' })).statusCode, 303);
  assert.equal((await post(`${etape1}/numero`, `${etape1}/numero`, { 'numero-1': `${canari}1` })).statusCode, 400);
  const demandeId = await saisirDemande(
    id,
    { 'mode-1': 'formulaire_signe', 'date-1': fr(aujourdhui()), 'piece-1': 'Formulaire 31' },
    { 'numero-1': spaced(canari) },
  );
  const page = await get(`/agents/guichet/demandes/${demandeId}`);
  assert.match(page.body, /quotient calculé/);
  await get(`/agents/guichet/familles/${id}`);
  await get(`/agents/guichet/demandes/${demandeId}/attestation`);
  assertSansDetailFiscal(page.body, canari, 'canari', ['MERCIER', 'ANNE']);

  const forms = encodings(canari);
  const found: string[] = [];
  for (const p of pages) found.push(...findings(`page ${p.url}`, Buffer.from(p.body), forms));
  const entries = await t.database.db.selectFrom('journal_audit').selectAll().execute();
  found.push(...findings('journal', Buffer.from(JSON.stringify(entries)), forms));
  found.push(...findings('journaux (log)', Buffer.from([...t.logLines, ...t.harness.logLines].join('\n')), forms));
  const file = t.config.databaseUrl.slice('sqlite:'.length);
  for (const path of filesUnder(dirname(file))) found.push(...findings(path, readFileSync(path), forms));
  await sql`PRAGMA wal_checkpoint(FULL)`.execute(t.database.db);
  for (const path of [file, `${file}-wal`]) {
    try {
      found.push(...findings(`${path} (après checkpoint)`, readFileSync(path), forms));
    } catch {
      // No WAL file left: nothing to read.
    }
  }
  assert.deepEqual(found, [], `the numéro fiscal was found:\n${found.join('\n')}`);
  assert.ok(t.sandbox.admin.calls().length > 0, 'the calls did reach the sandbox');
  // The scan can fail: the same search finds the number when it is there.
  assert.ok(findings('x', Buffer.from(`a ${spaced(canari)} b`), forms).length > 0);
});

test('a counter address with a line break, U+2028, a NUL or an emoji is a French 404 page, never an English 500', async () => {
  for (const part of ['%0D%0Aabc', '%E2%80%A8', '%00', '%F0%9F%98%80']) {
    for (const suffix of ['', '/demande', '/demande/numero']) {
      const res = await t.get(jar, `/agents/guichet/familles/${part}${suffix}`);
      assert.equal(res.statusCode, 404, `${part}${suffix}`);
      assert.match(String(res.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
      assert.match(res.body, /<html lang="fr"/);
      assert.match(res.body, /<h1>Page introuvable<\/h1>/);
    }
    assert.equal((await t.get(jar, `/agents/guichet/demandes/${part}`)).statusCode, 404);
  }
});

test('an instructor and a family cannot reach the counter', async () => {
  const instructeur = await t.signInAgent('instructeur');
  assert.equal((await t.get(instructeur, '/agents/guichet')).statusCode, 403);
  assert.equal((await t.get(instructeur, `/agents/guichet/familles/${bertinId}`)).statusCode, 403);
  const { jar: famille } = await t.signedInFamily(
    { parents: [{ nomNaissance: 'Petit', prenoms: 'Jean', dateNaissance: '1970-01-01' }] },
    'jean.petit@exemple.fr',
  );
  assert.equal((await t.get(famille, '/agents/guichet')).statusCode, 403);
  const refusals = (await journal('acces.refuse')).filter((e) => String(e.details.route).startsWith('/agents/guichet'));
  assert.ok(refusals.length >= 3);
});

test('the counter prints a blank consent form: the text in force, what is asked of the DGFiP, a signature box per declarant, no numéro fiscal', async () => {
  const accueil = await get('/agents/guichet');
  assert.match(accueil.body, /href="\/agents\/guichet\/formulaire-accord">Imprimer un formulaire d’accord vierge/);
  const res = await get('/agents/guichet/formulaire-accord');
  assert.equal(res.statusCode, 200);
  const texte = res.body
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;|&#39;/g, '’')
    .replace(/\s+/g, ' ');
  const { habilitation } = t.config.commune;
  assert.match(texte, new RegExp(`Texte de l’accord, version ${habilitation.versionTexteConsentement}`));
  assert.match(texte, /J’accepte que .+ demande à la Direction générale des Finances publiques \(DGFiP\) les informations suivantes/);
  assert.ok(texte.includes(habilitation.finalite), 'the purpose of the habilitation');
  assert.match(texte, /revenu fiscal de référence/);
  assert.match(texte, /Déclarant 1 .*Signature .*Déclarant 2 .*Signature/);
  assert.doesNotMatch(res.body, /name="numero|Numéro fiscal :/, 'no box for the numéro fiscal');
  assert.match(res.body, /<script src="\/static\/imprimer\.js" defer/);
  assert.equal((await t.app.inject({ url: '/agents/guichet/formulaire-accord' })).statusCode, 303, 'agents only');
});
