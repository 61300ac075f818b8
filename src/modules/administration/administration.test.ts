import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { NumeroFiscal } from '../../domain/numero-fiscal.ts';
import { Jar } from '../../http/test-cookies.ts';
import { bombeYaml } from '../../infra/config/test-support.ts';
import { SPI_SANDBOX } from '../../sandbox/server.ts';
import { parisDate } from '../../sources/paris-date.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../agents/test-support.ts';

let t: BackOfficeTestApp;
let admin: Jar;
before(async () => {
  t = await createBackOfficeTestApp();
  admin = await t.signInAgent('administrateur');
});
after(() => t.close());

const BOULOGNE = readFileSync(new URL('../../../examples/boulogne-billancourt.yaml', import.meta.url), 'utf8');
const NBSP = '\u00a0';
const journal = async (action: string) => (await t.harness.journal.query({ action })).entries;
const today = () => parisDate(Date.now());
const fr = (iso: string) => iso.split('-').reverse().join('/');
/** Page text without tags, spaces collapsed (no-break spaces kept as in the page). */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;|&rsquo;/g, '’')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/[ \t\n]+/g, ' ');

/** Boulogne with the canteen at 0.40 %, the evening care by brackets, and a délibération number. */
function candidate(numero: string, prixTrancheA = '1.00'): string {
  const replace = (s: string, from: string, to: string) => {
    assert.ok(s.includes(from), from);
    return s.replace(from, to);
  };
  let yaml = replace(BOULOGNE, 'taux: 0.36 # % du quotient familial', 'taux: 0.40');
  yaml = replace(yaml, '  date: 2022-12-01', `  numero: "${numero}"\n  date: 2022-12-01`);
  return replace(
    yaml,
    '    grille:\n      type: taux-effort\n      taux: 0.28\n      plancher: 0.38\n      plafond: 8.19',
    `    grille:\n      type: tranches\n      borneIncluse: min\n      tranches:\n        - { code: A, min: 0, max: 800, prix: ${prixTrancheA} }\n        - { code: B, min: 800, prix: 3.50 }`,
  );
}

async function deposer(contenu: string, libelle = ''): Promise<string> {
  const res = await t.post(admin, '/agents/administration/politiques/nouvelle', '/agents/administration/politiques', { libelle, texte: contenu });
  assert.equal(res.statusCode, 303, text(res.body));
  const id = String(res.headers.location).split('/').pop() ?? '';
  assert.match(id, /^[0-9a-f-]{36}$/);
  return id;
}

test('only administrators reach the administration, and nothing there is changed by another role', async () => {
  const home = await t.get(admin, '/agents/administration');
  assert.equal(home.statusCode, 200);
  for (const title of ['Politique tarifaire', 'Habilitation', 'Agents et rôles', 'Clés d’API']) assert.match(home.body, new RegExp(title));
  for (const role of ['guichet', 'instructeur', 'auditeur'] as const) {
    const jar = await t.signInAgent(role);
    assert.equal((await t.get(jar, '/agents/administration/politiques')).statusCode, 403, role);
    const post = await t.post(jar, '/agents', '/agents/administration/agents', {
      email: `intrus.${role}@ville.fr`,
      prenom: 'In',
      nom: 'Trus',
      roles: 'administrateur',
    });
    assert.equal(post.statusCode, 403, role);
  }
  assert.equal(
    (await t.services.agents.lister()).some((a) => a.email.startsWith('intrus.')),
    false,
  );
});

test('an invalid policy is refused with each problem in French, its path and its line; the pasted text stays in the form', async () => {
  const broken = BOULOGNE.replace('plafond: 7.20', 'plafond: 0.10').replace('formule: rfr-parts', 'formule: rfr-par-part');
  const res = await t.post(admin, '/agents/administration/politiques/nouvelle', '/agents/administration/politiques', { libelle: 'Essai', texte: broken });
  assert.equal(res.statusCode, 400);
  const page = text(res.body);
  assert.match(page, /2 informations sont à corriger/);
  assert.match(page, /La politique tarifaire est invalide : corrigez les champs indiqués\. Les 2 problèmes sont indiqués en haut de la page/);
  const line = (needle: string) => broken.split('\n').findIndex((l) => l.includes(needle)) + 1;
  assert.ok(page.includes(`activites[0].grille.plafond (ligne ${line('plafond: 0.10')}) : le plafond (0.1 €) est inférieur au plancher (0.5 €)`), page);
  assert.ok(page.includes(`quotient.formule (ligne ${line('formule: rfr-par-part')}) : « rfr-par-part » n’est pas une valeur reconnue`), page);
  assert.match(res.body, /<textarea[^>]*id="texte"[^>]*aria-invalid="true"/);
  assert.equal((res.body.match(/href="#texte"/g) ?? []).length, 2, 'each problem of the summary leads to the text');
  assert.ok(res.body.includes('formule: rfr-par-part'), 'the text is given back to be corrected');

  const syntax = await t.post(admin, '/agents/administration/politiques/nouvelle', '/agents/administration/politiques', {
    libelle: '',
    texte: 'format: 1\ncommune: [non fermé\n',
  });
  assert.equal(syntax.statusCode, 400);
  assert.match(text(syntax.body), /Le texte collé n’est pas un YAML valide : vérifiez la ligne indiquée\. Le problème est indiqué en haut de la page/);
  // The bracket is reported where it was opened (line 2), not where the parser gave up (line 3).
  assert.match(text(syntax.body), /ligne 2, colonne 10 : crochet « \[ » ouvert ici et jamais refermé/);
  const empty = await t.post(admin, '/agents/administration/politiques/nouvelle', '/agents/administration/politiques', { libelle: '', texte: '' });
  assert.equal(empty.statusCode, 400);
  assert.match(text(empty.body), /Le contenu de la politique est vide/);
  const refused = (await journal('politique.deposee')).filter((e) => e.outcome === 'echec');
  assert.equal(refused.length, 2, 'each refused deposit of a text is journaled');
  assert.equal(refused[0]?.actor.id, t.agents.administrateur.id);
  assert.equal((await t.services.politiques.lister()).length, 1, 'nothing kept but the configuration file');
});

test('a valid version is kept as a draft; its preview shows brackets and prices beside the version in force; the difference lists the changed prices', async () => {
  const id = await deposer(candidate('2026-42'), 'Tarifs 2026-2027');
  const page = await t.get(admin, `/agents/administration/politiques/${id}`);
  assert.equal(page.statusCode, 200);
  assert.match(text(page.body), /La version « Tarifs 2026-2027 » est déposée/);
  assert.match(text(page.body), /Déposée, pas encore activée/);
  assert.match(text(page.body), /Activer cette version/);
  const deposee = (await journal('politique.deposee')).find((e) => e.outcome === 'succes');
  assert.deepEqual(deposee?.target, { type: 'politique_version', id });

  const apercu = text((await t.get(admin, `/agents/administration/politiques/${id}/apercu?quotients=${encodeURIComponent('500 ; 1 333,33')}`)).body);
  // Canteen, QF 1 333,33 €: 0,36 % → 4,80 €, 0,40 % → 5,33 €.
  assert.ok(
    apercu.includes(
      `Quotient de 1${NBSP}333,33${NBSP}€ 1${NBSP}333,33${NBSP}€ 4,80${NBSP}€ par repas (taux d’effort) 5,33${NBSP}€ par repas (taux d’effort) +0,53${NBSP}€`,
    ),
    apercu,
  );
  // Evening care, QF 500 €: 0,28 % → 1,40 €; bracket A → 1,00 €.
  assert.ok(
    apercu.includes(`Quotient de 500${NBSP}€ 500,00${NBSP}€ 1,40${NBSP}€ par séance (taux d’effort) Tranche A : 1,00${NBSP}€ par séance −0,40${NBSP}€`),
    apercu,
  );
  assert.match(apercu, /Couple avec deux enfants, revenu fiscal de référence 48 000 €, 3 parts/);
  assert.match(apercu, /hors commune/);
  const mauvais = await t.get(admin, `/agents/administration/politiques/${id}/apercu?quotients=beaucoup`);
  assert.equal(mauvais.statusCode, 200);
  assert.match(text(mauvais.body), /« beaucoup » n’est pas un montant en euros/);
  assert.equal((await t.get(admin, `/agents/administration/politiques/${id}/apercu?quotients=1&quotients=2`)).statusCode, 200);

  const diff = text((await t.get(admin, `/agents/administration/politiques/comparaison?de=configuration&a=${id}`)).body);
  assert.ok(diff.includes(`Taux d’effort 0,36 % 0,4 %`), diff);
  assert.match(diff, /Activité : Temps périscolaire du soir Élément Avant Après Grille taux d’effort de 0,28 %/);
  assert.match(diff, /Numéro de la délibération non précisé 2026-42/);
  assert.match(diff, /Différences ligne à ligne/);
  assert.match(diff, /- +\d+ +taux: 0\.36 # % du quotient familial/);
  assert.match(diff, /\+ +\d+ +taux: 0\.40/);

  // Between two deposited versions: one bracket price.
  const other = await deposer(candidate('2026-42', '1.20'), 'Tarifs 2026-2027, tranche A corrigée');
  const two = text((await t.get(admin, `/agents/administration/politiques/comparaison?de=${id}&a=${other}`)).body);
  assert.ok(two.includes(`Tranche A : prix 1,00${NBSP}€ 1,20${NBSP}€`), two);
  assert.doesNotMatch(two, /Taux d’effort 0,36/);
  // Abandoned: never applied.
  assert.equal((await t.post(admin, `/agents/administration/politiques/${other}`, `/agents/administration/politiques/${other}/abandon`, {})).statusCode, 303);
  assert.match(text((await t.get(admin, `/agents/administration/politiques/${other}`)).body), /Abandonnée/);
});

test('activated today, a version is used by the request service for the next request; a past date is refused', async () => {
  const id = (await t.services.politiques.lister()).find((v) => v.libelle === 'Tarifs 2026-2027')?.id ?? '';
  assert.ok(id);
  const from = `/agents/administration/politiques/${id}`;
  const past = await t.post(admin, from, `${from}/activation`, { effet: '01/01/2020' });
  assert.equal(past.statusCode, 400);
  assert.match(text(past.body), /La date d’effet ne peut pas être passée/);
  assert.match(past.body, /id="effet"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="effet"/);
  const nonsense = await t.post(admin, from, `${from}/activation`, { effet: '31/02/2027' });
  assert.equal(nonsense.statusCode, 400);
  assert.match(text(nonsense.body), /Indiquez une date réelle/);

  assert.doesNotMatch((await t.app.inject({ url: '/simulateur' })).body, /2026-42/, 'the public simulator shows the version in force');
  // Activating asks for confirmation first, on its own page: nothing changes until confirmed.
  const etape = await t.post(admin, from, `${from}/activation`, { effet: fr(today()) });
  assert.equal(etape.statusCode, 200);
  const confirmation = text(etape.body);
  assert.match(confirmation, /Confirmer l’activation/);
  assert.match(confirmation, /Elle s’appliquera dès aujourd’hui, .* et remplacera la version en vigueur « Fichier de configuration/);
  assert.match(etape.body, /<input type="hidden" name="confirme" value="oui"\/>/);
  assert.equal((await journal('politique.activee')).length, 0, 'not activated before the confirmation');
  assert.doesNotMatch((await t.app.inject({ url: '/simulateur' })).body, /2026-42/);
  const ok = await t.post(admin, from, `${from}/activation`, { effet: fr(today()), confirme: 'oui' });
  assert.equal(ok.statusCode, 303);
  assert.match((await t.app.inject({ url: '/simulateur' })).body, /délibération n°\u00a0?(&nbsp;)?\s?2026-42/, 'the public simulator follows the activation');
  assert.match(text((await t.get(admin, from)).body), /est en vigueur : les nouvelles demandes sont calculées avec elle/);
  const list = text((await t.get(admin, '/agents/administration/politiques')).body);
  assert.match(list, /Version en vigueur aujourd’hui : Tarifs 2026-2027/);
  assert.match(list, /Fichier de configuration \(boulogne-billancourt\.yaml\) Remplacée/);
  const activee = await journal('politique.activee');
  assert.equal(activee.length, 1);
  assert.equal(activee[0]?.actor.id, t.agents.administrateur.id);
  assert.equal(activee[0]?.details.effet_le, today());

  // A new request: calculated with 0.40 % for the canteen and the brackets for the evening care.
  const agent = { type: 'agent' as const, id: t.agents.guichet.id };
  const { id: familleId } = await t.harness.familles.creer(
    {
      parents: [
        { nomNaissance: 'Bertin', prenoms: 'Paul', dateNaissance: '1981-04-09' },
        { nomNaissance: 'Roussel', nomUsage: 'Bertin', prenoms: 'Claire', dateNaissance: '1983-12-01' },
      ],
      enfants: [{ prenoms: 'Léa', nom: 'Bertin', dateNaissance: '2016-05-02' }],
    },
    agent,
  );
  const { id: demandeId } = await t.harness.demandes.soumettre({
    familleId,
    canal: 'guichet',
    acteur: agent,
    foyersFiscaux: [
      {
        parentRang: 1,
        identifiant: { spi: NumeroFiscal.parse(SPI_SANDBOX.coupleMarie.declarant1) },
        consentement: { mode: 'formulaire_signe', donnePar: agent, piece: 'formulaire signé' },
      },
    ],
  });
  t.services.wake();
  const etat = await t.harness.demandes.attendre(demandeId, 20_000);
  assert.equal(etat.statut, 'calculee', etat.motif ?? '');
  const qf = etat.quotient?.cents ?? 0;
  const cantine = etat.quotient?.prix.find((p) => p.id === 'restauration-scolaire');
  const expected = Math.min(720, Math.max(50, Math.round((qf * 40) / 10_000)));
  assert.equal(cantine?.cents, expected, `QF ${qf}`);
  const soir = etat.quotient?.prix.find((p) => p.id === 'periscolaire-soir');
  assert.equal(soir?.tranche, qf < 800_00 ? 'A' : 'B');
  const row = await t.database.db.selectFrom('quotients').select('politique').where('demande_id', '=', demandeId).executeTakeFirstOrThrow();
  assert.match(row.politique, /n° 2026-42/);
});

test('the habilitation is shown as configured, in plain words', async () => {
  const res = await t.get(admin, '/agents/administration/habilitation');
  assert.equal(res.statusCode, 200);
  const page = text(res.body);
  const h = t.config.commune.habilitation;
  assert.ok(page.includes(h.idTeleservice));
  assert.match(page, /situation d’impôt sur le revenu d’une année donnée \( RessourceIR \)/);
  assert.match(page, /le revenu fiscal de référence RFR|le revenu fiscal de référence rfr/);
  assert.match(page, /les prénoms du premier déclarant prnmDec1/);
  assert.match(page, /Article L\. 114-8/);
  assert.match(page, new RegExp(`Données fiscales : jusqu’à ${t.config.commune.conservation.donneesFiscalesMoisApresValidite} mois`));
  assert.match(page, /Journal d’audit : 12 mois/);
});

test('agents: declared with French errors first, roles changed, an administrator cannot demote or disable themselves, a disabled agent is signed out at once', async () => {
  const bad = await t.post(admin, '/agents/administration/agents/nouveau', '/agents/administration/agents', {
    email: 'pas-une-adresse',
    prenom: '',
    nom: 'Martin',
  });
  assert.equal(bad.statusCode, 400);
  const badText = text(bad.body);
  assert.match(badText, /Indiquez une adresse électronique valide/);
  assert.match(badText, /Indiquez le prénom/);
  assert.match(badText, /Cochez au moins un rôle/);
  assert.match(bad.body, /value="Martin"/);

  const created = await t.post(admin, '/agents/administration/agents/nouveau', '/agents/administration/agents', {
    email: 'Chloe.Martin@Ville.fr',
    prenom: 'Chloé',
    nom: 'Martin',
    roles: ['guichet', 'auditeur'],
  });
  assert.equal(created.statusCode, 303);
  const list = text((await t.get(admin, '/agents/administration/agents')).body);
  assert.match(list, /Chloé Martin est inscrit/);
  assert.match(list, /Chloé Martin chloe\.martin@ville\.fr Accueil \(guichet\), Contrôle et audit Actif jamais/);
  const again = await t.post(admin, '/agents/administration/agents/nouveau', '/agents/administration/agents', {
    email: 'chloe.martin@ville.fr',
    prenom: 'Chloé',
    nom: 'Martin',
    roles: 'guichet',
  });
  assert.equal(again.statusCode, 409);
  assert.match(text(again.body), /Cette adresse est déjà inscrite/);

  const guichet = t.agents.guichet;
  const page = `/agents/administration/agents/${guichet.id}`;
  const roles = await t.post(admin, page, `${page}/roles`, { roles: ['guichet', 'instructeur'] });
  assert.equal(roles.statusCode, 303);
  assert.match(text((await t.get(admin, page)).body), /Les rôles de .* sont enregistrés.*Rôles Accueil \(guichet\), Instruction/);
  const noRole = await t.post(admin, page, `${page}/roles`, {});
  assert.equal(noRole.statusCode, 400);
  assert.match(text(noRole.body), /Cochez au moins un rôle/);

  const me = `/agents/administration/agents/${t.agents.administrateur.id}`;
  const demote = await t.post(admin, me, `${me}/roles`, { roles: 'guichet' });
  assert.equal(demote.statusCode, 400);
  assert.match(text(demote.body), /Vous ne pouvez pas retirer votre propre rôle d’administration/);
  const self = await t.post(admin, me, `${me}/desactivation`, {});
  assert.equal(self.statusCode, 409);
  assert.match(text(self.body), /Vous ne pouvez pas désactiver votre propre compte/);
  assert.equal((await t.services.agents.agent(t.agents.administrateur.id))?.roles.includes('administrateur'), true);

  // The counter agent is signed in; disabling them ends that session now.
  const theirs = await t.signInAgent('guichet');
  assert.equal((await t.get(theirs, '/agents')).statusCode, 200);
  const off = await t.post(admin, page, `${page}/desactivation`, {});
  assert.equal(off.statusCode, 303);
  assert.match(text((await t.get(admin, page)).body), /est désactivé : ses sessions sont fermées/);
  const kicked = await t.get(theirs, '/agents');
  assert.equal(kicked.statusCode, 303);
  assert.equal(kicked.headers.location, '/agents/connexion');
  await assert.rejects(t.signInAgent('guichet'), /agent sign-in refused: 403/);
  const on = await t.post(admin, page, `${page}/reactivation`, {});
  assert.equal(on.statusCode, 303);
  assert.equal((await t.get(await t.signInAgent('guichet'), '/agents')).statusCode, 200);

  const actions = (await t.harness.journal.query({ target: { type: 'agent', id: guichet.id } })).entries.map(
    (e) => `${e.action}:${e.actor.id === t.agents.administrateur.id ? 'admin' : 'autre'}`,
  );
  for (const a of ['agent.roles_modifies:admin', 'agent.desactive:admin', 'agent.reactive:admin'])
    assert.ok(actions.includes(a), `${a} in ${actions.join(', ')}`);
  await t.services.agents.modifierRoles(guichet.id, ['guichet'], { type: 'systeme', id: 'test' });
});

test('an API key is shown once, works until it is revoked, and a reload does not make a second one', async () => {
  const url = '/agents/administration/cles-api';
  const first = await t.get(admin, url);
  const empty = await postForm(admin, first.body, url, { libelle: ' ', jeton: jetonOf(first.body) });
  assert.equal(empty.statusCode, 400);
  assert.match(text(empty.body), /Indiquez le nom du logiciel qui utilisera la clé/);
  // The form shown before the error is stale now: it creates nothing.
  const stale = await postForm(admin, first.body, url, { libelle: 'Facturation périscolaire', jeton: jetonOf(first.body) });
  assert.equal(stale.statusCode, 303);

  const fresh = await t.get(admin, url);
  const res = await postForm(admin, fresh.body, url, { libelle: 'Facturation périscolaire', jeton: jetonOf(fresh.body) });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['cache-control'], 'no-store');
  const secret = /value="(qk_[A-Za-z0-9_-]{43})"/.exec(res.body)?.[1];
  assert.ok(secret, 'the secret is on the result page');
  assert.match(text(res.body), /elle ne sera plus jamais affichée/);
  assert.ok(await t.services.clesApi.verifier(secret));

  const replay = await postForm(admin, fresh.body, url, { libelle: 'Facturation périscolaire', jeton: jetonOf(fresh.body) });
  assert.equal(replay.statusCode, 303);
  const list = await t.get(admin, url);
  assert.match(text(list.body), /Ce formulaire a déjà servi : aucune nouvelle clé n’a été créée/);
  assert.ok(!list.body.includes(secret), 'never shown again');
  assert.ok(list.body.includes(`${secret.slice(0, 10)}…`), 'its beginning tells it apart');
  const keys = (await t.services.clesApi.lister()).filter((c) => c.libelle === 'Facturation périscolaire');
  assert.equal(keys.length, 1);
  assert.match(text(list.body), /Facturation périscolaire qk_\S+… .* Active Révoquer/);

  const revoke = await t.post(admin, '/agents/administration/cles-api', `/agents/administration/cles-api/${keys[0]?.id}/revocation`, {});
  assert.equal(revoke.statusCode, 303);
  assert.equal(await t.services.clesApi.verifier(secret), undefined);
  assert.match(text((await t.get(admin, '/agents/administration/cles-api')).body), /La clé « Facturation périscolaire » est révoquée.*Révoquée le/);
  const logged = (await t.harness.journal.query({ target: { type: 'cle_api', id: keys[0]?.id ?? '' } })).entries.map((e) => e.action).sort();
  assert.deepEqual(logged, ['cle_api.creee', 'cle_api.revoquee']);
  // Every entry, not one page of the latest: the secret must be in none of them.
  const total = await t.harness.journal.count({});
  let scanned = 0;
  for await (const entry of t.harness.journal.exportMatching({})) {
    scanned += 1;
    assert.ok(!JSON.stringify(entry).includes(secret.slice(3)), `the secret is not in the journal (entry ${entry.seq})`);
  }
  // Append-only: the background loop may add entries meanwhile, never remove any.
  assert.ok(scanned >= total, `${scanned} entries scanned of ${total}`);
});

function jetonOf(html: string): string {
  const m = /name="jeton" value="([^"]+)"/.exec(html);
  assert.ok(m, 'the form carries its one-time token');
  return m[1] as string;
}

/** Posts the form of a page already fetched (its CSRF token), as a browser does. */
async function postForm(jar: Jar, html: string, url: string, fields: Record<string, string>) {
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const res = await t.app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
  });
  jar.take(res.headers);
  return { statusCode: res.statusCode, body: res.body, headers: res.headers as Record<string, unknown> };
}

test('a YAML alias bomb pasted as a policy is refused at once with a French message; the server keeps answering', { timeout: 30_000 }, async () => {
  const echecs = async () => (await journal('politique.deposee')).filter((e) => e.outcome === 'echec').length;
  const avant = await echecs();
  const res = await t.post(admin, '/agents/administration/politiques/nouvelle', '/agents/administration/politiques', { libelle: 'Bombe', texte: bombeYaml() });
  assert.equal(res.statusCode, 400);
  assert.match(text(res.body), /Le texte collé n’est pas un YAML valide : vérifiez la ligne indiquée\./);
  assert.match(text(res.body), /ligne 2, colonne 9 : les alias YAML \(« \*nom »\) ne sont pas acceptés : écrivez chaque valeur en entier/);
  assert.equal(await echecs(), avant + 1, 'the refused deposit is journaled');
  assert.equal((await t.app.inject({ url: '/healthz' })).statusCode, 200);
});
