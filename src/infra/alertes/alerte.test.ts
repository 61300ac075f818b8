import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateEntry } from '../../domain/entree-journal.ts';
import { SPI_SANDBOX } from '../../sandbox/population.ts';
import { alerteDeTest, AlerteInvalide, creerAlerte, type NouvelleAlerte } from './alerte.ts';

const base: NouvelleAlerte = {
  code: 'connexion.echecs_rafale',
  gravite: 'avertissement',
  titre: 'Échecs de connexion en rafale',
  message: 'Douze échecs en une minute pour un même compte agent.',
  details: { compte: 'agent-42', echecs: 12 },
};

function refused(input: NouvelleAlerte): AlerteInvalide {
  try {
    creerAlerte(input);
  } catch (error) {
    assert.ok(error instanceof AlerteInvalide, String(error));
    return error;
  }
  assert.fail('the alert was accepted');
}

test('an alert has an id, the time it occurred and its fields as given', () => {
  const at = new Date('2026-03-04T05:06:07.089Z');
  const alerte = creerAlerte({ ...base, survenueLe: at });
  assert.equal(alerte.survenueLe, '2026-03-04T05:06:07.089Z');
  assert.equal(alerte.code, 'connexion.echecs_rafale');
  assert.deepEqual(alerte.details, { compte: 'agent-42', echecs: 12 });
  assert.match(alerte.id, /^[A-Za-z0-9_-]{20}$/);
  assert.notEqual(creerAlerte(base).id, alerte.id);
});

test('a numéro fiscal is refused in the title, the message or a detail, and never repeated in the error', () => {
  const spaced = SPI_SANDBOX.canari.replace(/^(\d{2})(\d{2})(\d{3})(\d{3})(\d{3})$/, '$1 $2 $3 $4 $5');
  for (const input of [
    { ...base, titre: `Numéro ${SPI_SANDBOX.canari}` },
    { ...base, message: `Le foyer ${spaced} a été consulté.` },
    { ...base, details: { spi: SPI_SANDBOX.canari } },
    { ...base, details: { n: Number(SPI_SANDBOX.canari) } },
  ]) {
    const error = refused(input);
    assert.equal(error.code, 'numero_fiscal_interdit');
    assert.ok(!JSON.stringify({ m: error.message, d: error.details }).includes(SPI_SANDBOX.canari));
  }
});

test('bad fields are named in French', () => {
  const error = refused({
    ...base,
    code: 'Pas Un Code',
    gravite: 'grave' as never,
    titre: 'x'.repeat(201),
    message: 'deux\nlignes',
    details: { ['k'.repeat(33)]: 1, objet: {} as never },
  });
  const paths = error.details.map((d) => d.path);
  for (const path of ['code', 'gravite', 'titre', 'message', 'details.objet']) assert.ok(paths.includes(path), `${path} in ${paths.join(', ')}`);
  assert.ok(paths.some((p) => p.startsWith('details.kkkk')));
  assert.match(error.message, /Alerte invalide/);
  assert.match(error.details.find((d) => d.path === 'code')?.message ?? '', /connexion\.echecs_rafale/);
});

test('a detail named like the title does not hide a bad title', () => {
  const error = refused({ ...base, titre: '', details: { titre: 'correct' } });
  assert.deepEqual(
    error.details.map((d) => d.path),
    ['titre'],
  );
});

test('the test alert is labelled as such and its details are fit for the journal', () => {
  const alerte = alerteDeTest({ lanceePar: 'cli:exploitant' });
  assert.equal(alerte.titre, 'Test du circuit d’alerte');
  assert.equal(alerte.code, 'alertes.test');
  assert.equal(alerte.gravite, 'critique');
  assert.equal(alerteDeTest({ lanceePar: 'x', gravite: 'info' }).gravite, 'info');
  assert.deepEqual(alerte.details, { test: true, lanceePar: 'cli:exploitant' });
  validateEntry({ actor: { type: 'systeme', id: 'cli:exploitant' }, action: alerte.code, outcome: 'succes', details: alerte.details });
});
