import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MARQUE_DEMO, marquerDossierDemoSiNeuf, reinitialiserDemo } from './demo-reset.ts';

const racine = mkdtempSync(join(tmpdir(), 'quotient-demo-reset-'));
after(() => rmSync(racine, { recursive: true, force: true }));

function dossierDemo() {
  const data = join(racine, `data-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(data, 'sandbox'), { recursive: true });
  writeFileSync(join(data, 'quotient.db'), 'base');
  writeFileSync(join(data, 'sandbox', 'ca.pem'), 'certificat');
  writeFileSync(join(data, MARQUE_DEMO), 'marque');
  return { dataDir: data, databaseUrl: `sqlite:${join(data, 'quotient.db')}` };
}

test('demo --reset asks for --oui first, in French, and wipes nothing until then', () => {
  const config = dossierDemo();
  assert.throws(
    () => reinitialiserDemo(config, racine, false),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'usage_invalide');
      assert.match(e.message, /efface le dossier data-[a-z0-9]+\/ : base de démonstration.*Pour confirmer : quotient demo --reset --oui/);
      return true;
    },
  );
  assert.ok(existsSync(join(config.dataDir, 'quotient.db')));
});

test('demo --reset --oui wipes the demo folder, database and sandbox certificates included; again, nothing left to wipe', () => {
  const config = dossierDemo();
  assert.match(reinitialiserDemo(config, racine, true), /effacé : la démonstration repart de zéro/);
  assert.equal(existsSync(config.dataDir), false);
  assert.match(reinitialiserDemo(config, racine, true), /Rien à effacer/);
});

test('demo --reset never wipes PostgreSQL, a database outside the folder, or the working directory', () => {
  const config = dossierDemo();
  assert.throws(() => reinitialiserDemo({ ...config, databaseUrl: 'postgres://127.0.0.1/quotient' }, racine, true), /une autre base, rien n’est effacé/);
  assert.throws(() => reinitialiserDemo({ ...config, databaseUrl: `sqlite:${join(racine, 'ailleurs.db')}` }, racine, true), /hors du dossier/);
  assert.throws(() => reinitialiserDemo({ dataDir: racine, databaseUrl: `sqlite:${join(racine, 'q.db')}` }, racine, true), /bien plus que la démonstration/);
  assert.ok(existsSync(join(config.dataDir, 'quotient.db')), 'nothing was wiped');
});

test('demo --reset never wipes a folder above the working directory, nor a folder the demo did not create', () => {
  const projet = join(racine, `parent-${Math.random().toString(36).slice(2)}`, 'projet');
  mkdirSync(projet, { recursive: true });
  const parent = join(projet, '..');
  writeFileSync(join(parent, MARQUE_DEMO), 'marque');
  assert.throws(
    () => reinitialiserDemo({ dataDir: parent, databaseUrl: `sqlite:${join(parent, 'data', 'q.db')}` }, projet, true),
    /bien plus que la démonstration/,
  );
  assert.ok(existsSync(projet), 'the project above which the folder was named is still there');

  // An installation's folder (no mark): refused, even confirmed.
  const installation = join(racine, `installation-${Math.random().toString(36).slice(2)}`);
  mkdirSync(installation);
  writeFileSync(join(installation, 'quotient.db'), 'base de production');
  assert.throws(
    () => reinitialiserDemo({ dataDir: installation, databaseUrl: `sqlite:${join(installation, 'quotient.db')}` }, racine, true),
    /n’a pas été créé par la démonstration/,
  );
  assert.ok(existsSync(join(installation, 'quotient.db')), 'nothing was wiped');
});

test('the demo marks only a folder it creates or finds empty, never one that holds something', () => {
  const neuf = join(racine, `neuf-${Math.random().toString(36).slice(2)}`);
  marquerDossierDemoSiNeuf(neuf);
  assert.ok(existsSync(join(neuf, MARQUE_DEMO)));
  const plein = join(racine, `plein-${Math.random().toString(36).slice(2)}`);
  mkdirSync(plein);
  writeFileSync(join(plein, 'quotient.db'), 'base');
  marquerDossierDemoSiNeuf(plein);
  assert.equal(existsSync(join(plein, MARQUE_DEMO)), false);
});
