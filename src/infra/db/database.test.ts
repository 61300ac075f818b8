import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { isQuotientError } from '../../domain/errors.ts';
import { motif, type CodeMotif } from '../../modules/demandes/motifs.ts';
import { CODES_0009 } from './migrations/0009-motif-code.ts';
import { openDatabase } from './database.ts';
import { ensureInstallation } from './installation.ts';
import { MIGRATIONS, migrateToLatest, type Migration } from './migrations.ts';
import { eachDialect, throwawayPostgresOrSkip } from './test-databases.ts';

test('migrations apply once on each dialect, then report nothing left to do', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open({ migrate: false });
    const first = await migrateToLatest(database.db, database.dialect);
    assert.deepEqual(
      first.applied,
      MIGRATIONS.map((m) => m.name),
    );
    const second = await migrateToLatest(database.db, database.dialect);
    assert.deepEqual(second.applied, []);
    assert.equal(second.alreadyApplied, MIGRATIONS.length);
  });
});

test('0009 gives the requests already recorded the code of the reason they hold, and no code to the others', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open({ migrate: false });
    // The migrations before 0009: later ones may only run after it.
    await migrateToLatest(
      database.db,
      database.dialect,
      MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((m) => m.name === '0009-motif-code'),
      ),
    );
    const le = '2025-09-01T08:00:00.000Z';
    await database.db.insertInto('familles').values({ id: 'f', reference: 'F-TEST', resident: 1, courriel: null, creee_le: le, modifiee_le: le }).execute();
    // Every sentence written until 0009 — the code's wording then; a later rewording keeps these old
    // sentences here — a refusal with its instructor's words, no reason, and a sentence of no known reason.
    // The codes of that time: a reason added later (état civil, FranceConnect…) never had a sentence to convert.
    const codes = CODES_0009 as CodeMotif[];
    const motifs: Array<[string, string | null]> = [
      ...codes.map((code): [string, string] => [code, motif(code, code === 'refuse' ? 'Aucun avis présenté.' : undefined).texte]),
      ['aucun', null],
      ['autre', 'Motif saisi à la main.'],
    ];
    for (const [id, texte] of motifs) {
      await database.db
        .insertInto('demandes')
        .values({
          id,
          reference: `D-${id}`,
          famille_id: 'f',
          canal: 'en_ligne',
          statut: 'a_verifier',
          annee_revenus: null,
          motif: texte,
          tentatives: 0,
          prochain_essai_le: null,
          acteur_type: 'systeme',
          acteur_id: 'test',
          creee_le: le,
          modifiee_le: le,
          version: 1,
          detenteur: null,
        })
        .execute();
    }
    await migrateToLatest(database.db, database.dialect);
    const rows = await database.db.selectFrom('demandes').select(['id', 'motif', 'motif_code']).execute();
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.motif_code])), {
      ...Object.fromEntries(codes.map((code) => [code, code])),
      aucun: null,
      autre: null,
    });
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.id, r.motif])), Object.fromEntries(motifs), 'the sentences are kept as they were');
  });
});

test('the installation is recorded once and a database of another commune is refused', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const first = await ensureInstallation(database.db, '92012', '0.1.0');
    // Another process (a restart) sees the same installation.
    const again = await ensureInstallation((await fixture.open()).db, '92012', '0.2.0');
    assert.equal(again.id, first.id);
    const row = await database.db.selectFrom('installation').select('software_version').executeTakeFirstOrThrow();
    assert.equal(row.software_version, '0.2.0');
    await assert.rejects(ensureInstallation(database.db, '67482', '0.2.0'), (error) => isQuotientError(error) && error.code === 'base_autre_commune');
  });
});

test('a failing migration leaves the schema as it was and says which one failed', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const broken: Migration = {
      name: '9999-broken',
      async up(db) {
        await db.schema.createTable('half_done').addColumn('id', 'integer').execute();
        await sql`select * from table_that_does_not_exist`.execute(db);
      },
    };
    await assert.rejects(migrateToLatest(database.db, database.dialect, [...MIGRATIONS, broken]), (error) => {
      assert.ok(isQuotientError(error));
      assert.match(error.message, /9999-broken/);
      return true;
    });
    const tables = (await database.db.introspection.getTables()).map((table) => table.name);
    assert.ok(!tables.includes('half_done'), 'the failed migration was rolled back');
    assert.ok(tables.includes('installation'));
  });
});

test('SQLite runs with WAL, foreign keys, secure_delete and a busy timeout', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'quotient-pragmas-'));
  const database = openDatabase(`sqlite:${join(dir, 'sub', 'q.db')}`);
  try {
    const pragma = async (name: string) => {
      const result = await sql.raw(`pragma ${name}`).execute(database.db);
      return Object.values(result.rows[0] as Record<string, unknown>)[0];
    };
    assert.equal(await pragma('journal_mode'), 'wal');
    assert.equal(await pragma('foreign_keys'), 1);
    assert.equal(await pragma('secure_delete'), 1);
    assert.equal(await pragma('busy_timeout'), 5000);
  } finally {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unreachable PostgreSQL gives a typed error on ping, not a crash', async () => {
  const database = openDatabase('postgres://nobody@127.0.0.1:1/none');
  try {
    await assert.rejects(database.ping(), (error) => isQuotientError(error) && error.kind === 'unavailable');
  } finally {
    await database.close();
  }
});

test('PostgreSQL: a connection cut in the middle of a transaction fails that transaction, not the process', async (t) => {
  const throwaway = await throwawayPostgresOrSkip(t);
  if (!throwaway) return;
  const database = openDatabase(throwaway.url);
  const admin = openDatabase(`${throwaway.url}?application_name=quotient-test-admin`);
  try {
    await assert.rejects(
      database.db.transaction().execute(async (trx) => {
        const { pid } = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0] as { pid: number };
        // The server ends the backend while the transaction holds its client between two queries (an immediate stop).
        await sql`select pg_terminate_backend(${pid})`.execute(admin.db);
        for (let i = 0; i < 200; i++) {
          const r = await sql`select 1 from pg_stat_activity where pid = ${pid}`.execute(admin.db);
          if (r.rows.length === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        // Until its next query, nobody listens to that client but the pool's own handler.
        await new Promise((resolve) => setTimeout(resolve, 100));
        await sql`select 1`.execute(trx);
      }),
    );
    // The pool dropped the dead client: the next query gets a live one.
    await database.ping();
  } finally {
    await database.close();
    await admin.close();
    await throwaway.drop();
  }
});

test('SQLite: the data folder is created 0700, the database and its WAL and SHM files 0600; a file left 0644 is closed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quotient-modes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mode = (path: string) => statSync(path).mode & 0o777;
  const file = join(dir, 'donnees', 'quotient.db');
  const database = openDatabase(`sqlite:${file}`);
  try {
    await migrateToLatest(database.db, database.dialect);
    assert.equal(mode(join(dir, 'donnees')), 0o700);
    for (const path of [file, `${file}-wal`, `${file}-shm`]) assert.equal(mode(path).toString(8), '600', path);
  } finally {
    await database.close();
  }
  const older = join(dir, 'ancienne.db');
  writeFileSync(older, '', { mode: 0o644 });
  const reopened = openDatabase(`sqlite:${older}`);
  try {
    await migrateToLatest(reopened.db, reopened.dialect);
    for (const path of [older, `${older}-wal`, `${older}-shm`]) assert.equal(mode(path).toString(8), '600', path);
  } finally {
    await reopened.close();
  }
});
