import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { openJournal, tempDir } from '../audit/test-support.ts';
import { ClesApiService, type JournalCles } from './cles-api-service.ts';

const admin = { type: 'agent', id: 'admin-1' } as const;

test('a key is created and revoked together with its journal entry, or not at all', async (t) => {
  await eachDialect(t, async (fixture, st) => {
    const database = await fixture.open();
    const { journal } = await openJournal(database, tempDir(st));
    const service = new ClesApiService({ db: database.db, journal });

    const { cle, secret } = await service.creer('Logiciel de facturation', admin);
    assert.deepEqual((await service.verifier(secret))?.id, cle.id);
    await service.revoquer(cle.id, admin);
    assert.equal(await service.verifier(secret), undefined);
    const actions: string[] = [];
    for await (const e of journal.exportForTarget({ type: 'cle_api', id: cle.id })) actions.push(e.action);
    assert.deepEqual(actions, ['cle_api.creee', 'cle_api.revoquee']);

    // The journal cannot write: no key exists without its entry, no key is revoked without its entry.
    let broken = false;
    const fragile: JournalCles = {
      inTransaction: (work) => journal.inTransaction(work),
      append: async (entry, executor) => {
        if (broken) throw new Error('journal indisponible');
        return journal.append(entry, executor);
      },
    };
    const fragileService = new ClesApiService({ db: database.db, journal: fragile });
    const avant = (await service.lister()).length;
    broken = true;
    await assert.rejects(fragileService.creer('Jamais créée', admin), /journal indisponible/);
    assert.equal((await service.lister()).length, avant);

    broken = false;
    const autre = await fragileService.creer('Toujours active', admin);
    broken = true;
    await assert.rejects(fragileService.revoquer(autre.cle.id, admin), /journal indisponible/);
    assert.equal((await service.verifier(autre.secret))?.id, autre.cle.id, 'la clé reste utilisable : la révocation n’a pas eu lieu');
    assert.equal((await service.lister()).find((c) => c.id === autre.cle.id)?.revoqueeLe, null);
  });
});
