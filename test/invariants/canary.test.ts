import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { NumeroFiscal } from '../../src/domain/numero-fiscal.ts';
import { openDatabase } from '../../src/infra/db/database.ts';
import { eachDialect } from '../../src/infra/db/test-databases.ts';
import { SpiVault } from '../../src/modules/demandes/spi-vault.ts';
import { sandboxConnection } from '../../src/sandbox/connection.ts';
import { createHarness, HABILITATION_ETAT_CIVIL } from '../../src/modules/demandes/test-harness.ts';
import { createPortailTestApp } from '../../src/modules/portail/test-support.ts';
import { SPI_SANDBOX, startSandbox, type SandboxHandle } from '../../src/sandbox/server.ts';

/**
 * Invariant 1 (ARCHITECTURE §3), shown as security-bar T9 asks: the canary numéro fiscal pushed
 * through success, identity mismatch, upstream failures, a validation error and a kill -9 in the
 * middle of a call is found afterwards nowhere Quotient writes: database files (WAL included) or
 * dump, log lines, journal — raw, spaced, base64, hex, UTF-16, or as an unsalted digest.
 */
const CANARY = SPI_SANDBOX.canari;
const dir = mkdtempSync(join(tmpdir(), 'quotient-canary-'));
let sandbox: SandboxHandle;
before(async () => {
  sandbox = await startSandbox({ dataDir: join(dir, 'pki') });
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

function encodings(value: string): Map<string, Buffer> {
  const spaced = `${value.slice(0, 2)} ${value.slice(2, 4)} ${value.slice(4, 7)} ${value.slice(7, 10)} ${value.slice(10)}`;
  const forms = new Map<string, Buffer>();
  for (const [name, text] of [
    ['brut', value],
    ['espacé', spaced],
  ] as const) {
    const raw = Buffer.from(text);
    forms.set(name, raw);
    forms.set(`${name} base64`, Buffer.from(raw.toString('base64').replace(/=+$/, '')));
    forms.set(`${name} base64url`, Buffer.from(raw.toString('base64url')));
    forms.set(`${name} hex`, Buffer.from(raw.toString('hex')));
    forms.set(`${name} utf-16`, Buffer.from(text, 'utf16le'));
    for (const algorithm of ['md5', 'sha1', 'sha256', 'sha512']) {
      const digest = createHash(algorithm).update(text).digest();
      forms.set(`${name} ${algorithm} hex`, Buffer.from(digest.toString('hex')));
      forms.set(`${name} ${algorithm} base64`, Buffer.from(digest.toString('base64').replace(/=+$/, '')));
      forms.set(`${name} ${algorithm} binaire`, digest);
    }
  }
  return forms;
}

function findings(where: string, bytes: Buffer, forms: Map<string, Buffer>): string[] {
  const found: string[] = [];
  const lower = Buffer.from(bytes.toString('latin1').toLowerCase(), 'latin1');
  for (const [name, form] of forms) {
    if (bytes.includes(form) || (name.endsWith('hex') && lower.includes(Buffer.from(form.toString().toLowerCase())))) found.push(`${where} : ${name}`);
  }
  return found;
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

async function crashInTheMiddle(url: string, dataDir: string, familleIds: string[]): Promise<string[]> {
  // Every call about the canary hangs until the process dies: the kill lands mid-call.
  sandbox.admin.addFault({ kind: 'timeout', spi: CANARY });
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./crash.child.ts', import.meta.url).pathname, url, dataDir, CANARY, ...familleIds], {
      env: { ...process.env, QUOTIENT_TEST_CONNECTION: JSON.stringify(sandboxConnection(sandbox)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const ids = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child not in the middle of its calls in time: ${err}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = /EN_COURS (.+)\n/.exec(out);
        if (line) {
          clearTimeout(timer);
          resolve((line[1] as string).split(' '));
        }
      });
    });
    // Let the calls reach the sandbox, then kill without warning.
    for (let i = 0; i < 100 && sandbox.admin.calls().filter((c) => c.fault === 'timeout').length < ids.length; i++)
      await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('close', resolve));
    assert.ok(!`${out}${err}`.includes(CANARY));
    return ids;
  } finally {
    sandbox.admin.clearFaults();
  }
}

async function scenario(t: TestContext, dialect: 'sqlite' | 'postgres', url: string, dataDir: string) {
  const database = openDatabase(url);
  const h = await createHarness(database, sandbox, { dataDir, deadlineMs: 5_000 });
  try {
    const famille = { type: 'famille' as const, id: 'canari' };
    const mercier = (await h.familles.creer({ parents: [{ nomNaissance: 'Mercier', prenoms: 'Anne', dateNaissance: '1987-02-03' }] }, famille)).id;
    const durand = (await h.familles.creer({ parents: [{ nomNaissance: 'Durand', prenoms: 'Paul', dateNaissance: '1980-01-01' }] }, famille)).id;
    const submit = async (familleId: string, spi: string = CANARY) =>
      (
        await h.demandes.soumettre({
          familleId,
          canal: 'en_ligne',
          acteur: famille,
          foyersFiscaux: [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(spi) }, consentement: { mode: 'en_ligne', donnePar: famille } }],
        })
      ).id;

    assert.equal(await h.traitement.traiter(await submit(mercier)), 'calculee', 'success');
    assert.equal(await h.traitement.traiter(await submit(durand)), 'a_verifier', 'identity mismatch');
    for (const [kind, expected] of [
      ['http500', 'en_file'],
      ['malformedJson', 'echouee'],
      ['timeout', 'en_file'],
      ['oversizedBody', 'echouee'],
      ['http429', 'en_file'],
    ] as const) {
      sandbox.admin.addFault({ kind, spi: CANARY });
      try {
        const got = await h.traitement.traiter(await submit(mercier));
        assert.equal(
          got,
          expected,
          `${kind}: ${h.logLines
            .filter((l) => l.includes('échec'))
            .slice(-2)
            .join(' | ')}`,
        );
      } finally {
        sandbox.admin.clearFaults();
      }
    }
    // The 429 paused every instance for its Retry-After; the rest of the scenario should not wait.
    await database.db.updateTable('quota_state').set({ paused_until: null }).execute();
    // Validation errors: the number with a digit too many, and with a letter.
    for (const typed of [`${CANARY}1`, `${CANARY.slice(0, 12)}A`]) {
      const result = NumeroFiscal.tryParse(typed);
      assert.equal(result.ok, false);
      assert.ok(!result.ok && !result.error.message.includes(CANARY.slice(0, 12)));
    }
    // A crash in the middle of three calls, then a restart that finds them.
    const inFlight = await crashInTheMiddle(url, dataDir, [mercier, mercier, mercier]);
    const restarted = await createHarness(database, sandbox, { dataDir, instanceId: 'apres-crash', vault: new SpiVault() });
    try {
      await restarted.traitement.recupererOrphelines(['apres-crash']);
      for (const id of inFlight) assert.equal((await restarted.demandes.etat(id)).statut, 'a_ressaisir', `${id} after the crash`);
      await restarted.demandes.ressaisir(inFlight[0] as string, famille, [{ parentRang: 1, identifiant: { spi: NumeroFiscal.parse(CANARY) } }]);
      assert.equal(await restarted.traitement.traiter(inFlight[0] as string), 'calculee');
      // The other requests whose numbers were lost in the first run (queued for a retry) too.
      await restarted.traitement.recupererOrphelines(['apres-crash']);
      const rows = await database.db.selectFrom('demandes').select(['statut']).execute();
      assert.ok(
        rows.every((r) => ['calculee', 'a_verifier', 'echouee', 'a_ressaisir'].includes(r.statut)),
        JSON.stringify(rows),
      );
      const perDemande = await database.db
        .selectFrom('quotients')
        .select((eb) => ['demande_id', eb.fn.countAll<number>().as('n')])
        .groupBy('demande_id')
        .execute();
      assert.ok(
        perDemande.every((r) => Number(r.n) === 1),
        'no QF twice for one request',
      );
      assert.equal((await restarted.journal.verify()).intact, true);
      h.logLines.push(...restarted.logLines);
    } finally {
      await restarted.close();
    }

    // Scan everything Quotient wrote.
    const forms = encodings(CANARY);
    const found: string[] = [];
    found.push(...findings('journaux (log)', Buffer.from(h.logLines.join('\n')), forms));
    if (dialect === 'sqlite') {
      await database.close();
      for (const file of filesUnder(dataDir)) found.push(...findings(file, readFileSync(file), forms));
    } else {
      const dump = spawnSync('pg_dump', ['--no-owner', '--data-only', url], { maxBuffer: 256 * 1024 * 1024 });
      if (dump.status !== 0) {
        t.diagnostic(`pg_dump indisponible : ${dump.stderr.toString()}`);
        const rows = await database.db.selectFrom('journal_audit').selectAll().execute();
        found.push(...findings('journal_audit', Buffer.from(JSON.stringify(rows)), forms));
      } else {
        assert.ok(dump.stdout.length > 1000, 'the dump holds the data');
        found.push(...findings('pg_dump', dump.stdout, forms));
      }
      for (const file of filesUnder(dataDir)) found.push(...findings(file, readFileSync(file), forms));
      await database.close();
    }
    assert.deepEqual(found, [], `the canary was found:\n${found.join('\n')}`);
    // The calls did reach the DGFiP stand-in: the canary travelled, and was found nowhere else.
    assert.ok(sandbox.admin.calls().length > 0);
  } finally {
    await h.close();
  }
}

test('the canary numéro fiscal is nowhere after success, mismatch, failures, validation errors and a kill -9', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    await fixture.open(); // migrated
    const dataDir = mkdtempSync(join(dir, `${fixture.dialect}-`));
    await scenario(st, fixture.dialect, fixture.url, dataDir);
  });
});

test('the scan finds the canary when it is there (the test can fail)', () => {
  const forms = encodings(CANARY);
  assert.ok(findings('x', Buffer.from(`abc ${createHash('sha256').update(CANARY).digest('hex').toUpperCase()} def`), forms).length > 0);
  assert.ok(findings('x', Buffer.from(`31 41 592 653 423`), forms).length > 0);
  assert.ok(findings('x', Buffer.from(CANARY, 'utf16le'), forms).length > 0);
});

// The état civil route (R2P then Impôt particulier): the canary is what R2P answers for MERCIER
// Anne; it lives inside the adapter between the two calls, and is found nowhere afterwards.
test('the SPI R2P returns for an état civil is nowhere: database files and WAL, logs, journal, pages, e-mails, sessions', async () => {
  const t = await createPortailTestApp({ habilitation: HABILITATION_ETAT_CIVIL.r2p });
  try {
    const { jar } = await t.signedInFamily(
      {
        parents: [{ nomNaissance: 'Mercier', prenoms: 'Anne', dateNaissance: '1987-02-03' }],
        enfants: [{ prenoms: 'Jade', nom: 'Mercier', dateNaissance: '2019-01-30' }],
        courriel: 'anne.mercier@exemple.fr',
      },
      'anne.mercier@exemple.fr',
    );
    const pages: string[] = [];
    const demander = async () => {
      // A QF already in force: the family says what changed before a new request.
      if (pages.length > 0) assert.equal((await t.post(jar, '/mon-quotient/pourquoi', '/mon-quotient/pourquoi', { raison: 'nouvel_avis' })).statusCode, 303);
      // With the standing consent for renewal ticked: the état civil is kept in the silo, the SPI never.
      assert.equal((await t.post(jar, '/mon-quotient/accord', '/mon-quotient/accord', { 'accord-1': 'oui', 'renouvellement-1': 'oui' })).statusCode, 303);
      pages.push((await t.get(jar, '/mon-quotient/etat-civil')).body);
      const sent = await t.post(jar, '/mon-quotient/etat-civil', '/mon-quotient/etat-civil', {
        'ec-1-nom': 'Mercier',
        'ec-1-prenoms': 'Anne',
        'ec-1-sexe': 'F',
        'ec-1-naissance': '03/02/1987',
        'ec-1-ne': 'france',
        'ec-1-code-commune': '31555',
        'accord-etat-civil': 'oui',
        action: 'envoyer',
      });
      assert.equal(sent.statusCode, 303, sent.body.slice(0, 500));
      const location = String(sent.headers.location);
      await t.harness.demandes.attendre(location.split('/').at(-1) as string, 30_000);
      const page = await t.get(jar, location);
      pages.push(page.body);
      return page.body;
    };
    t.sandbox.admin.clearCalls();
    assert.match(await demander(), /Votre quotient familial/);
    assert.deepEqual(
      t.sandbox.admin
        .calls()
        .filter((c) => c.api !== 'token')
        .map((c) => c.api),
      ['r2p', 'impot-particulier'],
      'the canary travelled from R2P to Impôt particulier',
    );
    // R2P answers, then Impôt particulier fails: the SPI held between the two calls is dropped as well.
    t.sandbox.admin.addFault({ kind: 'malformedJson', spi: CANARY, api: 'impot-particulier' });
    t.sandbox.admin.clearCalls();
    try {
      const echec = await demander();
      assert.match(echec, /Demande D-/);
      assert.doesNotMatch(echec, /Votre quotient familial/, 'the second request failed after R2P answered');
      assert.deepEqual(
        t.sandbox.admin
          .calls()
          .filter((c) => c.api !== 'token')
          .map((c) => c.api)
          .slice(0, 2),
        ['r2p', 'impot-particulier'],
        'R2P answered, then Impôt particulier was called with the canary and failed',
      );
    } finally {
      t.sandbox.admin.clearFaults();
    }
    // Next year's renewal from what was kept: R2P answers the canary again, which goes to Impôt particulier and nowhere else.
    const [du] = await t.harness.services.renouvellement.renouvellementsDus({ quotientAvant: '2999-01-01' }, { type: 'systeme', id: 'canari' });
    const etatCivil = du?.declarants[0]?.etatCivil;
    assert.ok(etatCivil, 'an état civil is kept for the renewal');
    assert.equal(etatCivil.nom, 'MERCIER');
    t.sandbox.admin.clearCalls();
    assert.equal((await t.harness.dgfip.source.parEtatCivil(etatCivil)).declarants[0]?.nomNaissance, 'MERCIER');
    assert.deepEqual(
      t.sandbox.admin
        .calls()
        .filter((c) => c.api !== 'token')
        .map((c) => c.api),
      ['r2p', 'impot-particulier'],
    );
    for (const url of ['/mes-demandes', '/mes-donnees', '/mes-donnees/export.json', '/mes-donnees/export']) pages.push((await t.get(jar, url)).body);

    const forms = encodings(CANARY);
    const found: string[] = [];
    found.push(...findings('journaux (log)', Buffer.from([...t.logLines, ...t.harness.logLines].join('\n')), forms));
    found.push(...findings('pages', Buffer.from(pages.join('\n')), forms));
    found.push(...findings('courriels', Buffer.from(JSON.stringify(t.smtp.messages)), forms));
    const journal = await t.database.db.selectFrom('journal_audit').selectAll().execute();
    assert.ok(journal.some((e) => e.action === 'dgfip.situation_recue'));
    found.push(...findings('journal_audit', Buffer.from(JSON.stringify(journal)), forms));
    found.push(...findings('sessions', Buffer.from(JSON.stringify(await t.database.db.selectFrom('sessions').selectAll().execute())), forms));
    await sql`PRAGMA wal_checkpoint(PASSIVE)`.execute(t.database.db);
    for (const file of filesUnder(t.config.dataDir)) found.push(...findings(file, readFileSync(file), forms));
    assert.deepEqual(found, [], `the canary was found:\n${found.join('\n')}`);
    // Nor the état civil itself in the logs: it is personal data of the request, kept in memory only.
    assert.ok(![...t.logLines, ...t.harness.logLines].some((l) => /MERCIER|Mercier/.test(l) && /1987|31555/.test(l)), 'the état civil is in a log line');
  } finally {
    await t.close();
  }
});
