import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { openDatabase } from '../../infra/db/database.ts';
import { migrateToLatest } from '../../infra/db/migrations.ts';
import { openJournal, tempDir } from '../../modules/audit/test-support.ts';
import { GUICHET } from './politique-acces.ts';
import { registerControleAcces } from './controle-acces.ts';

test('a refusal whose request id the journal refuses (shaped like a numéro fiscal) is journaled anyway, once, without that id', async (t) => {
  const dir = tempDir(t);
  const database = openDatabase(`sqlite:${join(dir, 'q.db')}`);
  t.after(() => database.close());
  await migrateToLatest(database.db, database.dialect);
  const { journal } = await openJournal(database, dir);
  // What a proxy could have handed on before request ids were checked: 13 digits.
  const app = Fastify({ genReqId: () => '3141592653423' });
  t.after(() => app.close());
  registerControleAcces(app, { journal, politique: { 'GET /reserve': GUICHET, 'POST /reserve': GUICHET } });
  app.get('/reserve', async () => 'non');
  app.post('/reserve', async () => 'non');
  await app.ready();

  assert.equal((await app.inject({ url: '/reserve' })).statusCode, 303);
  // Without the application's error handler, the typed 401 is Fastify's 500 here: refused all the same.
  assert.notEqual((await app.inject({ method: 'POST', url: '/reserve' })).statusCode, 200);
  const { entries } = await journal.query({ action: 'acces.refuse' });
  assert.equal(entries.length, 2, 'one entry per refusal');
  for (const e of entries) {
    assert.equal(e.correlationId, null);
    assert.deepEqual(e.actor, { type: 'anonyme', id: 'inconnu' });
    assert.equal(e.details.route, '/reserve');
    assert.equal(e.details.identifiantRequete, 'masque');
    assert.ok(!JSON.stringify(e).includes('3141592653423'));
  }
});
