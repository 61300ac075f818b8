import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { Jar } from '../../src/http/test-cookies.ts';
import { createBackOfficeTestApp, type BackOfficeTestApp } from '../../src/modules/agents/test-support.ts';
import { SPI_SANDBOX } from '../../src/sandbox/server.ts';

/**
 * Invariant 1 for free text (issue 12, hole 4): the canary numéro fiscal, written with every
 * separator and digit form the attack session used, typed into each free-text field a person can
 * fill (names, e-mail, an agent's names, an API key's label, « Mon foyer », sign-up), is refused
 * with a French message and found afterwards nowhere: database rows, journal, log lines, e-mails.
 */
const CANARY = SPI_SANDBOX.canari;
const groups = [CANARY.slice(0, 2), CANARY.slice(2, 4), CANARY.slice(4, 7), CANARY.slice(7, 10), CANARY.slice(10)];
const FULL_WIDTH = [...CANARY].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
const VARIANTS: Record<string, string> = {
  brut: CANARY,
  tirets: groups.join('-'),
  points: groups.join('.'),
  barres: groups.join('/'),
  'espaces doubles': groups.join('  '),
  tabulations: groups.join('\t'),
  'espaces insécables': groups.join('\u00a0'),
  'espaces fines': groups.join('\u202f'),
  'pleine chasse': FULL_WIDTH,
  mélangé: `${groups[0]}-${groups[1]} ${groups[2]}.${groups[3]}/${groups[4]}`,
};

let t: BackOfficeTestApp;
let admin: Jar;
let famille: Jar;
before(async () => {
  t = await createBackOfficeTestApp();
  admin = await t.signInAgent('administrateur');
  famille = (await t.signedInFamily({ parents: [{ nomNaissance: 'Mercier', prenoms: 'Anne', dateNaissance: '1987-02-03' }] }, 'anne@exemple.fr')).jar;
});
after(() => t.close());

const refusedInFrench = (res: { statusCode: number; body: string }, what: string) => {
  assert.equal(res.statusCode, 400, `${what}: ${res.statusCode}`);
  assert.match(res.body, /semble contenir un numéro fiscal|ne contien(nen)?t pas de chiffre/, what);
  for (const v of Object.values(VARIANTS)) assert.ok(!res.body.includes(v), `${what}: the page shows the value back`);
};

const FOYER = { 'parent1-prenoms': 'Anne', 'parent1-nomNaissance': 'Mercier', 'parent1-nomUsage': '', 'parent1-dateNaissance': '03/02/1987' };

test('each free-text field refuses the canary in every separator and digit form, with a French message', async () => {
  for (const [name, typed] of Object.entries(VARIANTS)) {
    const agent = { email: 'nouvel.agent@ville.fr', prenom: 'Nina', nom: 'Roux', roles: 'guichet' };
    for (const field of ['prenom', 'nom', 'email'] as const)
      refusedInFrench(
        await t.post(admin, '/agents/administration/agents/nouveau', '/agents/administration/agents', { ...agent, [field]: `X ${typed}` }),
        `${name}: agent's ${field}`,
      );
    refusedInFrench(
      await t.post(admin, '/agents/administration/cles-api', '/agents/administration/cles-api', { libelle: `Logiciel ${typed}`, jeton: 'x' }),
      `${name}: API key label`,
    );
    for (const field of ['parent1-prenoms', 'parent1-nomNaissance', 'parent1-nomUsage'])
      refusedInFrench(await t.post(famille, '/mon-foyer', '/mon-foyer', { ...FOYER, [field]: `Anne ${typed}` }), `${name}: Mon foyer ${field}`);
    const visiteur = new Jar();
    for (const field of ['prenoms', 'nom', 'email'])
      refusedInFrench(
        await t.post(visiteur, '/inscription', '/inscription', {
          prenoms: 'Paul',
          nom: 'Durand',
          email: 'paul@exemple.fr',
          password: 'Une phrase de passe 2026 !',
          [field]: `${typed}`,
        }),
        `${name}: sign-up ${field}`,
      );
  }
});

test('afterwards the canary is nowhere: no row, no journal entry, no log line, no e-mail holds it in any form', async () => {
  const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(t.database.db);
  const written: string[] = [];
  for (const { name } of tables.rows) written.push(JSON.stringify((await sql`select * from ${sql.table(name)}`.execute(t.database.db)).rows));
  written.push(...t.logLines, ...t.smtp.messages.map((m) => m.raw));
  const everything = written.join('\n');
  assert.ok(everything.includes('Mercier'), 'the scan reads the data');
  for (const [name, v] of Object.entries(VARIANTS)) assert.ok(!everything.includes(v), `the canary (${name}) was written somewhere`);
  // The refusals themselves are seen (an agent's form, a family's, a visitor's), never with the value.
  assert.ok(t.logLines.length > 0);
});
