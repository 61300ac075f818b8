import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuotientError } from '../../domain/errors.ts';
import { baseFromSimulation, computeQuotientFamilial } from '../../domain/quotient-familial.ts';
import { gridPrice, priceActivites } from '../../domain/tarification.ts';
import { bombeYaml } from '../../infra/config/test-support.ts';
import { MESSAGE_ALIAS } from '../../infra/config/yaml.ts';
import { loadPolitiqueFile, loadPolitiqueFileSync, parsePolitiqueYaml } from './politique-loader.ts';

const examples = new URL('../../../examples/', import.meta.url);
const examplePath = (name: string) => new URL(name, examples).pathname;

test('the Boulogne-Billancourt example loads and reproduces the worked example of its source', async () => {
  const p = await loadPolitiqueFile(examplePath('boulogne-billancourt.yaml'));
  assert.equal(p.commune.codeInsee, '92012');
  assert.deepEqual(
    p.activites.map((a) => a.id),
    ['restauration-scolaire', 'periscolaire-soir', 'centre-loisirs-mercredi'],
  );
  const quotient = computeQuotientFamilial(p.quotient, baseFromSimulation({ rfr: 48_000, nbParts: 3 }));
  assert.equal(quotient.cents, 133_333);
  assert.equal(priceActivites(p, { quotient, resident: true })[0]?.cents, 480);
  assert.deepEqual(
    priceActivites(p, { quotient, resident: false })
      .slice(0, 2)
      .map((x) => x.cents),
    [805, 955],
  );
});

/** The published Strasbourg grid (evening care in nursery schools, from September 2024), €/month. */
const STRASBOURG = [
  [0, 11.85],
  [100, 16.16],
  [300, 20.46],
  [500, 24.77],
  [700, 29.07],
  [900, 33.38],
  [1100, 37.68],
  [1300, 41.99],
  [1500, 46.29],
  [1700, 50.6],
  [1900, 54.9],
] as const;

test('Strasbourg: every threshold of the eleven brackets, from the QF and from RFR ÷ 12 ÷ parts', async () => {
  const p = await loadPolitiqueFile(examplePath('strasbourg.yaml'));
  const activite = p.activites[0];
  assert.ok(activite);
  assert.equal(activite.grille.type === 'tranches' && activite.grille.tranches.length, 11);
  STRASBOURG.forEach(([seuil, prix], i) => {
    const atThreshold = gridPrice(activite.grille, seuil * 100, p.arrondiPrix);
    assert.equal(atThreshold.cents, Math.round(prix * 100), `QF ${seuil} €`);
    assert.equal(atThreshold.tranche?.code, String(i + 1));
    const previous = STRASBOURG[i - 1];
    if (previous) assert.equal(gridPrice(activite.grille, seuil * 100 - 1, p.arrondiPrix).cents, Math.round(previous[1] * 100), `QF ${seuil} € − 1 centime`);

    // With one part, RFR = 12 × threshold gives exactly the threshold; one euro less falls below it.
    const exact = computeQuotientFamilial(p.quotient, baseFromSimulation({ rfr: seuil * 12, nbParts: 1 }));
    assert.equal(priceActivites(p, { quotient: exact, resident: true })[0]?.cents, Math.round(prix * 100));
    if (previous) {
      const below = computeQuotientFamilial(p.quotient, baseFromSimulation({ rfr: seuil * 12 - 1, nbParts: 1 }));
      assert.equal(below.cents, seuil * 100 - 9); // 1/12 € below, rounded down to the cent
      assert.equal(priceActivites(p, { quotient: below, resident: true })[0]?.cents, Math.round(previous[1] * 100));
    }
  });
  // The reference's worked example: RFR 48 000 €, 3 parts → 1 333,33 € → 41,99 € a month.
  const worked = computeQuotientFamilial(p.quotient, baseFromSimulation({ rfr: 48_000, nbParts: 3 }));
  assert.equal(priceActivites(p, { quotient: worked, resident: true })[0]?.cents, 4199);
  // No QF on file: the highest price.
  assert.equal(priceActivites(p, { quotient: null, resident: true })[0]?.cents, 5490);
});

test('a YAML syntax error is reported with its line, in French', () => {
  assert.throws(
    () => parsePolitiqueYaml('format: 1\ncommune:\n  nom: A\n  nom: B\n', 'essai.yaml'),
    (e) =>
      e instanceof QuotientError &&
      e.code === 'politique_yaml_invalide' &&
      e.message.includes('essai.yaml') &&
      e.details[0]?.path === 'ligne 4, colonne 3' &&
      e.details[0]?.message === 'ce champ apparaît deux fois',
  );
});

// The timeout is a safety net (the refusal is immediate): expanded, the bomb held the process for minutes.
test('a YAML alias bomb is refused at once as invalid YAML, naming the aliases in French', { timeout: 20_000 }, () => {
  assert.throws(
    () => parsePolitiqueYaml(bombeYaml(), 'bombe.yaml'),
    (e) =>
      e instanceof QuotientError &&
      e.code === 'politique_yaml_invalide' &&
      e.message.includes('bombe.yaml') &&
      e.details[0]?.message === MESSAGE_ALIAS &&
      e.details[0]?.path === 'ligne 2, colonne 9',
  );
});

test('a file that is not a mapping, or not a policy, is refused with the field path', () => {
  assert.throws(
    () => parsePolitiqueYaml('- a\n- b\n'),
    (e) => e instanceof QuotientError && e.code === 'politique_tarifaire_invalide',
  );
  assert.throws(
    () => parsePolitiqueYaml('format: 2\n'),
    (e) => e instanceof QuotientError && e.details.some((d) => d.path === 'format') && e.details.some((d) => d.path === 'activites'),
  );
});

test('a commune file pricing on the CAF/MSA quotient is refused at start, in French; the domain still reads it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quotient-politique-caf-'));
  try {
    const texte = (await readFile(examplePath('boulogne-billancourt.yaml'), 'utf8')).replace('  periode: mensuelle', '  periode: mensuelle\n  source: caf');
    const fichier = join(dir, 'caf.yaml');
    await writeFile(fichier, texte);
    const refus = (e: unknown) =>
      e instanceof QuotientError &&
      e.code === 'source_caf_non_offerte' &&
      /n’est pas encore proposé aux familles : leur accord pour interroger les caisses ne peut pas encore être recueilli/.test(e.message) &&
      e.details[0]?.path === 'quotient.source';
    assert.throws(() => loadPolitiqueFileSync(fichier), refus);
    await assert.rejects(loadPolitiqueFile(fichier), refus);
    assert.equal(parsePolitiqueYaml(texte).quotient.source, 'caf', 'the engine and its tests still use it');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing file is not_found; an oversized one is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quotient-politique-'));
  try {
    await assert.rejects(
      loadPolitiqueFile(join(dir, 'absente.yaml')),
      (e) => e instanceof QuotientError && e.kind === 'not_found' && /introuvable/.test(e.message),
    );
    const big = join(dir, 'grande.yaml');
    await writeFile(big, `# ${'x'.repeat(1_100_000)}\n`);
    await assert.rejects(loadPolitiqueFile(big), (e) => e instanceof QuotientError && e.code === 'politique_trop_grande');
    // The synchronous reading, used at start, refuses the same way.
    assert.throws(
      () => loadPolitiqueFileSync(join(dir, 'absente.yaml')),
      (e) => e instanceof QuotientError && e.kind === 'not_found' && /introuvable/.test(e.message),
    );
    assert.throws(
      () => loadPolitiqueFileSync(big),
      (e) => e instanceof QuotientError && e.code === 'politique_trop_grande',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an empty file, a file of comments only and a YAML list say what a policy starts with', () => {
  for (const [text, said] of [
    ['', /est vide/],
    ['# rien encore\n', /est vide/],
    ['- format: 1\n- activites: []\n', /contient une liste/],
  ] as const) {
    assert.throws(
      () => parsePolitiqueYaml(text, 'essai.yaml'),
      (e) =>
        e instanceof QuotientError &&
        e.code === 'politique_tarifaire_invalide' &&
        said.test(e.message) &&
        e.message.includes('« activites: »') &&
        e.details.map((d) => d.path).join(',') === 'format,commune,deliberation,validite,quotient,arrondiPrix,activites',
    );
  }
});

test('an unknown grid type names the value written and the allowed types', async () => {
  const text = (await import('node:fs')).readFileSync(examplePath('strasbourg.yaml'), 'utf8').replace('type: tranches', 'type: paliers');
  assert.throws(
    () => parsePolitiqueYaml(text),
    (e) =>
      e instanceof QuotientError &&
      e.details.some((d) => d.path === 'activites[0].grille.type' && /« paliers ».*« taux-effort », « tranches »/.test(d.message)),
  );
});

test('an unclosed brace is reported on the line where it was opened, not where the parser gave up', () => {
  const text = 'format: 1\ncommune: { nom: Roncq, codeInsee: "59508"\nvalidite:\n  du: 2025-09-01\n';
  assert.throws(
    () => parsePolitiqueYaml(text, 'essai.yaml'),
    (e) =>
      e instanceof QuotientError &&
      e.code === 'politique_yaml_invalide' &&
      e.details[0]?.path === 'ligne 2, colonne 10' &&
      /accolade/.test(e.details[0].message),
  );
  // A bracket inside a plain text is a character, and a closed one is no error.
  assert.throws(
    () => parsePolitiqueYaml('format: 1\ncommune:\n  nom: Ville [A\n   x: : :\n'),
    (e) => e instanceof QuotientError && e.code === 'politique_yaml_invalide' && !/accolade|crochet/.test(e.details[0]?.message ?? ''),
  );
});
