import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hash as argon2Hash } from '@node-rs/argon2';
import type { Courriel, Mailer } from '../../infra/mail/mailer.ts';
import { eachDialect } from '../../infra/db/test-databases.ts';
import { ComptesService } from './comptes-service.ts';

/**
 * Issue 12, hole 6: password reset and sign-up answer alike for a known and an unknown address.
 * Timings on a busy machine prove nothing, so the test shows the code path: the answer never
 * waits on the mailer (a mailer that never answers does not hold it), and sign-up hashes the
 * password whether the address is taken or not. An unconfirmed account answers the same for a
 * right and a wrong password.
 */
function mailerQuiNeRepondJamais(): Mailer & { envoyes: Courriel[] } {
  const envoyes: Courriel[] = [];
  return { envoyes, send: (m) => (envoyes.push(m), new Promise<void>(() => undefined)) };
}

const answered = <T>(p: Promise<T>) =>
  Promise.race([p.then(() => 'answered' as const), new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 2_000).unref())]);

test('reset and sign-up do the same work for a known and an unknown address, and never wait on the mailer', async (t) => {
  await eachDialect(t, async (fixture) => {
    const database = await fixture.open();
    const mailer = mailerQuiNeRepondJamais();
    let hashes = 0;
    let familles = 0;
    const service = new ComptesService({
      db: database.db,
      familles: {
        async creer() {
          const id = crypto.randomUUID();
          const now = new Date().toISOString();
          await database.db
            .insertInto('familles')
            .values({ id, reference: `F-TEST-${familles++}`, resident: 1, courriel: null, creee_le: now, modifiee_le: now })
            .execute();
          return { id, reference: `F-TEST-${familles}` };
        },
        // Local accounts only here: no FranceConnect identity to take again.
        async reprendreIdentiteFranceConnect() {},
      },
      mailer,
      publicUrl: 'https://q.exemple.fr',
      communeNom: 'Test',
      hacher: (p) => (hashes++, argon2Hash(p)),
    });
    const inscription = { prenoms: 'Lina', nom: 'Petit', email: 'lina@exemple.fr', password: 'Une phrase de passe 2026 !' };
    assert.equal(await answered(service.inscrire(inscription)), 'answered', 'a new account does not wait for its mail');
    assert.equal(hashes, 1);
    assert.equal(await answered(service.inscrire(inscription)), 'answered', 'a taken address does not wait for its notice');
    assert.equal(hashes, 2, 'a taken address hashes the password too');
    assert.equal(mailer.envoyes.length, 2, 'both mails are queued');
    assert.equal(await answered(service.demanderReinitialisation('lina@exemple.fr')), 'answered', 'a known address does not wait for its mail');
    assert.equal(await answered(service.demanderReinitialisation('personne@exemple.fr')), 'answered');
    assert.equal(mailer.envoyes.length, 3);

    // Unconfirmed: the right password and a wrong one get the same answer.
    const codes = [];
    for (const password of [inscription.password, 'pas le bon mot de passe']) {
      codes.push(
        await service.connecterLocal('lina@exemple.fr', password).then(
          () => 'connecté',
          (e: { code?: string; message?: string }) => `${e.code} ${e.message}`,
        ),
      );
    }
    assert.equal(codes[0], codes[1]);
    assert.match(codes[0] as string, /^identifiants_incorrects .*pas encore confirmée/);
  });
});
