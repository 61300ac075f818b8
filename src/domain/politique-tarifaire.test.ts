import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { QuotientError } from './errors.ts';
import { parsePolitiqueTarifaire, politiqueInForce } from './politique-tarifaire.ts';
import { politiqueInput, withChanges } from './test-support.ts';

function refusal(input: unknown): Map<string, string> {
  try {
    parsePolitiqueTarifaire(input);
  } catch (error) {
    assert.ok(error instanceof QuotientError, String(error));
    assert.equal(error.kind, 'invalid');
    assert.equal(error.code, 'politique_tarifaire_invalide');
    return new Map(error.details.map((d) => [d.path, d.message]));
  }
  assert.fail('la politique aurait dû être refusée');
}

function withTranches(tranches: unknown[]): unknown {
  const p = politiqueInput() as unknown as { activites: { grille: Record<string, unknown> }[] };
  p.activites[1]!.grille = { type: 'tranches', borneIncluse: 'min', tranches };
  return p;
}

test('a complete policy is accepted, with the school year starting on 1 September by default', () => {
  const p = parsePolitiqueTarifaire(politiqueInput());
  assert.equal(p.quotient.debutAnneeScolaire, '09-01');
  assert.deepEqual(p.activites[0]?.reductionsRang, []);
  assert.equal(p.activites[1]?.grille.type, 'tranches');
});

test('a missing ceiling is refused with the field path', () => {
  const p = politiqueInput() as unknown as { activites: { grille: Record<string, unknown> }[] };
  delete p.activites[0]!.grille.plafond;
  assert.equal(refusal(p).get('activites[0].grille.plafond'), 'champ obligatoire manquant');
});

test('an unknown formula is refused, listing the known ones', () => {
  const errors = refusal(withChanges(politiqueInput(), { quotient: { formule: 'caf' as never } }));
  assert.match(errors.get('quotient.formule') ?? '', /« caf ».*« rfr-parts », « revenu-personnes », « coefficients »/);
});

test('an unknown grid type and a misspelt field are named', () => {
  const p = politiqueInput() as unknown as { activites: { grille: Record<string, unknown> }[] };
  p.activites[1]!.grille = { type: 'paliers' };
  p.activites[0]!.grille.plafnd = 7.2;
  const errors = refusal(p);
  assert.match(errors.get('activites[1].grille.type') ?? '', /« taux-effort », « tranches »/);
  assert.match(errors.get('activites[0].grille.plafnd') ?? '', /champ inconnu/);
});

test('overlapping brackets are refused at the bracket that overlaps', () => {
  const errors = refusal(
    withTranches([
      { code: 1, min: 0, max: 100, prix: 1 },
      { code: 2, min: 100, max: 300, prix: 2 },
      { code: 3, min: 250, prix: 3 },
    ]),
  );
  assert.match(errors.get('activites[1].grille.tranches[2].min') ?? '', /chevauche.*250.*300/);
});

test('a gap between brackets, a first bracket above 0 and a closed last bracket are refused', () => {
  const errors = refusal(
    withTranches([
      { code: 1, min: 10, max: 100, prix: 1 },
      { code: 2, min: 120, max: 300, prix: 2 },
      { code: 3, min: 300, max: 400, prix: 3 },
    ]),
  );
  assert.match(errors.get('activites[1].grille.tranches[0].min') ?? '', /commencer à 0/);
  assert.match(errors.get('activites[1].grille.tranches[1].min') ?? '', /trou entre 100\u00a0€ et 120\u00a0€/);
  assert.match(errors.get('activites[1].grille.tranches[2].max') ?? '', /dernière tranche doit rester ouverte/);
});

test('a bracket without maximum before the last one, an empty bracket and a repeated code are refused', () => {
  const errors = refusal(
    withTranches([
      { code: 'A', min: 0, prix: 1 },
      { code: 'A', min: 100, max: 100, prix: 2 },
      { code: 'C', min: 100, prix: 3 },
    ]),
  );
  assert.match(errors.get('activites[1].grille.tranches[0].max') ?? '', /seule la dernière tranche/);
  assert.match(errors.get('activites[1].grille.tranches[1].max') ?? '', /doit dépasser le minimum/);
  assert.match(errors.get('activites[1].grille.tranches[1].code') ?? '', /déjà utilisé/);
});

test('amounts are whole cents, floors stay under ceilings, rates are percentages', () => {
  const errors = refusal(
    withChanges(politiqueInput(), {
      activites: [{ id: 'a', libelle: 'A', unite: 'repas', grille: { type: 'taux-effort', taux: 0, plancher: 7.5, plafond: 7.2 }, prixNonResident: 8.055 }],
    }),
  );
  assert.match(errors.get('activites[0].prixNonResident') ?? '', /deux décimales/);
  assert.match(errors.get('activites[0].grille.plafond') ?? '', /inférieur au plancher/);
  assert.match(errors.get('activites[0].grille.taux') ?? '', /strictement supérieur à 0/);
});

test('the formula and its companions must agree', () => {
  const coefficients = refusal(withChanges(politiqueInput(), { quotient: { formule: 'coefficients', plusieursFoyers: 'refuser' } }));
  assert.match(coefficients.get('quotient.coefficients') ?? '', /obligatoire/);
  const sommeParts = refusal(withChanges(politiqueInput(), { quotient: { formule: 'revenu-personnes' } }));
  assert.match(sommeParts.get('quotient.plusieursFoyers') ?? '', /rfr-parts/);
});

test('identity fields: INSEE code as text, délibération identified, validity in order', () => {
  const p = withChanges(politiqueInput(), {
    commune: { codeInsee: 92012 as never },
    validite: { du: '2024-09-01', au: '2024-08-31' },
  }) as unknown as { deliberation: Record<string, unknown> };
  p.deliberation = {};
  const errors = refusal(p);
  assert.match(errors.get('commune.codeInsee') ?? '', /texte/);
  assert.match(errors.get('deliberation') ?? '', /numéro, la date ou la source/);
  assert.match(errors.get('validite.au') ?? '', /précède/);
});

test('two activities cannot share an identifier', () => {
  const p = politiqueInput() as unknown as { activites: { id: string }[] };
  p.activites[1]!.id = 'restauration';
  assert.match(refusal(p).get('activites[1].id') ?? '', /déjà utilisé/);
});

test('child-rank reductions are listed by increasing rank', () => {
  const p = politiqueInput() as unknown as { activites: Record<string, unknown>[] };
  p.activites[0]!.reductionsRang = [
    { rang: 3, pourcentage: 50 },
    { rang: 2, pourcentage: 10 },
  ];
  assert.match(refusal(p).get('activites[0].reductionsRang[1].rang') ?? '', /ordre croissant/);
});

test('the version in force on a date is the latest one that covers it', () => {
  const v2023 = parsePolitiqueTarifaire(withChanges(politiqueInput(), { validite: { du: '2023-09-01', au: '2024-08-31' } }));
  const v2024 = parsePolitiqueTarifaire(withChanges(politiqueInput(), { validite: { du: '2024-09-01' } }));
  const amendment = parsePolitiqueTarifaire(withChanges(politiqueInput(), { validite: { du: '2025-01-01', au: '2025-03-31' } }));
  const all = [v2024, amendment, v2023];
  assert.equal(politiqueInForce(all, '2023-08-31'), null);
  assert.equal(politiqueInForce(all, '2024-08-31'), v2023);
  assert.equal(politiqueInForce(all, '2024-09-01'), v2024);
  assert.equal(politiqueInForce(all, '2025-02-10'), amendment);
  assert.equal(politiqueInForce(all, '2025-04-01'), v2024);
});

/** Contiguous brackets from increasing bounds (in cents, turned into euros). */
const contiguousBounds = fc
  .uniqueArray(fc.integer({ min: 1, max: 500_000 }), { minLength: 1, maxLength: 12 })
  .map((bounds) => [...bounds].sort((a, b) => a - b));

function tranchesFrom(bounds: number[]): { code: string; min: number; max?: number; prix: number }[] {
  const edges = [0, ...bounds];
  return edges.map((min, i) => {
    const max = edges[i + 1];
    return max === undefined ? { code: `T${i}`, min: min / 100, prix: i + 1 } : { code: `T${i}`, min: min / 100, max: max / 100, prix: i + 1 };
  });
}

test('property: contiguous brackets from 0 with an open last one are always accepted', () => {
  fc.assert(
    fc.property(contiguousBounds, (bounds) => {
      parsePolitiqueTarifaire(withTranches(tranchesFrom(bounds)));
    }),
  );
});

test('property: moving any inner bound by at least a cent is refused at that bracket', () => {
  fc.assert(
    fc.property(
      contiguousBounds.filter((b) => b.length >= 1),
      fc.nat(),
      fc.integer({ min: -10_000, max: 10_000 }).filter((d) => d !== 0),
      (bounds, pick, delta) => {
        const tranches = tranchesFrom(bounds);
        const i = 1 + (pick % (tranches.length - 1));
        const moved = tranches[i]!.min * 100 + delta;
        fc.pre(moved >= 0);
        tranches[i]!.min = moved / 100;
        const errors = refusal(withTranches(tranches));
        assert.ok(errors.has(`activites[1].grille.tranches[${i}].min`), `chemins signalés : ${[...errors.keys()].join(', ')}`);
      },
    ),
  );
});
