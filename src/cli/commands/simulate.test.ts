import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../main.ts';
import type { CliIo } from '../io.ts';

const ROOT = new URL('../../../', import.meta.url).pathname;
const BOULOGNE = 'examples/boulogne-billancourt.yaml';
const STRASBOURG = 'examples/strasbourg.yaml';
const dir = mkdtempSync(join(tmpdir(), 'quotient-simulate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd: ROOT };
  const code = await main(['simulate', ...args], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The Boulogne example with one edit, written to a temporary file. */
function boulogneWith(edit: (yaml: string) => string, name: string): string {
  const original = readFileSync(join(ROOT, BOULOGNE), 'utf8');
  const changed = edit(original);
  assert.notEqual(changed, original, 'la modification du fichier d’exemple n’a rien changé');
  const path = join(dir, name);
  writeFileSync(path, changed);
  return path;
}

test('48 000 € and 3 parts under the Boulogne policy: QF 1333.33 and a canteen meal at 4.80, as JSON', async () => {
  const r = await run('--policy', BOULOGNE, '--rfr', '48000', '--parts', '3', '--json');
  assert.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out) as {
    quotientFamilial: number;
    activites: { id: string; libelle: string; unite: string; tranche: string | null; prix: number }[];
  };
  assert.deepEqual(Object.keys(result), ['quotientFamilial', 'activites']);
  assert.equal(result.quotientFamilial, 1333.33);
  assert.deepEqual(result.activites[0], { id: 'restauration-scolaire', libelle: 'Restauration scolaire', unite: 'repas', tranche: null, prix: 4.8 });
  for (const a of result.activites) assert.ok(Number.isInteger(Math.round(a.prix * 100)) && /^\d+(\.\d{1,2})?$/.test(String(a.prix)));
});

test('--non-resident gives the flat canteen price of 8.05', async () => {
  const r = await run('--policy', BOULOGNE, '--rfr', '48000', '--parts', '3', '--non-resident', '--json');
  assert.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out) as { quotientFamilial: number; activites: { id: string; prix: number }[] };
  assert.equal(result.quotientFamilial, 1333.33);
  assert.equal(result.activites.find((a) => a.id === 'restauration-scolaire')?.prix, 8.05);
});

test('brackets are named in the JSON output (Strasbourg, QF 1 333,33 € → bracket 8 at 41.99)', async () => {
  const r = await run('--policy', STRASBOURG, '--rfr', '48000', '--parts', '3', '--json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out).activites[0], {
    id: 'accueil-soir-maternelle',
    libelle: 'Accueil du soir en école maternelle',
    unite: 'mois',
    tranche: '8',
    prix: 41.99,
  });
});

test('without --json, a French table and the one-sentence computation', async () => {
  const r = await run('--policy', BOULOGNE, '--rfr', '48 000', '--parts', '3');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /Quotient familial : 1\u00a0333,33\u00a0€ par mois/);
  assert.match(r.out, /revenu fiscal de référence de 48\u00a0000\u00a0€ ÷ 12 mois ÷ 3 parts = 1\u00a0333,33\u00a0€ par mois/);
  assert.match(r.out, /^Restauration scolaire +repas +— +4,80\u00a0€$/m);
  assert.match(r.out, /délibération du 1er décembre 2022/);
});

test('a missing ceiling is refused with exit 2 and the field path', async () => {
  const policy = boulogneWith((y) => y.replace('      plafond: 7.20\n', ''), 'sans-plafond.yaml');
  const r = await run('--policy', policy, '--rfr', '48000', '--parts', '3');
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.match(r.err, /sans-plafond\.yaml » est invalide/);
  assert.match(r.err, /activites\[0\]\.grille\.plafond : champ obligatoire manquant/);
});

test('overlapping brackets are refused with exit 2 and the field path', async () => {
  const original = readFileSync(join(ROOT, STRASBOURG), 'utf8');
  const path = join(dir, 'chevauchement.yaml');
  writeFileSync(path, original.replace('{ code: "3", min: 300,', '{ code: "3", min: 250,'));
  const r = await run('--policy', path, '--rfr', '48000', '--parts', '3');
  assert.equal(r.code, 2);
  assert.match(r.err, /activites\[0\]\.grille\.tranches\[2\]\.min : chevauche la tranche précédente/);
});

test('an unknown formula is refused with exit 2 and the field path', async () => {
  const policy = boulogneWith((y) => y.replace('formule: rfr-parts', 'formule: quotient-caf'), 'formule-inconnue.yaml');
  const r = await run('--policy', policy, '--rfr', '48000', '--parts', '3');
  assert.equal(r.code, 2);
  assert.match(r.err, /quotient\.formule : « quotient-caf » n’est pas une valeur reconnue ; valeurs possibles : « rfr-parts »/);
});

test('bad usage exits with 2 and a French message naming the option', async () => {
  const cases: [string[], RegExp][] = [
    [['--rfr', '48000', '--parts', '3'], /--policy est obligatoire/],
    [['--policy', BOULOGNE, '--rfr', 'beaucoup', '--parts', '3'], /--rfr attend un nombre/],
    [['--policy', BOULOGNE, '--rfr=-100', '--parts', '3'], /--rfr : le revenu fiscal de référence ne peut pas être négatif/],
    [['--policy', BOULOGNE, '--rfr', '48000', '--parts', '0'], /--parts : le nombre de parts doit être supérieur à 0/],
    [['--policy', BOULOGNE, '--rfr', '48000'], /--parts : champ obligatoire pour cette politique/],
    [['--policy', 'examples/absente.yaml', '--rfr', '48000', '--parts', '3'], /Fichier introuvable/],
    [['--policy', BOULOGNE, '--rfr', '48000', '--parts', '3', '--vite'], /option inconnue : --vite/],
  ];
  for (const [args, message] of cases) {
    const r = await run(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, message, args.join(' '));
  }
});

test('RFR 0 is a valid case: QF 0 and the floor prices', async () => {
  const r = await run('--policy', BOULOGNE, '--rfr', '0', '--parts', '1', '--json');
  assert.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out) as { quotientFamilial: number; activites: { prix: number }[] };
  assert.equal(result.quotientFamilial, 0);
  assert.deepEqual(
    result.activites.map((a) => a.prix),
    [0.5, 0.38, 2.18],
  );
});
