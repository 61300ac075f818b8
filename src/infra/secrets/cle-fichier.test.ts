import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isQuotientError } from '../../domain/errors.ts';
import { chargerCle } from './cle-fichier.ts';

test('a key file: created 0600 (folder 0700) when allowed, refused in French when absent or too short', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quotient-cle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cle = { fichier: join(dir, 'donnees', 'sessions.key'), creer: true, usage: 'des sessions', variable: 'QUOTIENT_SESSION_KEY_FILE' };
  const key = chargerCle(cle);
  assert.equal(key.length, 32);
  assert.equal(statSync(cle.fichier).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'donnees')).mode & 0o777, 0o700);
  assert.deepEqual(chargerCle({ ...cle, creer: false }), key, 'read again, the same key');
  assert.throws(
    () => chargerCle({ ...cle, fichier: join(dir, 'absente.key'), creer: false }),
    (e) =>
      isQuotientError(e) &&
      e.code === 'cle_absente' &&
      /La clé des sessions est introuvable : .*absente\.key\. Désignez-la avec QUOTIENT_SESSION_KEY_FILE/.test(e.message),
  );
  const courte = join(dir, 'courte.key');
  writeFileSync(courte, Buffer.alloc(8).toString('base64'));
  assert.throws(
    () => chargerCle({ ...cle, fichier: courte }),
    (e) => isQuotientError(e) && e.code === 'cle_invalide' && /au moins 32 octets/.test(e.message),
  );
});
