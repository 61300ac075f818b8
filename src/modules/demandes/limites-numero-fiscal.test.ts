import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { openJournal, tempDir } from '../audit/test-support.ts';
import { ACTION_ESSAI, ACTION_LIMITE, LimiteNumeroFiscal, LimitesNumeroFiscal, type Essai } from './limites-numero-fiscal.ts';

const famille = { type: 'famille' as const, id: 'f-1' };
const essai = (over: Partial<Essai> = {}): Essai => ({
  famille: 'f-1',
  compte: 'c-1',
  adresse: '192.0.2.7',
  canal: 'en_ligne',
  n: 1,
  acteur: famille,
  ...over,
});
const HEURE = Date.parse('2026-03-10T14:20:00Z');

test('numéros fiscaux are counted per try against account, family and address, per hour and per day; above a limit: refused with when to retry, journaled', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    let now = HEURE;
    const limites = new LimitesNumeroFiscal({
      db: database.db,
      journal,
      limites: { parCompte: { heure: 3, jour: 5 }, parFamille: { heure: 10, jour: 10 }, parAdresse: { heure: 10, jour: 10 } },
      clock: () => now,
    });
    await limites.compter(essai({ n: 2 }));
    await limites.compter(essai());
    await assert.rejects(limites.compter(essai()), (e: unknown) => {
      assert.ok(e instanceof LimiteNumeroFiscal);
      assert.equal(e.kind, 'rate_limited');
      assert.equal(e.reessayerA.toISOString(), '2026-03-10T15:00:00.000Z');
      assert.match(e.message, /réessayer le 10 mars à partir de 16 h 00/);
      assert.doesNotMatch(e.message, /192\.0|c-1|compte|adresse/, 'the message says nothing of which key');
      return true;
    });
    // Another account at the same address and for another family is not held back by this one's limit.
    await limites.compter(essai({ compte: 'c-2', famille: 'f-2' }));
    // The next hour, the account's day limit (5) is what remains: two more.
    now = HEURE + 3_600_000;
    await limites.compter(essai({ n: 2 }));
    await assert.rejects(
      limites.compter(essai()),
      (e: unknown) => e instanceof LimiteNumeroFiscal && e.reessayerA.toISOString() === '2026-03-11T00:00:00.000Z',
    );
    const essais = (await journal.query({ action: ACTION_ESSAI }, { limit: 50 })).entries;
    const refus = (await journal.query({ action: ACTION_LIMITE }, { limit: 50 })).entries;
    assert.equal(essais.length, 4);
    assert.equal(refus.length, 2);
    assert.deepEqual(
      refus.map((r) => [r.outcome, r.details.portee, r.details.fenetre, r.details.limite]),
      [
        ['refus', 'compte', 'jour', 5],
        ['refus', 'compte', 'heure', 3],
      ],
    );
    assert.equal(essais[0]?.details.numeros, 2);
  });
});

test('concurrent tries never let more through than the limit (one conditional upsert per key, on both dialects)', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    const limites = new LimitesNumeroFiscal({ db: database.db, journal, limites: { parAdresse: { heure: 7, jour: 100 } }, clock: () => HEURE });
    // Twenty families from one address at once (a script): seven go through, whatever the interleaving.
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => limites.compter(essai({ famille: `f-${i}`, compte: `c-${i}` }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 7);
    assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof LimiteNumeroFiscal));
    const row = await database.db
      .selectFrom('numero_fiscal_essais')
      .select('n')
      .where('cle', '=', 'adresse:192.0.2.7')
      .where('fenetre', '=', 'heure')
      .executeTakeFirstOrThrow();
    assert.equal(Number(row.n), 7);
  });
});
