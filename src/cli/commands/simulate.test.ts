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

test('--sans-quotient gives the highest price of every activity (or the price the policy sets), and refuses income options', async () => {
  for (const [policy, expected] of [
    [BOULOGNE, null],
    [STRASBOURG, [54.9]],
    ['examples/roncq.yaml', [4.9]],
  ] as const) {
    const r = await run('--policy', policy, '--sans-quotient', '--json');
    assert.equal(r.code, 0, r.err);
    const result = JSON.parse(r.out) as { quotientFamilial: number | null; activites: { id: string; prix: number; tranche: string | null }[] };
    assert.equal(result.quotientFamilial, null);
    // Each price is the highest any QF can give: a very high QF gives the same or less.
    const riche = JSON.parse((await run('--policy', policy, '--rfr', '9000000', '--parts', '1', '--json')).out) as { activites: { prix: number }[] };
    result.activites.forEach((a, i) => assert.ok(a.prix >= (riche.activites[i]?.prix ?? Infinity), a.id));
    if (expected)
      assert.deepEqual(
        result.activites.map((a) => a.prix),
        expected,
      );
  }
  const text = await run('--policy', STRASBOURG, '--sans-quotient');
  assert.match(text.out, /Quotient familial : aucun/);
  assert.match(text.out, /le tarif le plus élevé de la grille s’applique : 54,90\u00a0€/);
  const refused = await run('--policy', STRASBOURG, '--sans-quotient', '--rfr', '48000', '--parts', '3');
  assert.equal(refused.code, 2);
  assert.match(refused.err, /--sans-quotient simule une famille sans quotient connu ; --rfr, --parts n’y servent à rien/);
});

test('an option the formula ignores is refused with a French message, not silently dropped', async () => {
  const r = await run('--policy', BOULOGNE, '--rfr', '48000', '--parts', '3', '--persons', '4');
  assert.equal(r.code, 2);
  assert.match(r.err, /--persons ne sert pas avec cette politique/);
  assert.match(r.err, /--persons : la formule « rfr-parts » ne divise pas par le nombre de personnes/);
  const sansRfr = await run('--policy', BOULOGNE, '--parts', '3');
  assert.equal(sansRfr.code, 2);
  assert.match(sansRfr.err, /--rfr est obligatoire \(ou --sans-quotient/);
});

test('Roncq: --inscription-tardive adds 2,50 € at every bracket boundary, resident or not', async () => {
  // 4 800 € ÷ 12 ÷ 1 part = 400 €: the first QF of bracket 2; 4 799 € gives 399,91 €, bracket 1.
  const cases: [string[], number][] = [
    [['--rfr', '4799', '--parts', '1'], 0.5],
    [['--rfr', '4800', '--parts', '1'], 1.75],
    [['--rfr', '4800', '--parts', '1', '--inscription-tardive'], 4.25],
    [['--rfr', '22800', '--parts', '1', '--inscription-tardive'], 7.4],
    [['--rfr', '4800', '--parts', '1', '--non-resident', '--inscription-tardive'], 9],
    [['--sans-quotient', '--inscription-tardive'], 7.4],
  ];
  for (const [args, prix] of cases) {
    const r = await run('--policy', 'examples/roncq.yaml', ...args, '--json');
    assert.equal(r.code, 0, r.err);
    assert.equal((JSON.parse(r.out) as { activites: { prix: number }[] }).activites[0]?.prix, prix, args.join(' '));
  }
});

test('declared monthly resources with --ressource under a « ressources-personnes » policy; a crèche on DGFiP data is refused', async () => {
  const clamart = boulogneWith(
    (y) => y.replace('formule: rfr-parts', 'formule: ressources-personnes').replace(/plusieursFoyers: \S+/, 'plusieursFoyers: refuser'),
    'ressources.yaml',
  );
  const r = await run('--policy', clamart, '--ressource', 'salaire=2 400', '--ressource', 'pension=600,50', '--persons', '3', '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as { quotientFamilial: number }).quotientFamilial, 1000.16);
  const withRfr = await run('--policy', clamart, '--rfr', '48000', '--persons', '3');
  assert.equal(withRfr.code, 2);
  assert.match(withRfr.err, /--rfr : la formule « ressources-personnes » ne divise pas le revenu fiscal de référence/);
  const bad = await run('--policy', clamart, '--ressource', 'beaucoup', '--persons', '3');
  assert.match(bad.err, /--ressource attend NATURE=MONTANT/);

  const creche = boulogneWith((y) => y.replace('unite: repas', 'unite: repas\n    eaje: true'), 'creche.yaml');
  const refused = await run('--policy', creche, '--rfr', '48000', '--parts', '3');
  assert.equal(refused.code, 2);
  assert.match(refused.err, /activites\[0\]\.eaje : une activité d’accueil du jeune enfant .* conditions d’utilisation de l’API excluent les EAJE/);
});
