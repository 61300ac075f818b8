import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import { isQuotientError } from '../../domain/errors.ts';
import type { Database } from '../db/database.ts';
import { eachDialect } from '../db/test-databases.ts';
import { Coffre, type JsonValue } from './coffre.ts';
import { generateMasterKey, Keyring, MemoryKeyring, newKeyring } from './keyring.ts';

const KIND = 'situation_fiscale';
const code = (expected: string) => (error: unknown) => {
  assert.ok(isQuotientError(error), `typed error expected, got ${String(error)}`);
  assert.equal(error.code, expected, error.message);
  return true;
};

function coffreOn(database: Database, keyring = new MemoryKeyring(newKeyring())): { coffre: Coffre; keyring: MemoryKeyring } {
  return { coffre: new Coffre({ db: database.db, dialect: database.dialect, keyring }), keyring };
}

test('records round-trip on each dialect: put, replace, get, delete', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre, keyring } = coffreOn(database);
    const situation = { anneeRevenus: 2025, rfr: 31_250, nbParts: 2.5, declarants: [{ nom: 'Lefèvre-Durand', prenoms: 'Anne Marie' }], zero: 0, vide: null };
    assert.equal(await coffre.get(KIND, 'f-1'), undefined);
    await coffre.put(KIND, 'f-1', situation);
    await coffre.put(KIND, 'f-2', 'texte seul');
    await coffre.put('quotient', 'f-1', [1, true, null]);
    assert.deepEqual(await coffre.get(KIND, 'f-1'), situation);
    assert.equal(await coffre.get(KIND, 'f-2'), 'texte seul');
    assert.deepEqual(await coffre.get('quotient', 'f-1'), [1, true, null]);

    await coffre.put(KIND, 'f-1', { rfr: 1 });
    assert.deepEqual(await coffre.get(KIND, 'f-1'), { rfr: 1 });
    const row = await database.db.selectFrom('coffre_records').selectAll().where('kind', '=', KIND).where('record_id', '=', 'f-1').executeTakeFirstOrThrow();
    assert.equal(row.key_id, keyring.current().activeId, 'each record names the master key that wrapped its data key');
    assert.ok(Buffer.isBuffer(row.wrapped_key) && Buffer.isBuffer(row.ciphertext), 'bytes are stored as bytes');
    assert.match(row.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    assert.equal(await coffre.delete(KIND, 'f-1'), true);
    assert.equal(await coffre.delete(KIND, 'f-1'), false);
    assert.equal(await coffre.get(KIND, 'f-1'), undefined);
    // Another process with the same keys reads what this one wrote.
    assert.equal(await coffreOn(await fixture.open(), keyring).coffre.get(KIND, 'f-2'), 'texte seul');
  });
});

test('a record stored inside the caller’s transaction commits and rolls back with it', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre } = coffreOn(database);
    await database.db.transaction().execute(async (trx) => {
      await coffre.put(KIND, 'gardee', { ok: true }, trx);
      assert.deepEqual(await coffre.get(KIND, 'gardee', trx), { ok: true });
    });
    await assert.rejects(
      database.db.transaction().execute(async (trx) => {
        await coffre.put(KIND, 'annulee', { ok: false }, trx);
        await coffre.delete(KIND, 'gardee', trx);
        throw new Error('the service failed after storing');
      }),
      /the service failed/,
    );
    assert.equal(await coffre.get(KIND, 'annulee'), undefined, 'nothing half-written remains');
    assert.deepEqual(await coffre.get(KIND, 'gardee'), { ok: true });
  });
});

test('tampering in the database (ciphertext, nonce, tag, wrapped key, truncation, moved rows) is a typed error', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre } = coffreOn(database);
    const columns = ['ciphertext', 'nonce', 'tag', 'wrapped_key'] as const;
    const read = (id: string) =>
      database.db.selectFrom('coffre_records').selectAll().where('kind', '=', KIND).where('record_id', '=', id).executeTakeFirstOrThrow();
    for (const column of columns) {
      for (const damage of ['flip', 'truncate'] as const) {
        const id = `${column}-${damage}`;
        await coffre.put(KIND, id, { rfr: 27_000, canari: 'ne doit jamais réapparaître' });
        const bytes = Buffer.from((await read(id))[column]);
        const changed = damage === 'flip' ? Buffer.from(bytes.map((b, i) => (i === bytes.length - 1 ? b ^ 0x01 : b))) : bytes.subarray(0, bytes.length - 1);
        await database.db
          .updateTable('coffre_records')
          .set({ [column]: changed })
          .where('kind', '=', KIND)
          .where('record_id', '=', id)
          .execute();
        await assert.rejects(coffre.get(KIND, id), code('coffre_illisible'), id);
      }
    }

    // A whole record copied onto another row, of the same kind or of another kind.
    await coffre.put(KIND, 'victime', { rfr: 10_000 });
    await coffre.put(KIND, 'source', { rfr: 99_999 });
    await coffre.put('quotient', 'victime', { valeur: 1 });
    const source = await read('source');
    const copy = {
      format: source.format,
      key_id: source.key_id,
      wrapped_key: source.wrapped_key,
      nonce: source.nonce,
      ciphertext: source.ciphertext,
      tag: source.tag,
    };
    await database.db.updateTable('coffre_records').set(copy).where('kind', '=', KIND).where('record_id', '=', 'victime').execute();
    await assert.rejects(coffre.get(KIND, 'victime'), code('coffre_illisible'));
    await database.db.updateTable('coffre_records').set(copy).where('kind', '=', 'quotient').where('record_id', '=', 'victime').execute();
    await assert.rejects(coffre.get('quotient', 'victime'), code('coffre_illisible'));
    // The row renamed in place (its identity changed, its bytes kept).
    await database.db.updateTable('coffre_records').set({ record_id: 'deplacee' }).where('kind', '=', KIND).where('record_id', '=', 'source').execute();
    await assert.rejects(coffre.get(KIND, 'deplacee'), code('coffre_illisible'));
    // Only the data key swapped in from another record.
    await coffre.put(KIND, 'x', 1);
    await coffre.put(KIND, 'y', 2);
    await database.db
      .updateTable('coffre_records')
      .set({ wrapped_key: (await read('y')).wrapped_key })
      .where('kind', '=', KIND)
      .where('record_id', '=', 'x')
      .execute();
    await assert.rejects(coffre.get(KIND, 'x'), code('coffre_illisible'));
    assert.equal(await coffre.get(KIND, 'y'), 2, 'untouched records still read');
  });
});

test('a wrong master key, or a key missing from the keyring, is told apart from tampering', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre, keyring } = coffreOn(database);
    await coffre.put(KIND, 'f', { rfr: 1 });
    const id = keyring.current().activeId;

    // Another key file whose key bears the same id (a copy from another installation, an edit).
    const impostor = new MemoryKeyring(Keyring.of([{ id, createdAt: new Date().toISOString(), key: createSecretKey(randomBytes(32)) }], id));
    const wrong = coffreOn(database, impostor).coffre;
    await assert.rejects(wrong.get(KIND, 'f'), (error) => code('coffre_cle_incorrecte')(error) && /QUOTIENT_MASTER_KEY_FILE/.test((error as Error).message));
    await assert.rejects(wrong.put(KIND, 'g', 1), code('coffre_cle_incorrecte'), 'nor may it write under that id');
    assert.equal(await coffre.get(KIND, 'g'), undefined);

    const elsewhere = coffreOn(database, new MemoryKeyring(newKeyring())).coffre;
    await assert.rejects(elsewhere.get(KIND, 'f'), (error) => code('coffre_cle_absente')(error) && (error as Error).message.includes(id));
    const usage = await elsewhere.usage();
    assert.deepEqual(
      usage.map((u) => [u.keyId, u.records, u.inKeyring]),
      [[id, 1, 'missing']],
    );
    assert.deepEqual(
      (await wrong.usage()).map((u) => u.inKeyring),
      ['mismatch'],
    );
    assert.deepEqual(
      (await coffre.usage()).map((u) => u.inKeyring),
      ['present'],
    );
  });
});

test('bad identities and values are refused with typed errors, and nothing is stored', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre } = coffreOn(database);
    for (const [kind, id] of [
      ['', 'x'],
      ['Situation', 'x'],
      ['situation fiscale', 'x'],
      [KIND, ''],
      [KIND, 'a\u0000b'],
      [KIND, 'x'.repeat(257)],
    ] as const) {
      await assert.rejects(coffre.put(kind, id, 1), code('coffre_identite_invalide'), `${kind}/${id}`);
      await assert.rejects(coffre.get(kind, id), code('coffre_identite_invalide'));
    }
    const notJson: unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, undefined, () => 1, 10n, new Date(), { a: new Map() }, [Symbol('s')], { n: -Infinity }];
    for (const value of notJson) await assert.rejects(coffre.put(KIND, 'v', value as JsonValue), code('coffre_valeur_invalide'), String(typeof value));
    let deep: JsonValue = 1;
    for (let i = 0; i < 500; i++) deep = [deep];
    await assert.rejects(coffre.put(KIND, 'v', deep), code('coffre_valeur_invalide'));
    await assert.rejects(coffre.put(KIND, 'v', 'x'.repeat((1 << 20) + 1)), code('coffre_valeur_trop_grande'));
    const count = await database.db
      .selectFrom('coffre_records')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 0);
  });
});

test('property: any JSON value round-trips, and the stored bytes never contain the plaintext', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre } = coffreOn(database);
    const CANARY = 'CANARI-3141592653589-coffre';
    const canaryBytes = [
      Buffer.from(CANARY, 'utf8'),
      Buffer.from(CANARY, 'utf16le'),
      Buffer.from(Buffer.from(CANARY).toString('base64').slice(0, 20)),
      Buffer.from(Buffer.from(CANARY).toString('hex').slice(0, 24)),
    ];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.string(), async (value, id) => {
        // eslint-disable-next-line no-control-regex -- the silo refuses control characters in ids
        const recordId = `p-${n++}-${id.replace(/[\u0000-\u001f\u007f]/g, '')}`.slice(0, 256);
        const stored = { canari: CANARY, valeur: value } as JsonValue;
        await coffre.put(KIND, recordId, stored);
        assert.deepEqual(await coffre.get(KIND, recordId), JSON.parse(JSON.stringify(stored)));
        const row = await database.db
          .selectFrom('coffre_records')
          .selectAll()
          .where('kind', '=', KIND)
          .where('record_id', '=', recordId)
          .executeTakeFirstOrThrow();
        const bytes = Buffer.concat([row.wrapped_key, row.nonce, row.ciphertext, row.tag, Buffer.from(JSON.stringify(row))]);
        for (const canary of canaryBytes) assert.equal(bytes.indexOf(canary), -1);
      }),
      { numRuns: 150 },
    );
    if (database.dialect === 'sqlite') {
      // The whole database, write-ahead log included, holds no copy of the plaintext.
      await sql`pragma wal_checkpoint(PASSIVE)`.execute(database.db);
      const path = fixture.url.slice('sqlite:'.length);
      for (const file of [path, `${path}-wal`]) {
        if (!existsSync(file)) continue;
        const bytes = readFileSync(file);
        for (const canary of canaryBytes) assert.equal(bytes.indexOf(canary), -1, file);
      }
    } else {
      const dump = await sql<{
        t: string;
      }>`select string_agg(encode(ciphertext, 'escape') || encode(wrapped_key, 'escape'), '') as t from coffre_records`.execute(database.db);
      assert.ok(!(dump.rows[0]?.t ?? '').includes(CANARY));
    }
  });
});

test('rotation re-wraps every record in batches: all stay readable, none is left under the old key, which can then leave the keyring', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre, keyring } = coffreOn(database);
    const old = keyring.current().activeId;
    const values = new Map<string, JsonValue>();
    for (let i = 0; i < 250; i++) values.set(`f-${i}`, { i, nom: `Famille ${i}` });
    await database.db.transaction().execute(async (trx) => {
      for (const [id, value] of values) await coffre.put(i2kind(id), id, value, trx);
    });

    const next = generateMasterKey();
    keyring.set(keyring.current().with(next, { activate: true }));
    const progress: number[] = [];
    const report = await coffre.rotate(next.id, { batchSize: 32, onProgress: (p) => progress.push(p.scanned) });
    assert.deepEqual(report, { keyId: next.id, rewrapped: 250, changedMeanwhile: 0, failures: [], remaining: {} });
    assert.equal(progress.length, Math.ceil(250 / 32), 'one transaction per batch');
    assert.deepEqual(await coffre.retire([old]), [old]);
    const usage = await coffre.usage();
    assert.deepEqual(
      usage.map((u) => [u.keyId, u.records, u.active]),
      [
        [old, 0, false],
        [next.id, 250, true],
      ],
    );
    assert.ok(usage[0]?.retiredAt);

    // The old key leaves the keyring; a process that knows only the new key reads everything.
    const reader = coffreOn(await fixture.open(), new MemoryKeyring(keyring.current().without([old]))).coffre;
    for (const [id, value] of values) assert.deepEqual(await reader.get(i2kind(id), id), value);
    // New records go under the new key.
    await coffre.put(KIND, 'apres', 1);
    const after = await database.db.selectFrom('coffre_records').select('key_id').where('record_id', '=', 'apres').executeTakeFirstOrThrow();
    assert.equal(after.key_id, next.id);
    // Rotating again to the same key is a no-op.
    assert.equal((await coffre.rotate(next.id)).rewrapped, 0);
  });
});

test('a write in progress under the old key holds the key switch until it commits, so the sweep cannot miss it', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    if (fixture.dialect === 'sqlite') {
      // SQLite serialises writers with one database lock: a write that read the old key either
      // commits before the switch or fails; rotation.test.ts proves it with other processes. Here
      // the writer would block this very process (better-sqlite3 waits synchronously).
      st.skip('SQLite : garanti par le verrou d’écriture de la base, prouvé par rotation.test.ts');
      return;
    }
    const database = await fixture.open();
    const { coffre, keyring } = coffreOn(database);
    const old = keyring.current().activeId;
    for (let i = 0; i < 20; i++) await coffre.put(KIND, `f-${i}`, i);

    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let stored!: () => void;
    const written = new Promise<void>((resolve) => (stored = resolve));
    // A service's transaction: it stores a record under the active (old) key, then takes its time.
    const writer = database.db.transaction().execute(async (trx) => {
      await coffre.put(KIND, 'en-cours', { ecrit: 'pendant la rotation' }, trx);
      stored();
      await held;
    });
    await written;
    const next = generateMasterKey();
    keyring.set(keyring.current().with(next, { activate: true }));
    let rotated = false;
    const rotation = coffre.rotate(next.id).then((report) => {
      rotated = true;
      return report;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const waited = !rotated;
    release();
    await writer;
    const report = await rotation;
    assert.ok(waited, 'the switch waited for the write under the old key');
    assert.deepEqual(report.remaining, {});
    const keys = await database.db.selectFrom('coffre_records').select('key_id').distinct().execute();
    assert.deepEqual(
      keys.map((k) => k.key_id),
      [next.id],
    );
    assert.deepEqual(await coffre.retire([old]), [old]);
    assert.deepEqual(await coffre.get(KIND, 'en-cours'), { ecrit: 'pendant la rotation' });
  });
});

test('a record that cannot be re-wrapped is reported, and its key is kept rather than retired', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre, keyring } = coffreOn(database);
    const old = keyring.current().activeId;
    for (let i = 0; i < 10; i++) await coffre.put(KIND, `f-${i}`, i);
    const row = await database.db.selectFrom('coffre_records').select('wrapped_key').where('record_id', '=', 'f-3').executeTakeFirstOrThrow();
    const damaged = Buffer.from(row.wrapped_key);
    damaged[20] = (damaged[20] as number) ^ 0xff;
    await database.db.updateTable('coffre_records').set({ wrapped_key: damaged }).where('record_id', '=', 'f-3').execute();

    const next = generateMasterKey();
    keyring.set(keyring.current().with(next, { activate: true }));
    const report = await coffre.rotate(next.id, { batchSize: 4 });
    assert.equal(report.rewrapped, 9);
    assert.deepEqual(report.failures, [{ kind: KIND, id: 'f-3', code: 'coffre_illisible' }]);
    assert.deepEqual(report.remaining, { [old]: 1 });
    assert.deepEqual(await coffre.retire([old]), [], 'a key still used is not retired');
    await assert.rejects(coffre.rotate('cle-inconnue'), code('coffre_cle_absente'));
  });
});

function i2kind(id: string): string {
  return Number(id.slice(2)) % 2 === 0 ? KIND : 'quotient';
}

test('documents are stored as bytes, encrypted: the database file holds no copy of them, and they come back whole', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const { coffre } = coffreOn(database);
    const marque = `AVIS-CANARI-${randomBytes(6).toString('hex')}`;
    // Larger than a JSON record may be, with every byte value.
    const document = Buffer.concat([
      Buffer.from(`%PDF-1.4 ${marque} `),
      randomBytes(3 << 20),
      Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
      Buffer.from(marque),
    ]);
    await coffre.putBytes('avis_depose', 'a-1', document);
    assert.ok((await coffre.getBytes('avis_depose', 'a-1'))?.equals(document));
    assert.equal(await coffre.getBytes('avis_depose', 'absent'), undefined);
    await assert.rejects(coffre.putBytes('avis_depose', 'a-2', new Uint8Array((16 << 20) + 1)), code('coffre_valeur_trop_grande'));
    if (database.dialect === 'sqlite') {
      await sql`pragma wal_checkpoint(PASSIVE)`.execute(database.db);
      const path = fixture.url.slice('sqlite:'.length);
      for (const file of [path, `${path}-wal`]) if (existsSync(file)) assert.equal(readFileSync(file).indexOf(marque), -1, file);
    } else {
      const dump = await sql<{
        n: number;
      }>`select count(*)::int as n from coffre_records where position(${Buffer.from(marque)}::bytea in ciphertext) > 0`.execute(database.db);
      assert.equal(dump.rows[0]?.n, 0);
    }
    assert.equal(await coffre.delete('avis_depose', 'a-1'), true);
    assert.equal(await coffre.getBytes('avis_depose', 'a-1'), undefined);
  });
});
